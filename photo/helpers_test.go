package photo

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"slices"
	"testing"
)

// ---- a small TIFF/EXIF writer ----

// tiffEntry is one IFD entry; val is already encoded in the writer's byte
// order.
type tiffEntry struct {
	tag, typ uint16
	count    uint32
	val      []byte
}

type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

type tiffWriter struct{ bo byteOrder }

func (w tiffWriter) short(tag, v uint16) tiffEntry {
	return tiffEntry{tag, typeShort, 1, w.bo.AppendUint16(nil, v)}
}

func (w tiffWriter) long(tag uint16, v uint32) tiffEntry {
	return tiffEntry{tag, typeLong, 1, w.bo.AppendUint32(nil, v)}
}

func (w tiffWriter) ascii(tag uint16, s string) tiffEntry {
	return tiffEntry{tag, typeASCII, uint32(len(s) + 1), append([]byte(s), 0)}
}

func (w tiffWriter) rationals(tag uint16, vs ...[2]uint32) tiffEntry {
	var b []byte
	for _, v := range vs {
		b = w.bo.AppendUint32(b, v[0])
		b = w.bo.AppendUint32(b, v[1])
	}
	return tiffEntry{tag, typeRational, uint32(len(vs)), b}
}

func blockSize(es []tiffEntry) int {
	n := 2 + 12*len(es) + 4
	for _, e := range es {
		if len(e.val) > 4 {
			n += len(e.val) + len(e.val)%2
		}
	}
	return n
}

// encodeBlock encodes an IFD at offset off followed by its out-of-line
// values.
func (w tiffWriter) encodeBlock(es []tiffEntry, off int) []byte {
	slices.SortFunc(es, func(a, b tiffEntry) int { return int(a.tag) - int(b.tag) })
	dataOff := off + 2 + 12*len(es) + 4
	var table, data []byte
	table = w.bo.AppendUint16(table, uint16(len(es)))
	for _, e := range es {
		table = w.bo.AppendUint16(table, e.tag)
		table = w.bo.AppendUint16(table, e.typ)
		table = w.bo.AppendUint32(table, e.count)
		if len(e.val) <= 4 {
			v := make([]byte, 4)
			copy(v, e.val)
			table = append(table, v...)
		} else {
			table = w.bo.AppendUint32(table, uint32(dataOff+len(data)))
			data = append(data, e.val...)
			if len(e.val)%2 == 1 {
				data = append(data, 0)
			}
		}
	}
	table = w.bo.AppendUint32(table, 0) // no next IFD
	return append(table, data...)
}

// build lays out a TIFF: header, IFD0, then the Exif IFD and the GPS IFD if
// they are non-nil, adding the pointer entries to IFD0.
func (w tiffWriter) build(ifd0, exifIFD, gpsIFD []tiffEntry) []byte {
	ifd0 = slices.Clone(ifd0)
	if exifIFD != nil {
		ifd0 = append(ifd0, w.long(tagExifIFD, 0))
	}
	if gpsIFD != nil {
		ifd0 = append(ifd0, w.long(tagGPSIFD, 0))
	}
	off0 := 8
	offE := off0 + blockSize(ifd0)
	offG := offE + blockSize(exifIFD)
	if exifIFD == nil {
		offG = offE
	}
	for i := range ifd0 {
		switch ifd0[i].tag {
		case tagExifIFD:
			ifd0[i] = w.long(tagExifIFD, uint32(offE))
		case tagGPSIFD:
			ifd0[i] = w.long(tagGPSIFD, uint32(offG))
		}
	}
	var out []byte
	if w.bo == byteOrder(binary.LittleEndian) {
		out = []byte("II*\x00")
	} else {
		out = []byte("MM\x00*")
	}
	out = w.bo.AppendUint32(out, uint32(off0))
	out = append(out, w.encodeBlock(ifd0, off0)...)
	if exifIFD != nil {
		out = append(out, w.encodeBlock(exifIFD, offE)...)
	}
	if gpsIFD != nil {
		out = append(out, w.encodeBlock(gpsIFD, offG)...)
	}
	return out
}

