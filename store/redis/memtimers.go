package redis

import (
	"context"
	"slices"
	"sync"
	"time"
)

// MemoryTimers are the deadlines of a process alone — the embedded mode,
// where one server runs per DATA_DIR and its Redis is in-process: the same
// set as Timers (members by due time, then by name; removing one is the
// claim), held in memory in order. Not a sorted set of the in-process Redis,
// because that one (miniredis) sorts the whole set at every read: the timer
// loop's look every couple of seconds sorted the timers of every open
// ticket — ~35,000 in a history of 500,000 — and kept the idle server busy
// (docs/BENCHMARKS.md, "Issue 16's targets"). Like the Redis set, it is
// rebuilt by the reconciler at start-up.
type MemoryTimers struct {
	mu     sync.Mutex
	at     map[string]int64 // member → due time in ms
	sorted []memTimer       // by (at, member)
	wake   chan struct{}
}

type memTimer struct {
	at     int64
	member string
}

func (a memTimer) cmp(b memTimer) int {
	switch {
	case a.at < b.at:
		return -1
	case a.at > b.at:
		return 1
	}
	switch {
	case a.member < b.member:
		return -1
	case a.member > b.member:
		return 1
	}
	return 0
}

// NewMemoryTimers returns an empty timer set.
func NewMemoryTimers() *MemoryTimers {
	return &MemoryTimers{at: map[string]int64{}, wake: make(chan struct{}, 1)}
}

// Schedule sets the timer member to fire at at (replacing its time). It
// never fails.
func (t *MemoryTimers) Schedule(_ context.Context, member string, at time.Time) error {
	ms := at.UnixMilli()
	t.mu.Lock()
	if old, ok := t.at[member]; ok {
		t.remove(memTimer{old, member})
	}
	t.at[member] = ms
	e := memTimer{ms, member}
	i, _ := slices.BinarySearchFunc(t.sorted, e, memTimer.cmp)
	t.sorted = slices.Insert(t.sorted, i, e)
	t.mu.Unlock()
	select {
	case t.wake <- struct{}{}:
	default:
	}
	return nil
}

// remove takes e out of the order; the caller holds mu.
func (t *MemoryTimers) remove(e memTimer) {
	if i, ok := slices.BinarySearchFunc(t.sorted, e, memTimer.cmp); ok {
		t.sorted = slices.Delete(t.sorted, i, i+1)
	}
}

// Woken receives a signal whenever a timer is scheduled.
func (t *MemoryTimers) Woken() <-chan struct{} { return t.wake }

// Next returns the earliest due time; ok is false when no timer is set. It
// never fails.
func (t *MemoryTimers) Next(context.Context) (at time.Time, ok bool, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.sorted) == 0 {
		return time.Time{}, false, nil
	}
	return time.UnixMilli(t.sorted[0].at), true, nil
}

// Due returns up to limit timers due at now, earliest first. It never
// fails.
func (t *MemoryTimers) Due(_ context.Context, now time.Time, limit int) ([]string, error) {
	ms := now.UnixMilli()
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for _, e := range t.sorted {
		if e.at > ms || (limit > 0 && len(out) >= limit) {
			break
		}
		out = append(out, e.member)
	}
	return out, nil
}

// Claim removes a timer and reports whether this caller removed it. It
// never fails.
func (t *MemoryTimers) Claim(_ context.Context, member string) (bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	at, ok := t.at[member]
	if !ok {
		return false, nil
	}
	delete(t.at, member)
	t.remove(memTimer{at, member})
	return true, nil
}
