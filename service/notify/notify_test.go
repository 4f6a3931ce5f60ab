package notify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/citizen-city/chengguantong/internal/testenv"
	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service/notify"
	"github.com/citizen-city/chengguantong/service/queue"
	"github.com/citizen-city/chengguantong/service/ticket"
	"github.com/citizen-city/chengguantong/store/mongodb"
	"github.com/citizen-city/chengguantong/store/redis"
	"github.com/citizen-city/chengguantong/wechat"
	"github.com/citizen-city/chengguantong/wechat/wechatsim"
)

// The production pieces fit the notifier's interfaces.
var (
	_ notify.Allowances      = (*mongodb.Subscriptions)(nil)
	_ notify.NotificationLog = (*mongodb.Notifications)(nil)
	_ notify.UserGetter      = (*mongodb.Users)(nil)
	_ notify.SubscribeSender = wechat.Subscriber{}
	_ ticket.Queue           = (*redis.Stream)(nil)
)

// notifyNow is 10:30 in Shanghai.
var notifyNow = time.Date(2026, 3, 1, 2, 30, 0, 0, time.UTC)

var notifyTemplates = notify.Templates{
	Assigned: wechatsim.TemplateAssigned,
	Accepted: wechatsim.TemplateAccepted,
	Resolved: wechatsim.TemplateResolved,
}

// notifyEnv is a Notifier on real stores and the real WeChat client, with
// WeChat simulated.
type notifyEnv struct {
	sim   *wechatsim.Simulator
	wx    *wechat.Client
	subs  *mongodb.Subscriptions
	users *mongodb.Users
	log   *mongodb.Notifications
	queue *redis.Stream
	n     *notify.Notifier
	logs  *syncBuffer
}

// senderFunc is a hand-written stand-in at the WeChat edge.
type senderFunc func(ctx context.Context, openID, templateID, page string, data map[string]string) error