// exifSpec describes a typical phone EXIF block.
type exifSpec struct {
	bigEndian          bool
	orientation        int
	dateTime           string
	dateTimeOriginal   string
	offsetTimeOriginal string
	gps                bool
	latRef, lngRef     string
	lat, lng           [][2]uint32
}

// chengdu is 30°39'36.12"N 104°3'57.6"E.
var chengdu = exifSpec{
	orientation:      1,
	dateTime:         "2024:05:01 10:00:00",
	dateTimeOriginal: "2024:05:01 09:30:15",
	gps:              true,
	latRef:           "N",
	lat:              [][2]uint32{{30, 1}, {39, 1}, {3612, 100}},
	lngRef:           "E",
	lng:              [][2]uint32{{104, 1}, {3, 1}, {576, 10}},
}

const chengduLat, chengduLng = 30 + 39.0/60 + 36.12/3600, 104 + 3.0/60 + 57.6/3600

func (s exifSpec) tiff() []byte {
	w := tiffWriter{binary.LittleEndian}
	if s.bigEndian {
		w.bo = binary.BigEndian
	}
	ifd0 := []tiffEntry{
		w.ascii(0x010F, "Apple"),              // Make
		w.ascii(0x0110, "iPhone 15 Pro"),      // Model
		w.ascii(0x0131, "17.4.1"),             // Software
		w.rationals(0x011A, [2]uint32{72, 1}), // XResolution
	}
	if s.orientation != 0 {
		ifd0 = append(ifd0, w.short(tagOrientation, uint16(s.orientation)))
	}
	if s.dateTime != "" {
		ifd0 = append(ifd0, w.ascii(tagDateTime, s.dateTime))
	}
	exifIFD := []tiffEntry{
		w.rationals(0x829A, [2]uint32{1, 120}), // ExposureTime
		w.ascii(0xA434, "iPhone 15 Pro back triple camera 6.765mm f/1.78"),
	}
	if s.dateTimeOriginal != "" {
		exifIFD = append(exifIFD, w.ascii(tagDateTimeOriginal, s.dateTimeOriginal))
	}
	if s.offsetTimeOriginal != "" {
		exifIFD = append(exifIFD, w.ascii(tagOffsetTimeOriginal, s.offsetTimeOriginal))
	}
	var gps []tiffEntry
	if s.gps {
		gps = []tiffEntry{
			{0x0000, typeByte, 4, []byte{2, 2, 0, 0}}, // GPSVersionID
			w.ascii(tagGPSLatitudeRef, s.latRef),
			w.rationals(tagGPSLatitude, s.lat...),
			w.ascii(tagGPSLongitudeRef, s.lngRef),
			w.rationals(tagGPSLongitude, s.lng...),
			w.ascii(0x001D, "2024:05:01"), // GPSDateStamp
		}
	}
	return w.build(ifd0, exifIFD, gps)
}

// ---- container helpers ----

// jpegSegment returns a marker segment with the given payload.
func jpegSegment(marker byte, payload []byte) []byte {
	n := len(payload) + 2
	return append([]byte{0xFF, marker, byte(n >> 8), byte(n)}, payload...)
}

func app1Exif(tiff []byte) []byte {
	return jpegSegment(markerAPP1, append([]byte(exifHeader), tiff...))
}

// insertAfterSOI splices segments into a JPEG right after SOI.
func insertAfterSOI(j []byte, segs ...[]byte) []byte {
	out := append([]byte{}, j[:2]...)
	for _, s := range segs {
		out = append(out, s...)
	}
	return append(out, j[2:]...)
}

func pngChunk(typ string, data []byte) []byte {
	return appendPNGChunk(nil, typ, data)
}

// insertAfterIHDR splices chunks into a PNG right after IHDR.
func insertAfterIHDR(p []byte, chunks ...[]byte) []byte {
	const ihdrEnd = 8 + 12 + 13
	out := append([]byte{}, p[:ihdrEnd]...)
	for _, c := range chunks {
		out = append(out, c...)
	}
	return append(out, p[ihdrEnd:]...)
}

