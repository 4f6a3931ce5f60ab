package photo

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"time"
)

// EXIF / TIFF tags read by parseExif.
const (
	tagOrientation        = 0x0112
	tagDateTime           = 0x0132
	tagExifIFD            = 0x8769
	tagGPSIFD             = 0x8825
	tagDateTimeOriginal   = 0x9003
	tagOffsetTime         = 0x9010
	tagOffsetTimeOriginal = 0x9011

	tagGPSLatitudeRef  = 0x0001
	tagGPSLatitude     = 0x0002
	tagGPSLongitudeRef = 0x0003
	tagGPSLongitude    = 0x0004
)

// TIFF field types used here.
const (
	typeByte      = 1
	typeASCII     = 2
	typeShort     = 3
	typeLong      = 4
	typeRational  = 5
	typeUndefined = 7
	typeSRational = 10
	typeIFD       = 13
)

// typeSize returns the size of one value of a TIFF field type in bytes, or 0
// for unknown types (whose entries are skipped).
func typeSize(typ uint16) uint64 {
	switch typ {
	case 1, 2, 6, 7: // BYTE, ASCII, SBYTE, UNDEFINED
		return 1
	case 3, 8: // SHORT, SSHORT
		return 2
	case 4, 9, 11, 13: // LONG, SLONG, FLOAT, IFD
		return 4
	case 5, 10, 12: // RATIONAL, SRATIONAL, DOUBLE
		return 8
	}
	return 0
}

// exifHeader prefixes the TIFF structure in a JPEG APP1 segment. Some PNG
// and WebP writers include it as well.
const exifHeader = "Exif\x00\x00"

var (
	errExifHeader = errors.New("exif: not a TIFF structure")
	errExifBounds = errors.New("exif: offset out of bounds")
)

// exifInfo is what parseExif extracts. Zero values mean "absent".
type exifInfo struct {
	Orientation        int // 1..8, or 0 if absent or invalid
	DateTime           string
	DateTimeOriginal   string
	OffsetTime         string
	OffsetTimeOriginal string
	GPS                *GPS
}

// tiffReader reads values from a TIFF structure with every access
// bounds-checked.
type tiffReader struct {
	b  []byte
	bo binary.ByteOrder
}

// ifdEntry is one 12-byte IFD entry with its value bytes resolved.
type ifdEntry struct {
	tag   uint16
	typ   uint16
	count uint32
	val   []byte // exactly count*size(typ) bytes, inside the TIFF buffer
}

// parseExif parses a TIFF structure (optionally preceded by "Exif\0\0") and
// returns the fields the pipeline needs. It never panics and does a bounded
// amount of work: it visits at most three IFDs (IFD0, the Exif IFD and the
// GPS IFD) and never follows "next IFD" links, so crafted offsets cannot make
// it loop. On a structural error it returns what it could read so far
// together with the error.
func parseExif(b []byte) (exifInfo, error) {
	var info exifInfo
	b = bytes.TrimPrefix(b, []byte(exifHeader))
	if len(b) < 8 {
		return info, errExifHeader
	}
	t := tiffReader{b: b}
	switch {
	case b[0] == 'I' && b[1] == 'I':
		t.bo = binary.LittleEndian
	case b[0] == 'M' && b[1] == 'M':
		t.bo = binary.BigEndian
	default:
		return info, errExifHeader
	}
	if t.bo.Uint16(b[2:]) != 42 {
		return info, errExifHeader
	}
	ifd0 := t.bo.Uint32(b[4:])

	var exifOff, gpsOff uint32
	err := t.walkIFD(ifd0, func(e ifdEntry) {
		switch e.tag {
		case tagOrientation:
			if v, ok := t.uint(e); ok && v >= 1 && v <= 8 {
				info.Orientation = int(v)
			}
		case tagDateTime:
			info.DateTime = t.ascii(e)
		case tagExifIFD:
			if v, ok := t.pointer(e); ok {
				exifOff = v
			}
		case tagGPSIFD:
			if v, ok := t.pointer(e); ok {
				gpsOff = v
			}
		}
	})
	if err != nil {
		return info, err
	}
	if exifOff != 0 {
		err = t.walkIFD(exifOff, func(e ifdEntry) {
			switch e.tag {
			case tagDateTimeOriginal:
				info.DateTimeOriginal = t.ascii(e)
			case tagOffsetTime:
				info.OffsetTime = t.ascii(e)
			case tagOffsetTimeOriginal:
				info.OffsetTimeOriginal = t.ascii(e)
			}
		})
	}
	if gpsOff != 0 {
		var latRef, lngRef string
		var lat, lng []float64
		gerr := t.walkIFD(gpsOff, func(e ifdEntry) {
			switch e.tag {
			case tagGPSLatitudeRef:
				latRef = t.ascii(e)
			case tagGPSLatitude:
				lat = t.rationals(e)
			case tagGPSLongitudeRef:
				lngRef = t.ascii(e)
			case tagGPSLongitude:
				lng = t.rationals(e)
			}
		})
		info.GPS = makeGPS(latRef, lat, lngRef, lng)
		if err == nil {
			err = gerr
		}
	}
	return info, err
}

