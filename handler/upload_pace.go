package handler

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/citizen-city/chengguantong/model"
)

// uploadGrace is the time an upload's body has, on top of the pace, before
// its first MiB must have arrived: connection set-up and a slow start.
const uploadGrace = 5 * time.Second

// DefaultUploadTimePerMiB is the pace an upload's body must keep when
// Deps.UploadTimePerMiB is zero: 10 s a MiB, about 100 KiB/s, which a phone
// on a weak 4G or a good 3G connection keeps.
const DefaultUploadTimePerMiB = 10 * time.Second

// ServerWriteTimeout is the http.Server's WriteTimeout: the time from a
// request's headers to the end of its response. An upload whose pace lets
// it run longer has its write deadline moved past its body's deadline.
const ServerWriteTimeout = 60 * time.Second

// uploadProcessing is how long an upload may take once its body has
// arrived (a processing slot, decoding, storing), for its write deadline.
const uploadProcessing = 30 * time.Second

// pacedBody is a request body that must keep arriving: the first MiB within
// uploadGrace + perMiB of the start, each further MiB within perMiB more,
// enforced with the connection's read deadline (so a body that stalls is cut
// off, not just noticed at its next byte). A client sending a byte every
// few seconds holds its connection for uploadGrace + perMiB, not for the
// server's read timeout.
type pacedBody struct {
	io.ReadCloser
	rc      *http.ResponseController
	start   time.Time
	perMiB  time.Duration
	buffer  func(n int64) error // counts bytes that arrived against the server's budget
	got     int64               // bytes read
	mib     int64               // whole MiB read when the deadline was last set
	tooSlow bool                // the read deadline cut the body off
	refused error               // buffer's refusal
}

// newPacedBody wraps c's request body, counting what arrives with buffer,
// and sets the deadline of its first MiB. perMiB <= 0 means
// DefaultUploadTimePerMiB.
func newPacedBody(c echo.Context, perMiB time.Duration, buffer func(n int64) error) *pacedBody {
	if perMiB <= 0 {
		perMiB = DefaultUploadTimePerMiB
	}
	b := &pacedBody{ReadCloser: c.Request().Body, rc: http.NewResponseController(c.Response()), start: time.Now(),
		perMiB: perMiB, buffer: buffer}
	b.setDeadline()
	return b
}

func (b *pacedBody) Read(p []byte) (int, error) {
	if b.refused != nil {
		return 0, b.refused
	}
	n, err := b.ReadCloser.Read(p)
	b.got += int64(n)
	if m := b.got >> 20; m != b.mib {
		b.mib = m
		b.setDeadline()
	}
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		b.tooSlow = true
	}
	if n > 0 {
		if berr := b.buffer(int64(n)); berr != nil {
			b.refused = berr
			return n, berr
		}
	}
	return n, err
}

// deadline is when the next MiB must have arrived.
func (b *pacedBody) deadline() time.Time {
	return b.start.Add(uploadGrace + time.Duration(b.mib+1)*b.perMiB)
}

func (b *pacedBody) setDeadline() {
	d := b.deadline()
	// Not every ResponseWriter has a connection (tests' recorders): then
	// only the server's own timeouts apply.
	_ = b.rc.SetReadDeadline(d)
	if w := d.Add(uploadProcessing); w.After(b.start.Add(ServerWriteTimeout)) {
		_ = b.rc.SetWriteDeadline(w)
	}
}

// done lifts the read deadline once the body is read, so that the server's
// watch for a closed connection, which reads on while the photo is
// processed, is not cut off by it (that would cancel the request).
func (b *pacedBody) done() {
	_ = b.rc.SetReadDeadline(time.Time{})
}

// tooSlowError is the 400 for a body that fell behind the pace.
func (b *pacedBody) tooSlowError() error {
	return model.Invalid("file", "上传过慢：%s内只收到 %s；照片每 1 MB 须在 %s内传完（开头另有 %s），请在网络较好时重试",
		roundSeconds(time.Since(b.start)), byteLabel(b.got), roundSeconds(b.perMiB), roundSeconds(uploadGrace))
}

func roundSeconds(d time.Duration) string {
	return fmt.Sprintf("%d 秒", int((d+time.Second/2)/time.Second))
}

// byteLabel is n bytes for a message: KB below a MiB, MB above.
func byteLabel(n int64) string {
	if n < 1<<20 {
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
}