func encodeJPEG(t testing.TB, img image.Image, q int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// ---- images ----

var (
	colRed    = color.RGBA{255, 0, 0, 255}
	colGreen  = color.RGBA{0, 255, 0, 255}
	colBlue   = color.RGBA{0, 0, 255, 255}
	colYellow = color.RGBA{255, 255, 0, 255}
)

// quadrants returns a w×h image whose quadrants are red (top left), green
// (top right), blue (bottom left) and yellow (bottom right). Every one of the
// eight EXIF orientations maps it to a different image.
func quadrants(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := colRed
			switch {
			case x >= w/2 && y < h/2:
				c = colGreen
			case x < w/2 && y >= h/2:
				c = colBlue
			case x >= w/2 && y >= h/2:
				c = colYellow
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

// checkQuadrants checks that img shows the quadrants() pattern, sampling
// the middle of each quadrant with a tolerance for JPEG loss.
func checkQuadrants(t *testing.T, img image.Image) {
	t.Helper()
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	for _, q := range []struct {
		name string
		x, y int
		want color.RGBA
	}{
		{"top-left", w / 4, h / 4, colRed},
		{"top-right", 3 * w / 4, h / 4, colGreen},
		{"bottom-left", w / 4, 3 * h / 4, colBlue},
		{"bottom-right", 3 * w / 4, 3 * h / 4, colYellow},
	} {
		got := color.RGBAModel.Convert(img.At(b.Min.X+q.x, b.Min.Y+q.y)).(color.RGBA)
		if !near(got, q.want, 40) {
			t.Errorf("%s quadrant is %v, want %v", q.name, got, q.want)
		}
	}
}

func near(a, b color.RGBA, tol int) bool {
	d := func(x, y uint8) bool { return abs(int(x)-int(y)) <= tol }
	return d(a.R, b.R) && d(a.G, b.G) && d(a.B, b.B) && d(a.A, b.A)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// Geometric primitives used to build the stored image for each orientation
// independently of orient(): rotating clockwise by 90° and mirroring
// left-right. They are checked on a 2×1 image in TestPrimitives.
func rotCW(src *image.RGBA) *image.RGBA {
	w, h := src.Rect.Dx(), src.Rect.Dy()
	dst := image.NewRGBA(image.Rect(0, 0, h, w))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			// the left column becomes the top row, read right to left
			dst.SetRGBA(h-1-y, x, src.RGBAAt(x, y))
		}
	}
	return dst
}

func flipH(src *image.RGBA) *image.RGBA {
	w, h := src.Rect.Dx(), src.Rect.Dy()
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			dst.SetRGBA(w-1-x, y, src.RGBAAt(x, y))
		}
	}
	return dst
}

// storedFor returns the image a camera would store so that applying EXIF
// orientation o displays upright. Per the EXIF specification the display
// transforms are: 2 mirror, 3 rotate 180°, 4 flip vertically, 5 transpose,
// 6 rotate 90° CW, 7 transverse, 8 rotate 90° CCW; the stored image is the
// inverse transform applied to the upright one.
func storedFor(upright *image.RGBA, o int) *image.RGBA {
	r := rotCW
	switch o {
	case 2:
		return flipH(upright)
	case 3:
		return r(r(upright))
	case 4: // inverse of flipV; flipV = rot180 ∘ flipH
		return r(r(flipH(upright)))
	case 5: // transpose is its own inverse: rotate CW, then mirror
		return flipH(r(upright))
	case 6: // inverse of rotate CW
		return r(r(r(upright)))
	case 7: // transverse is its own inverse: mirror, then rotate CW
		return r(flipH(upright))
	case 8: // inverse of rotate CCW
		return r(upright)
	}
	return upright
}

func rgbaOf(img image.Image) *image.RGBA {
	b := img.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			dst.Set(x, y, img.At(b.Min.X+x, b.Min.Y+y))
		}
	}
	return dst
}

// pngCRCsOK checks every PNG chunk CRC.
func pngCRCsOK(p []byte) bool {
	ok := true
	err := walkPNG(p, func(_ string, raw, _ []byte) bool {
		n := len(raw)
		if binary.BigEndian.Uint32(raw[n-4:]) != crc32.ChecksumIEEE(raw[4:n-4]) {
			ok = false
		}
		return true
	})
	return ok && err == nil
}
