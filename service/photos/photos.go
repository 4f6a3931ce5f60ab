package photos

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/photo"
	"github.com/citizen-city/chengguantong/service/limit"
)

// PhotoStore keeps photos and their files.
type PhotoStore interface {
	Create(ctx context.Context, p model.Photo, full, thumb model.PhotoFile) (*model.Photo, error)
	Get(ctx context.Context, id string) (*model.Photo, error)
	Many(ctx context.Context, ids []string) ([]*model.Photo, error)
	Open(ctx context.Context, id, variant string) (io.ReadCloser, int64, string, error)
	Claim(ctx context.Context, ownerID string, ids []string, ticketID string) (int, error)
	DeleteUnused(ctx context.Context, cutoff time.Time) (int, error)
}

// URLSigner makes and checks the signed, expiring photo URLs that the
// mini-program's <image> can load without an Authorization header.
type URLSigner struct {
	key  []byte
	base string
	ttl  time.Duration
	now  func() time.Time
}

// NewURLSigner derives its key from secret (the token secret), so one
// secret serves the deployment, and URLs from base (PUBLIC_BASE_URL).
func NewURLSigner(secret []byte, base string, ttl time.Duration, now func() time.Time) *URLSigner {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("photo-url-v1"))
	return &URLSigner{key: m.Sum(nil), base: base, ttl: ttl, now: now}
}

// Variants of a photo: the full rendition and the thumbnail (blurred once
// staff redacted the photo), and the original (model.VariantOriginal),
// whose signed URL only the views of dispatchers and admins carry.
const (
	VariantFull  = "full"
	VariantThumb = "thumb"
)

// URL returns the signed URL of a photo variant. Its expiry is rounded up to
// a whole ttl, so the same photo has the same URL for a while and caches work.
func (s *URLSigner) URL(id, variant string) string {
	exp := s.now().Add(s.ttl).Truncate(s.ttl).Add(s.ttl).Unix()
	return fmt.Sprintf("%s/media/photos/%s/%s?exp=%d&sig=%s", s.base, id, variant, exp, s.sig(id, variant, exp))
}

func (s *URLSigner) sig(id, variant string, exp int64) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(id + "|" + variant + "|" + strconv.FormatInt(exp, 10)))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// Verify checks a URL's signature and expiry and returns the expiry.
// Any failure is not_found: a bad link reveals nothing.
func (s *URLSigner) Verify(id, variant, exp, sig string) (time.Time, error) {
	e, err := strconv.ParseInt(exp, 10, 64)
	notFound := model.Errorf(model.CodeNotFound, "照片不存在，或链接已过期")
	if err != nil || (variant != VariantFull && variant != VariantThumb && variant != model.VariantOriginal) {
		return time.Time{}, notFound
	}
	if !hmac.Equal([]byte(sig), []byte(s.sig(id, variant, e))) {
		return time.Time{}, notFound
	}
	expires := time.Unix(e, 0)
	if !s.now().Before(expires) {
		return time.Time{}, notFound
	}
	return expires, nil
}

// Uploads is the upload and serving of photos.
type Uploads struct {
	store     PhotoStore
	processor *photo.Processor
	signer    *URLSigner
	limiter   limit.Limiter
	perMinute int
	// processing bounds the uploads processed at once (each holds its
	// bytes and their stripped copy, up to twice the size limit), beyond
	// the processor's bound on decodes. A slot is taken once the body has
	// arrived, never while it is on its way.
	processing chan struct{}
	// buffered counts the bytes of the bodies on their way, which are not
	// in a processing slot yet, against bufferBudget: a body takes only
	// what has arrived, so a trickle holds almost nothing, and a crowd
	// past the budget is answered 503 rather than held in memory.
	buffered     atomic.Int64
	bufferBudget int64
	// inFlight counts each resident's uploads between Admit and Release,
	// to at most MaxUploadsInFlight.
	mu       sync.Mutex
	inFlight map[string]int
}

