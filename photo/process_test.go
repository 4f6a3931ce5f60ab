package photo

import (
	"bytes"
	"compress/zlib"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"runtime"
	"strings"
	"testing"
	"time"
)

func process(t *testing.T, p *Processor, b []byte) (*Result, error) {
	t.Helper()
	return p.Process(context.Background(), bytes.NewReader(b))
}

func mustProcess(t *testing.T, p *Processor, b []byte) *Result {
	t.Helper()
	res, err := process(t, p, b)
	if err != nil {
		t.Fatalf("Process: %v", err)
	}
	return res
}

// decodedHash hashes the decoded pixels (and bounds) of an image file.
func decodedHash(t *testing.T, b []byte) string {
	t.Helper()
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	h := sha256.New()
	bd := img.Bounds()
	binary.Write(h, binary.LittleEndian, [4]int64{int64(bd.Min.X), int64(bd.Min.Y), int64(bd.Max.X), int64(bd.Max.Y)})
	switch m := img.(type) {
	case *image.YCbCr:
		h.Write(m.Y)
		h.Write(m.Cb)
		h.Write(m.Cr)
	default:
		h.Write(rgbaOf(img).Pix)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// photoJPEG returns a w×h JPEG with a typical phone EXIF block and, in
// addition, every kind of metadata segment that must be stripped.
func photoJPEG(t *testing.T, img image.Image, spec exifSpec) []byte {
	t.Helper()
	base := encodeJPEG(t, img, 90)
	xmp := append([]byte("http://ns.adobe.com/xap/1.0/\x00"),
		`<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description exif:GPSLatitude="30,39.602N" exif:GPSLongitude="104,3.96E"/></rdf:RDF></x:xmpmeta>`...)
	return insertAfterSOI(base,
		jpegSegment(markerAPP0, []byte("JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")),
		app1Exif(spec.tiff()),
		jpegSegment(markerAPP1, xmp),
		jpegSegment(markerAPP2, []byte("ICC_PROFILE\x00\x01\x01fake-icc-profile-bytes")),
		jpegSegment(markerAPP2, []byte("MPF\x00II*\x00secondary-image-index")),
		jpegSegment(0xED, []byte("Photoshop 3.0\x008BIM\x04\x04IPTC City=Chengdu")),
		jpegSegment(0xEE, []byte("Adobe\x00\x64\x00\x00\x00\x00\x01")), // transform=1: YCbCr
		jpegSegment(markerCOM, []byte("secret comment")),
		jpegSegment(0xEB, []byte("JP\x00\x00c2pa-jumbf")), // APP11 C2PA
	)
}

// segmentsOf lists the markers of a JPEG up to the first scan.
func segmentsOf(t *testing.T, b []byte) []jpegSeg {
	t.Helper()
	var segs []jpegSeg
	if err := walkJPEG(b, func(s jpegSeg) bool {
		segs = append(segs, s)
		return s.marker != markerSOS
	}); err != nil {
		t.Fatal(err)
	}
	return segs
}

func TestJPEGStripping(t *testing.T) {
	p := NewProcessor(Limits{}, 2)
	spec := chengdu
	origOnly := photoJPEG(t, quadrants(96, 64), spec)
	// A phone "trailer" after EOI: an MPF secondary image with its own EXIF.
	orig := append(bytes.Clone(origOnly), insertAfterSOI(encodeJPEG(t, quadrants(8, 8), 50), app1Exif(chengdu.tiff()))...)

	res := mustProcess(t, p, orig)
	if res.Format != "jpeg" || res.ContentType != "image/jpeg" {
		t.Errorf("format %q %q", res.Format, res.ContentType)
	}
	if res.Width != 96 || res.Height != 64 || res.Orientation != 1 {
		t.Errorf("size %dx%d orientation %d", res.Width, res.Height, res.Orientation)
	}
	if res.GPS == nil || math.Abs(res.GPS.Lat-chengduLat) > 1e-9 || math.Abs(res.GPS.Lng-chengduLng) > 1e-9 {
		t.Errorf("GPS %+v", res.GPS)
	}
	if res.TakenAt == nil || res.TakenAt.Format(time.RFC3339) != "2024-05-01T09:30:15+08:00" {
		t.Errorf("TakenAt %v", res.TakenAt)
	}
	sum := sha256.Sum256(res.Clean)
	if res.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("SHA256 mismatch")
	}

	clean := res.Clean
	// Nothing left to parse.
	if tiff := findExifJPEG(clean); tiff != nil {
		t.Errorf("clean JPEG still has EXIF: %q", tiff)
	}
	for _, s := range []string{"GPS", "xmpmeta", "Photoshop", "8BIM", "secret", "Apple", "iPhone", "MPF", "c2pa", "2024:05:01"} {
		if bytes.Contains(clean, []byte(s)) {
			t.Errorf("clean JPEG contains %q", s)
		}
	}
	for _, s := range []string{"JFIF\x00", "ICC_PROFILE\x00", "Adobe"} {
		if !bytes.Contains(clean, []byte(s)) {
			t.Errorf("clean JPEG lost %q", s)
		}
	}
	var markers []byte
	for _, s := range segmentsOf(t, clean) {
		markers = append(markers, s.marker)
	}
	if markers[0] != markerAPP0 {
		t.Errorf("JFIF APP0 is not first: % x", markers)
	}
	if !bytes.HasSuffix(clean, []byte{0xFF, 0xD9}) {
		t.Errorf("trailer after EOI was kept")
	}

	// Lossless: the compressed image data is byte-for-byte identical and
	// decodes to identical pixels.
	scan := func(b []byte) []byte { // everything from the first SOS to EOI
		var out []byte
		inScan := false
		walkJPEG(b, func(s jpegSeg) bool {
			inScan = inScan || s.marker == markerSOS
			if inScan {
				out = append(out, s.raw...)
			}
			return true
		})
		return out
	}
	if len(scan(clean)) < 100 {
		t.Fatalf("no scan data")
	}
	if !bytes.Equal(scan(origOnly), scan(clean)) {
		t.Errorf("entropy-coded data changed")
	}
	if decodedHash(t, origOnly) != decodedHash(t, clean) {
		t.Errorf("decoded pixels changed")
	}
	// The clean image parses as an image with the same size.
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(clean))
	if err != nil || cfg.Width != 96 || cfg.Height != 64 {
		t.Errorf("clean config %+v %v", cfg, err)
	}
	// And processing it again finds no metadata at all.
	again := mustProcess(t, p, clean)
	if again.GPS != nil || again.TakenAt != nil || again.SHA256 != res.SHA256 {
		t.Errorf("reprocessed: GPS %v TakenAt %v same hash %v", again.GPS, again.TakenAt, again.SHA256 == res.SHA256)
	}
}

