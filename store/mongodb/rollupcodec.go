package mongodb

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/citizen-city/chengguantong/model"
)

// The packed counters of a roll-up document ({k: <binary>}).
//
// Format 1:
//
//	0x01                                  the format
//	uvarint n                             the number of keys, then n times, in key order:
//	  uvarint len(key), key bytes
//	  uvarint mask                        bit i set: counter i is not zero
//	  per set bit, in counter order:      zig-zag varint (counts), or
//	                                      8 bytes little-endian float64 (hours)
//
// Format 2 is format 1 compressed, for documents over 4 KB:
//
//	0x02, uvarint len(format 1 body), DEFLATE(format 1 body without its 0x01)
//
// A year of 5,000 grids is ~60 KB (format 1: ~200 KB). Decoding needs no map and no string per key: every
// key is a substring of one string.
const (
	rollupFormat1 = 0x01
	rollupFormat2 = 0x02
	// rollupCompressOver is the size of a format 1 encoding above which
	// it is compressed.
	rollupCompressOver = 4 << 10
)

var errRollupEncoding = errors.New("corrupt roll-up encoding")

// encodeRollup packs the counters of one document: rows of distinct keys
// (their period and dimension are the document's). It sorts rows by key.
func encodeRollup(rows []model.RollupRow) []byte {
	slices.SortFunc(rows, func(a, b model.RollupRow) int { return strings.Compare(a.Key, b.Key) })
	size := 1 + binary.MaxVarintLen64
	for _, r := range rows {
		size += len(r.Key) + 4 + 4*model.NumCounters
	}
	out := make([]byte, 0, size)
	out = append(out, rollupFormat1)
	out = appendRollupBody(out, rows)
	if len(out) <= rollupCompressOver {
		return out
	}
	var z bytes.Buffer
	z.WriteByte(rollupFormat2)
	z.Write(binary.AppendUvarint(nil, uint64(len(out)-1)))
	w, _ := flate.NewWriter(&z, flate.BestSpeed) // only fails for a bad level
	_, _ = w.Write(out[1:])                      // a bytes.Buffer does not fail
	_ = w.Close()
	return z.Bytes()
}

func appendRollupBody(out []byte, rows []model.RollupRow) []byte {
	out = binary.AppendUvarint(out, uint64(len(rows)))
	for _, r := range rows {
		out = binary.AppendUvarint(out, uint64(len(r.Key)))
		out = append(out, r.Key...)
		var mask uint64
		for i, x := range r.Values {
			if x != 0 {
				mask |= 1 << i
			}
		}
		out = binary.AppendUvarint(out, mask)
		for i, x := range r.Values {
			switch {
			case x == 0:
			case i == model.CounterHours:
				out = binary.LittleEndian.AppendUint64(out, math.Float64bits(x))
			default:
				out = binary.AppendVarint(out, int64(math.Round(x)))
			}
		}
	}
	return out
}

// decodeRollup calls start, if not nil, with the number of keys of a
// document's packed counters, then each with every key. The keys of formats
// 1 and 2 come in key order and share one string; v is only valid during
// the call.
func decodeRollup(raw []byte, start func(n int), each func(key string, v *model.RollupValues)) error {
	if len(raw) == 0 {
		return nil
	}
	switch raw[0] {
	case rollupFormat1:
	case rollupFormat2:
		n, k := binary.Uvarint(raw[1:])
		if k <= 0 || n > 256<<20 {
			return errRollupEncoding
		}
		body := make([]byte, 1+n)
		body[0] = rollupFormat1
		if _, err := io.ReadFull(flate.NewReader(bytes.NewReader(raw[1+k:])), body[1:]); err != nil {
			return fmt.Errorf("%w: %w", errRollupEncoding, err)
		}
		raw = body
	default:
		return errRollupEncoding
	}
	s := string(raw) // one allocation; the keys are slices of it
	i := 1
	uvarint := func() (uint64, bool) {
		x, n := binary.Uvarint(raw[i:])
		if n <= 0 {
			return 0, false
		}
		i += n
		return x, true
	}
	n, ok := uvarint()
	if !ok || n > uint64(len(raw)) {
		return errRollupEncoding
	}
	if start != nil {
		start(int(n))
	}
	var v model.RollupValues
	for range n {
		l, ok := uvarint()
		if !ok || l > uint64(len(raw)-i) {
			return errRollupEncoding
		}
		key := s[i : i+int(l)]
		i += int(l)
		mask, ok := uvarint()
		if !ok || mask>>model.NumCounters != 0 {
			return errRollupEncoding
		}
		for c := range v {
			v[c] = 0
			if mask&(1<<c) == 0 {
				continue
			}
			if c == model.CounterHours {
				if len(raw)-i < 8 {
					return errRollupEncoding
				}
				v[c] = math.Float64frombits(binary.LittleEndian.Uint64(raw[i:]))
				i += 8
				continue
			}
			x, k := binary.Varint(raw[i:])
			if k <= 0 {
				return errRollupEncoding
			}
			i += k
			v[c] = float64(x)
		}
		each(key, &v)
	}
	if i != len(raw) {
		return errRollupEncoding
	}
	return nil
}

// A log entry's statistics delta (logDoc.Delta) is packed the same way:
// its rows' period, dimension and key joined by deltaSep make the keys of
// one format 1 or 2 value. Deltas are small and have negative counts,
// which the zig-zag varints carry.
const deltaSep = "\x00"

// encodeDelta packs a transition's delta rows.
func encodeDelta(rows []model.RollupRow) []byte {
	if len(rows) == 0 {
		return nil
	}
	keyed := make([]model.RollupRow, len(rows))
	for i, r := range rows {
		keyed[i] = model.RollupRow{Key: r.Period + deltaSep + r.Dim + deltaSep + r.Key, Values: r.Values}
	}
	return encodeRollup(keyed)
}

// decodeDelta calls each with every row of a packed delta.
func decodeDelta(raw []byte, each func(r model.RollupRow)) error {
	var bad error
	err := decodeRollup(raw, nil, func(key string, v *model.RollupValues) {
		period, rest, ok1 := strings.Cut(key, deltaSep)
		dim, k, ok2 := strings.Cut(rest, deltaSep)
		if !ok1 || !ok2 {
			bad = errRollupEncoding
			return
		}
		each(model.RollupRow{Period: period, Dim: dim, Key: k, Values: *v})
	})
	if err != nil {
		return err
	}
	return bad
}
