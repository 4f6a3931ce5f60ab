package photo

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"testing"
)

// stripes is a w×h image of one-pixel black and white stripes: as much
// detail as an image can hold.
func stripes(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{255, 255, 255, 255}
			if (x+y)%2 == 0 {
				c = color.RGBA{0, 0, 0, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

// detail is the mean absolute difference between horizontal neighbours in
// r of img: about 255 for the stripes, near 0 for a blurred region.
func detail(img image.Image, r image.Rectangle) float64 {
	var sum, n float64
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x+1 < r.Max.X; x++ {
			a := color.GrayModel.Convert(img.At(x, y)).(color.Gray).Y
			b := color.GrayModel.Convert(img.At(x+1, y)).(color.Gray).Y
			sum += float64(abs(int(a) - int(b)))
			n++
		}
	}
	return sum / n
}

// TestRedactBlursTheRects: a region marked in displayed coordinates is
// blurred beyond reading on a photo stored sideways (orientation 6); the
// rest keeps its detail; the output is an upright JPEG without metadata,
// with a thumbnail.
func TestRedactBlursTheRects(t *testing.T) {
	t.Parallel()
	p := NewProcessor(Limits{}, 1)
	upright := stripes(200, 120)
	// Mark the top-left quarter of the upright image red, to check the
	// output is upright.
	for y := range 30 {
		for x := range 50 {
			upright.SetRGBA(x, y, colRed)
		}
	}
	stored := mustProcess(t, p, photoJPEG(t, storedFor(upright, 6), exifSpec{orientation: 6})).Clean
	res, err := p.Redact(context.Background(), stored, []Rect{{X: 0.5, Y: 0.5, W: 0.25, H: 0.5}})
	if err != nil {
		t.Fatal(err)
	}
	if res.ContentType != "image/jpeg" || res.Width != 200 || res.Height != 120 || res.Orientation != 1 || len(res.Thumb) == 0 {
		t.Fatalf("result %s %dx%d orientation %d", res.ContentType, res.Width, res.Height, res.Orientation)
	}
	for _, s := range segmentsOf(t, res.Clean) {
		if s.marker >= markerAPP0+1 && s.marker <= 0xEF || s.marker == markerCOM {
			t.Fatalf("the redacted JPEG carries segment %#x", s.marker)
		}
	}
	out, err := jpeg.Decode(bytes.NewReader(res.Clean))
	if err != nil {
		t.Fatal(err)
	}
	if out.Bounds().Dx() != 200 || out.Bounds().Dy() != 120 {
		t.Fatalf("decoded %v, want 200x120 upright", out.Bounds())
	}
	if c := color.RGBAModel.Convert(out.At(10, 10)).(color.RGBA); !near(c, colRed, 60) {
		t.Fatalf("top-left is %v: the output is not upright", c)
	}
	blurred := image.Rect(100, 60, 150, 120)
	if d := detail(out, blurred.Inset(2)); d > 8 {
		t.Errorf("the redacted region still has detail %.1f", d)
	}
	if d := detail(out, image.Rect(160, 70, 200, 110)); d < 100 {
		t.Errorf("the rest lost its detail: %.1f", d)
	}
	if d := detail(out, image.Rect(60, 40, 100, 100)); d < 100 {
		t.Errorf("the rest lost its detail: %.1f", d)
	}
}

// TestRedactMemoryBound: a redaction that needs more than the decode
// memory is refused before decoding, like an upload.
func TestRedactMemoryBound(t *testing.T) {
	t.Parallel()
	big := mustProcess(t, NewProcessor(Limits{}, 1), encodePNG(t, stripes(2000, 1500))).Clean
	small := NewProcessor(Limits{DecodeMemory: 16 << 20}, 1)
	_, err := small.Redact(context.Background(), big, []Rect{{0, 0, 1, 1}})
	if !errors.Is(err, ErrTooMuchMemory) {
		t.Fatalf("Redact on a small pool = %v, want ErrTooMuchMemory", err)
	}
	if _, err := small.Redact(context.Background(), []byte("not an image"), nil); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("Redact of text = %v, want ErrUnsupported", err)
	}
}

// TestPixelRect: fractions round outwards and clip to the image.
func TestPixelRect(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		r    Rect
		want image.Rectangle
	}{
		{Rect{0, 0, 1, 1}, image.Rect(0, 0, 100, 50)},
		{Rect{0.101, 0.5, 0.2, 0.1}, image.Rect(10, 25, 31, 30)},
		{Rect{0.9, 0.9, 0.5, 0.5}, image.Rect(90, 45, 100, 50)},
	} {
		if got := pixelRect(c.r, 100, 50); got != c.want {
			t.Errorf("pixelRect(%+v) = %v, want %v", c.r, got, c.want)
		}
	}
}

// BenchmarkRedact12MP blurs two regions (a face, a number plate) of a
// stored 12-megapixel phone photo: decode, upright copy, blur, JPEG and
// thumbnail.
func BenchmarkRedact12MP(b *testing.B) {
	p := NewProcessor(Limits{}, 1)
	res, err := p.Process(context.Background(), bytes.NewReader(photo12MP()))
	if err != nil {
		b.Fatal(err)
	}
	rects := []Rect{{X: 0.4, Y: 0.2, W: 0.15, H: 0.2}, {X: 0.1, Y: 0.8, W: 0.25, H: 0.08}}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := p.Redact(context.Background(), res.Clean, rects); err != nil {
			b.Fatal(err)
		}
	}
}
