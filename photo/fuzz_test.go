package photo

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
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