func TestJPEGOrientationKeptAlone(t *testing.T) {
	p := NewProcessor(Limits{}, 1)
	spec := chengdu
	spec.orientation = 6
	for _, withJFIF := range []bool{true, false} {
		var orig []byte
		if withJFIF {
			orig = photoJPEG(t, quadrants(96, 64), spec)
		} else {
			orig = insertAfterSOI(encodeJPEG(t, quadrants(96, 64), 90), app1Exif(spec.tiff()))
		}
		res := mustProcess(t, p, orig)
		if res.Orientation != 6 || res.Width != 64 || res.Height != 96 {
			t.Errorf("jfif=%v: orientation %d size %dx%d", withJFIF, res.Orientation, res.Width, res.Height)
		}
		segs := segmentsOf(t, res.Clean)
		var app1 []jpegSeg
		for _, s := range segs {
			if s.marker == markerAPP1 {
				app1 = append(app1, s)
			}
		}
		if len(app1) != 1 {
			t.Fatalf("jfif=%v: %d APP1 segments", withJFIF, len(app1))
		}
		wantPos := 0
		if withJFIF {
			wantPos = 1
		}
		if segs[wantPos].marker != markerAPP1 {
			t.Errorf("jfif=%v: orientation APP1 at wrong position", withJFIF)
		}
		want := append([]byte(exifHeader), orientationTIFF(6)...)
		if !bytes.Equal(app1[0].payload, want) {
			t.Errorf("jfif=%v: APP1 payload % x", withJFIF, app1[0].payload)
		}
		info, err := parseExif(findExifJPEG(res.Clean))
		if err != nil || info.Orientation != 6 || info.GPS != nil || info.DateTime != "" || info.DateTimeOriginal != "" {
			t.Errorf("jfif=%v: clean EXIF %+v %v", withJFIF, info, err)
		}
		if bytes.Contains(res.Clean, []byte("GPS")) || bytes.Contains(res.Clean, []byte("Apple")) {
			t.Errorf("jfif=%v: metadata left", withJFIF)
		}
		if decodedHash(t, orig) != decodedHash(t, res.Clean) {
			t.Errorf("jfif=%v: decoded pixels changed", withJFIF)
		}
	}
}