// walkIFD calls fn for every entry of the IFD at off whose value lies
// entirely inside the buffer. Entries with unknown types or out-of-bounds
// values are skipped; an IFD whose entry table is truncated is read as far
// as it goes.
func (t *tiffReader) walkIFD(off uint32, fn func(ifdEntry)) error {
	b := t.b
	if uint64(off)+2 > uint64(len(b)) {
		return errExifBounds
	}
	n := int(t.bo.Uint16(b[off:]))
	start := int(off) + 2
	if avail := (len(b) - start) / 12; n > avail {
		n = avail // truncated table: read what is there
	}
	for i := 0; i < n; i++ {
		p := start + 12*i
		e := ifdEntry{
			tag:   t.bo.Uint16(b[p:]),
			typ:   t.bo.Uint16(b[p+2:]),
			count: t.bo.Uint32(b[p+4:]),
		}
		ts := typeSize(e.typ)
		if ts == 0 {
			continue
		}
		size := ts * uint64(e.count) // < 2^35, no overflow
		if size <= 4 {
			e.val = b[p+8 : p+8+int(size)]
		} else {
			voff := uint64(t.bo.Uint32(b[p+8:]))
			if voff+size > uint64(len(b)) {
				continue
			}
			e.val = b[voff : voff+size]
		}
		fn(e)
	}
	return nil
}

// uint returns the first value of a SHORT or LONG entry.
func (t *tiffReader) uint(e ifdEntry) (uint32, bool) {
	if e.count == 0 {
		return 0, false
	}
	switch e.typ {
	case typeShort:
		return uint32(t.bo.Uint16(e.val)), true
	case typeLong:
		return t.bo.Uint32(e.val), true
	}
	return 0, false
}

// pointer returns the offset stored in a sub-IFD pointer entry.
func (t *tiffReader) pointer(e ifdEntry) (uint32, bool) {
	if e.count == 0 || (e.typ != typeLong && e.typ != typeIFD) {
		return 0, false
	}
	return t.bo.Uint32(e.val), true
}

// ascii returns an ASCII (or UNDEFINED) value up to its first NUL, with
// surrounding spaces removed.
func (t *tiffReader) ascii(e ifdEntry) string {
	if e.typ != typeASCII && e.typ != typeUndefined && e.typ != typeByte {
		return ""
	}
	v := e.val
	if i := bytes.IndexByte(v, 0); i >= 0 {
		v = v[:i]
	}
	return strings.TrimSpace(string(v))
}

// rationals returns up to three RATIONAL (or SRATIONAL) values as floats.
// A zero denominator or a negative value yields NaN.
func (t *tiffReader) rationals(e ifdEntry) []float64 {
	if e.typ != typeRational && e.typ != typeSRational {
		return nil
	}
	n := int(e.count)
	if n > 3 {
		n = 3
	}
	out := make([]float64, n)
	for i := range out {
		num := t.bo.Uint32(e.val[8*i:])
		den := t.bo.Uint32(e.val[8*i+4:])
		var v float64
		if e.typ == typeSRational {
			v = float64(int32(num)) / float64(int32(den))
		} else {
			v = float64(num) / float64(den)
		}
		if den == 0 || v < 0 {
			v = math.NaN()
		}
		out[i] = v
	}
	return out
}

