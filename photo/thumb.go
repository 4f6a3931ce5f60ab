package photo

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"

	"golang.org/x/image/draw"
)

// thumbQuality is the JPEG quality of thumbnails.
const thumbQuality = 80

// makeThumbnail scales img so that its longest side is at most maxSide
// (never enlarging it), rotates it upright according to the EXIF
// orientation, flattens transparency onto white and encodes it as JPEG.
//
// Scaling is done in two steps. First an integer box filter averages k×k
// blocks (k = the integer part of the reduction ratio), which costs one pass
// over the decoded pixels, is properly anti-aliased and allocates only the
// small result. Then x/image/draw's ApproxBiLinear resamples the remaining
// ratio of less than 2:1. For a 12 MP photo the decode dominates the cost.
func makeThumbnail(img image.Image, orientation, maxSide int) ([]byte, error) {
	sb := img.Bounds()
	sw, sh := sb.Dx(), sb.Dy()
	tw, th := fitWithin(sw, sh, maxSide)

	src := img
	if k := min(sw/tw, sh/th); k >= 2 {
		src = boxShrink(img, k)
	} else if m, ok := img.(*image.YCbCr); ok && (m.SubsampleRatio == image.YCbCrSubsampleRatio411 ||
		m.SubsampleRatio == image.YCbCrSubsampleRatio410) {
		// x/image/draw has no fast path for these ratios: its generic one
		// would box every sample it reads (an allocation each, megabytes
		// for one thumbnail). Its RGBA64 path reads them without.
		src = rgba64Only{m}
	}
	dst := image.NewRGBA(image.Rect(0, 0, tw, th))
	op := draw.Src
	if !isOpaque(src) {
		draw.Draw(dst, dst.Bounds(), image.White, image.Point{}, draw.Src)
		op = draw.Over
	}
	draw.ApproxBiLinear.Scale(dst, dst.Bounds(), src, src.Bounds(), op, nil)

	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, orient(dst, orientation), &jpeg.Options{Quality: thumbQuality}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// fitWithin returns w×h scaled down so that the longest side is maxSide,
// preserving the aspect ratio; sizes already within maxSide are unchanged.
func fitWithin(w, h, maxSide int) (int, int) {
	if w <= maxSide && h <= maxSide {
		return w, h
	}
	if w >= h {
		return maxSide, max(1, int((int64(h)*int64(maxSide)+int64(w)/2)/int64(w)))
	}
	return max(1, int((int64(w)*int64(maxSide)+int64(h)/2)/int64(h))), maxSide
}

// rgba64Only hides an image's concrete type, so that x/image/draw reads it
// through RGBA64At.
type rgba64Only struct{ image.RGBA64Image }

func isOpaque(img image.Image) bool {
	if o, ok := img.(interface{ Opaque() bool }); ok {
		return o.Opaque()
	}
	return false
}

// boxShrink returns img reduced by an integer factor k by averaging k×k
// blocks (partial blocks at the right and bottom edges average the pixels
// they have). The result is premultiplied RGBA.
func boxShrink(img image.Image, k int) *image.RGBA {
	b := img.Bounds()
	sw, sh := b.Dx(), b.Dy()
	ow, oh := (sw+k-1)/k, (sh+k-1)/k
	dst := image.NewRGBA(image.Rect(0, 0, ow, oh))
	acc := make([][4]uint64, ow) // per output column: channel sums for the current output row

	// addRow adds source row y (absolute coordinate) to the column sums;
	// it is specialised for the common decoded image types.
	var addRow func(y int)
	switch m := img.(type) {
	case *image.YCbCr:
		// Average Y, Cb and Cr separately and convert once per output
		// pixel: the conversion is affine, so this equals averaging RGB
		// up to rounding.
		// COffset is separable, so the chroma column of every x is the
		// same on every row: compute it once.
		cx := make([]int, sw)
		for i := range cx {
			cx[i] = m.COffset(b.Min.X+i, b.Min.Y) - m.COffset(b.Min.X, b.Min.Y)
		}
		addRow = func(y int) {
			yRow := m.Y[m.YOffset(b.Min.X, y):][:sw]
			c0 := m.COffset(b.Min.X, y)
			cbRow, crRow := m.Cb[c0:], m.Cr[c0:]
			for ox := range acc {
				x0 := ox * k
				x1 := min(x0+k, sw)
				var sy, sb, sr uint64
				for x := x0; x < x1; x++ {
					ci := cx[x]
					sy += uint64(yRow[x])
					sb += uint64(cbRow[ci])
					sr += uint64(crRow[ci])
				}
				a := &acc[ox]
				a[0] += sy
				a[1] += sb
				a[2] += sr
			}
		}
	case *image.Gray:
		addRow = func(y int) {
			i := m.PixOffset(b.Min.X, y)
			for ox := range acc {
				a := &acc[ox]
				n := min(k, sw-ox*k)
				for _, v := range m.Pix[i : i+n] {
					a[0] += uint64(v)
				}
				i += n
			}
		}
	case *image.RGBA:
		addRow = func(y int) {
			i := m.PixOffset(b.Min.X, y)
			for ox := range acc {
				a := &acc[ox]
				n := min(k, sw-ox*k)
				p := m.Pix[i : i+4*n]
				for j := 0; j < len(p); j += 4 {
					a[0] += uint64(p[j])
					a[1] += uint64(p[j+1])
					a[2] += uint64(p[j+2])
					a[3] += uint64(p[j+3])
				}
				i += 4 * n
			}
		}
	case *image.NRGBA:
		addRow = func(y int) {
			i := m.PixOffset(b.Min.X, y)
			for ox := range acc {
				a := &acc[ox]
				n := min(k, sw-ox*k)
				p := m.Pix[i : i+4*n]
				for j := 0; j < len(p); j += 4 {
					al := uint64(p[j+3])
					a[0] += uint64(p[j]) * al / 255
					a[1] += uint64(p[j+1]) * al / 255
					a[2] += uint64(p[j+2]) * al / 255
					a[3] += al
				}
				i += 4 * n
			}
		}
	default:
		m64, is64 := img.(image.RGBA64Image)
		addRow = func(y int) {
			for ox := range acc {
				a := &acc[ox]
				x0 := b.Min.X + ox*k
				x1 := min(x0+k, b.Max.X)
				for x := x0; x < x1; x++ {
					var c color.RGBA64
					if is64 {
						c = m64.RGBA64At(x, y)
					} else {
						r, g, bl, al := img.At(x, y).RGBA()
						c = color.RGBA64{uint16(r), uint16(g), uint16(bl), uint16(al)}
					}
					a[0] += uint64(c.R >> 8)
					a[1] += uint64(c.G >> 8)
					a[2] += uint64(c.B >> 8)
					a[3] += uint64(c.A >> 8)
				}
			}
		}
	}

	for oy := 0; oy < oh; oy++ {
		clear(acc)
		y0 := b.Min.Y + oy*k
		y1 := min(y0+k, b.Max.Y)
		for y := y0; y < y1; y++ {
			addRow(y)
		}
		rows := uint64(y1 - y0)
		row := dst.Pix[oy*dst.Stride : oy*dst.Stride+4*ow]
		for ox, a := range acc {
			n := rows * uint64(min(k, sw-ox*k))
			half := n / 2
			p := row[4*ox : 4*ox+4]
			switch img.(type) {
			case *image.YCbCr:
				r, g, bl := color.YCbCrToRGB(uint8((a[0]+half)/n), uint8((a[1]+half)/n), uint8((a[2]+half)/n))
				p[0], p[1], p[2], p[3] = r, g, bl, 0xFF
			case *image.Gray:
				v := uint8((a[0] + half) / n)
				p[0], p[1], p[2], p[3] = v, v, v, 0xFF
			default:
				p[0] = uint8((a[0] + half) / n)
				p[1] = uint8((a[1] + half) / n)
				p[2] = uint8((a[2] + half) / n)
				p[3] = uint8((a[3] + half) / n)
			}
		}
	}
	return dst
}

// orient returns src transformed for display according to the EXIF
// orientation o (1..8); other values are treated as 1.
//
// For each displayed pixel (x, y) the stored pixel is, with w×h the stored
// size:
//
//	1 (x, y)            2 (w-1-x, y)        3 (w-1-x, h-1-y)    4 (x, h-1-y)
//	5 (y, x)            6 (y, h-1-x)        7 (w-1-y, h-1-x)    8 (w-1-y, x)
//
// Orientations 5-8 swap width and height.
func orient(src *image.RGBA, o int) *image.RGBA {
	if o < 2 || o > 8 {
		return src
	}
	w, h := src.Rect.Dx(), src.Rect.Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := 0; y < dh; y++ {
		for x := 0; x < dw; x++ {
			var sx, sy int
			switch o {
			case 2:
				sx, sy = w-1-x, y
			case 3:
				sx, sy = w-1-x, h-1-y
			case 4:
				sx, sy = x, h-1-y
			case 5:
				sx, sy = y, x
			case 6:
				sx, sy = y, h-1-x
			case 7:
				sx, sy = w-1-y, h-1-x
			case 8:
				sx, sy = w-1-y, x
			}
			si := src.PixOffset(src.Rect.Min.X+sx, src.Rect.Min.Y+sy)
			di := dst.PixOffset(x, y)
			copy(dst.Pix[di:di+4], src.Pix[si:si+4])
		}
	}
	return dst
}
