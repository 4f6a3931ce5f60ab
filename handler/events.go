package handler

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service/ticket"
)

// LiveFeed is the staff's live view of the tickets (ticket.Live).
type LiveFeed interface {
	Subscribe(ctx context.Context, lastEventID string) (*ticket.LiveSubscription, []model.LiveEvent, bool, error)
}

// keepAlive is how often an idle event stream gets a comment line, so that
// proxies keep it open.
const keepAlive = 15 * time.Second

// liveEvents serves GET /api/v1/admin/events: Server-Sent Events of every
// ticket created, changed or gone overdue, on whichever instance. A
// reconnect with Last-Event-ID resumes after it, or gets `event: reset`
// when the events in between are no longer kept (reload the lists).
func (h *handlers) liveEvents(c echo.Context) error {
	if h.Live == nil {
		return model.Errorf(model.CodeUnavailable, "实时事件未启用")
	}
	req := c.Request()
	last := req.Header.Get("Last-Event-ID")
	if last == "" {
		last = c.QueryParam("last_event_id") // EventSource cannot set headers on a first connect
	}
	sub, backlog, reset, err := h.Live.Subscribe(req.Context(), last)
	if err != nil {
		return err
	}
	defer sub.Close()
	w := c.Response()
	w.Header().Set(echo.HeaderContentType, "text/event-stream; charset=utf-8")
	w.Header().Set(echo.HeaderCacheControl, "no-store")
	w.Header().Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	// The server's write timeout bounds ordinary responses; a stream lives
	// as long as the console stays, renewed at every write.
	extend := func() { _ = rc.SetWriteDeadline(time.Now().Add(2 * keepAlive)) }
	send := func(format string, args ...any) error {
		extend()
		if _, err := fmt.Fprintf(w, format, args...); err != nil {
			return err
		}
		return rc.Flush()
	}
	if err := send("retry: 3000\n: 已连接\n\n"); err != nil {
		return nil
	}
	if reset {
		if err := send("event: reset\ndata: {}\n\n"); err != nil {
			return nil
		}
	}
	shown := last
	emit := func(e model.LiveEvent) error {
		if shown != "" && !streamIDAfter(e.ID, shown) {
			return nil // already in the backlog
		}
		shown = e.ID
		return send("id: %s\nevent: %s\ndata: %s\n\n", e.ID, e.Type, e.Data)
	}
	for _, e := range backlog {
		if err := emit(e); err != nil {
			return nil
		}
	}
	tick := time.NewTicker(keepAlive)
	defer tick.Stop()
	for {
		select {
		case <-req.Context().Done():
			return nil
		case <-tick.C:
			if err := send(": keep-alive\n\n"); err != nil {
				return nil
			}
		case e, ok := <-sub.C:
			if !ok {
				// Fell behind, or the instance is stopping: start afresh.
				_ = send("event: reset\ndata: {}\n\n")
				return nil
			}
			if err := emit(e); err != nil {
				return nil
			}
		}
	}
}

// streamIDAfter reports whether Redis stream id a ("ms-seq") is after b.
func streamIDAfter(a, b string) bool {
	var am, as, bm, bs uint64
	if _, err := fmt.Sscanf(a, "%d-%d", &am, &as); err != nil {
		return true
	}
	if _, err := fmt.Sscanf(b, "%d-%d", &bm, &bs); err != nil {
		return true
	}
	return am > bm || (am == bm && as > bs)
}
