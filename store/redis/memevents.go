package redis

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/citizen-city/chengguantong/model"
)

// MemoryEventLog is the staff's live feed of a process alone — the
// embedded mode, where one server runs per DATA_DIR and its Redis is
// in-process: the same feed as EventLog (ids "ms-seq", about eventLogLen
// events kept, a read after an id older than the oldest kept says so),
// held in memory. Not a Redis stream, because the in-process Redis
// (miniredis) scans a stream from its first entry at every XREAD and runs a
// blocked XREAD again after every command it serves: the feed's reader,
// always blocked on up to 20,000 events, made every Redis call of the
// process pay for a scan of them (docs/BENCHMARKS.md, "Issue 16's
// targets").
type MemoryEventLog struct {
	mu     sync.Mutex
	events []memEvent // oldest first
	max    int
	last   memID
	wake   chan struct{} // closed and replaced at each Publish
	now    func() time.Time
}

type memID struct{ ms, seq uint64 }

func (a memID) before(b memID) bool { return a.ms < b.ms || (a.ms == b.ms && a.seq < b.seq) }

func (a memID) String() string { return fmt.Sprintf("%d-%d", a.ms, a.seq) }

type memEvent struct {
	id memID
	ev model.LiveEvent
}

// NewMemoryEventLog returns an empty feed keeping about as many events as
// EventLog.
func NewMemoryEventLog() *MemoryEventLog { return newMemoryEventLog(eventLogLen, time.Now) }

func newMemoryEventLog(max int, now func() time.Time) *MemoryEventLog {
	return &MemoryEventLog{max: max, wake: make(chan struct{}), now: now}
}

// Publish appends an event of type typ with its JSON data. It never fails.
func (l *MemoryEventLog) Publish(_ context.Context, typ string, data []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	id := memID{ms: uint64(max(0, l.now().UnixMilli()))}
	if !l.last.before(id) { // the same millisecond, or the clock went back
		id = memID{ms: l.last.ms, seq: l.last.seq + 1}
	}
	l.last = id
	l.events = append(l.events, memEvent{id: id, ev: model.LiveEvent{ID: id.String(), Type: typ, Data: append([]byte(nil), data...)}})
	if len(l.events) > l.max+l.max/10 { // trimmed in steps, as Redis's MAXLEN ~
		l.events = append([]memEvent(nil), l.events[len(l.events)-l.max:]...)
	}
	close(l.wake)
	l.wake = make(chan struct{})
	return nil
}

// Read returns up to count events after id after ("$" or "": only new
// ones), waiting up to block for one (0: no wait), and whether the feed
// still holds everything after after (false when after is older than the
// oldest event kept). Errors: invalid_argument for an after that is not an
// event id; the context's, when it ends while waiting.
func (l *MemoryEventLog) Read(ctx context.Context, after string, count int, block time.Duration) ([]model.LiveEvent, bool, error) {
	l.mu.Lock()
	var from memID
	complete := true
	switch after {
	case "", "$":
		from = l.last
	case "0":
	default:
		if _, err := fmt.Sscanf(after, "%d-%d", &from.ms, &from.seq); err != nil {
			l.mu.Unlock()
			return nil, false, model.Invalid("Last-Event-ID", "不是事件编号（形如 1765100000000-0）：%q", after)
		}
		if len(l.events) > 0 && from.before(l.events[0].id) {
			complete = false // trimmed past after: whatever lay between is gone
		}
	}
	var deadline <-chan time.Time
	for {
		i := sort.Search(len(l.events), func(i int) bool { return from.before(l.events[i].id) })
		if n := len(l.events) - i; n > 0 || block <= 0 {
			if count > 0 {
				n = min(n, count)
			}
			out := make([]model.LiveEvent, n)
			for k := range out {
				out[k] = l.events[i+k].ev
			}
			l.mu.Unlock()
			return out, complete, nil
		}
		wake := l.wake
		l.mu.Unlock()
		if deadline == nil {
			t := time.NewTimer(block)
			defer t.Stop()
			deadline = t.C
		}
		select {
		case <-ctx.Done():
			return nil, complete, ctx.Err()
		case <-deadline:
			return nil, complete, nil
		case <-wake:
		}
		l.mu.Lock()
	}
}

// Last returns the id of the newest event ("0-0" when there is none).
func (l *MemoryEventLog) Last(context.Context) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.events) == 0 {
		return "0-0", nil
	}
	return l.last.String(), nil
}