// MaxUploadsInFlight is how many uploads one user may have in flight at
// once (in one instance): enough for a phone that sends two photos side by
// side, too few for one resident to hold the server's upload capacity.
const MaxUploadsInFlight = 2

// ProcessingWait is how long an upload whose body has arrived waits for a
// processing slot before it is answered 503 with Retry-After.
const ProcessingWait = 2 * time.Second

// NewUploads returns the photo service, processing at most maxConcurrent
// uploads at once and buffering the bodies of at most twice as many
// full-size uploads on their way.
func NewUploads(store PhotoStore, p *photo.Processor, signer *URLSigner, limiter limit.Limiter, uploadsPerMinute, maxConcurrent int) *Uploads {
	return &Uploads{store: store, processor: p, signer: signer, limiter: limiter, perMinute: uploadsPerMinute,
		processing: make(chan struct{}, maxConcurrent), bufferBudget: 2 * int64(maxConcurrent) * p.Limits().MaxBytes,
		inFlight: map[string]int{}}
}

// Signer returns the URL signer.
func (s *Uploads) Signer() *URLSigner { return s.signer }

// Admission is one admitted upload, from before its body is read until it
// is done.
type Admission struct {
	s        *Uploads
	userID   string
	buffered atomic.Int64
	once     sync.Once
}

// Admit lets one upload of u begin, before its body is read: at most
// MaxUploadsInFlight of u's uploads at once (in this instance), and the
// resident's rate limit per minute. It never waits. The caller calls
// Release when the upload is done. Errors: rate_limited (with Retry-After),
// naming which limit.
func (s *Uploads) Admit(ctx context.Context, u *model.User) (*Admission, error) {
	s.mu.Lock()
	if s.inFlight[u.ID] >= MaxUploadsInFlight {
		s.mu.Unlock()
		return nil, &model.Error{Code: model.CodeRateLimited, RetryAfterSeconds: 5,
			Message: fmt.Sprintf("你已有 %d 张照片正在上传；请等其中一张传完再上传下一张", MaxUploadsInFlight)}
	}
	s.inFlight[u.ID]++
	s.mu.Unlock()
	a := &Admission{s: s, userID: u.ID}
	// Counted only once admitted, so a refusal above costs no quota.
	if err := limit.Check(ctx, s.limiter, "uploads:"+u.ID, s.perMinute, time.Minute, "本分钟上传的照片过多，请稍候再试"); err != nil {
		a.Release()
		return nil, err
	}
	return a, nil
}

// Buffer counts n more bytes of the body as held in memory. Past the
// instance's budget for bodies on their way it fails, without waiting.
// Errors: unavailable (with Retry-After).
func (a *Admission) Buffer(n int64) error {
	a.buffered.Add(n)
	if a.s.buffered.Add(n) > a.s.bufferBudget {
		return &model.Error{Code: model.CodeUnavailable, RetryAfterSeconds: 2,
			Message: "服务器正在接收的照片过多，请 2 秒后重试"}
	}
	return nil
}

// Release ends the upload: its place among the user's uploads and its
// buffered bytes are given back. Calling it again does nothing.
func (a *Admission) Release() {
	a.once.Do(func() {
		a.s.buffered.Add(-a.buffered.Load())
		a.s.mu.Lock()
		defer a.s.mu.Unlock()
		if a.s.inFlight[a.userID]--; a.s.inFlight[a.userID] <= 0 {
			delete(a.s.inFlight, a.userID)
		}
	})
}