func TestPrimitives(t *testing.T) {
	// A 2×1 image, red then green. Rotated clockwise it is 1×2 with red on
	// top; mirrored it is green then red.
	img := image.NewRGBA(image.Rect(0, 0, 2, 1))
	img.SetRGBA(0, 0, colRed)
	img.SetRGBA(1, 0, colGreen)
	r := rotCW(img)
	if r.Rect.Dx() != 1 || r.Rect.Dy() != 2 || r.RGBAAt(0, 0) != colRed || r.RGBAAt(0, 1) != colGreen {
		t.Errorf("rotCW wrong")
	}
	f := flipH(img)
	if f.RGBAAt(0, 0) != colGreen || f.RGBAAt(1, 0) != colRed {
		t.Errorf("flipH wrong")
	}
}

func TestAllOrientations(t *testing.T) {
	p := NewProcessor(Limits{ThumbMaxSide: 60}, 2)
	upright := quadrants(120, 60)
	for o := 1; o <= 8; o++ {
		stored := storedFor(upright, o)
		if (o >= 5) != (stored.Rect.Dx() == 60) {
			t.Fatalf("orientation %d: stored %v", o, stored.Rect)
		}
		spec := exifSpec{orientation: o}
		files := map[string][]byte{
			"jpeg": insertAfterSOI(encodeJPEG(t, stored, 95), app1Exif(spec.tiff())),
			"png":  insertAfterIHDR(encodePNG(t, stored), pngChunk("eXIf", spec.tiff())),
		}
		for name, file := range files {
			res := mustProcess(t, p, file)
			if res.Orientation != o || res.Width != 120 || res.Height != 60 {
				t.Errorf("%s orientation %d: got orientation %d size %dx%d", name, o, res.Orientation, res.Width, res.Height)
				continue
			}
			th, err := jpeg.Decode(bytes.NewReader(res.Thumb))
			if err != nil {
				t.Fatal(err)
			}
			if th.Bounds().Dx() != 60 || th.Bounds().Dy() != 30 {
				t.Errorf("%s orientation %d: thumb %v", name, o, th.Bounds())
			}
			t.Run(name+"-"+string(rune('0'+o)), func(t *testing.T) { checkQuadrants(t, th) })
		}
	}
}

func TestOrientDirect(t *testing.T) {
	// orient() on exact pixels, without any codec in between.
	upright := quadrants(6, 4)
	for o := 1; o <= 8; o++ {
		got := orient(storedFor(upright, o), o)
		if !bytes.Equal(got.Pix, upright.Pix) || got.Rect != upright.Rect {
			t.Errorf("orientation %d: orient(storedFor(u)) != u", o)
		}
	}
}

