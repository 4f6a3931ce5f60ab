package apitest

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"mime/multipart"
	"net/http"
	"testing"
)

// JPEGWithGPS returns a w×h JPEG whose EXIF says it was taken at lat, lng
// (WGS-84) at takenAt ("2006:01:02 15:04:05"), as a phone camera writes it.
func JPEGWithGPS(tb testing.TB, w, h int, lat, lng float64, takenAt string) []byte {
	tb.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), 128, 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
		tb.Fatal(err)
	}
	j := buf.Bytes()
	tiff := exifTIFF(lat, lng, takenAt)
	app1 := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(app1[2:], uint16(2+6+len(tiff)))
	app1 = append(append(app1, "Exif\x00\x00"...), tiff...)
	out := append([]byte{}, j[:2]...)
	out = append(out, app1...)
	return append(out, j[2:]...)
}

// exifTIFF builds a big-endian TIFF with IFD0 → Exif IFD (DateTimeOriginal)
// and → GPS IFD (latitude and longitude with their refs).
func exifTIFF(lat, lng float64, takenAt string) []byte {
	be := binary.BigEndian
	b := make([]byte, 178)
	copy(b, "MM")
	be.PutUint16(b[2:], 42)
	be.PutUint32(b[4:], 8)
	entry := func(at int, tag, typ uint16, count, value uint32) {
		be.PutUint16(b[at:], tag)
		be.PutUint16(b[at+2:], typ)
		be.PutUint32(b[at+4:], count)
		be.PutUint32(b[at+8:], value)
	}
	const ascii, long, rational = 2, 4, 5
	// IFD0 at 8: two pointers.
	be.PutUint16(b[8:], 2)
	entry(10, 0x8769, long, 1, 38)
	entry(22, 0x8825, long, 1, 76)
	// Exif IFD at 38: DateTimeOriginal, its 20 bytes at 56.
	be.PutUint16(b[38:], 1)
	entry(40, 0x9003, ascii, 20, 56)
	copy(b[56:76], takenAt+"\x00")
	// GPS IFD at 76.
	be.PutUint16(b[76:], 4)
	latRef, lngRef := "N", "E"
	if lat < 0 {
		latRef, lat = "S", -lat
	}
	if lng < 0 {
		lngRef, lng = "W", -lng
	}
	entry(78, 0x0001, ascii, 2, uint32(latRef[0])<<24)
	entry(90, 0x0002, rational, 3, 130)
	entry(102, 0x0003, ascii, 2, uint32(lngRef[0])<<24)
	entry(114, 0x0004, rational, 3, 154)
	dms := func(at int, v float64) {
		d := math.Floor(v)
		m := math.Floor((v - d) * 60)
		s := ((v-d)*60 - m) * 60
		for i, r := range [][2]uint32{{uint32(d), 1}, {uint32(m), 1}, {uint32(math.Round(s * 10000)), 10000}} {
			be.PutUint32(b[at+i*8:], r[0])
			be.PutUint32(b[at+i*8+4:], r[1])
		}
	}
	dms(130, lat)
	dms(154, lng)
	return b
}

// Upload sends one file in the form field "file", as wx.uploadFile does.
func (c *Client) Upload(tb testing.TB, token, filename string, data []byte) *Response {
	tb.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("scene", "report") // wx.uploadFile's formData
	fw, err := mw.CreateFormFile("file", filename)
	if err != nil {
		tb.Fatal(err)
	}
	_, _ = fw.Write(data)
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, c.Base+"/api/v1/photos", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return c.Send(tb, req)
}
