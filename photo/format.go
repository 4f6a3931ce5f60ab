package photo

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"image/png"

	"golang.org/x/image/webp"
)

// Format names reported in Result.Format.
const (
	FormatJPEG = "jpeg"
	FormatPNG  = "png"
	FormatWebP = "webp"
)

const pngSignature = "\x89PNG\r\n\x1a\n"

// sniff identifies the format from the magic bytes only. It returns "" for
// anything that is not JPEG, PNG or WebP.
func sniff(b []byte) string {
	switch {
	case len(b) >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF:
		return FormatJPEG
	case len(b) >= 8 && string(b[:8]) == pngSignature:
		return FormatPNG
	case len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return FormatWebP
	}
	return ""
}

// contentType returns the MIME type for a format name.
func contentType(format string) string {
	return "image/" + format
}

// decodeConfig reads the image dimensions from the header without decoding
// pixels.
func decodeConfig(format string, b []byte) (image.Config, error) {
	r := bytes.NewReader(b)
	switch format {
	case FormatJPEG:
		return jpeg.DecodeConfig(r)
	case FormatPNG:
		return png.DecodeConfig(r)
	case FormatWebP:
		return webp.DecodeConfig(r)
	}
	return image.Config{}, errors.New("photo: unknown format")
}

// decodeImage fully decodes the image.
func decodeImage(format string, b []byte) (image.Image, error) {
	r := bytes.NewReader(b)
	switch format {
	case FormatJPEG:
		return jpeg.Decode(r)
	case FormatPNG:
		return png.Decode(r)
	case FormatWebP:
		return webp.Decode(r)
	}
	return nil, errors.New("photo: unknown format")
}

// classifyDecodeError maps a decoder error to ErrUnsupported for format
// features the decoders do not implement, and ErrCorrupt otherwise.
func classifyDecodeError(format string, err error) *Error {
	var ju jpeg.UnsupportedError
	var pu png.UnsupportedError
	if errors.As(err, &ju) || errors.As(err, &pu) {
		return newError(ErrUnsupported, err,
			"这个 %s 文件使用了不支持的特性；请上传普通照片", upperFormat(format))
	}
	return newError(ErrCorrupt, err,
		"这个 %s 文件已损坏或不完整，无法读取", upperFormat(format))
}

func upperFormat(format string) string {
	switch format {
	case FormatJPEG:
		return "JPEG"
	case FormatPNG:
		return "PNG"
	case FormatWebP:
		return "WebP"
	}
	return "image"
}
