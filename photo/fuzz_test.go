package photo

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"unicode"
)

// FuzzStrip checks that the container walkers and strippers never panic on
// arbitrary input and that their output never carries metadata other than
// the minimal orientation block.
func FuzzStrip(f *testing.F) {
	spec := chengdu
	spec.orientation = 6
	small := quadrants(16, 16)
	f.Add(insertAfterSOI(encodeJPEG(f, small, 80), app1Exif(spec.tiff()), jpegSegment(markerCOM, []byte("c"))))
	f.Add(insertAfterIHDR(encodePNG(f, small), pngChunk("eXIf", spec.tiff()), pngChunk("tEXt", []byte("a\x00b"))))
	f.Add(insertAfterSOI(encodeJPEG(f, small, 80), jpegSegment(markerAPP0, []byte("JFIF\x00\x01\x02\x00\x00\x01\x00\x01\x01\x01abc")),
		jpegSegment(markerAPPE, []byte("Adobe\x00\x64\x00\x00\x00\x00\x01hidden"))))
	f.Add(insertAfterIHDR(encodePNG(f, small), pngChunk("prVt", []byte("x")), pngChunk("sRGB", []byte{0})))
	for _, name := range []string{"alpha_meta.webp", "lossless_meta.webp", "lossy.webp"} {
		if b, err := os.ReadFile(filepath.Join("testdata", name)); err == nil {
			f.Add(b)
		}
	}
	type codec struct {
		find  func([]byte) []byte
		strip func([]byte, int) ([]byte, error)
	}
	codecs := []codec{{findExifJPEG, stripJPEG}, {findExifPNG, stripPNG}, {findExifWebP, stripWebP}}
	f.Fuzz(func(t *testing.T, b []byte) {
		webpAnimated(b)
		for _, c := range codecs {
			tiff := c.find(b)
			info, _ := parseExif(tiff)
			for _, o := range []int{1, info.Orientation} {
				out, err := c.strip(b, o)
				if err != nil {
					continue
				}
				checkOnlyRendering(t, out)
				left := c.find(out)
				if left == nil {
					continue
				}
				if !bytes.Equal(bytes.TrimPrefix(left, []byte(exifHeader)), orientationTIFF(o)) {
					t.Fatalf("metadata survived stripping: % x", left)
				}
			}
		}
	})
}

// checkOnlyRendering fails if a stripped file still has a JFIF APP0 with a
// thumbnail or trailing bytes, an Adobe APP14 with trailing bytes, or a PNG
// chunk that rendering does not need.
func checkOnlyRendering(t *testing.T, out []byte) {
	t.Helper()
	_ = walkJPEG(out, func(s jpegSeg) bool {
		switch {
		case s.marker == markerAPP0 && (len(s.payload) != jfifLen || s.payload[12]|s.payload[13] != 0):
			t.Fatalf("JFIF APP0 kept with extra bytes: % x", s.payload)
		case s.marker == markerAPPE && len(s.payload) != adobeLen:
			t.Fatalf("Adobe APP14 kept with extra bytes: % x", s.payload)
		case s.marker >= markerAPP0 && s.marker <= markerAPPF && s.marker != markerAPP0 && s.marker != markerAPP1 &&
			s.marker != markerAPP2 && s.marker != markerAPPE, s.marker == markerCOM:
			t.Fatalf("segment %#x kept", s.marker)
		}
		return true
	})
	_ = walkPNG(out, func(typ string, _, _ []byte) bool {
		if pngDropped(typ) && typ != "eXIf" {
			t.Fatalf("PNG chunk %q kept", typ)
		}
		return true
	})
}

// FuzzProcess runs the whole upload pipeline (sniffing, header checks,
// EXIF, decoding, stripping, the thumbnail) on arbitrary bytes: it never
// panics, refuses with one of its five kinds and a Chinese message, or
// gives a clean file that decodes and carries no metadata but orientation.
func FuzzProcess(f *testing.F) {
	spec := chengdu
	spec.orientation = 6
	small := quadrants(16, 16)
	f.Add(insertAfterSOI(encodeJPEG(f, small, 80), app1Exif(spec.tiff())))
	f.Add(insertAfterIHDR(encodePNG(f, small), pngChunk("eXIf", spec.tiff())))
	f.Add(encodePNG(f, quadrants(3, 2)))
	f.Add([]byte("GIF89a"))
	f.Add([]byte{})
	for _, name := range []string{"lossy.webp", "alpha_meta.webp"} {
		if b, err := os.ReadFile(filepath.Join("testdata", name)); err == nil {
			f.Add(b)
		}
	}
	p := NewProcessor(Limits{MaxBytes: 1 << 20, MaxPixels: 1 << 16}, 1)
	f.Fuzz(func(t *testing.T, b []byte) {
		res, err := p.Process(context.Background(), bytes.NewReader(b))
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("not a *photo.Error: %v", err)
			}
			known := false
			for _, k := range []error{ErrTooLarge, ErrUnsupported, ErrTooManyPixels, ErrTooMuchMemory, ErrCorrupt} {
				known = known || errors.Is(err, k)
			}
			han := false
			for _, r := range pe.Message {
				han = han || unicode.Is(unicode.Han, r)
			}
			if !known || !han {
				t.Fatalf("refusal %v: kind known %v, message %q", err, known, pe.Message)
			}
			return
		}
		checkOnlyRendering(t, res.Clean)
		if res.Width <= 0 || res.Height <= 0 || int64(res.Width)*int64(res.Height) > 1<<16 {
			t.Fatalf("accepted %d×%d", res.Width, res.Height)
		}
	})
}
