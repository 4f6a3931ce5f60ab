package photo

import (
	"bytes"
	"strings"
	"testing"
)

// Served photos keep only what rendering needs: a JFIF APP0 loses its
// thumbnail and anything after its fields, an Adobe APP14 anything after its
// transform, and a PNG every ancillary chunk that does not change how the
// pixels look.
func TestStripKeepsOnlyWhatRenderingNeeds(t *testing.T) {
	p := NewProcessor(Limits{}, 1)
	img := quadrants(40, 30)
	base := encodeJPEG(t, img, 90)

	jfif := []byte("JFIF\x00\x01\x02\x01\x00\x48\x00\x48")
	withThumb := append(append([]byte{}, jfif...), 2, 1) // a 2×1 RGB thumbnail …
	withThumb = append(withThumb, "SECRETTHUMB"...)      // … and bytes beyond it
	adobe := []byte("Adobe\x00\x64\x00\x00\x00\x00\x01")
	orig := insertAfterSOI(base,
		jpegSegment(markerAPP0, withThumb),
		jpegSegment(markerAPPE, append(append([]byte{}, adobe...), "SECRETADOBE"...)),
		jpegSegment(markerAPP2, []byte("ICC_PROFILE\x00\x01\x01profile")),
	)
	res := mustProcess(t, p, orig)
	for _, s := range []string{"SECRET", "THUMB"} {
		if bytes.Contains(res.Clean, []byte(s)) {
			t.Errorf("clean JPEG still carries %q", s)
		}
	}
	var app0, app14, app2 []byte
	for _, s := range segmentsOf(t, res.Clean) {
		switch s.marker {
		case markerAPP0:
			app0 = s.payload
		case markerAPPE:
			app14 = s.payload
		case markerAPP2:
			app2 = s.payload
		}
	}
	if want := append(append([]byte{}, jfif...), 0, 0); !bytes.Equal(app0, want) {
		t.Errorf("JFIF APP0 % x, want % x", app0, want)
	}
	if !bytes.Equal(app14, adobe) {
		t.Errorf("Adobe APP14 % x, want % x", app14, adobe)
	}
	if !bytes.HasSuffix(app2, []byte("profile")) {
		t.Errorf("ICC profile not kept: %q", app2)
	}
	if decodedHash(t, orig) != decodedHash(t, res.Clean) {
		t.Error("decoded pixels changed")
	}

	// A JFIF segment too short to hold its fields is dropped.
	res = mustProcess(t, p, insertAfterSOI(base, jpegSegment(markerAPP0, []byte("JFIF\x00\x01"))))
	for _, s := range segmentsOf(t, res.Clean) {
		if s.marker == markerAPP0 {
			t.Errorf("short JFIF kept: % x", s.payload)
		}
	}

	png := insertAfterIHDR(encodePNG(t, img),
		pngChunk("sRGB", []byte{0}),
		pngChunk("prVt", []byte("SECRET private chunk")),
		pngChunk("iDOT", []byte("SECRET apple")),
		pngChunk("acTL", []byte{0, 0, 0, 1, 0, 0, 0, 0}),
		pngChunk("pHYs", []byte{0, 0, 0x0B, 0x13, 0, 0, 0x0B, 0x13, 1}),
	)
	res = mustProcess(t, p, png)
	var types []string
	if err := walkPNG(res.Clean, func(typ string, _, _ []byte) bool { types = append(types, typ); return true }); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(types, ","); got != "IHDR,sRGB,pHYs,IDAT,IEND" {
		t.Errorf("chunks %s, want IHDR,sRGB,pHYs,IDAT,IEND", got)
	}
	if bytes.Contains(res.Clean, []byte("SECRET")) || !pngCRCsOK(res.Clean) {
		t.Error("clean PNG carries an unknown chunk or a bad CRC")
	}
}
