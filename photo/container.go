package photo

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
)

var (
	errTruncated  = errors.New("container: truncated or malformed structure")
	errBadMagic   = errors.New("container: bad signature")
	errJPEGNested = errors.New("jpeg: unexpected SOI marker")
)

// JPEG markers used below.
const (
	markerSOI  = 0xD8
	markerEOI  = 0xD9
	markerSOS  = 0xDA
	markerAPP0 = 0xE0
	markerAPP1 = 0xE1
	markerAPP2 = 0xE2
	markerAPPE = 0xEE // APP14, "Adobe"
	markerAPPF = 0xEF
	markerCOM  = 0xFE
)

// jpegSeg is one piece of a JPEG file: a marker segment, a standalone marker
// or (marker == 0) a run of entropy-coded scan data.
type jpegSeg struct {
	marker  byte
	raw     []byte // the bytes exactly as in the file
	payload []byte // for segments with a length field: the bytes after it
}

// walkJPEG calls fn for each piece of the JPEG after SOI, in file order,
// up to and including EOI, or until fn returns false. Bytes after EOI
// (phone "trailers", Multi-Picture Format secondary images, appended data)
// are never visited. Junk bytes between segments are skipped, as libjpeg
// and image/jpeg do. Every length is bounds-checked.
func walkJPEG(b []byte, fn func(s jpegSeg) bool) error {
	if len(b) < 2 || b[0] != 0xFF || b[1] != markerSOI {
		return errBadMagic
	}
	pos := 2
	sawScan := false
	for pos < len(b) {
		if b[pos] != 0xFF {
			i := bytes.IndexByte(b[pos:], 0xFF)
			if i < 0 {
				break
			}
			pos += i
		}
		for pos+1 < len(b) && b[pos+1] == 0xFF { // fill bytes
			pos++
		}
		if pos+1 >= len(b) {
			break
		}
		m := b[pos+1]
		switch {
		case m == 0x00: // a stuffed zero outside a scan: junk
			pos += 2
			continue
		case m == markerSOI:
			return errJPEGNested
		case m == markerEOI:
			fn(jpegSeg{marker: m, raw: b[pos : pos+2]})
			return nil
		case m == 0x01 || (m >= 0xD0 && m <= 0xD7): // TEM, RSTn: no length
			if !fn(jpegSeg{marker: m, raw: b[pos : pos+2]}) {
				return nil
			}
			pos += 2
			continue
		}
		if pos+4 > len(b) {
			return errTruncated
		}
		n := int(b[pos+2])<<8 | int(b[pos+3])
		if n < 2 || n > len(b)-pos-2 {
			return errTruncated
		}
		end := pos + 2 + n
		if !fn(jpegSeg{marker: m, raw: b[pos:end], payload: b[pos+4 : end]}) {
			return nil
		}
		pos = end
		if m != markerSOS {
			continue
		}
		// Entropy-coded data runs until a marker other than a stuffed
		// zero (FF 00) or a restart marker (FF D0..D7).
		sawScan = true
		i := pos
		for {
			j := bytes.IndexByte(b[i:], 0xFF)
			if j < 0 || i+j+1 >= len(b) {
				i = len(b)
				break
			}
			i += j
			c := b[i+1]
			if c == 0x00 || (c >= 0xD0 && c <= 0xD7) {
				i += 2
				continue
			}
			if c == 0xFF { // fill byte before a marker: part of the run
				i++
				continue
			}
			break
		}
		if i > pos && !fn(jpegSeg{marker: 0, raw: b[pos:i]}) {
			return nil
		}
		pos = i
	}
	if !sawScan {
		return errTruncated
	}
	// Truncated after image data without EOI: let the decoder decide.
	return nil
}

// findExifJPEG returns the TIFF structure of the first APP1 "Exif" segment
// before the first scan, or nil.
func findExifJPEG(b []byte) []byte {
	var tiff []byte
	_ = walkJPEG(b, func(s jpegSeg) bool {
		if s.marker == markerSOS {
			return false
		}
		if s.marker == markerAPP1 && bytes.HasPrefix(s.payload, []byte(exifHeader)) {
			tiff = s.payload[len(exifHeader):]
			return false
		}
		return true
	})
	return tiff
}

// keepJPEGSegment reports whether a JPEG segment survives stripping: all
// image data and tables, APP0 JFIF (long enough for its fields; trimmed by
// trimJPEGSegment), APP2 ICC_PROFILE and APP14 Adobe (which selects the
// colour transform). Every other APPn (EXIF, XMP, IPTC,
// Photoshop, MPF, vendor data) and every COM segment is dropped.
func keepJPEGSegment(s jpegSeg) bool {
	switch {
	case s.marker == markerAPP0:
		return bytes.HasPrefix(s.payload, []byte("JFIF\x00")) && len(s.payload) >= jfifLen
	case s.marker == markerAPP2:
		return bytes.HasPrefix(s.payload, []byte("ICC_PROFILE\x00"))
	case s.marker == markerAPPE:
		return bytes.HasPrefix(s.payload, []byte("Adobe"))
	case s.marker >= markerAPP1 && s.marker <= markerAPPF, s.marker == markerCOM:
		return false
	}
	return true
}

