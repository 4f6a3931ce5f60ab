package photo

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// jpegComp is one component of a synthetic JPEG: its id and sampling factors.
type jpegComp struct {
	id   byte
	h, v int
}

// synthJPEG writes a valid w×h JPEG of the given components whose every
// block is zero: one quantisation table, Huffman tables of a single 1-bit
// code ("0": a DC difference of 0, an end of block), one interleaved scan of
// every component (a DC-only first scan when progressive), so even a large
// image is a small file that decodes quickly. adobe is the APP14 transform
// (-1: no APP14); jfif adds a JFIF APP0.
func synthJPEG(w, h int, comps []jpegComp, progressive bool, adobe int, jfif bool) []byte {
	b := []byte{0xFF, 0xD8}
	seg := func(m byte, p []byte) {
		b = append(b, 0xFF, m, byte((len(p)+2)>>8), byte(len(p)+2))
		b = append(b, p...)
	}
	if jfif {
		seg(0xE0, []byte("JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"))
	}
	if adobe >= 0 {
		seg(0xEE, append([]byte("Adobe\x00\x64\x00\x00\x00\x00"), byte(adobe)))
	}
	dqt := bytes.Repeat([]byte{1}, 65)
	dqt[0] = 0
	seg(0xDB, dqt)
	sof := []byte{8, byte(h >> 8), byte(h), byte(w >> 8), byte(w), byte(len(comps))}
	for _, c := range comps {
		sof = append(sof, c.id, byte(c.h<<4|c.v), 0)
	}
	marker := byte(0xC0)
	if progressive {
		marker = 0xC2
	}
	seg(marker, sof)
	table := func(class byte) []byte {
		p := append([]byte{class << 4, 1}, make([]byte, 15)...)
		return append(p, 0)
	}
	seg(0xC4, table(0))
	if !progressive {
		seg(0xC4, table(1))
	}
	sos := []byte{byte(len(comps))}
	for _, c := range comps {
		sos = append(sos, c.id, 0x00)
	}
	bitsPerBlock := 2
	if progressive {
		sos, bitsPerBlock = append(sos, 0, 0, 0), 1
	} else {
		sos = append(sos, 0, 63, 0)
	}
	seg(0xDA, sos)
	h0, v0 := comps[0].h, comps[0].v
	if len(comps) == 1 {
		h0, v0 = 1, 1
	}
	mxx, myy := (w+8*h0-1)/(8*h0), (h+8*v0-1)/(8*v0)
	blocks := 0
	for _, c := range comps {
		if len(comps) == 1 {
			blocks += mxx * myy
		} else {
			blocks += mxx * myy * c.h * c.v
		}
	}
	b = append(b, make([]byte, (blocks*bitsPerBlock+7)/8+2)...)
	return append(b, 0xFF, 0xD9)
}

// synthPNG writes a valid w×h PNG of a colour type and bit depth, all zero
// samples, optionally interlaced (Adam7) and with a tRNS chunk.
func synthPNG(w, h int, colorType, depth byte, interlaced, trns bool) []byte {
	channels := map[byte]int{0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colorType]
	bits := channels * int(depth)
	ihdr := binary.BigEndian.AppendUint32(nil, uint32(w))
	ihdr = binary.BigEndian.AppendUint32(ihdr, uint32(h))
	ihdr = append(ihdr, depth, colorType, 0, 0, 0)
	if interlaced {
		ihdr[12] = 1
	}
	var raw bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&raw, zlib.BestSpeed)
	rows := func(pw, ph int) {
		if pw == 0 || ph == 0 {
			return
		}
		row := make([]byte, 1+(bits*pw+7)/8)
		for range ph {
			zw.Write(row)
		}
	}
	if interlaced {
		for _, p := range []struct{ x, y, dx, dy int }{{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}} {
			rows((w-p.x+p.dx-1)/p.dx, (h-p.y+p.dy-1)/p.dy)
		}
	} else {
		rows(w, h)
	}
	zw.Close()
	out := []byte(pngSignature)
	out = appendPNGChunk(out, "IHDR", ihdr)
	if colorType == 3 {
		out = appendPNGChunk(out, "PLTE", []byte{10, 20, 30, 200, 100, 50})
	}
	if trns {
		out = appendPNGChunk(out, "tRNS", make([]byte, map[byte]int{0: 2, 2: 6, 3: 1}[colorType]))
	}
	out = appendPNGChunk(out, "IDAT", raw.Bytes())
	return appendPNGChunk(out, "IEND", nil)
}

