package storetest

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/model"
)

// runNotifications: the notification log and subscribe-message
// allowances.
func runNotifications(t *testing.T, open Open) {
	runCases(t, open, func(e Engine) bool { return e.Notifications != nil }, []suiteCase{
		{"BeginOnce", testNotificationsBeginOnce},
		{"FinishAndForget", testNotificationsFinishAndForget},
		{"Prune", testNotificationsPrune},
	})
	runCases(t, open, func(e Engine) bool { return e.Subscriptions != nil }, []suiteCase{
		{"Subscriptions", testSubscriptions},
		{"SubscriptionsConsumeOnce", testSubscriptionsConsumeOnce},
	})
}

func testNotificationsBeginOnce(t *testing.T, e Engine) {
	ctx := t.Context()
	// Concurrent deliveries of one job: exactly one may send.
	var wg sync.WaitGroup
	firsts := make([]bool, 8)
	errs := make([]error, 8)
	for i := range firsts {
		wg.Go(func() { firsts[i], errs[i] = e.Notifications.Begin(ctx, "k1", "u1", "tmpl") })
	}
	wg.Wait()
	winners := 0
	for i, first := range firsts {
		expectOK(t, errs[i], "begin %d", i)
		if first {
			winners++
		}
	}
	if winners != 1 {
		t.Fatalf("%d Begins were first, want 1", winners)
	}
	if st, err := e.Notifications.Status(ctx, "k1"); err != nil || st != "sending" {
		t.Fatalf("status = %q, %v; want sending", st, err)
	}
	if first, err := e.Notifications.Begin(ctx, "k2", "u1", "tmpl"); err != nil || !first {
		t.Fatalf("another key: first=%v, %v", first, err)
	}
	_, err := e.Notifications.Status(ctx, "k3")
	expectCode(t, err, model.CodeNotFound, "Status(unknown)")
}

func testNotificationsFinishAndForget(t *testing.T, e Engine) {
	ctx := t.Context()
	// A forgotten attempt may begin again.
	_, err := e.Notifications.Begin(ctx, "retry", "u1", "tmpl")
	expectOK(t, err, "begin")
	expectOK(t, e.Notifications.Forget(ctx, "retry"), "forget")
	_, err = e.Notifications.Status(ctx, "retry")
	expectCode(t, err, model.CodeNotFound, "status after forget")
	if first, err := e.Notifications.Begin(ctx, "retry", "u1", "tmpl"); err != nil || !first {
		t.Fatalf("begin after forget: first=%v, %v; want true", first, err)
	}
	// A finished one is kept: forgetting it could send twice.
	expectOK(t, e.Notifications.Finish(ctx, "retry", "sent"), "finish")
	expectOK(t, e.Notifications.Forget(ctx, "retry"), "forget a finished one")
	if st, err := e.Notifications.Status(ctx, "retry"); err != nil || st != "sent" {
		t.Fatalf("status = %q, %v; want sent", st, err)
	}
	if first, err := e.Notifications.Begin(ctx, "retry", "u1", "tmpl"); err != nil || first {
		t.Fatalf("begin after finish: first=%v, %v; want false", first, err)
	}
	expectOK(t, e.Notifications.Forget(ctx, "never"), "forget unknown")
	err = e.Notifications.Finish(ctx, "ghost", "sent")
	expectCode(t, err, model.CodeNotFound, "finish unknown")
}

func testNotificationsPrune(t *testing.T, e Engine) {
	ctx := t.Context()
	for _, k := range []string{"a", "b", "c"} {
		_, err := e.Notifications.Begin(ctx, k, "u1", "tmpl")
		expectOK(t, err, "begin %s", k)
	}
	expectOK(t, e.Notifications.Finish(ctx, "b", "sent"), "finish")
	n, err := e.Notifications.Prune(ctx, time.Now().Add(-time.Hour))
	if err != nil || n != 0 {
		t.Fatalf("Prune(an hour ago) = %d, %v; want 0", n, err)
	}
	if _, err := e.Notifications.Status(ctx, "a"); err != nil {
		t.Fatalf("a recent record after a prune: %v", err)
	}
	n, err = e.Notifications.Prune(ctx, time.Now().Add(time.Hour))
	if err != nil || n != 3 {
		t.Fatalf("Prune(in an hour) = %d, %v; want 3", n, err)
	}
	for _, k := range []string{"a", "b", "c"} {
		_, err := e.Notifications.Status(ctx, k)
		expectCode(t, err, model.CodeNotFound, "record %s after a prune", k)
	}
	if first, err := e.Notifications.Begin(ctx, "a", "u1", "tmpl"); err != nil || !first {
		t.Fatalf("begin after a prune: %v, %v", first, err)
	}
}

func testSubscriptions(t *testing.T, e Engine) {
	ctx := t.Context()
	left := func(user, tmpl string, want int) {
		t.Helper()
		n, err := e.Subscriptions.Remaining(ctx, user, tmpl)
		expectOK(t, err, "remaining")
		if n != want {
			t.Fatalf("Remaining(%s, %s) = %d, want %d", user, tmpl, n, want)
		}
	}
	consume := func(user, tmpl string, want bool) {
		t.Helper()
		got, err := e.Subscriptions.Consume(ctx, user, tmpl)
		expectOK(t, err, "consume")
		if got != want {
			t.Fatalf("Consume(%s, %s) = %v, want %v", user, tmpl, got, want)
		}
	}
	left("u1", "t1", 0)
	consume("u1", "t1", false)
	expectOK(t, e.Subscriptions.Grant(ctx, "u1", []string{"t1", "t2"}), "grant")
	expectOK(t, e.Subscriptions.Grant(ctx, "u1", []string{"t1"}), "grant again")
	expectOK(t, e.Subscriptions.Grant(ctx, "u1", nil), "grant none")
	left("u1", "t1", 2)
	left("u1", "t2", 1)
	left("u2", "t1", 0)
	consume("u1", "t1", true)
	left("u1", "t1", 1)
	expectOK(t, e.Subscriptions.Refund(ctx, "u1", "t1"), "refund")
	left("u1", "t1", 2)
	expectOK(t, e.Subscriptions.Clear(ctx, "u1", "t1"), "clear")
	left("u1", "t1", 0)
	left("u1", "t2", 1)
	consume("u1", "t1", false)
	expectOK(t, e.Subscriptions.Clear(ctx, "u3", "t1"), "clear none")
	left("u3", "t1", 0)
	expectOK(t, e.Subscriptions.Refund(ctx, "u4", "t1"), "refund without a grant")
	left("u4", "t1", 1)
}

func testSubscriptionsConsumeOnce(t *testing.T, e Engine) {
	ctx := t.Context()
	const granted, takers = 3, 10
	for range granted {
		expectOK(t, e.Subscriptions.Grant(ctx, "u1", []string{"t1"}), "grant")
	}
	var took atomic.Int32
	var wg sync.WaitGroup
	for range takers {
		wg.Go(func() {
			ok, err := e.Subscriptions.Consume(ctx, "u1", "t1")
			if err != nil {
				t.Errorf("consume: %v", err)
			}
			if ok {
				took.Add(1)
			}
		})
	}
	wg.Wait()
	if took.Load() != granted {
		t.Fatalf("%d concurrent consumes took an allowance, want %d (one each)", took.Load(), granted)
	}
	if n, err := e.Subscriptions.Remaining(ctx, "u1", "t1"); err != nil || n != 0 {
		t.Fatalf("Remaining = %d, %v; want 0", n, err)
	}
}
