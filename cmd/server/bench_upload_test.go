package main

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/internal/apitest"
)

// png16 is a side×side 16-bit RGBA PNG of zeros: a few hundred KB that
// decode to 8 bytes a pixel.
func png16(side int) []byte {
	chunk := func(out []byte, typ string, data []byte) []byte {
		out = binary.BigEndian.AppendUint32(out, uint32(len(data)))
		start := len(out)
		out = append(append(out, typ...), data...)
		return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(out[start:]))
	}
	var idat bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&idat, zlib.BestSpeed)
	row := make([]byte, 1+8*side)
	for range side {
		zw.Write(row)
	}
	zw.Close()
	ihdr := binary.BigEndian.AppendUint32(nil, uint32(side))
	ihdr = binary.BigEndian.AppendUint32(ihdr, uint32(side))
	ihdr = append(ihdr, 16, 6, 0, 0, 0)
	out := chunk([]byte("\x89PNG\r\n\x1a\n"), "IHDR", ihdr)
	out = chunk(out, "IDAT", idat.Bytes())
	return chunk(out, "IEND", nil)
}

// BenchmarkSixWorstUploadsServer is issue #21's memory attack against the
// real wiring: six residents upload, two times each and all at once, the
// worst image the default PHOTO_DECODE_MEMORY accepts (a 5774×5774 16-bit
// RGBA PNG, 316 KB, about 255 MiB to decode; photo's BenchmarkSixWorstUploads
// finds the size). It reports the peak Go heap of the test process (server,
// embedded FerretDB and all) above its level before the uploads, and checks
// that the 7000×7000 image is refused with 413.
//
//	go test -run '^$' -bench BenchmarkSixWorstUploadsServer -benchtime 1x ./cmd/server/
func BenchmarkSixWorstUploadsServer(b *testing.B) {
	base := startIntakeServer(b, intakeEnv(b))
	c := apitest.New(base)
	c.HTTP.Timeout = 5 * time.Minute
	if r := c.Upload(b, mustLogin(b, c, "bench-worst-refused"), "big.png", png16(7000)); r.Status != 413 {
		b.Fatalf("the 7000×7000 16-bit PNG: %d %s", r.Status, r.Body)
	}
	worst := png16(5774)
	var tokens []string
	for i := range 6 {
		tokens = append(tokens, mustLogin(b, c, fmt.Sprintf("bench-worst-%d", i)))
	}
	var peak uint64
	for b.Loop() {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		before := ms.HeapAlloc
		var maxHeap atomic.Uint64
		done := make(chan struct{})
		sampled := make(chan struct{})
		go func() {
			defer close(sampled)
			var ms runtime.MemStats
			for {
				runtime.ReadMemStats(&ms)
				if ms.HeapAlloc > maxHeap.Load() {
					maxHeap.Store(ms.HeapAlloc)
				}
				select {
				case <-done:
					return
				case <-time.After(2 * time.Millisecond):
				}
			}
		}()
		var wg sync.WaitGroup
		for _, tok := range tokens {
			wg.Go(func() {
				for range 2 {
					if r := c.Upload(b, tok, "worst.png", worst); r.Status != 201 {
						b.Errorf("upload: %d %s", r.Status, r.Body)
					}
				}
			})
		}
		wg.Wait()
		close(done)
		<-sampled
		if m := maxHeap.Load(); m > before {
			peak = max(peak, m-before)
		}
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N)/12, "ms/upload")
}

func mustLogin(tb testing.TB, c *apitest.Client, code string) string {
	tb.Helper()
	tok, _ := c.Login(tb, code)
	return tok
}