func TestPNGStripping(t *testing.T) {
	p := NewProcessor(Limits{}, 1)
	base := encodePNG(t, quadrants(40, 30))
	orig := insertAfterIHDR(base,
		pngChunk("gAMA", []byte{0, 0, 0xB1, 0x8F}),
		pngChunk("eXIf", chengdu.tiff()),
		pngChunk("tEXt", []byte("Comment\x00taken at home, GPS 30.66 104.06")),
		pngChunk("zTXt", []byte("Author\x00\x00x\x9c\x03\x00\x00\x00\x00\x01")),
		pngChunk("iTXt", []byte("XML:com.adobe.xmp\x00\x00\x00\x00\x00<x:xmpmeta exif:GPSLatitude=\"30\"/>")),
		pngChunk("tIME", []byte{0x07, 0xE8, 5, 1, 9, 30, 15}),
		pngChunk("pHYs", []byte{0, 0, 0x0B, 0x13, 0, 0, 0x0B, 0x13, 1}),
	)
	orig = append(orig, []byte("trailing GPS junk")...)

	res := mustProcess(t, p, orig)
	if res.Format != "png" || res.ContentType != "image/png" || res.Width != 40 || res.Height != 30 {
		t.Errorf("%s %s %dx%d", res.Format, res.ContentType, res.Width, res.Height)
	}
	if res.GPS == nil || res.TakenAt == nil {
		t.Errorf("metadata not read: %+v %v", res.GPS, res.TakenAt)
	}
	var types []string
	if err := walkPNG(res.Clean, func(typ string, _, _ []byte) bool { types = append(types, typ); return true }); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(types, ","); got != "IHDR,gAMA,pHYs,IDAT,IEND" {
		t.Errorf("chunks %s", got)
	}
	if !pngCRCsOK(res.Clean) {
		t.Errorf("bad CRC")
	}
	for _, s := range []string{"GPS", "xmpmeta", "Comment", "Apple", "junk"} {
		if bytes.Contains(res.Clean, []byte(s)) {
			t.Errorf("clean PNG contains %q", s)
		}
	}
	if decodedHash(t, base) != decodedHash(t, res.Clean) {
		t.Errorf("decoded pixels changed")
	}

	// With orientation 8, the eXIf chunk is replaced by a minimal one.
	spec := chengdu
	spec.orientation = 8
	orig = insertAfterIHDR(base, pngChunk("eXIf", spec.tiff()), pngChunk("tEXt", []byte("k\x00v")))
	res = mustProcess(t, p, orig)
	if res.Width != 30 || res.Height != 40 || res.Orientation != 8 {
		t.Errorf("rotated PNG %dx%d %d", res.Width, res.Height, res.Orientation)
	}
	info, err := parseExif(findExifPNG(res.Clean))
	if err != nil || info.Orientation != 8 || info.GPS != nil || info.DateTimeOriginal != "" {
		t.Errorf("clean eXIf %+v %v", info, err)
	}
	if !pngCRCsOK(res.Clean) || bytes.Contains(res.Clean, []byte("GPS")) {
		t.Errorf("bad clean PNG")
	}
}

func TestUnsupported(t *testing.T) {
	p := NewProcessor(Limits{}, 1)
	cases := map[string][]byte{
		"empty":       nil,
		"gif":         []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"),
		"bmp":         append([]byte("BM"), make([]byte, 60)...),
		"heic":        []byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"),
		"pdf":         []byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj"),
		"text":        []byte("hello, this is not a photo"),
		"html":        []byte("<html><body>photo.jpg</body></html>"),
		"wav in riff": []byte("RIFF\x24\x00\x00\x00WAVEfmt "),
		"short jpeg":  {0xFF, 0xD8},
		"one byte":    {0xFF},
	}
	for name, b := range cases {
		_, err := process(t, p, b)
		if !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: err = %v, want ErrUnsupported", name, err)
		}
		if UserMessage(err) == "" {
			t.Errorf("%s: no user message", name)
		}
	}
}

func TestCorrupt(t *testing.T) {
	p := NewProcessor(Limits{}, 1)
	j := insertAfterSOI(encodeJPEG(t, quadrants(64, 64), 90), app1Exif(chengdu.tiff()))
	pn := encodePNG(t, quadrants(64, 64))
	badIDAT := bytes.Clone(pn)
	i := bytes.Index(badIDAT, []byte("IDAT"))
	copy(badIDAT[i+4:], "garbage!") // CRC mismatch and bad zlib data
	cases := map[string][]byte{
		"jpeg header only":  j[:200],
		"jpeg truncated":    j[:len(j)*2/3],
		"jpeg bad segment":  {0xFF, 0xD8, 0xFF, 0xE1, 0x00},
		"png header only":   pn[:40],
		"png bad IDAT":      badIDAT,
		"png truncated":     pn[:len(pn)-20],
		"webp header only":  []byte("RIFF\x04\x00\x00\x00WEBP"),
		"webp bad VP8":      []byte("RIFF\x16\x00\x00\x00WEBPVP8 \x0a\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"),
		"webp size too big": []byte("RIFF\xff\xff\x00\x00WEBPVP8 \x0a\x00\x00\x00"),
	}
	for name, b := range cases {
		_, err := process(t, p, b)
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: err = %v, want ErrCorrupt", name, err)
		}
	}
}