// bitWriter writes a VP8L bit stream, least significant bit first.
type bitWriter struct {
	b []byte
	n uint
}

func (w *bitWriter) put(v uint32, n int) {
	for i := range n {
		if w.n%8 == 0 {
			w.b = append(w.b, 0)
		}
		w.b[len(w.b)-1] |= byte(v>>i&1) << (w.n % 8)
		w.n++
	}
}

// oneColourImage writes an entropy-coded image whose five Huffman codes
// have a single symbol each, so its pixels take no bits at all.
func (w *bitWriter) oneColourImage(argb [4]uint32) {
	w.put(0, 1) // no colour cache
	// Green, red, blue, alpha, distance.
	for _, sym := range []uint32{argb[1], argb[0], argb[2], argb[3], 0} {
		w.put(1, 1) // simple code
		w.put(0, 1) // one symbol
		w.put(1, 1) // of 8 bits
		w.put(sym, 8)
	}
}

// synthVP8L writes a w×h lossless WebP whose pixels cost no bits: with
// tiles, a predictor and a cross-colour transform (tile images of 4×4
// pixels); with nColors > 0, a colour-indexing transform of that many
// colours, so that every buffer the decoder has is exercised.
func synthVP8L(w, h int, tiles bool, nColors int) []byte {
	var bw bitWriter
	bw.put(0x2f, 8)
	bw.put(uint32(w-1), 14)
	bw.put(uint32(h-1), 14)
	bw.put(1, 1)
	bw.put(0, 3)
	for _, typ := range []uint32{0, 1} { // predictor, cross-colour
		if !tiles {
			break
		}
		bw.put(1, 1)
		bw.put(typ, 2)
		bw.put(0, 3) // 4×4 tiles
		bw.oneColourImage([4]uint32{0, 0, 0, 0})
	}
	if nColors > 0 {
		bw.put(1, 1)
		bw.put(3, 2)
		bw.put(uint32(nColors-1), 8)
		bw.oneColourImage([4]uint32{30, 20, 10, 255})
	}
	bw.put(0, 1) // no more transforms
	bw.put(0, 1) // no colour cache
	bw.put(0, 1) // no meta Huffman codes
	for _, sym := range []uint32{0, 0, 0, 255, 0} {
		bw.put(1, 1)
		bw.put(0, 1)
		bw.put(1, 1)
		bw.put(sym, 8)
	}
	data := bw.b
	out := []byte("RIFF\x00\x00\x00\x00WEBPVP8L")
	out = binary.LittleEndian.AppendUint32(out, uint32(len(data)))
	out = append(out, data...)
	if len(data)%2 == 1 {
		out = append(out, 0)
	}
	binary.LittleEndian.PutUint32(out[4:], uint32(len(out)-8))
	return out
}

// measureDecode returns the bytes that decoding b and making its thumbnail
// (rotated, so the upright copy is made too) allocate.
func measureDecode(t *testing.T, format string, b []byte) uint64 {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	img, err := decodeImage(format, b)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if _, err := makeThumbnail(img, 6, DefaultThumbMaxSide); err != nil {
		t.Fatalf("thumbnail: %v", err)
	}
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestDecodeCostBoundsAllocation decodes one image of every kind the
// decoders accept — JPEG grey, YCbCr at every subsampling, RGB, CMYK and
// YCCK, baseline and progressive; PNG of every colour type and bit depth,
// with and without tRNS, interlaced or not; WebP lossy, lossy with alpha and
// lossless with each of its transforms — and fails if decoding and
// thumbnailing it allocates more than decodeCost said. For JPEG and PNG the
// estimate must also be close (within 5% and decodeOverhead), so the model
// is checked in both directions.
func TestDecodeCostBoundsAllocation(t *testing.T) {
	// Not multiples of 8 or 16: MCU and macroblock padding counts. The
	// thumbnail of the large size is box-filtered first, that of the small
	// one is not.
	sizes := [][2]int{{1001, 751}, {601, 401}}
	if raceEnabled {
		sizes = [][2]int{{401, 301}}
	}
	for _, size := range sizes {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) { decodeCostBoundsAllocation(t, size[0], size[1]) })
	}
}

