package photo

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// make12MP returns a 4000×3000 JPEG (4:2:0, quality 90) with a phone-like
// EXIF block including GPS and orientation 6. Its content is a gradient,
// with sensor-like noise if noisy is set so that it compresses to a
// realistic size for a phone photo.
func make12MP(noisy bool) []byte {
	const w, h = 4000, 3000
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	rng := rand.New(rand.NewPCG(1, 2))
	noise := func(n int) int {
		if !noisy {
			return n / 2
		}
		return rng.IntN(n)
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Y[y*img.YStride+x] = uint8(40 + (x*120)/w + (y*60)/h + noise(25))
		}
	}
	for y := 0; y < h/2; y++ {
		for x := 0; x < w/2; x++ {
			i := y*img.CStride + x
			img.Cb[i] = uint8(100 + (x*50)/(w/2) + noise(6))
			img.Cr[i] = uint8(150 - (y*40)/(h/2) + noise(6))
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		panic(err)
	}
	spec := chengdu
	spec.orientation = 6
	return insertAfterSOI(buf.Bytes(), app1Exif(spec.tiff()))
}

// photo12MP is a realistic 12 MP phone photo (about 3.6 MB), generated once
// per test binary.
var photo12MP = sync.OnceValue(func() []byte { return make12MP(true) })

// smooth12MP has the same 12 MP (and so the same decoded size) but almost
// no entropy-coded data: it is small and quick to decode.
var smooth12MP = sync.OnceValue(func() []byte { return make12MP(false) })

func BenchmarkProcess12MP(b *testing.B) {
	data := photo12MP()
	p := NewProcessor(Limits{}, 1)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res, err := p.Process(context.Background(), bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		if res.GPS == nil || res.Width != 3000 {
			b.Fatal("bad result")
		}
	}
}

// BenchmarkDecode12MP is the floor for BenchmarkProcess12MP: image/jpeg
// decoding alone.
func BenchmarkDecode12MP(b *testing.B) {
	data := photo12MP()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkThumbnail12MP measures scaling, rotation and encoding of an
// already decoded 12 MP image.
func BenchmarkThumbnail12MP(b *testing.B) {
	img, err := jpeg.Decode(bytes.NewReader(photo12MP()))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := makeThumbnail(img, 6, DefaultThumbMaxSide); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStrip12MP measures EXIF parsing and lossless stripping alone.
func BenchmarkStrip12MP(b *testing.B) {
	data := photo12MP()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		info, _ := parseExif(findExifJPEG(data))
		if _, err := stripJPEG(data, info.Orientation); err != nil {
			b.Fatal(err)
		}
	}
}

// peakHeap runs n concurrent Process calls of data on a processor with the
// given decode pool and returns the peak HeapAlloc above the starting heap,
// sampled every millisecond, and the highest number of decodes seen in flight.
func peakHeap(tb testing.TB, data []byte, n, pool int) (peak uint64, maxInFlight int) {
	return peakHeapOf(tb, NewProcessor(Limits{}, pool), data, n)
}

// peakHeapOf is peakHeap on a given processor.
func peakHeapOf(tb testing.TB, p *Processor, data []byte, n int) (peak uint64, maxInFlight int) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc

	var maxHeap atomic.Uint64
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > maxHeap.Load() {
				maxHeap.Store(ms.HeapAlloc)
			}
			// Track the decode pool occupancy too.
			if l := len(p.sem); l > maxInFlight {
				maxInFlight = l
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			_, err := p.Process(context.Background(), bytes.NewReader(data))
			errs <- err
		})
	}
	wg.Wait()
	close(done)
	<-sampled
	close(errs)
	for err := range errs {
		if err != nil {
			tb.Fatal(err)
		}
	}
	if maxHeap.Load() < base {
		return 0, maxInFlight
	}
	return maxHeap.Load() - base, maxInFlight
}

