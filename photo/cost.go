package photo

import "fmt"

// The decode cost is an upper bound of the bytes that decoding an image and
// making its thumbnail allocate, computed from the file's headers before a
// single pixel is decoded. It follows what the decoders this package uses
// (image/jpeg, image/png, golang.org/x/image/webp) allocate for each kind of
// file they accept; TestDecodeCostBoundsAllocation measures every kind and
// fails if a decode allocates more than its estimate.
//
// Allocated bytes rather than live bytes: a decoder's temporary buffers
// (an interlaced PNG's passes, a progressive JPEG's coefficients, the
// colour-indexed pixels of a lossless WebP) are garbage only once the next
// collection runs, so until then they count.

// decodeOverhead covers what every decode allocates whatever the size: the
// decoder's tables and reader buffers (tens of KiB), the thumbnail's
// destination, its upright copy and its JPEG encoding.
const decodeOverhead = 1 << 20

// imageCost is the estimate for one image and a description of it for
// messages ("16 位 RGBA PNG").
type imageCost struct {
	bytes int64
	kind  string
}

// decodeCost estimates the bytes decoding b (of format, whose header
// declared w×h) and thumbnailing it to thumbMaxSide allocate. A header it
// cannot read is costed as the format's most expensive kind, so a parser
// that disagrees with the decoder errs on the safe side.
func decodeCost(format string, b []byte, w, h, thumbMaxSide int) imageCost {
	var c imageCost
	switch format {
	case FormatJPEG:
		c = jpegCost(b, w, h)
	case FormatPNG:
		c = pngCost(b, w, h)
	case FormatWebP:
		c = webpCost(b, w, h)
	}
	c.bytes += thumbnailCost(w, h, thumbMaxSide) + decodeOverhead
	return c
}

// thumbnailCost is what makeThumbnail allocates beyond decodeOverhead: the
// box-filtered copy (and its column tables) when it shrinks by 2 or more.
func thumbnailCost(w, h, maxSide int) int64 {
	tw, th := fitWithin(w, h, maxSide)
	k := min(w/tw, h/th)
	if k < 2 {
		return 0
	}
	ow, oh := int64((w+k-1)/k), int64((h+k-1)/k)
	return 4*ow*oh + 32*ow + 8*int64(w)
}

// jpegCost follows image/jpeg: the image is allocated in whole MCUs (Y at
// the MCU grid's size, chroma subsampled as the file says), a 4-component
// file adds a black plane and then converts to a new RGBA/CMYK image, an
// RGB file converts to a new RGBA image, and a progressive file keeps a
// 64-coefficient int32 block (4 bytes a sample) for every block of every
// component until the last scan.
func jpegCost(b []byte, w, h int) imageCost {
	type comp struct{ id, h, v int }
	var (
		comps       []comp
		progressive bool
		sofSeen     bool
		adobeRGB    bool // APP14 Adobe with transform 0: RGB or CMYK
	)
	_ = walkJPEG(b, func(s jpegSeg) bool {
		switch s.marker {
		case 0xC0, 0xC1, 0xC2:
			if sofSeen {
				return true // the decoder refuses a second SOF
			}
			sofSeen = true
			progressive = s.marker == 0xC2
			p := s.payload
			if len(p) < 6 {
				return false
			}
			n := int(p[5])
			if len(p) < 6+3*n {
				return false
			}
			for i := range n {
				hv := p[7+3*i]
				comps = append(comps, comp{id: int(p[6+3*i]), h: int(hv >> 4), v: int(hv & 0x0F)})
			}
		case markerAPPE:
			if p := s.payload; len(p) >= 12 && string(p[:5]) == "Adobe" && p[11] == 0 {
				adobeRGB = true
			}
		}
		return true
	})
	// The padded pixel grid, assuming the worst sampling (2×2 MCUs) when the
	// header is unreadable.
	grid := func(h0, v0 int) (int64, int64, int64) {
		mxx := int64((w + 8*h0 - 1) / (8 * h0))
		myy := int64((h + 8*v0 - 1) / (8 * v0))
		return mxx, myy, 64 * int64(h0*v0) * mxx * myy
	}
	valid := len(comps) == 1 || len(comps) == 3 || len(comps) == 4
	for _, c := range comps {
		valid = valid && c.h >= 1 && c.h <= 4 && c.v >= 1 && c.v <= 4
	}
	if !valid {
		// The most expensive kind the decoder accepts: four components,
		// progressive: Y, two chroma planes, black, the CMYK image and four
		// planes of coefficients, 24 bytes a sample at 4:4:4, padded to
		// 32×32 MCUs as the worst grid.
		_, _, px := grid(4, 4)
		return imageCost{bytes: 24 * px, kind: "JPEG"}
	}
	kind := "JPEG"
	var cost int64
	switch len(comps) {
	case 1:
		// Grayscale: h and v are taken as 1 whatever the file says.
		_, _, px := grid(1, 1)
		cost = px
		if progressive {
			cost += 4 * px
		}
		kind = "灰度 JPEG"
	default:
		h0, v0 := comps[0].h, comps[0].v
		mxx, myy, px := grid(h0, v0)
		// Chroma planes as image.NewYCbCr sizes them for the ratio of the
		// first two components.
		W, H := 8*int64(h0)*mxx, 8*int64(v0)*myy
		hr, vr := int64(max(1, h0/comps[1].h)), int64(max(1, v0/comps[1].v))
		cw, ch := (W+hr-1)/hr, (H+vr-1)/vr
		cost = px + 2*cw*ch
		if len(comps) == 4 {
			cost += 64 * int64(comps[3].h*comps[3].v) * mxx * myy // black plane
			cost += 4 * int64(w) * int64(h)                       // the RGBA or CMYK result
			kind = "CMYK JPEG"
		} else if adobeRGB || (comps[0].id == 'R' && comps[1].id == 'G' && comps[2].id == 'B') {
			cost += 4 * int64(w) * int64(h) // converted to RGBA
			kind = "RGB JPEG"
		}
		if progressive {
			for _, c := range comps {
				cost += 256 * int64(c.h*c.v) * mxx * myy
			}
		}
	}
	if progressive {
		kind = "渐进式" + latinSpaced(kind)
	}
	return imageCost{bytes: cost, kind: kind}
}