func decodeCostBoundsAllocation(t *testing.T, w, h int) {
	type sample struct {
		name   string
		format string
		data   []byte
		tight  bool
	}
	var samples []sample
	for _, prog := range []bool{false, true} {
		mode := "baseline"
		if prog {
			mode = "progressive"
		}
		add := func(name string, comps []jpegComp, adobe int, jfif bool) {
			samples = append(samples, sample{mode + " " + name, FormatJPEG, synthJPEG(w, h, comps, prog, adobe, jfif), true})
		}
		add("grey", []jpegComp{{1, 2, 2}}, -1, true)
		for _, hv := range []struct {
			name string
			h, v int
		}{{"4:4:4", 1, 1}, {"4:4:0", 1, 2}, {"4:2:2", 2, 1}, {"4:2:0", 2, 2}, {"4:1:1", 4, 1}, {"4:1:0", 4, 2}} {
			add("YCbCr "+hv.name, []jpegComp{{1, hv.h, hv.v}, {2, 1, 1}, {3, 1, 1}}, -1, true)
		}
		add("RGB by ids", []jpegComp{{'R', 1, 1}, {'G', 1, 1}, {'B', 1, 1}}, -1, false)
		add("RGB by Adobe", []jpegComp{{1, 1, 1}, {2, 1, 1}, {3, 1, 1}}, 0, false)
		add("CMYK", []jpegComp{{1, 1, 1}, {2, 1, 1}, {3, 1, 1}, {4, 1, 1}}, 0, false)
		add("CMYK 2x2", []jpegComp{{1, 2, 2}, {2, 1, 1}, {3, 1, 1}, {4, 2, 2}}, 0, false)
		add("YCCK", []jpegComp{{1, 1, 1}, {2, 1, 1}, {3, 1, 1}, {4, 1, 1}}, 2, false)
	}
	for _, ct := range []struct {
		typ    byte
		depths []byte
		trns   bool
	}{
		{0, []byte{1, 2, 4, 8, 16}, true}, {2, []byte{8, 16}, true}, {3, []byte{1, 2, 4, 8}, true},
		{4, []byte{8, 16}, false}, {6, []byte{8, 16}, false},
	} {
		for _, d := range ct.depths {
			for _, il := range []bool{false, true} {
				trnsOptions := []bool{false}
				if ct.trns {
					trnsOptions = append(trnsOptions, true)
				}
				for _, tr := range trnsOptions {
					name := fmt.Sprintf("colour type %d, %d bits, interlaced %v, tRNS %v", ct.typ, d, il, tr)
					samples = append(samples, sample{name, FormatPNG, synthPNG(w, h, ct.typ, d, il, tr), true})
				}
			}
		}
	}
	for _, n := range []int{0, 2, 4, 16, 200} {
		samples = append(samples, sample{fmt.Sprintf("lossless, tiles, %d colours indexed", n), FormatWebP, synthVP8L(w, h, true, n), false})
	}
	samples = append(samples, sample{"lossless, 2 colours indexed", FormatWebP, synthVP8L(w, h, false, 2), false})
	for _, name := range []string{"lossy.webp", "alpha_meta.webp", "lossless.webp"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		samples = append(samples, sample{name, FormatWebP, b, false})
	}

	for _, s := range samples {
		cfg, err := decodeConfig(s.format, s.data)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		est := decodeCost(s.format, s.data, cfg.Width, cfg.Height, DefaultThumbMaxSide)
		got := measureDecode(t, s.format, s.data)
		t.Logf("%-45s %-28s estimate %9d, allocated %9d bytes (%.2f bytes a pixel)", s.name, est.kind, est.bytes, got,
			float64(got)/float64(cfg.Width*cfg.Height))
		if uint64(est.bytes) < got {
			t.Errorf("%s: decoding allocated %d bytes, more than the estimate of %d", s.name, got, est.bytes)
		}
		if s.tight && float64(est.bytes) > 1.05*float64(got)+decodeOverhead {
			t.Errorf("%s: the estimate of %d bytes is far above the %d allocated", s.name, est.bytes, got)
		}
	}
}

