package photo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"runtime"
	"time"

	"golang.org/x/sync/semaphore"
)

// Default limits, used for zero (or negative) fields of [Limits].
const (
	DefaultMaxBytes     int64 = 10 << 20   // 10 MiB
	DefaultMaxPixels    int64 = 50_000_000 // 50 megapixels
	DefaultThumbMaxSide       = 360        // pixels
	DefaultDecodeMemory int64 = 256 << 20  // 256 MiB
)

// Limits bounds what [Processor.Process] accepts and produces. Zero or
// negative fields take the Default* values.
type Limits struct {
	// MaxBytes is the largest accepted upload in bytes.
	MaxBytes int64
	// MaxPixels is the largest accepted width × height, checked from the
	// image header before decoding.
	MaxPixels int64
	// ThumbMaxSide is the longest side of the thumbnail in pixels.
	ThumbMaxSide int
	// DecodeMemory bounds the memory of the decode pool: the bytes that
	// all decodes in flight may allocate together, each estimated from the
	// image's headers (width × height × the bytes a pixel of its kind
	// takes, plus the decoder's buffers) before decoding. An image whose
	// decode alone would need more is refused with ErrTooMuchMemory.
	DecodeMemory int64
}

// withDefaults returns l with zero or negative fields replaced by defaults.
func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = DefaultMaxPixels
	}
	if l.ThumbMaxSide <= 0 {
		l.ThumbMaxSide = DefaultThumbMaxSide
	}
	if l.DecodeMemory <= 0 {
		l.DecodeMemory = DefaultDecodeMemory
	}
	return l
}

// GPS is a position in WGS-84 decimal degrees, as recorded by the phone's
// GNSS receiver: south latitudes and west longitudes are negative. Note that
// maps in mainland China (Tencent, AMap, Baidu) use GCJ-02 or BD-09, so
// converting for display is the caller's job.
type GPS struct {
	Lat float64
	Lng float64
}

// Result is a processed photo.
type Result struct {
	// Format is "jpeg", "png" or "webp" (see the Format* constants).
	Format string
	// ContentType is the MIME type of Clean: "image/jpeg", "image/png" or
	// "image/webp".
	ContentType string
	// Width and Height are the dimensions as displayed, i.e. after applying
	// the EXIF orientation (swapped for orientations 5-8).
	Width, Height int
	// Clean is the original image, losslessly stripped of all metadata
	// except, when Orientation != 1, a minimal EXIF block that holds only
	// the Orientation tag (see the package documentation).
	Clean []byte
	// Thumb is a JPEG thumbnail, upright, whose longest side is at most
	// Limits.ThumbMaxSide pixels. It has no metadata.
	Thumb []byte
	// TakenAt is EXIF DateTimeOriginal (or DateTime when it is missing),
	// with OffsetTimeOriginal (OffsetTime) when present, otherwise
	// interpreted in Asia/Shanghai. Nil if absent or unparseable.
	TakenAt *time.Time
	// GPS is the EXIF position, nil if absent, invalid or exactly (0, 0).
	GPS *GPS
	// Orientation is the EXIF orientation 1..8, 1 if absent or invalid.
	Orientation int
	// SHA256 is the lowercase hex SHA-256 of Clean, usable as an ETag or a
	// content address.
	SHA256 string
}

// Processor validates, strips and thumbnails uploaded photos. It is safe for
// concurrent use; at most maxConcurrentDecodes images are decoded at once,
// and those together within Limits.DecodeMemory.
type Processor struct {
	limits Limits
	sem    chan struct{}       // decode slots
	mem    *semaphore.Weighted // decode memory, in bytes
	loc    *time.Location
}

// NewProcessor returns a Processor with the given limits (zero fields take
// the defaults) that decodes at most maxConcurrentDecodes images at a time;
// maxConcurrentDecodes <= 0 means runtime.NumCPU().
func NewProcessor(l Limits, maxConcurrentDecodes int) *Processor {
	if maxConcurrentDecodes <= 0 {
		maxConcurrentDecodes = runtime.NumCPU()
	}
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		// No tzdata on the host. China has had no daylight saving time
		// since 1991, so a fixed UTC+8 zone is equivalent for photos.
		loc = time.FixedZone("CST", 8*60*60)
	}
	l = l.withDefaults()
	return &Processor{
		limits: l,
		sem:    make(chan struct{}, maxConcurrentDecodes),
		mem:    semaphore.NewWeighted(l.DecodeMemory),
		loc:    loc,
	}
}