// infiniteReader yields a JPEG header and then zeros forever, counting what
// was read.
type infiniteReader struct {
	n int64
}

func (r *infiniteReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 0
	}
	if r.n == 0 && len(p) >= 3 {
		copy(p, []byte{0xFF, 0xD8, 0xFF})
	}
	r.n += int64(len(p))
	return len(p), nil
}

func TestTooLarge(t *testing.T) {
	const max = 1 << 20
	p := NewProcessor(Limits{MaxBytes: max}, 1)
	r := &infiniteReader{}
	_, err := p.Process(context.Background(), r)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v", err)
	}
	if r.n > max+1 {
		t.Errorf("read %d bytes, limit %d", r.n, max+1)
	}
	if got := UserMessage(err); got != "照片超过了 1 MB 的上限" {
		t.Errorf("message %q", got)
	}

	// With a size hint (bytes.Reader, multipart files) the exact size is
	// reported without reading.
	p = NewProcessor(Limits{}, 1)
	big := make([]byte, 12_900_000) // 12.3 MiB
	copy(big, []byte{0xFF, 0xD8, 0xFF})
	_, err = p.Process(context.Background(), bytes.NewReader(big))
	if !errors.Is(err, ErrTooLarge) || UserMessage(err) != "照片大小为 12.3 MB，超过了 10 MB 的上限" {
		t.Errorf("err = %v", err)
	}
	var pe *Error
	if !errors.As(err, &pe) || pe.Kind != ErrTooLarge {
		t.Errorf("errors.As: %v", err)
	}

	// Exactly MaxBytes is accepted.
	j := encodeJPEG(t, quadrants(32, 32), 80)
	p = NewProcessor(Limits{MaxBytes: int64(len(j))}, 1)
	if _, err := p.Process(context.Background(), io.MultiReader(bytes.NewReader(j))); err != nil {
		t.Errorf("file of exactly MaxBytes: %v", err)
	}
	p = NewProcessor(Limits{MaxBytes: int64(len(j)) - 1}, 1)
	if _, err := p.Process(context.Background(), io.MultiReader(bytes.NewReader(j))); !errors.Is(err, ErrTooLarge) {
		t.Errorf("file of MaxBytes+1: %v", err)
	}
}

// pngBomb returns a valid w×h 1-bit grayscale PNG of zeros: about w*h/8
// bytes of raw data that deflate to a tiny file, while decoding it would
// allocate w*h bytes (image.Gray).
func pngBomb(t testing.TB, w, h int) []byte {
	var idat bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&idat, zlib.BestCompression)
	row := make([]byte, 1+(w+7)/8) // filter byte 0 + packed bits
	for y := 0; y < h; y++ {
		zw.Write(row)
	}
	zw.Close()
	ihdr := binary.BigEndian.AppendUint32(nil, uint32(w))
	ihdr = binary.BigEndian.AppendUint32(ihdr, uint32(h))
	ihdr = append(ihdr, 1, 0, 0, 0, 0) // bit depth 1, grayscale
	out := []byte(pngSignature)
	out = appendPNGChunk(out, "IHDR", ihdr)
	out = appendPNGChunk(out, "IDAT", idat.Bytes())
	return appendPNGChunk(out, "IEND", nil)
}