// makeGPS converts EXIF degree/minute/second rationals to signed decimal
// degrees. It returns nil when a coordinate is missing, malformed, out of
// range, or exactly (0, 0) — the value many devices write when they have no
// fix. A missing reference is read as N or E; an unknown one is invalid.
func makeGPS(latRef string, lat []float64, lngRef string, lng []float64) *GPS {
	la, ok1 := dmsToDegrees(lat, latRef, 'N', 'S', 90)
	lo, ok2 := dmsToDegrees(lng, lngRef, 'E', 'W', 180)
	if !ok1 || !ok2 || (la == 0 && lo == 0) {
		return nil
	}
	return &GPS{Lat: la, Lng: lo}
}

func dmsToDegrees(dms []float64, ref string, pos, neg byte, max float64) (float64, bool) {
	if len(dms) == 0 {
		return 0, false
	}
	v := 0.0
	for i, div := range [3]float64{1, 60, 3600} {
		if i < len(dms) {
			if math.IsNaN(dms[i]) || math.IsInf(dms[i], 0) {
				return 0, false
			}
			v += dms[i] / div
		}
	}
	switch {
	case ref == "":
	case ref[0] == pos || ref[0] == pos+('a'-'A'):
	case ref[0] == neg || ref[0] == neg+('a'-'A'):
		v = -v
	default:
		return 0, false
	}
	if math.IsNaN(v) || v < -max || v > max {
		return 0, false
	}
	return v, true
}

// takenAt returns the capture time: DateTimeOriginal with
// OffsetTimeOriginal, else DateTime with OffsetTime. A time without an offset
// is interpreted in loc (Asia/Shanghai). It returns nil when no parseable
// time is present.
func (info *exifInfo) takenAt(loc *time.Location) *time.Time {
	if t, ok := parseExifTime(info.DateTimeOriginal, info.OffsetTimeOriginal, loc); ok {
		return &t
	}
	if t, ok := parseExifTime(info.DateTime, info.OffsetTime, loc); ok {
		return &t
	}
	return nil
}

// parseExifTime parses "YYYY:MM:DD HH:MM:SS" (also tolerating '-' or '/' as
// date separators and 'T' between date and time) with an optional
// "+HH:MM" offset.
func parseExifTime(s, offset string, loc *time.Location) (time.Time, bool) {
	if len(s) < 19 {
		return time.Time{}, false
	}
	b := []byte(s[:19])
	for _, i := range []int{4, 7} {
		if b[i] == '-' || b[i] == '/' {
			b[i] = ':'
		}
	}
	if b[10] == 'T' {
		b[10] = ' '
	}
	if z, ok := parseOffset(offset); ok {
		loc = z
	}
	t, err := time.ParseInLocation("2006:01:02 15:04:05", string(b), loc)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

// parseOffset parses an EXIF 2.31 offset such as "+08:00" or "-05:30".
func parseOffset(s string) (*time.Location, bool) {
	if len(s) != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':' {
		return nil, false
	}
	digit := func(c byte) (int, bool) { return int(c - '0'), c >= '0' && c <= '9' }
	h1, ok1 := digit(s[1])
	h2, ok2 := digit(s[2])
	m1, ok3 := digit(s[4])
	m2, ok4 := digit(s[5])
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return nil, false
	}
	h, m := h1*10+h2, m1*10+m2
	if h > 14 || m > 59 {
		return nil, false
	}
	secs := (h*60 + m) * 60
	if s[0] == '-' {
		secs = -secs
	}
	return time.FixedZone(s, secs), true
}

// orientationTIFF returns a minimal big-endian TIFF structure whose IFD0
// holds a single entry, Orientation = o. It is 26 bytes long.
func orientationTIFF(o int) []byte {
	b := []byte{
		'M', 'M', 0, 42, 0, 0, 0, 8, // header, IFD0 at offset 8
		0, 1, // one entry
		0x01, 0x12, 0, typeShort, 0, 0, 0, 1, 0, byte(o), 0, 0, // Orientation SHORT[1]
		0, 0, 0, 0, // no next IFD
	}
	return b
}