// Limits returns the effective limits, with defaults filled in.
func (p *Processor) Limits() Limits { return p.limits }

// MaxConcurrentDecodes returns the size of the decode pool.
func (p *Processor) MaxConcurrentDecodes() int { return cap(p.sem) }

// Process reads one uploaded photo from r and returns its stripped bytes, a
// thumbnail and its metadata.
//
// Errors for bad uploads are [*Error] values matching ErrTooLarge,
// ErrUnsupported, ErrTooManyPixels, ErrTooMuchMemory or ErrCorrupt with
// [errors.Is]. Errors
// from r are returned unchanged, and ctx.Err() is returned if ctx is done
// while reading or while waiting for a decode slot.
//
// Process reads at most Limits.MaxBytes+1 bytes from r and does not close it.
// If r reports its size through a Len() int or Size() int64 method (as
// *bytes.Reader and the files of mime/multipart do), an oversized upload is
// refused before reading, with its exact size in the message. Reading happens
// outside the decode pool, so a slow client does not hold a decode slot.
func (p *Processor) Process(ctx context.Context, r io.Reader) (*Result, error) {
	data, err := p.read(ctx, r)
	if err != nil {
		return nil, err
	}

	format := sniff(data)
	if format == "" {
		if len(data) == 0 {
			return nil, newError(ErrUnsupported, nil, "上传的文件是空的")
		}
		return nil, newError(ErrUnsupported, nil, "不支持的文件类型；请上传 JPEG、PNG 或 WebP 照片")
	}
	if format == FormatWebP && webpAnimated(data) {
		return nil, newError(ErrUnsupported, nil, "不支持动态 WebP 图片")
	}

	cfg, err := decodeConfig(format, data)
	if err != nil {
		return nil, classifyDecodeError(format, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, newError(ErrCorrupt, nil, "这个 %s 文件声明的图像尺寸为空", upperFormat(format))
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > p.limits.MaxPixels {
		return nil, newError(ErrTooManyPixels, nil, "照片为 %d×%d 像素（%s），超过了 %s 的上限",
			cfg.Width, cfg.Height, formatMP(px), formatMP(p.limits.MaxPixels))
	}

	var tiff []byte
	var clean []byte
	switch format {
	case FormatJPEG:
		tiff = findExifJPEG(data)
	case FormatPNG:
		tiff = findExifPNG(data)
	case FormatWebP:
		tiff = findExifWebP(data)
	}
	var info exifInfo
	if tiff != nil {
		// Malformed EXIF is not a reason to refuse a photo: keep whatever
		// could be read.
		info, _ = parseExif(tiff)
	}
	orientation := info.Orientation
	if orientation == 0 {
		orientation = 1
	}

	switch format {
	case FormatJPEG:
		clean, err = stripJPEG(data, orientation)
	case FormatPNG:
		clean, err = stripPNG(data, orientation)
	case FormatWebP:
		clean, err = stripWebP(data, orientation)
	}
	if err != nil {
		return nil, newError(ErrCorrupt, err, "这个 %s 文件已损坏或不完整，无法读取", upperFormat(format))
	}
	// data is not used after this point, so the upload buffer can be
	// collected while the stripped copy is decoded.

	// What is decoded is the stripped copy: its cost decides.
	cost := decodeCost(format, clean, cfg.Width, cfg.Height, p.limits.ThumbMaxSide)
	if cost.bytes > p.limits.DecodeMemory || cost.bytes < 0 { // < 0: overflowed, for absurd pixel limits
		return nil, newError(ErrTooMuchMemory, nil, "照片为 %d×%d 像素的%s，解码约需 %s 内存，超过了 %s 的上限；请上传普通的 JPEG 照片，或缩小尺寸后重试",
			cfg.Width, cfg.Height, latinSpaced(cost.kind), formatMB(cost.bytes), formatMB(p.limits.DecodeMemory))
	}

	thumb, err := p.thumbnail(ctx, format, clean, orientation, cost.bytes)
	if err != nil {
		return nil, err
	}

	sum := sha256.Sum256(clean)
	w, h := cfg.Width, cfg.Height
	if orientation >= 5 {
		w, h = h, w
	}
	return &Result{
		Format:      format,
		ContentType: contentType(format),
		Width:       w,
		Height:      h,
		Clean:       clean,
		Thumb:       thumb,
		TakenAt:     info.takenAt(p.loc),
		GPS:         info.GPS,
		Orientation: orientation,
		SHA256:      hex.EncodeToString(sum[:]),
	}, nil
}

// thumbnail decodes clean inside the decode pool, holding cost bytes of its
// memory, and returns the encoded thumbnail. Decoding the stripped bytes
// (rather than the upload) also proves that what will be stored is a valid
// image.
func (p *Processor) thumbnail(ctx context.Context, format string, clean []byte, orientation int, cost int64) ([]byte, error) {
	return decodeWithin(ctx, p, cost, func() ([]byte, error) { return p.decodeThumbnail(format, clean, orientation) })
}

// decodeWithin runs decode, which needs cost bytes of memory, within the
// processor's budgets: memory first, in arrival order (the semaphore is
// FIFO, so a large image is not starved by small ones), then a decode
// slot.
func decodeWithin[T any](ctx context.Context, p *Processor, cost int64, decode func() (T, error)) (T, error) {
	var zero T
	if err := p.mem.Acquire(ctx, cost); err != nil {
		return zero, err
	}
	defer p.mem.Release(cost)
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return zero, ctx.Err()
	}
	defer func() { <-p.sem }()
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	out, err := decode()
	if cost >= p.limits.DecodeMemory/4 {
		// The decoded pixels are garbage now, but the collector would
		// only come for them once the heap has grown by as much again
		// (GOGC=100): collect them before their memory is handed to the
		// next decode, so that the pool bounds the heap and not only the
		// live bytes. Pixel buffers hold no pointers, so the collection
		// costs little beyond the rest of the live heap; ordinary photos
		// (a 12-megapixel JPEG is 18 MB) are far below the threshold.
		runtime.GC()
	}
	return out, err
}

// decodeThumbnail decodes clean and makes its thumbnail; the decoded image
// is garbage when it returns.
func (p *Processor) decodeThumbnail(format string, clean []byte, orientation int) ([]byte, error) {
	img, err := decodeImage(format, clean)
	if err != nil {
		return nil, classifyDecodeError(format, err)
	}
	thumb, err := makeThumbnail(img, orientation, p.limits.ThumbMaxSide)
	if err != nil {
		return nil, fmt.Errorf("photo: encoding thumbnail: %w", err)
	}
	return thumb, nil
}

// read reads all of r, but never more than MaxBytes+1 bytes, and fails with
// ErrTooLarge if there are more than MaxBytes. The buffer starts small (or
// at the size the reader reports through a Len() int or Size() int64
// method, as bytes.Reader and multipart files do) and never grows beyond
// MaxBytes+1.
func (p *Processor) read(ctx context.Context, r io.Reader) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if r == nil {
		return nil, nil // reported as an empty upload
	}
	limit := p.limits.MaxBytes + 1
	size := int64(-1)
	switch s := r.(type) {
	case interface{ Len() int }:
		size = int64(s.Len())
	case interface{ Size() int64 }:
		size = s.Size()
	}
	if size > p.limits.MaxBytes {
		return nil, newError(ErrTooLarge, nil, "照片大小为 %s，超过了 %s 的上限",
			formatMB(size), formatMB(p.limits.MaxBytes))
	}
	initial := int64(64 << 10)
	if size >= 0 {
		initial = size + 1 // +1 so that EOF is seen without growing
	}
	buf := make([]byte, 0, min(initial, limit))

	lr := io.LimitReader(r, limit)
	for empty := 0; ; {
		if len(buf) == cap(buf) {
			if int64(len(buf)) >= limit {
				break
			}
			nb := make([]byte, len(buf), min(2*int64(cap(buf))+1, limit))
			copy(nb, buf)
			buf = nb
		}
		n, err := lr.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if n == 0 && err == nil {
			if empty++; empty >= 100 {
				return nil, io.ErrNoProgress
			}
		} else {
			empty = 0
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	if int64(len(buf)) > p.limits.MaxBytes {
		return nil, newError(ErrTooLarge, nil, "照片超过了 %s 的上限", formatMB(p.limits.MaxBytes))
	}
	return buf, nil
}