// pngCost follows image/png: one image of the colour type's Go
// representation (1, 2, 4 or 8 bytes a pixel; grey and truecolour with a
// tRNS chunk become NRGBA or NRGBA64), two rows of filtered bytes, and for
// an interlaced file the seven pass images on top of the final one.
func pngCost(b []byte, w, h int) imageCost {
	var ihdr []byte
	trns := false
	_ = walkPNG(b, func(typ string, _, data []byte) bool {
		switch typ {
		case "IHDR":
			ihdr = data
		case "tRNS":
			trns = true
		}
		return true
	})
	W, H := int64(w), int64(h)
	if len(ihdr) < 13 {
		// Unreadable: the most expensive kind, interlaced 16-bit RGBA.
		return imageCost{bytes: 2*8*W*H + 2*(1+8*W), kind: "PNG"}
	}
	depth, colorType, interlaced := int64(ihdr[8]), ihdr[9], ihdr[12] != 0
	var bpp int64   // bytes a pixel of the decoded image
	var bits int64  // bits a pixel in the file
	var name string // colour type for the message
	// Go's image types: 8-bit colour is 4 bytes a pixel, 16-bit 8.
	color := int64(4)
	if depth == 16 {
		color = 8
	}
	switch colorType {
	case 0:
		bits, name, bpp = depth, "灰度", max(1, depth/8)
		if trns {
			bpp = color
		}
	case 2:
		bits, name, bpp = 3*depth, " RGB", color
	case 3:
		bits, name, bpp = depth, "调色板", 1
	case 4:
		bits, name, bpp = 2*depth, "带透明度的灰度", color
	case 6:
		bits, name, bpp = 4*depth, " RGBA", color
	default:
		bits, name, bpp = 64, "", 8
	}
	row := 1 + (bits*W+7)/8
	cost := bpp*W*H + 2*row
	kind := fmt.Sprintf("%d 位%s PNG", depth, name)
	if colorType == 3 {
		kind = name + " PNG"
	}
	if interlaced {
		// The passes together hold every pixel once more, and each has
		// its own two rows.
		cost += bpp*W*H + 7*2*row
		kind = "隔行扫描的" + latinSpaced(kind)
	}
	return imageCost{bytes: cost, kind: kind}
}

// VP8L (lossless WebP) bounds. Its pixels are decoded as 4 bytes each; a
// colour-indexing transform decodes packed indices and then expands them
// into a second 4-byte-a-pixel buffer (together at most 6 bytes a pixel);
// the predictor, cross-colour and entropy images are at most a quarter of a
// byte a pixel each. Each of at most vp8lMaxGroups Huffman groups costs at
// most vp8lGroupBytes (five trees: their code lengths, canonical codes,
// nodes and look-up table, the green alphabet with the largest colour
// cache), and every group takes at least 20 bits of the file.
const (
	vp8lMaxGroups  = 2600 // x/image/vp8l refuses more
	vp8lGroupBytes = (256+24+2048+3*256+40)*(4+4+16) + 5*(24+512)
)

// vp8lCost is the bound for a w×h VP8L bitstream of n bytes.
func vp8lCost(w, h, n int64) int64 {
	groups := min(vp8lMaxGroups, n*8/20+1)
	// Four transform images and the palette have one group each.
	return 7*w*h + 16*(w+h) + (groups+5)*vp8lGroupBytes
}

// webpCost follows golang.org/x/image/webp: a lossy (VP8) image is YCbCr
// 4:2:0 in whole 16×16 macroblocks plus its partitions read into memory; a
// lossless (VP8L) one as vp8lCost; an alpha plane (ALPH) is one byte a
// pixel, and when compressed, a VP8L image decoded first.
func webpCost(b []byte, w, h int) imageCost {
	W, H := int64(w), int64(h)
	mb := ((W + 15) / 16) * ((H + 15) / 16)
	lossy := 384*mb + 4*mb + 2*int64(len(b))
	var c imageCost
	found := false
	_ = walkWebP(b, func(id string, _, data []byte) bool {
		switch id {
		case "ALPH":
			c.bytes += W * H
			if len(data) > 0 && data[0]&0x03 == 1 {
				c.bytes += vp8lCost(W, H, int64(len(data)))
			}
			c.kind = "带透明度的 WebP"
		case "VP8 ":
			c.bytes += lossy
			if c.kind == "" {
				c.kind = "WebP"
			}
			found = true
		case "VP8L":
			c.bytes += vp8lCost(W, H, int64(len(data)))
			c.kind = "无损 WebP"
			found = true
		}
		return !found
	})
	if !found {
		// Unreadable: the dearer of the two image kinds, with a compressed
		// alpha plane.
		n := int64(len(b))
		return imageCost{bytes: W*H + vp8lCost(W, H, n) + max(lossy, vp8lCost(W, H, n)), kind: "WebP"}
	}
	return c
}