// TestConcurrentUploadsBoundedByPool runs 32 concurrent uploads of a 12 MP
// photo through a pool of 2 decoders, then through a pool of 32, and
// compares peak heap. The decoded pixels (18 MB per photo) exist only inside
// the pool, so with a pool of 2 the peak is the 32 uploads' byte buffers plus
// two decodes, while a pool of 32 holds 32 decodes at once. The photo is a
// smooth one, whose small file isolates the decode memory and decodes
// quickly; BenchmarkConcurrent32Pool2 does the same with a realistic photo.
func TestConcurrentUploadsBoundedByPool(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("slow (decodes 64 12-megapixel photos); skipped with -short and -race")
	}
	data := smooth12MP()
	const n = 32
	small, inFlightSmall := peakHeap(t, data, n, 2)
	large, inFlightLarge := peakHeap(t, data, n, n)
	const mb = 1 << 20
	buffers := uint64(2 * n * len(data)) // upload + stripped copy per request
	t.Logf("photo: %.1f MB; %d concurrent uploads", float64(len(data))/mb, n)
	t.Logf("pool of 2:  peak heap %4d MB, max decodes in flight %d", small/mb, inFlightSmall)
	t.Logf("pool of %d: peak heap %4d MB, max decodes in flight %d", n, large/mb, inFlightLarge)
	t.Logf("of which upload+clean buffers of all %d requests: at most %d MB", n, buffers/mb)
	if inFlightSmall > 2 {
		t.Errorf("%d decodes in flight with a pool of 2", inFlightSmall)
	}
	// Generous bound (GC timing makes heap samples noisy): the small pool
	// must need clearly less memory than 32 simultaneous decodes.
	if small >= large/2 {
		t.Errorf("pool of 2 peaked at %d MB, pool of %d at %d MB: memory is not bounded by the pool", small/mb, n, large/mb)
	}
}

// BenchmarkConcurrent32Pool2 reports the peak heap of 32 concurrent
// uploads of a 12 MP photo with a decode pool of 2.
func BenchmarkConcurrent32Pool2(b *testing.B) {
	data := photo12MP()
	var worst uint64
	for b.Loop() {
		peak, _ := peakHeap(b, data, 32, 2)
		worst = max(worst, peak)
	}
	b.ReportMetric(float64(worst)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/32, "ns/photo")
}

// worstAccepted is the image whose decode costs the most that the default
// DecodeMemory accepts: a square 16-bit RGBA PNG (8 bytes a pixel, all of
// them live until the thumbnail is made), as large as fits.
func worstAccepted() (data []byte, side int) {
	lo, hi := 1000, 10000
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if decodeCost(FormatPNG, synthPNG(mid, 1, 6, 16, false, false), mid, mid, DefaultThumbMaxSide).bytes <= DefaultDecodeMemory {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return synthPNG(lo, lo, 6, 16, false, false), lo
}

// BenchmarkSixWorstUploads reports the peak heap of six concurrent uploads
// of the worst image the default limits accept (issue #21), with the
// default decode pool (runtime.NumCPU() slots within DefaultDecodeMemory),
// and, for comparison, of the 7000×7000 16-bit PNG of the issue with the
// pool bounded by slots alone, as it was before (refused now).
//
//	go test -run '^$' -bench BenchmarkSixWorstUploads -benchtime 1x ./photo/
func BenchmarkSixWorstUploads(b *testing.B) {
	worst, side := worstAccepted()
	for _, c := range []struct {
		name string
		p    *Processor
		data []byte
	}{
		{fmt.Sprintf("bounded/%dx%d-16bit-png", side, side), NewProcessor(Limits{}, 0), worst},
		{"slots-only/7000x7000-16bit-png", NewProcessor(Limits{DecodeMemory: 1 << 40}, 0), synthPNG(7000, 7000, 6, 16, false, false)},
	} {
		b.Run(c.name, func(b *testing.B) {
			var worstPeak uint64
			for b.Loop() {
				peak, _ := peakHeapOf(b, c.p, c.data, 6)
				worstPeak = max(worstPeak, peak)
			}
			b.ReportMetric(float64(worstPeak)/(1<<20), "peak-heap-MB")
			b.ReportMetric(float64(len(c.data))/(1<<10), "file-KB")
		})
	}
}