// TestSixteenBitPNGRefusedWithItsCost is the attack of issue #21: a small
// 16-bit RGBA PNG under the pixel limit whose decode would take ~392 MB.
func TestSixteenBitPNGRefusedWithItsCost(t *testing.T) {
	bomb := synthPNG(7000, 7000, 6, 16, false, false)
	t.Logf("7000×7000 16-bit RGBA PNG in %d bytes", len(bomb))
	p := NewProcessor(Limits{}, 1)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := p.Process(context.Background(), bytes.NewReader(bomb))
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTooMuchMemory) {
		t.Fatalf("err = %v, want ErrTooMuchMemory", err)
	}
	want := "照片为 7000×7000 像素的 16 位 RGBA PNG，解码约需 375.5 MB 内存，超过了 256 MB 的上限；请上传普通的 JPEG 照片，或缩小尺寸后重试"
	if UserMessage(err) != want {
		t.Errorf("message\n%q\nwant\n%q", UserMessage(err), want)
	}
	if allocated := after.TotalAlloc - before.TotalAlloc; allocated > 4*uint64(len(bomb))+1<<20 {
		t.Errorf("refusing it allocated %d bytes", allocated)
	}

	// A smaller one fits within the limit and is decoded.
	res, err := p.Process(context.Background(), bytes.NewReader(synthPNG(3000, 2000, 6, 16, false, false)))
	if err != nil {
		t.Fatalf("3000×2000 16-bit PNG: %v", err)
	}
	if res.Width != 3000 {
		t.Errorf("width %d", res.Width)
	}
}

// TestDecodePoolBoundsMemory holds most of the decode pool's memory as if
// one large decode were in flight: a small image still decodes beside it,
// but a second large one waits for the memory though decode slots are free
// (it would finish in milliseconds otherwise), and runs once it is released.
func TestDecodePoolBoundsMemory(t *testing.T) {
	small := encodePNG(t, quadrants(64, 48))
	smallCost := decodeCost(FormatPNG, small, 64, 48, DefaultThumbMaxSide).bytes
	big := synthPNG(1000, 1000, 6, 16, false, false)
	bigCost := decodeCost(FormatPNG, big, 1000, 1000, DefaultThumbMaxSide).bytes
	p := NewProcessor(Limits{DecodeMemory: bigCost + smallCost}, 4)
	if !p.mem.TryAcquire(bigCost) {
		t.Fatal("the pool is not empty")
	}
	if _, err := p.Process(context.Background(), bytes.NewReader(small)); err != nil {
		t.Fatalf("small image beside a large decode: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := p.Process(ctx, bytes.NewReader(big)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a second large decode beside the first: err %v, want it to wait for memory", err)
	}
	p.mem.Release(bigCost)
	if _, err := p.Process(context.Background(), bytes.NewReader(big)); err != nil {
		t.Fatalf("the large image once memory is free: %v", err)
	}

	// One that can never fit is refused at once.
	p = NewProcessor(Limits{DecodeMemory: bigCost - 1}, 4)
	if _, err := p.Process(context.Background(), bytes.NewReader(big)); !errors.Is(err, ErrTooMuchMemory) {
		t.Fatalf("over the pool: %v", err)
	}
}

// TestSynthImagesDecode checks that the synthetic images are what they say.
func TestSynthImagesDecode(t *testing.T) {
	img, err := png.Decode(bytes.NewReader(synthPNG(10, 7, 6, 16, true, false)))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := img.(*image.NRGBA64); !ok || img.Bounds().Dx() != 10 {
		t.Errorf("16-bit RGBA PNG decodes as %T %v", img, img.Bounds())
	}
	img, err = decodeImage(FormatJPEG, synthJPEG(33, 17, []jpegComp{{1, 1, 1}, {2, 1, 1}, {3, 1, 1}, {4, 1, 1}}, true, 0, false))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := img.(*image.CMYK); !ok || img.Bounds().Dx() != 33 {
		t.Errorf("CMYK JPEG decodes as %T %v", img, img.Bounds())
	}
	img, err = decodeImage(FormatWebP, synthVP8L(33, 17, false, 2))
	if err != nil {
		t.Fatal(err)
	}
	if c := color.NRGBAModel.Convert(img.At(5, 5)).(color.NRGBA); img.Bounds().Dx() != 33 || c != (color.NRGBA{30, 20, 10, 255}) {
		t.Errorf("lossless WebP decodes as %v, colour %v", img.Bounds(), c)
	}
}