func (f senderFunc) Send(ctx context.Context, openID, templateID, page string, data map[string]string) error {
	return f(ctx, openID, templateID, page, data)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// mustNotifyEnv builds the environment. simTemplates nil means the
// simulator's defaults; wrap, if not nil, wraps the real sender.
func mustNotifyEnv(tb testing.TB, simTemplates map[string][]string, wrap func(notify.SubscribeSender) notify.SubscribeSender) *notifyEnv {
	tb.Helper()
	appID := testenv.Name("wxsim")
	sim := wechatsim.New(wechatsim.Options{AppID: appID, Secret: "s", Templates: simTemplates})
	tb.Cleanup(sim.Install())
	rdb := testenv.Redis(tb)
	m := testenv.Mongo(tb)
	wx := wechat.New(wechat.Config{AppID: appID, Secret: "s"}, redis.NewWeChatCache(rdb))
	e := &notifyEnv{
		sim: sim, wx: wx,
		subs:  mongodb.NewSubscriptions(m, time.Now),
		users: mongodb.NewUsers(m, time.Now),
		log:   mongodb.NewNotifications(m, time.Now),
		queue: redis.NewStream(rdb, "notify"),
		logs:  &syncBuffer{},
	}
	if err := e.queue.EnsureGroup(context.Background()); err != nil {
		tb.Fatal(err)
	}
	var sender notify.SubscribeSender = wechat.Subscriber{Client: wx}
	if wrap != nil {
		sender = wrap(sender)
	}
	e.n = notify.NewNotifier(notify.NotifierDeps{
		Queue: e.queue, Allowances: e.subs, Users: e.users, Sender: sender,
		Templates: notifyTemplates, Dedup: e.log,
		Now:    func() time.Time { return notifyNow },
		Logger: slog.New(slog.NewTextHandler(e.logs, nil)),
	})
	return e
}

// mustUser logs code in to the simulated WeChat (which only accepts openids
// that logged in) and returns our user of it.
func (e *notifyEnv) mustUser(tb testing.TB, code string) *model.User {
	tb.Helper()
	s, err := e.wx.Code2Session(context.Background(), code)
	if err != nil {
		tb.Fatal(err)
	}
	u, err := e.users.UpsertWeChat(context.Background(), s.OpenID)
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

// mustGrant records n allowances of tmpl in our store and, if sim, in WeChat.
func (e *notifyEnv) mustGrant(tb testing.TB, u *model.User, tmpl string, n int, sim bool) {
	tb.Helper()
	for range n {
		if err := e.subs.Grant(context.Background(), u.ID, []string{tmpl}); err != nil {
			tb.Fatal(err)
		}
	}
	if sim {
		e.sim.Grant(u.OpenID, tmpl, n)
	}
}

func (e *notifyEnv) mustRemaining(tb testing.TB, u *model.User, tmpl string) int {
	tb.Helper()
	n, err := e.subs.Remaining(context.Background(), u.ID, tmpl)
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// mustRead takes the queued jobs.
func (e *notifyEnv) mustRead(tb testing.TB) []model.Delivery {
	tb.Helper()
	ds, err := e.queue.Read(context.Background(), "test", 100, time.Millisecond)
	if err != nil {
		tb.Fatal(err)
	}
	return ds
}

// mustHandleAll handles and acknowledges every queued job, each of which
// must succeed, and returns how many there were.
func (e *notifyEnv) mustHandleAll(tb testing.TB) int {
	tb.Helper()
	ds := e.mustRead(tb)
	for _, d := range ds {
		if err := e.n.Handle(context.Background(), d.Payload); err != nil {
			tb.Fatalf("handle %s: %v", d.Payload, err)
		}
		if err := e.queue.Ack(context.Background(), d.ID); err != nil {
			tb.Fatal(err)
		}
	}
	return len(ds)
}

func (e *notifyEnv) mustStatus(tb testing.TB, payload string) string {
	tb.Helper()
	var j struct {
		Key string `json:"key"`
	}
	if err := json.Unmarshal([]byte(payload), &j); err != nil || j.Key == "" {
		tb.Fatalf("payload %s: no key (%v)", payload, err)
	}
	st, err := e.log.Status(context.Background(), j.Key)
	if err != nil {
		tb.Fatalf("status of %s: %v", j.Key, err)
	}
	return st
}

func notifyTicket(reporterID, description string) *model.Ticket {
	return &model.Ticket{
		ID: model.NewID(notifyNow), ReporterID: reporterID, Category: "市容环境", Description: description,
		Status: model.StatusDispatched, Version: 3,
	}
}

// runes30 is a 30-character Chinese description.
const runes30 = "人行道上共享单车乱停乱放严重影响行人通行请尽快派人来清理一下"

func TestNotifyAssigned(t *testing.T) {
	t.Parallel()
	e := mustNotifyEnv(t, nil, nil)
	ctx := context.Background()
	resident, worker := e.mustUser(t, "code-r"), e.mustUser(t, "code-w")
	e.mustGrant(t, worker, wechatsim.TemplateAssigned, 2, true)
	if n := utf8.RuneCountInString(runes30); n != 30 {
		t.Fatalf("the description has %d characters, want 30", n)
	}
	tk := notifyTicket(resident.ID, runes30)

	if err := e.n.Assigned(ctx, tk, worker.ID); err != nil {
		t.Fatal(err)
	}
	if n := e.mustHandleAll(t); n != 1 {
		t.Fatalf("%d jobs queued, want 1", n)
	}
	sent := e.sim.Sent()
	if len(sent) != 1 {
		t.Fatalf("sent %d messages, want 1", len(sent))
	}
	m := sent[0]
	if m.ToUser != worker.OpenID || m.TemplateID != wechatsim.TemplateAssigned || m.Page != "pages/task/detail?id="+tk.ID {
		t.Fatalf("sent %+v, want the Assigned card to the worker opening the task", m)
	}
	want := map[string]string{
		"thing1":            string([]rune(runes30)[:19]) + "…",
		"character_string2": tk.ID,
		"time3":             "2026-03-01 10:30",
	}
	for k, v := range want {
		if m.Data[k] != v {
			t.Errorf("%s = %q, want %q", k, m.Data[k], v)
		}
	}
	if n := utf8.RuneCountInString(m.Data["thing1"]); n > 20 {
		t.Errorf("thing1 has %d characters, want ≤ 20", n)
	}
	if got := e.mustRemaining(t, worker, wechatsim.TemplateAssigned); got != 1 {
		t.Errorf("our allowance = %d, want 1", got)
	}
	if got := e.sim.Allowance(worker.OpenID, wechatsim.TemplateAssigned); got != 1 {
		t.Errorf("WeChat's allowance = %d, want 1", got)
	}
}

func TestNotifyWithoutAllowanceSendsNothing(t *testing.T) {
	t.Parallel()
	e := mustNotifyEnv(t, nil, nil)
	ctx := context.Background()
	resident := e.mustUser(t, "code-r")
	// WeChat would accept it: only our record says the user never granted.
	e.sim.Grant(resident.OpenID, wechatsim.TemplateAccepted, 1)
	tk := notifyTicket(resident.ID, "路灯不亮")

	if err := e.n.Accepted(ctx, tk); err != nil {
		t.Fatal(err)
	}
	ds := e.mustRead(t)
	if len(ds) != 1 {
		t.Fatalf("%d jobs, want 1", len(ds))
	}
	if err := e.n.Handle(ctx, ds[0].Payload); err != nil {
		t.Fatalf("handle = %v, want nil (nothing to retry)", err)
	}
	if sent := e.sim.Sent(); len(sent) != 0 {
		t.Fatalf("sent %+v, want nothing", sent)
	}
	if st := e.mustStatus(t, ds[0].Payload); st != notify.OutcomeNoAllowance {
		t.Fatalf("outcome %q, want %q", st, notify.OutcomeNoAllowance)
	}
}

func TestNotifyRevokedAllowanceIsCleared(t *testing.T) {
	t.Parallel()
	e := mustNotifyEnv(t, nil, nil)
	ctx := context.Background()
	resident := e.mustUser(t, "code-r")
	// Our count says 3; WeChat has no grant (the user revoked, or we drifted).
	e.mustGrant(t, resident, wechatsim.TemplateResolved, 3, false)
	tk := notifyTicket(resident.ID, "井盖缺失")
	tk.Resolution = &model.Resolution{Note: "已补装井盖"}

	if err := e.n.Resolved(ctx, tk); err != nil {
		t.Fatal(err)
	}
	ds := e.mustRead(t)
	if len(ds) != 1 {
		t.Fatalf("%d jobs, want 1", len(ds))
	}
	if err := e.n.Handle(ctx, ds[0].Payload); err != nil {
		t.Fatalf("handle = %v, want nil (retrying cannot help)", err)
	}
	if sent := e.sim.Sent(); len(sent) != 0 {
		t.Fatalf("sent %+v, want nothing", sent)
	}
	if got := e.mustRemaining(t, resident, wechatsim.TemplateResolved); got != 0 {
		t.Fatalf("our allowance = %d, want cleared to 0", got)
	}
	if st := e.mustStatus(t, ds[0].Payload); st != notify.OutcomeRevoked {
		t.Fatalf("outcome %q, want %q", st, notify.OutcomeRevoked)
	}
}

func TestNotifyJobTwiceSendsOnce(t *testing.T) {
	t.Parallel()
	e := mustNotifyEnv(t, nil, nil)
	ctx := context.Background()
	resident, worker := e.mustUser(t, "code-r"), e.mustUser(t, "code-w")
	e.mustGrant(t, worker, wechatsim.TemplateAssigned, 3, true)
	tk := notifyTicket(resident.ID, "占道经营")

	// The dispatcher retried after a partial failure: the job is queued twice.
	for range 2 {
		if err := e.n.Assigned(ctx, tk, worker.ID); err != nil {
			t.Fatal(err)
		}
	}
	ds := e.mustRead(t)
	if len(ds) != 2 {
		t.Fatalf("%d jobs, want 2", len(ds))
	}
	// And the first was delivered twice (its consumer died before acking).
	for _, p := range []string{ds[0].Payload, ds[0].Payload, ds[1].Payload} {
		if err := e.n.Handle(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if sent := e.sim.Sent(); len(sent) != 1 {
		t.Fatalf("sent %d messages, want 1", len(sent))
	}
	if got := e.mustRemaining(t, worker, wechatsim.TemplateAssigned); got != 2 {
		t.Errorf("our allowance = %d, want 2", got)
	}
	if got := e.sim.Allowance(worker.OpenID, wechatsim.TemplateAssigned); got != 2 {
		t.Errorf("WeChat's allowance = %d, want 2", got)
	}

	// A new assignment is a new version of the ticket: a new message.
	tk.Version++
	if err := e.n.Assigned(ctx, tk, worker.ID); err != nil {
		t.Fatal(err)
	}
	e.mustHandleAll(t)
	if sent := e.sim.Sent(); len(sent) != 2 {
		t.Fatalf("sent %d messages after reassignment, want 2", len(sent))
	}
}

func TestNotifyFollowersOfMergedDuplicates(t *testing.T) {
	t.Parallel()
	e := mustNotifyEnv(t, nil, nil)
	ctx := context.Background()
	reporter, f1, f2 := e.mustUser(t, "code-r"), e.mustUser(t, "code-f1"), e.mustUser(t, "code-f2")
	residents := []*model.User{reporter, f1, f2}
	for _, u := range residents {
		e.mustGrant(t, u, wechatsim.TemplateAccepted, 1, true)
		e.mustGrant(t, u, wechatsim.TemplateResolved, 1, true)
	}
	tk := notifyTicket(reporter.ID, "垃圾桶满溢")
	// The reporter also reported it twice: one message each all the same.
	tk.Followers = []string{f1.ID, f2.ID, reporter.ID}

	if err := e.n.Accepted(ctx, tk); err != nil {
		t.Fatal(err)
	}
	if n := e.mustHandleAll(t); n != 3 {
		t.Fatalf("%d Accepted jobs, want 3", n)
	}
	note := "已联系环卫清运并对垃圾桶周边进行了全面清洗消毒"
	tk.Version++
	tk.Resolution = &model.Resolution{Note: note, ResolvedAt: time.Date(2026, 3, 2, 9, 5, 0, 0, time.UTC)}
	if err := e.n.Resolved(ctx, tk); err != nil {
		t.Fatal(err)
	}
	if n := e.mustHandleAll(t); n != 3 {
		t.Fatalf("%d Resolved jobs, want 3", n)
	}

	got := map[string]map[string]wechatsim.SentMessage{} // openid → template → message
	for _, m := range e.sim.Sent() {
		if got[m.ToUser] == nil {
			got[m.ToUser] = map[string]wechatsim.SentMessage{}
		}
		if _, dup := got[m.ToUser][m.TemplateID]; dup {
			t.Fatalf("%s got %s twice", m.ToUser, m.TemplateID)
		}
		got[m.ToUser][m.TemplateID] = m
	}
	for _, u := range residents {
		acc, ok1 := got[u.OpenID][wechatsim.TemplateAccepted]
		res, ok2 := got[u.OpenID][wechatsim.TemplateResolved]
		if !ok1 || !ok2 {
			t.Fatalf("%s got %v, want Accepted and Resolved", u.ID, got[u.OpenID])
		}
		if acc.Page != "pages/report/detail?id="+tk.ID || res.Page != acc.Page {
			t.Errorf("pages %q, %q; want the report's detail", acc.Page, res.Page)
		}
		// The reporter reads their own words; a follower never reads
		// the first reporter's description (docs/privacy.md).
		thing := "垃圾桶满溢"
		if u.ID != tk.ReporterID {
			thing = "您反映的同一问题"
		}
		if acc.Data["phrase3"] != "已受理" || acc.Data["time4"] != "2026-03-01 10:30" || acc.Data["thing1"] != thing ||
			res.Data["thing1"] != thing {
			t.Errorf("%s: accepted data %v, resolved %v; want thing1 %q", u.ID, acc.Data, res.Data, thing)
		}
		wantNote := string([]rune(note)[:19]) + "…"
		if res.Data["thing4"] != wantNote || res.Data["time3"] != "2026-03-02 17:05" || res.Data["character_string2"] != tk.ID {
			t.Errorf("resolved data %v, want thing4 %q at 2026-03-02 17:05", res.Data, wantNote)
		}
	}
}

func TestNotifyRefusedDataIsNotRetried(t *testing.T) {
	t.Parallel()
	// WeChat's template has a keyword our data lacks: 47003.
	tmpls := wechatsim.DefaultTemplates()
	tmpls[wechatsim.TemplateAssigned] = append(tmpls[wechatsim.TemplateAssigned], "thing9")
	e := mustNotifyEnv(t, tmpls, nil)
	ctx := context.Background()
	resident, worker := e.mustUser(t, "code-r"), e.mustUser(t, "code-w")
	e.mustGrant(t, worker, wechatsim.TemplateAssigned, 1, true)
	tk := notifyTicket(resident.ID, "绿化带毁损")

	if err := e.n.Assigned(ctx, tk, worker.ID); err != nil {
		t.Fatal(err)
	}
	ds := e.mustRead(t)
	if len(ds) != 1 {
		t.Fatalf("%d jobs, want 1", len(ds))
	}
	if err := e.n.Handle(ctx, ds[0].Payload); err != nil {
		t.Fatalf("handle = %v, want nil (retrying cannot help)", err)
	}
	if sent := e.sim.Sent(); len(sent) != 0 {
		t.Fatalf("sent %+v, want nothing", sent)
	}
	if st := e.mustStatus(t, ds[0].Payload); st != notify.OutcomeFailed {
		t.Fatalf("outcome %q, want %q", st, notify.OutcomeFailed)
	}
	// WeChat took nothing, so neither do we.
	if got := e.mustRemaining(t, worker, wechatsim.TemplateAssigned); got != 1 {
		t.Errorf("our allowance = %d, want 1 (refunded)", got)
	}
	if got := e.sim.Allowance(worker.OpenID, wechatsim.TemplateAssigned); got != 1 {
		t.Errorf("WeChat's allowance = %d, want 1", got)
	}
	if !strings.Contains(e.logs.String(), "level=ERROR") {
		t.Errorf("logs %q; want the refusal logged as an error", e.logs.String())
	}
	// A second delivery does not try again.
	if err := e.n.Handle(ctx, ds[0].Payload); err != nil {
		t.Fatal(err)
	}
	if got := e.mustRemaining(t, worker, wechatsim.TemplateAssigned); got != 1 {
		t.Errorf("our allowance after redelivery = %d, want 1", got)
	}
}

func TestNotifyUnavailableIsRetried(t *testing.T) {
	t.Parallel()
	var calls int
	e := mustNotifyEnv(t, nil, func(next notify.SubscribeSender) notify.SubscribeSender {
		return senderFunc(func(ctx context.Context, openID, templateID, page string, data map[string]string) error {
			calls++
			if calls == 1 {
				return model.Errorf(model.CodeUnavailable, "WeChat is unavailable; try again shortly")
			}
			return next.Send(ctx, openID, templateID, page, data)
		})
	})
	ctx := context.Background()
	resident := e.mustUser(t, "code-r")
	e.mustGrant(t, resident, wechatsim.TemplateAccepted, 1, true)
	tk := notifyTicket(resident.ID, "噪音扰民")

	if err := e.n.Accepted(ctx, tk); err != nil {
		t.Fatal(err)
	}
	ds := e.mustRead(t)
	if len(ds) != 1 {
		t.Fatalf("%d jobs, want 1", len(ds))
	}
	if err := e.n.Handle(ctx, ds[0].Payload); !errors.Is(err, model.ErrUnavailable) {
		t.Fatalf("handle = %v, want unavailable (so the worker retries)", err)
	}
	if got := e.mustRemaining(t, resident, wechatsim.TemplateAccepted); got != 1 {
		t.Fatalf("our allowance = %d, want 1 (refunded)", got)
	}
	if err := e.n.Handle(ctx, ds[0].Payload); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if sent := e.sim.Sent(); len(sent) != 1 {
		t.Fatalf("sent %d messages, want 1", len(sent))
	}
	if got := e.mustRemaining(t, resident, wechatsim.TemplateAccepted); got != 0 {
		t.Fatalf("our allowance = %d, want 0", got)
	}
	if st := e.mustStatus(t, ds[0].Payload); st != notify.OutcomeSent {
		t.Fatalf("outcome %q, want %q", st, notify.OutcomeSent)
	}
}

func TestNotifyThroughWorker(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	calls := 0
	e := mustNotifyEnv(t, nil, func(next notify.SubscribeSender) notify.SubscribeSender {
		return senderFunc(func(ctx context.Context, openID, templateID, page string, data map[string]string) error {
			mu.Lock()
			calls++
			n := calls
			mu.Unlock()
			if n == 1 {
				return model.Errorf(model.CodeUnavailable, "WeChat is unavailable; try again shortly")
			}
			return next.Send(ctx, openID, templateID, page, data)
		})
	})
	resident, worker := e.mustUser(t, "code-r"), e.mustUser(t, "code-w")
	e.mustGrant(t, worker, wechatsim.TemplateAssigned, 1, true)
	tk := notifyTicket(resident.ID, "违章搭建")

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	w := &queue.Worker{
		Queue: e.queue, Consumer: "w1", Handle: e.n.Handle,
		MaxAttempts: 5, ReclaimIdle: 100 * time.Millisecond, HandleTimeout: 10 * time.Second,
		Logger: slog.New(slog.NewTextHandler(e.logs, nil)),
	}
	go func() { defer close(done); w.Run(ctx) }()
	defer func() { cancel(); <-done }()

	if err := e.n.Assigned(context.Background(), tk, worker.ID); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(e.sim.Sent()) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("nothing sent; logs:\n%s", e.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if sent := e.sim.Sent(); len(sent) != 1 || sent[0].ToUser != worker.OpenID {
		t.Fatalf("sent %+v, want one message to the worker", sent)
	}
}

func TestNotifyMalformedAndUnconfigured(t *testing.T) {
	t.Parallel()
	e := mustNotifyEnv(t, nil, nil)
	ctx := context.Background()
	for _, p := range []string{"", "{", `{"key":""}`, `"ticket-id"`} {
		if err := e.n.Handle(ctx, p); err != nil {
			t.Errorf("Handle(%q) = %v, want nil (retrying cannot help)", p, err)
		}
	}

	// An empty template id turns that notification off.
	n := notify.NewNotifier(notify.NotifierDeps{
		Queue: e.queue, Allowances: e.subs, Users: e.users, Sender: wechat.Subscriber{Client: e.wx},
		Templates: notify.Templates{Accepted: wechatsim.TemplateAccepted}, Dedup: e.log,
		Now: time.Now, Logger: slog.New(slog.NewTextHandler(e.logs, nil)),
	})
	tk := notifyTicket("r1", "x")
	if err := n.Assigned(ctx, tk, "w1"); err != nil {
		t.Fatal(err)
	}
	if err := n.Resolved(ctx, tk); err != nil {
		t.Fatal(err)
	}
	if ds := e.mustRead(t); len(ds) != 0 {
		t.Fatalf("queued %v, want nothing", ds)
	}
}

func TestTruncateThing(t *testing.T) {
	t.Parallel()
	twenty := "一二三四五六七八九十一二三四五六七八九十"
	tests := []struct {
		name, in string
		n        int
		want     string
	}{
		{"short", "路灯不亮", 20, "路灯不亮"},
		{"empty", "", 20, ""},
		{"exactly 20", twenty, 20, twenty},
		{"21", twenty + "多", 20, "一二三四五六七八九十一二三四五六七八九…"},
		{"ascii", "abcdefghijklmnopqrstuvwxyz", 20, "abcdefghijklmnopqrs…"},
		{"mixed multi-byte", "路口abc红绿灯坏了，车辆拥堵严重，请尽快修复", 20, "路口abc红绿灯坏了，车辆拥堵严重，请…"},
		{"emoji fits", "垃圾满了🗑️", 20, "垃圾满了🗑️"},
		{"emoji cut", strings.Repeat("🚧", 25), 20, strings.Repeat("🚧", 19) + "…"},
		{"emoji with selector kept whole", "一二三四五六七🗑️九十一二三", 10, "一二三四五六七🗑️…"},
		// Cutting inside 👨‍👩‍👧 would leave a joiner dangling.
		{"no dangling joiner", "一二三四五六七👨\u200d👩\u200d👧好", 10, "一二三四五六七👨…"},
		{"control characters", "井盖\n缺失\t\t危险\r\n", 20, "井盖 缺失 危险"},
		{"space at the cut", "一二三四五六七八   九十一二三", 10, "一二三四五六七八…"},
		{"invalid utf-8", "坏\xff了", 20, "坏 了"},
		{"n=1", "路灯不亮", 1, "…"},
		{"n=0", "路灯不亮", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := notify.TruncateThing(tt.in, tt.n)
			if got != tt.want {
				t.Fatalf("TruncateThing(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
			}
			if tt.n > 0 && utf8.RuneCountInString(got) > tt.n {
				t.Fatalf("%q has %d characters, more than %d", got, utf8.RuneCountInString(got), tt.n)
			}
		})
	}
}