// stripJPEG returns a copy of the JPEG without metadata, copying all other
// segments and the entropy-coded data byte for byte. If orientation is 2..8
// a minimal APP1 EXIF segment holding only the Orientation tag is written
// right after SOI (and after a JFIF APP0, which must come first).
func stripJPEG(b []byte, orientation int) ([]byte, error) {
	out := make([]byte, 0, len(b))
	out = append(out, 0xFF, markerSOI)
	pending := orientation > 1 && orientation <= 8
	err := walkJPEG(b, func(s jpegSeg) bool {
		keep := keepJPEGSegment(s)
		if pending && !(s.marker == markerAPP0 && keep) {
			out = appendOrientationAPP1(out, orientation)
			pending = false
		}
		if keep {
			out = append(out, trimJPEGSegment(s)...)
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Lengths of the payloads of the fixed-size segments rendering needs: JFIF
// ("JFIF\0", version, units, densities, a 0×0 thumbnail) and Adobe
// ("Adobe", version, two flag words, the colour transform).
const (
	jfifLen  = 14
	adobeLen = 12
)

// trimJPEGSegment returns a kept segment as it is written out: a JFIF APP0
// without its thumbnail or any bytes after its fields, an Adobe APP14
// without bytes after its transform — places where anything (a thumbnail of
// the uncropped photo, a hidden payload) could ride along. Other segments
// are copied as they are.
func trimJPEGSegment(s jpegSeg) []byte {
	switch {
	case s.marker == markerAPP0 && len(s.payload) > jfifLen:
		seg := []byte{0xFF, markerAPP0, 0, 2 + jfifLen}
		seg = append(seg, s.payload[:jfifLen-2]...)
		return append(seg, 0, 0) // no thumbnail
	case s.marker == markerAPP0 && s.payload[jfifLen-2]|s.payload[jfifLen-1] != 0:
		seg := append([]byte{0xFF, markerAPP0, 0, 2 + jfifLen}, s.payload[:jfifLen-2]...)
		return append(seg, 0, 0)
	case s.marker == markerAPPE && len(s.payload) > adobeLen:
		return append([]byte{0xFF, markerAPPE, 0, 2 + adobeLen}, s.payload[:adobeLen]...)
	}
	return s.raw
}

func appendOrientationAPP1(out []byte, orientation int) []byte {
	tiff := orientationTIFF(orientation)
	n := 2 + len(exifHeader) + len(tiff)
	out = append(out, 0xFF, markerAPP1, byte(n>>8), byte(n))
	out = append(out, exifHeader...)
	return append(out, tiff...)
}

// walkPNG calls fn for each chunk after the signature (raw is the whole
// chunk including length, type and CRC; data is its payload) up to and
// including IEND, or until fn returns false. Bytes after IEND are never
// visited.
func walkPNG(b []byte, fn func(typ string, raw, data []byte) bool) error {
	if len(b) < 8 || string(b[:8]) != pngSignature {
		return errBadMagic
	}
	pos := 8
	for {
		if len(b)-pos < 12 {
			return errTruncated
		}
		n := binary.BigEndian.Uint32(b[pos:])
		if uint64(n) > uint64(len(b)-pos-12) {
			return errTruncated
		}
		end := pos + 12 + int(n)
		typ := string(b[pos+4 : pos+8])
		if !fn(typ, b[pos:end], b[pos+8:end-4]) {
			return nil
		}
		if typ == "IEND" {
			return nil
		}
		pos = end
	}
}

// findExifPNG returns the payload of the first eXIf chunk, or nil.
func findExifPNG(b []byte) []byte {
	var tiff []byte
	_ = walkPNG(b, func(typ string, _, data []byte) bool {
		if typ == "eXIf" {
			tiff = data
			return false
		}
		return true
	})
	return tiff
}

// pngDropped reports whether stripping removes a PNG chunk: every chunk but
// the critical ones (IHDR, PLTE, IDAT, IEND) and the ancillary chunks that
// change how the pixels render — transparency (tRNS), colour space (gAMA,
// cHRM, sRGB, iCCP, cICP, mDCV, cLLI), significant bits (sBIT), pixel aspect
// (pHYs) and background (bKGD). So EXIF, the text chunks (XMP, comments,
// software), tIME, C2PA provenance (caBX, which can hold a location), APNG
// frames, vendor chunks (Apple's iDOT, ...) and any unknown chunk go.
func pngDropped(typ string) bool {
	switch typ {
	case "IHDR", "PLTE", "IDAT", "IEND",
		"tRNS", "gAMA", "cHRM", "sRGB", "iCCP", "cICP", "mDCV", "cLLI", "sBIT", "pHYs", "bKGD":
		return false
	}
	return true
}

// stripPNG returns a copy of the PNG without metadata chunks; every kept
// chunk is copied byte for byte with its CRC. Data after IEND is dropped.
// If orientation is 2..8 the first eXIf chunk is replaced by one holding only
// the Orientation tag.
func stripPNG(b []byte, orientation int) ([]byte, error) {
	out := make([]byte, 0, len(b))
	out = append(out, pngSignature...)
	pending := orientation > 1 && orientation <= 8
	err := walkPNG(b, func(typ string, raw, _ []byte) bool {
		switch {
		case typ == "eXIf" && pending:
			out = appendPNGChunk(out, "eXIf", orientationTIFF(orientation))
			pending = false
		case !pngDropped(typ):
			out = append(out, raw...)
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func appendPNGChunk(out []byte, typ string, data []byte) []byte {
	out = binary.BigEndian.AppendUint32(out, uint32(len(data)))
	start := len(out)
	out = append(out, typ...)
	out = append(out, data...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(out[start:]))
}

// VP8X feature flags.
const (
	vp8xAnimation = 1 << 1
	vp8xXMP       = 1 << 2
	vp8xEXIF      = 1 << 3
)

// walkWebP calls fn for each chunk inside the RIFF container (raw is the
// chunk header and payload without the padding byte) or until fn returns
// false. Bytes after the RIFF size are never visited.
func walkWebP(b []byte, fn func(id string, raw, data []byte) bool) error {
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WEBP" {
		return errBadMagic
	}
	size := binary.LittleEndian.Uint32(b[4:])
	if size < 4 || uint64(size) > uint64(len(b)-8) {
		return errTruncated
	}
	end := 8 + int(size)
	pos := 12
	for pos < end {
		if end-pos < 8 {
			return errTruncated
		}
		n := binary.LittleEndian.Uint32(b[pos+4:])
		if uint64(n) > uint64(end-pos-8) {
			return errTruncated
		}
		dataEnd := pos + 8 + int(n)
		if !fn(string(b[pos:pos+4]), b[pos:dataEnd], b[pos+8:dataEnd]) {
			return nil
		}
		pos = dataEnd + int(n&1) // chunks are padded to even size
	}
	return nil
}

// findExifWebP returns the payload of the first EXIF chunk, or nil.
func findExifWebP(b []byte) []byte {
	var tiff []byte
	_ = walkWebP(b, func(id string, _, data []byte) bool {
		if id == "EXIF" {
			tiff = data
			return false
		}
		return true
	})
	return tiff
}

// webpAnimated reports whether the WebP is animated (VP8X animation flag or
// ANIM/ANMF chunks), which the decoder does not support.
func webpAnimated(b []byte) bool {
	anim := false
	_ = walkWebP(b, func(id string, _, data []byte) bool {
		switch id {
		case "VP8X":
			anim = len(data) > 0 && data[0]&vp8xAnimation != 0
		case "ANIM", "ANMF":
			anim = true
		}
		return !anim
	})
	return anim
}

// stripWebP returns a copy of the WebP that keeps only the image chunks
// (VP8X, ICCP, ALPH, VP8, VP8L) byte for byte, drops EXIF, XMP and unknown
// chunks, clears the EXIF and XMP flags in VP8X and rewrites the RIFF size.
// Data after the RIFF payload is dropped. If orientation is 2..8 and the file
// uses the extended format, the EXIF chunk is replaced by one holding only
// the Orientation tag and the EXIF flag is kept.
func stripWebP(b []byte, orientation int) ([]byte, error) {
	out := make([]byte, 0, len(b))
	out = append(out, "RIFF\x00\x00\x00\x00WEBP"...)
	keepOrientation := false
	pending := orientation > 1 && orientation <= 8
	appendChunk := func(id string, data []byte) {
		out = append(out, id...)
		out = binary.LittleEndian.AppendUint32(out, uint32(len(data)))
		out = append(out, data...)
		if len(data)%2 == 1 {
			out = append(out, 0)
		}
	}
	err := walkWebP(b, func(id string, _, data []byte) bool {
		switch id {
		case "VP8X":
			if len(data) < 1 {
				return true // the decoder will reject it
			}
			flags := data[0] &^ (vp8xEXIF | vp8xXMP)
			if pending {
				keepOrientation = true
				flags |= vp8xEXIF
			}
			out = append(out, "VP8X"...)
			out = binary.LittleEndian.AppendUint32(out, uint32(len(data)))
			out = append(out, flags)
			out = append(out, data[1:]...)
			if len(data)%2 == 1 {
				out = append(out, 0)
			}
		case "ICCP", "ALPH", "VP8 ", "VP8L":
			appendChunk(id, data)
		case "EXIF":
			if keepOrientation && pending {
				appendChunk("EXIF", orientationTIFF(orientation))
				pending = false
			}
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	if keepOrientation && pending {
		// The EXIF flag was set but the chunk was missing: unreachable when
		// the orientation came from this file, but keep the file valid.
		appendChunk("EXIF", orientationTIFF(orientation))
	}
	binary.LittleEndian.PutUint32(out[4:], uint32(len(out)-8))
	return out, nil
}