func TestDecompressionBomb(t *testing.T) {
	const side = 20000
	bomb := pngBomb(t, side, side)
	if cfg, err := png.DecodeConfig(bytes.NewReader(bomb)); err != nil || cfg.Width != side {
		t.Fatalf("bomb is not a valid PNG header: %v", err)
	}
	t.Logf("bomb: %dx%d PNG in %d bytes (%.0f:1)", side, side, len(bomb), float64(side*side)/float64(len(bomb)))
	p := NewProcessor(Limits{}, 1)

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := p.Process(context.Background(), bytes.NewReader(bomb))
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTooManyPixels) {
		t.Fatalf("err = %v", err)
	}
	allocated := after.TotalAlloc - before.TotalAlloc
	pixelBuffer := uint64(side * side) // image.Gray, 1 byte per pixel
	t.Logf("refusing the bomb allocated %d bytes (%d allocs); decoding would allocate at least %d bytes",
		allocated, after.Mallocs-before.Mallocs, pixelBuffer)
	if allocated > pixelBuffer/100 {
		t.Errorf("refusing the bomb allocated %d bytes, more than 1%% of the %d-byte pixel buffer", allocated, pixelBuffer)
	}
	if allocated > uint64(len(bomb))+256<<10 {
		t.Errorf("refusing the bomb allocated %d bytes for a %d-byte file", allocated, len(bomb))
	}
	allocs := testing.AllocsPerRun(5, func() { p.Process(context.Background(), bytes.NewReader(bomb)) })
	t.Logf("allocations per refusal: %.0f", allocs)
	if want := "照片为 20000×20000 像素（400 百万像素），超过了 50 百万像素 的上限"; UserMessage(err) != want {
		t.Errorf("message %q", UserMessage(err))
	}

	// A JPEG whose SOF claims 60000×60000 pixels.
	j := encodeJPEG(t, quadrants(16, 16), 80)
	sof := bytes.Index(j, []byte{0xFF, 0xC0})
	binary.BigEndian.PutUint16(j[sof+5:], 60000)
	binary.BigEndian.PutUint16(j[sof+7:], 60000)
	if _, err := process(t, p, j); !errors.Is(err, ErrTooManyPixels) {
		t.Errorf("JPEG bomb: %v", err)
	}
}

func TestThumbnail(t *testing.T) {
	p := NewProcessor(Limits{ThumbMaxSide: 100}, 1)
	// Large image: exact size and colours.
	res := mustProcess(t, p, encodeJPEG(t, quadrants(1000, 500), 90))
	th := decodeThumb(t, res)
	if th.Bounds().Dx() != 100 || th.Bounds().Dy() != 50 {
		t.Errorf("thumb %v", th.Bounds())
	}
	checkQuadrants(t, th)
	// Small image: not enlarged.
	res = mustProcess(t, p, encodePNG(t, quadrants(40, 20)))
	if th := decodeThumb(t, res); th.Bounds().Dx() != 40 || th.Bounds().Dy() != 20 {
		t.Errorf("small thumb %v", th.Bounds())
	}
	// Portrait.
	res = mustProcess(t, p, encodePNG(t, quadrants(300, 900)))
	if th := decodeThumb(t, res); th.Bounds().Dx() != 33 || th.Bounds().Dy() != 100 {
		t.Errorf("portrait thumb %v", th.Bounds())
	}
	// Grayscale JPEG.
	gray := image.NewGray(image.Rect(0, 0, 500, 300))
	for i := range gray.Pix {
		gray.Pix[i] = 128
	}
	res = mustProcess(t, p, encodeJPEG(t, gray, 90))
	checkColor(t, "gray", decodeThumb(t, res), color.RGBA{128, 128, 128, 255})
	// Transparent PNG flattens onto white; half-transparent red onto pink.
	nrgba := image.NewNRGBA(image.Rect(0, 0, 400, 400))
	for y := 0; y < 400; y++ {
		for x := 0; x < 400; x++ {
			if x >= 200 {
				nrgba.SetNRGBA(x, y, color.NRGBA{255, 0, 0, 128})
			}
		}
	}
	res = mustProcess(t, p, encodePNG(t, nrgba))
	th = decodeThumb(t, res)
	checkColor(t, "transparent", th.At(20, 50), color.RGBA{255, 255, 255, 255})
	checkColor(t, "half red", th.At(80, 50), color.RGBA{255, 127, 127, 255})
	// Paletted and 16-bit PNGs take the generic path.
	pal := image.NewPaletted(image.Rect(0, 0, 500, 250), color.Palette{colBlue, colYellow})
	res = mustProcess(t, p, encodePNG(t, pal))
	checkColor(t, "paletted", decodeThumb(t, res), colBlue)
	g16 := image.NewRGBA64(image.Rect(0, 0, 500, 250))
	for i := 0; i < len(g16.Pix); i += 8 {
		copy(g16.Pix[i:], []byte{0, 0, 0xFF, 0xFF, 0, 0, 0xFF, 0xFF}) // opaque green
	}
	res = mustProcess(t, p, encodePNG(t, g16))
	checkColor(t, "rgba64", decodeThumb(t, res), colGreen)
}

