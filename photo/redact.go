package photo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"math"
)

// Rect is a region of a photo to blur, in fractions of its width and height
// as displayed (upright): X and Y its top-left corner, W and H its size,
// each from 0 to 1.
type Rect struct{ X, Y, W, H float64 }

// MaxRects bounds the regions one redaction blurs.
const MaxRects = 32

// redactQuality is the JPEG quality of a redacted photo.
const redactQuality = 85

// Redact blurs regions of a stored photo (as Process left it: stripped,
// with at most its orientation tag) and returns the new photo: a JPEG of
// the upright image, without any metadata, whose every rect is pixelated
// into blocks of at least minBlock pixels (an eighth of the region's longer
// side, so a face or a number plate becomes a mosaic of at most 8 blocks
// across) and then box-blurred within the rect, so that no detail survives
// to be read back; and its thumbnail. It decodes within the processor's
// decode pool and memory bound, like Process.
//
// Errors: [ErrUnsupported] or [ErrCorrupt] for bytes that are not a photo
// this package stores, [ErrTooMuchMemory] when decoding it needs more than
// Limits.DecodeMemory, and ctx's error while waiting for the pool.
func (p *Processor) Redact(ctx context.Context, stored []byte, rects []Rect) (*Result, error) {
	format := sniff(stored)
	if format == "" {
		return nil, newError(ErrUnsupported, nil, "不是 JPEG、PNG 或 WebP 照片")
	}
	cfg, err := decodeConfig(format, stored)
	if err != nil {
		return nil, classifyDecodeError(format, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, newError(ErrCorrupt, nil, "这个 %s 文件声明的图像尺寸为空", upperFormat(format))
	}
	orientation := 1
	var tiff []byte
	switch format {
	case FormatJPEG:
		tiff = findExifJPEG(stored)
	case FormatPNG:
		tiff = findExifPNG(stored)
	case FormatWebP:
		tiff = findExifWebP(stored)
	}
	if tiff != nil {
		if info, err := parseExif(tiff); err == nil && info.Orientation >= 1 && info.Orientation <= 8 {
			orientation = info.Orientation
		}
	}
	// The decode and its thumbnail, then two RGBA copies (the upright one,
	// and the one orient makes) and the encoded JPEG.
	px := int64(cfg.Width) * int64(cfg.Height)
	cost := decodeCost(format, stored, cfg.Width, cfg.Height, p.limits.ThumbMaxSide).bytes + 8*px + px
	if cost > p.limits.DecodeMemory || cost < 0 {
		return nil, newError(ErrTooMuchMemory, nil, "照片为 %d×%d 像素，打码约需 %s 内存，超过了 %s 的上限",
			cfg.Width, cfg.Height, formatMB(cost), formatMB(p.limits.DecodeMemory))
	}
	return decodeWithin(ctx, p, cost, func() (*Result, error) { return p.redact(format, stored, orientation, rects) })
}

func (p *Processor) redact(format string, stored []byte, orientation int, rects []Rect) (*Result, error) {
	img, err := decodeImage(format, stored)
	if err != nil {
		return nil, classifyDecodeError(format, err)
	}
	b := img.Bounds()
	rgba := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	// JPEG has no transparency: flatten onto white, as thumbnails do.
	draw.Draw(rgba, rgba.Bounds(), image.White, image.Point{}, draw.Src)
	draw.Draw(rgba, rgba.Bounds(), img, b.Min, draw.Over)
	img = nil
	up := orient(rgba, orientation)
	for _, r := range rects {
		blurRect(up, pixelRect(r, up.Rect.Dx(), up.Rect.Dy()))
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, up, &jpeg.Options{Quality: redactQuality}); err != nil {
		return nil, fmt.Errorf("photo: encoding the redacted photo: %w", err)
	}
	thumb, err := makeThumbnail(up, 1, p.limits.ThumbMaxSide)
	if err != nil {
		return nil, fmt.Errorf("photo: encoding thumbnail: %w", err)
	}
	sum := sha256.Sum256(buf.Bytes())
	return &Result{Format: FormatJPEG, ContentType: contentType(FormatJPEG), Width: up.Rect.Dx(), Height: up.Rect.Dy(),
		Clean: buf.Bytes(), Thumb: thumb, Orientation: 1, SHA256: hex.EncodeToString(sum[:])}, nil
}

// pixelRect is r in pixels of a w×h image: rounded outwards, clipped.
func pixelRect(r Rect, w, h int) image.Rectangle {
	x0 := int(math.Floor(r.X * float64(w)))
	y0 := int(math.Floor(r.Y * float64(h)))
	x1 := int(math.Ceil((r.X + r.W) * float64(w)))
	y1 := int(math.Ceil((r.Y + r.H) * float64(h)))
	return image.Rect(x0, y0, x1, y1).Intersect(image.Rect(0, 0, w, h))
}

// minBlock is the smallest mosaic block, in pixels.
const minBlock = 12

// mosaicBlock is the mosaic block of a region: an eighth of its longer side,
// at least minBlock.
func mosaicBlock(r image.Rectangle) int {
	return max(minBlock, (max(r.Dx(), r.Dy())+7)/8)
}

// blurRect pixelates r of img into blocks of mosaicBlock (each block the
// average of its pixels) and then box-blurs r with a radius of half a
// block, so the mosaic's edges carry no detail either.
func blurRect(img *image.RGBA, r image.Rectangle) {
	if r.Empty() {
		return
	}
	k := mosaicBlock(r)
	for by := r.Min.Y; by < r.Max.Y; by += k {
		for bx := r.Min.X; bx < r.Max.X; bx += k {
			blk := image.Rect(bx, by, bx+k, by+k).Intersect(r)
			var sum [4]uint64
			for y := blk.Min.Y; y < blk.Max.Y; y++ {
				row := img.Pix[img.PixOffset(blk.Min.X, y):img.PixOffset(blk.Max.X, y)]
				for i := 0; i < len(row); i += 4 {
					sum[0] += uint64(row[i])
					sum[1] += uint64(row[i+1])
					sum[2] += uint64(row[i+2])
					sum[3] += uint64(row[i+3])
				}
			}
			n := uint64(blk.Dx() * blk.Dy())
			avg := [4]uint8{uint8(sum[0] / n), uint8(sum[1] / n), uint8(sum[2] / n), uint8(sum[3] / n)}
			for y := blk.Min.Y; y < blk.Max.Y; y++ {
				row := img.Pix[img.PixOffset(blk.Min.X, y):img.PixOffset(blk.Max.X, y)]
				for i := 0; i < len(row); i += 4 {
					copy(row[i:i+4], avg[:])
				}
			}
		}
	}
	boxBlur(img, r, k/2)
}

// boxBlur blurs r of img with a box of radius rad, horizontally then
// vertically (each a running sum, so the cost does not grow with rad),
// reading only pixels inside r.
func boxBlur(img *image.RGBA, r image.Rectangle, rad int) {
	if rad < 1 {
		return
	}
	w, h := r.Dx(), r.Dy()
	line := make([][4]uint32, max(w, h))
	pass := func(n int, at func(i int) int) {
		for i := range n {
			o := at(i)
			line[i] = [4]uint32{uint32(img.Pix[o]), uint32(img.Pix[o+1]), uint32(img.Pix[o+2]), uint32(img.Pix[o+3])}
		}
		var sum [4]uint32
		cnt := uint32(0)
		for i := 0; i < min(rad, n); i++ {
			for c := range 4 {
				sum[c] += line[i][c]
			}
			cnt++
		}
		for i := range n {
			if j := i + rad; j < n {
				for c := range 4 {
					sum[c] += line[j][c]
				}
				cnt++
			}
			if j := i - rad - 1; j >= 0 {
				for c := range 4 {
					sum[c] -= line[j][c]
				}
				cnt--
			}
			o := at(i)
			for c := range 4 {
				img.Pix[o+c] = uint8(sum[c] / cnt)
			}
		}
	}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		pass(w, func(i int) int { return img.PixOffset(r.Min.X+i, y) })
	}
	for x := r.Min.X; x < r.Max.X; x++ {
		pass(h, func(i int) int { return img.PixOffset(x, r.Min.Y+i) })
	}
}
