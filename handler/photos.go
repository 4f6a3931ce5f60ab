package handler

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service/photos"
)

type photoJSON struct {
	ID           string        `json:"id"`
	URL          string        `json:"url"`
	ThumbnailURL string        `json:"thumbnail_url"`
	Width        int           `json:"width"`
	Height       int           `json:"height"`
	TakenAt      *time.Time    `json:"taken_at,omitempty"`
	ExifLocation *exifLocation `json:"exif_location,omitempty"`
}

type exifLocation struct {
	Lat       float64 `json:"lat"`
	Lng       float64 `json:"lng"`
	CoordType string  `json:"coord_type"`
}

// uploadPhoto takes exactly one file in the form field "file", as
// wx.uploadFile sends it. The file is read up to the size limit (413 past
// it) before anything is stored, so a request with a second file changes
// nothing.
//
// One resident cannot hold the server's uploads: Admit lets at most two of
// theirs be in flight (429 at once past it); the body must keep arriving
// (pacedBody: the first MiB within uploadGrace + UploadTimePerMiB, each
// further MiB within UploadTimePerMiB more, else 400), and holds only the
// bytes that have arrived against the server's budget for bodies on their
// way (503 past it); and only a body that has arrived waits, briefly, for
// one of the server's processing slots (503 with Retry-After past it).
func (h *handlers) uploadPhoto(c echo.Context) (err error) {
	arrived := false
	defer func() {
		if err != nil && !arrived {
			// Answer now and drop the connection, rather than let the
			// server read what is left of a body it will not use.
			c.Response().Header().Set(echo.HeaderConnection, "close")
		}
	}()
	mediaType, _, _ := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	if mediaType != "multipart/form-data" {
		return model.Errorf(model.CodeInvalidArgument, "请以 multipart/form-data 上传照片，图片放在表单字段 \"file\" 中")
	}
	admission, err := h.Photos.Admit(c.Request().Context(), currentUser(c))
	if err != nil {
		return err
	}
	defer admission.Release()
	limit := h.PhotoMaxBytes
	body := newPacedBody(c, h.UploadTimePerMiB, admission.Buffer)
	// The form's framing and small fields come on top of the file.
	c.Request().Body = http.MaxBytesReader(c.Response(), body, limit+64<<10)
	file, err := readOneFile(c.Request(), limit)
	body.done()
	switch {
	case body.tooSlow:
		return body.tooSlowError()
	case body.refused != nil:
		return body.refused
	case err != nil:
		return err
	}
	arrived = true
	p, err := h.Photos.Upload(c.Request().Context(), currentUser(c), bytes.NewReader(file))
	if err != nil {
		return err
	}
	out := photoJSON{
		ID: p.ID, URL: h.PhotoURLs.URL(p.ID, photos.VariantFull), ThumbnailURL: h.PhotoURLs.URL(p.ID, photos.VariantThumb),
		Width: p.Width, Height: p.Height,
	}
	if p.TakenAt != nil {
		at := p.TakenAt.In(shanghai) // the camera's clock is China time's
		out.TakenAt = &at
	}
	if p.ExifLocation != nil {
		out.ExifLocation = &exifLocation{Lat: p.ExifLocation.Lat, Lng: p.ExifLocation.Lng, CoordType: "wgs84"}
	}
	return c.JSON(http.StatusCreated, out)
}

// readOneFile reads the multipart form of r and returns the one file in
// the field "file", of at most limit bytes; other fields are read (64 KiB
// each at most) and ignored. Errors: invalid_argument (field file) for a
// malformed form, none or a second file; payload_too_large past limit.
func readOneFile(r *http.Request, limit int64) ([]byte, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, model.Invalid("file", "multipart 请求体格式有误")
	}
	var file []byte
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, multipartError(err)
		}
		if part.FormName() != "file" {
			// Other form fields are allowed and ignored.
			if _, err := io.Copy(io.Discard, io.LimitReader(part, 64<<10)); err != nil {
				return nil, multipartError(err)
			}
			continue
		}
		if file != nil {
			return nil, model.Invalid("file", "每次请求只能上传一个文件")
		}
		file, err = io.ReadAll(io.LimitReader(part, limit+1))
		if err != nil {
			return nil, multipartError(err)
		}
		if int64(len(file)) > limit {
			return nil, model.Errorf(model.CodePayloadTooLarge, "照片超过了 %s 的上限", sizeLabel(limit))
		}
	}
	if file == nil {
		return nil, model.Invalid("file", "不能为空：请把图片放在表单字段 \"file\" 中")
	}
	return file, nil
}

// sizeLabel is n bytes for a message: in MB when it is whole megabytes.
func sizeLabel(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return strconv.FormatInt(n>>20, 10) + " MB"
	}
	return strconv.FormatInt(n, 10) + " 字节"
}

func multipartError(err error) error {
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		return model.Errorf(model.CodePayloadTooLarge, "上传内容超过了大小上限")
	}
	return model.Invalid("file", "multipart 请求体格式有误")
}

// servePhoto serves a photo by its signed URL: no Authorization header
// needed (the mini-program's <image> cannot send one), cacheable until the
// link expires, with an ETag of the stored bytes.
func (h *handlers) servePhoto(c echo.Context) error {
	f, err := h.Photos.Open(c.Request().Context(), c.Param("id"), c.Param("variant"), c.QueryParam("exp"), c.QueryParam("sig"))
	if err != nil {
		return err
	}
	defer f.Body.Close()
	hdr := c.Response().Header()
	maxAge := int(time.Until(f.Expires).Seconds())
	if maxAge < 0 {
		maxAge = 0
	}
	hdr.Set("Cache-Control", "private, max-age="+strconv.Itoa(maxAge)+", immutable")
	hdr.Set("ETag", f.ETag)
	hdr.Set("Content-Disposition", "inline")
	for _, tag := range strings.Split(c.Request().Header.Get("If-None-Match"), ",") {
		if strings.TrimSpace(tag) == f.ETag {
			return c.NoContent(http.StatusNotModified)
		}
	}
	hdr.Set(echo.HeaderContentLength, strconv.FormatInt(f.Size, 10))
	return c.Stream(http.StatusOK, f.ContentType, f.Body)
}