func decodeThumb(t *testing.T, res *Result) image.Image {
	t.Helper()
	if !bytes.HasPrefix(res.Thumb, []byte{0xFF, 0xD8, 0xFF}) {
		t.Fatalf("thumbnail is not a JPEG")
	}
	if bytes.Contains(res.Thumb, []byte("Exif")) {
		t.Errorf("thumbnail has EXIF")
	}
	img, err := jpeg.Decode(bytes.NewReader(res.Thumb))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// checkColor checks the colour at the centre of an image, or of a colour.
func checkColor(t *testing.T, name string, v any, want color.RGBA) {
	t.Helper()
	var c color.Color
	switch v := v.(type) {
	case image.Image:
		b := v.Bounds()
		c = v.At(b.Min.X+b.Dx()/2, b.Min.Y+b.Dy()/2)
	case color.Color:
		c = v
	}
	got := color.RGBAModel.Convert(c).(color.RGBA)
	if !near(got, want, 12) {
		t.Errorf("%s: colour %v, want %v", name, got, want)
	}
}

func TestBoxShrinkMatchesGeneric(t *testing.T) {
	// The YCbCr fast path must agree with the generic path.
	src := image.NewYCbCr(image.Rect(3, 5, 3+101, 5+77), image.YCbCrSubsampleRatio420)
	// Smooth, in-gamut content (averaging commutes with the affine
	// YCbCr→RGB conversion except where it clamps).
	for i := range src.Y {
		src.Y[i] = uint8(40 + (i*7)%176)
	}
	for i := range src.Cb {
		src.Cb[i] = uint8(108 + (i*13)%40)
		src.Cr[i] = uint8(108 + (i*5)%40)
	}
	fast := boxShrink(src, 4)
	slow := boxShrink(struct{ image.Image }{src}, 4) // hides the concrete type
	if fast.Rect != slow.Rect {
		t.Fatalf("%v vs %v", fast.Rect, slow.Rect)
	}
	for i := range fast.Pix {
		if abs(int(fast.Pix[i])-int(slow.Pix[i])) > 3 {
			t.Fatalf("pixel byte %d: %d vs %d", i, fast.Pix[i], slow.Pix[i])
		}
	}
}

func TestContext(t *testing.T) {
	p := NewProcessor(Limits{}, 1)
	j := encodeJPEG(t, quadrants(64, 64), 80)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Process(ctx, bytes.NewReader(j)); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v", err)
	}

	// All decode slots busy: waiting honours the deadline.
	p.sem <- struct{}{}
	ctx, cancel = context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := p.Process(ctx, bytes.NewReader(j)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("busy pool: %v", err)
	}
	<-p.sem
	if _, err := p.Process(context.Background(), bytes.NewReader(j)); err != nil {
		t.Errorf("after release: %v", err)
	}
}

func TestDefaults(t *testing.T) {
	p := NewProcessor(Limits{}, 0)
	if l := p.Limits(); l.MaxBytes != 10<<20 || l.MaxPixels != 50_000_000 || l.ThumbMaxSide != 360 || l.DecodeMemory != 256<<20 {
		t.Errorf("defaults %+v", l)
	}
	if p.MaxConcurrentDecodes() != runtime.NumCPU() {
		t.Errorf("pool %d", p.MaxConcurrentDecodes())
	}
	if p.loc.String() != "Asia/Shanghai" && p.loc.String() != "CST" {
		t.Errorf("location %v", p.loc)
	}
}

func TestErrorType(t *testing.T) {
	cause := errors.New("inner")
	err := error(newError(ErrCorrupt, cause, "the %s file is damaged", "JPEG"))
	if !errors.Is(err, ErrCorrupt) || !errors.Is(err, cause) || errors.Is(err, ErrTooLarge) {
		t.Errorf("errors.Is broken")
	}
	if err.Error() != "photo: the JPEG file is damaged: inner" {
		t.Errorf("Error() = %q", err.Error())
	}
	if UserMessage(err) != "the JPEG file is damaged" || UserMessage(cause) != "" {
		t.Errorf("UserMessage")
	}
}