// Upload checks, strips and stores one photo whose bytes have arrived (r is
// read at once). It waits at most ProcessingWait for one of the bounded
// processing slots. Errors: payload_too_large (bytes, pixels or the memory
// to decode it over the limit), unsupported_media_type (not a JPEG, PNG or
// WebP by its content), unavailable (no slot in time, with Retry-After, or
// the store unreachable).
func (s *Uploads) Upload(ctx context.Context, u *model.User, r io.Reader) (*model.Photo, error) {
	wait := time.NewTimer(ProcessingWait)
	defer wait.Stop()
	select {
	case s.processing <- struct{}{}:
	case <-wait.C:
		return nil, &model.Error{Code: model.CodeUnavailable, RetryAfterSeconds: 2,
			Message: "服务器正在处理的照片过多，请 2 秒后重试"}
	case <-ctx.Done():
		return nil, model.Wrap(model.CodeUnavailable, ctx.Err(), "上传被中断，请重试")
	}
	defer func() { <-s.processing }()
	res, err := s.processor.Process(ctx, r)
	if err != nil {
		return nil, photoError(err)
	}
	p := model.Photo{OwnerID: u.ID, ContentType: res.ContentType, Width: res.Width, Height: res.Height, TakenAt: res.TakenAt}
	if res.GPS != nil {
		p.ExifLocation = &model.Point{Lat: res.GPS.Lat, Lng: res.GPS.Lng}
	}
	thumbSum := sha256.Sum256(res.Thumb)
	created, err := s.store.Create(ctx, p,
		model.PhotoFile{Data: res.Clean, ContentType: res.ContentType, SHA256: res.SHA256},
		model.PhotoFile{Data: res.Thumb, ContentType: "image/jpeg", SHA256: fmt.Sprintf("%x", thumbSum)})
	if err != nil {
		return nil, fmt.Errorf("upload photo: %w", err)
	}
	return created, nil
}

func photoError(err error) error {
	msg := photo.UserMessage(err)
	switch {
	case errors.Is(err, photo.ErrTooLarge), errors.Is(err, photo.ErrTooManyPixels), errors.Is(err, photo.ErrTooMuchMemory):
		return model.Wrap(model.CodePayloadTooLarge, err, msg)
	case errors.Is(err, photo.ErrUnsupported), errors.Is(err, photo.ErrCorrupt):
		return model.Wrap(model.CodeUnsupportedMedia, err, msg)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return model.Wrap(model.CodeUnavailable, err, "上传被中断，请重试")
	}
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		return model.Wrap(model.CodePayloadTooLarge, err, fmt.Sprintf("上传内容超过了 %d 字节的上限", maxErr.Limit))
	}
	if msg == "" {
		msg = "无法读取上传的文件"
	}
	return model.Wrap(model.CodeInvalidArgument, err, msg)
}

// Served is an open photo file to send.
type Served struct {
	Body        io.ReadCloser
	Size        int64
	ContentType string
	ETag        string
	Expires     time.Time
}

// Open verifies a signed URL and opens the file. A photo withheld by the
// content check is not served. Errors: not_found.
func (s *Uploads) Open(ctx context.Context, id, variant, exp, sig string) (*Served, error) {
	expires, err := s.signer.Verify(id, variant, exp, sig)
	if err != nil {
		return nil, err
	}
	p, err := s.store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if p.Moderation.Blocked() {
		return nil, model.Errorf(model.CodeNotFound, "照片不存在，或链接已过期")
	}
	body, size, sum, err := s.store.Open(ctx, id, variant)
	if err != nil {
		return nil, err
	}
	ct := p.ContentType
	switch {
	case variant == VariantThumb:
		ct = "image/jpeg"
	case variant == model.VariantOriginal && p.HasOriginal && p.OriginalType != "":
		ct = p.OriginalType // the unblurred original, whose URL only staff views carry
	}
	return &Served{Body: body, Size: size, ContentType: ct, ETag: `"` + sum + `"`, Expires: expires}, nil
}

// SweepUnused deletes uploads older than maxAge that no report used.
func (s *Uploads) SweepUnused(ctx context.Context, now time.Time, maxAge time.Duration) (int, error) {
	return s.store.DeleteUnused(ctx, now.Add(-maxAge))
}
