package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service/queue"
)

// Jobs is the notification queue as the request path uses it: one job per
// message, handled later by Handle (see queue.Worker).
type Jobs interface {
	Add(ctx context.Context, payload string) error
}

// UserGetter loads an account (for the openid a message is sent to).
type UserGetter interface {
	Get(ctx context.Context, id string) (*model.User, error)
}

// Allowances are the recorded subscribe-message allowances (one per
// wx.requestSubscribeMessage acceptance), per user and template.
type Allowances interface {
	// Consume takes one allowance and reports whether there was one.
	Consume(ctx context.Context, userID, templateID string) (bool, error)
	// Refund gives back an allowance taken for a message that was not sent.
	Refund(ctx context.Context, userID, templateID string) error
	// Clear drops every allowance of the template (WeChat says there is none).
	Clear(ctx context.Context, userID, templateID string) error
}

// SubscribeSender sends one WeChat subscribe message (订阅消息). Data maps the
// template's keywords (e.g. "thing1") to values.
type SubscribeSender interface {
	// Send delivers the message. Errors: conflict when WeChat says the user
	// has no allowance for the template (43101), invalid_argument when WeChat
	// refuses the message itself (data, template or openid), unavailable
	// when it is worth trying again later. Anything else is retried too.
	Send(ctx context.Context, openID, templateID, page string, data map[string]string) error
}

// NotificationLog records each logical notification once (see Notifier.Handle).
type NotificationLog interface {
	// Begin records the start of an attempt and reports whether it is the
	// first: false means the notification was already attempted.
	Begin(ctx context.Context, key, userID, templateID string) (first bool, err error)
	// Finish records the outcome (one of the Outcome constants).
	Finish(ctx context.Context, key, outcome string) error
	// Forget removes the record of an attempt that ended without an outcome,
	// so that the job's retry may send.
	Forget(ctx context.Context, key string) error
}

// Outcomes of a notification, as recorded by NotificationLog.Finish.
const (
	// OutcomeSent: WeChat accepted the message.
	OutcomeSent = "sent"
	// OutcomeNoAllowance: we had no allowance recorded; nothing was sent.
	OutcomeNoAllowance = "no_allowance"
	// OutcomeRevoked: our count said yes but WeChat said the user has no
	// allowance (43101); the count was cleared.
	OutcomeRevoked = "revoked"
	// OutcomeFailed: the message can never be sent as it is (WeChat refused
	// its content or template, or the user is gone or has no openid).
	OutcomeFailed = "failed"
)

// NotifierDeps are the collaborators of Notifier.
type NotifierDeps struct {
	// Queue carries the jobs from the request path to Handle (production:
	// store.NewStream(rdb, "notify")).
	Queue      Jobs
	Allowances Allowances
	Users      UserGetter
	Sender     SubscribeSender
	// Templates are the template ids; an empty one turns its notification off.
	Templates Templates
	Dedup     NotificationLog
	Now       func() time.Time
	Logger    *slog.Logger
}

// Notifier sends the product's subscribe messages off the request path:
// Assigned, Accepted and Resolved queue one job per recipient, and Handle,
// run by a Worker on the queue, sends them.
//
// Each message is sent at most once. A notification is a courtesy copy of
// state the mini-program always shows: a lost card costs the user a tap,
// while a duplicate card is noise the user cannot undo, spends one more of
// the allowances they granted one by one, and makes the product look broken.
// So a job whose key was already attempted is dropped, even when the earlier
// attempt died mid-send and may or may not have reached WeChat. Only failures
// known to have sent nothing (WeChat busy or unreachable before answering,
// our stores down) are retried.
type Notifier struct {
	queue      Jobs
	allowances Allowances
	users      UserGetter
	sender     SubscribeSender
	templates  Templates
	dedup      NotificationLog
	now        func() time.Time
	logger     *slog.Logger
}

// NewNotifier returns the notifier.
func NewNotifier(d NotifierDeps) *Notifier {
	return &Notifier{queue: d.Queue, allowances: d.Allowances, users: d.Users, sender: d.Sender,
		templates: d.Templates, dedup: d.Dedup, now: d.Now, logger: d.Logger}
}

// notifyJob is one queued message: everything needed to send it, decided
// when it was queued, so a retry sends what the first attempt would have.
type notifyJob struct {
	// Key identifies the logical message: ticket/kind/version/user.
	Key        string            `json:"key"`
	UserID     string            `json:"user_id"`
	TemplateID string            `json:"template_id"`
	Page       string            `json:"page"`
	Data       map[string]string `json:"data"`
}

// Field limits of WeChat's subscribe-message keyword types.
const (
	thingMax  = 20
	timeShape = "2006-01-02 15:04"
	// phraseAccepted is the phrase3 of the Accepted template (≤ 5 汉字).
	phraseAccepted = "已受理"
	// noteResolvedDefault stands in for an empty resolution note: WeChat
	// refuses empty values.
	noteResolvedDefault = "已处理完成"
	// problemDefault stands in for an empty description.
	problemDefault = "城市管理问题"
)

// Pages of the mini-program the cards open.
func residentPage(ticketID string) string { return "pages/report/detail?id=" + ticketID }
func workerPage(ticketID string) string   { return "pages/task/detail?id=" + ticketID }

// Assigned queues the Assigned message to the worker or party member the
// ticket t was assigned to (nothing for an empty assigneeID). Errors: those
// of the queue (unavailable).
func (n *Notifier) Assigned(ctx context.Context, t *model.Ticket, assigneeID string) error {
	if assigneeID == "" {
		return nil
	}
	data := map[string]string{
		"thing1":            problem(t),
		"character_string2": t.ID,
		"time3":             n.now().In(model.ChinaTime()).Format(timeShape),
	}
	return n.enqueue(ctx, t, "assigned", n.templates.Assigned, workerPage(t.ID), data, []string{assigneeID})
}

// Accepted queues the Accepted message to the resident who reported t and
// to those whose duplicate reports were merged into it. Errors: those of the
// queue (unavailable).
func (n *Notifier) Accepted(ctx context.Context, t *model.Ticket) error {
	data := map[string]string{
		"thing1":            problem(t),
		"character_string2": t.ID,
		"phrase3":           phraseAccepted,
		"time4":             n.now().In(model.ChinaTime()).Format(timeShape),
	}
	return n.toResidents(ctx, t, "accepted", n.templates.Accepted, data)
}

// Resolved queues the Resolved message, with the resolution note, to the
// resident who reported t and to those whose duplicate reports were merged
// into it. Errors: those of the queue (unavailable).
func (n *Notifier) Resolved(ctx context.Context, t *model.Ticket) error {
	at, note := n.now(), ""
	if r := t.Resolution; r != nil {
		note = r.Note
		if !r.ResolvedAt.IsZero() {
			at = r.ResolvedAt
		}
	}
	note = TruncateThing(note, thingMax)
	if note == "" {
		note = noteResolvedDefault
	}
	data := map[string]string{
		"thing1":            problem(t),
		"character_string2": t.ID,
		"time3":             at.In(model.ChinaTime()).Format(timeShape),
		"thing4":            note,
	}
	return n.toResidents(ctx, t, "resolved", n.templates.Resolved, data)
}

// Urged queues a 督办 message to the assignee of t: the Assigned template
// (a task card that opens the task), its problem line prefixed with 督办 and
// the staff's note. Nothing for a ticket nobody holds. Errors: those of the
// queue (unavailable).
func (n *Notifier) Urged(ctx context.Context, t *model.Ticket, note string) error {
	if t.AssigneeID == "" {
		return nil
	}
	thing := "督办：" + problem(t)
	if note != "" {
		thing = "督办：" + note
	}
	data := map[string]string{
		"thing1":            TruncateThing(thing, thingMax),
		"character_string2": t.ID,
		"time3":             n.now().In(model.ChinaTime()).Format(timeShape),
	}
	return n.enqueue(ctx, t, "urged", n.templates.Assigned, workerPage(t.ID), data, []string{t.AssigneeID})
}

// followerThing is the problem line a follower's message shows: never the
// first reporter's description (docs/privacy.md).
const followerThing = "您反映的同一问题"

// toResidents queues a message to the reporter of t, and the same one with
// followerThing as its problem line to the residents who follow t.
func (n *Notifier) toResidents(ctx context.Context, t *model.Ticket, kind, templateID string, data map[string]string) error {
	all := residents(t)
	var reporter, followers []string
	for _, u := range all {
		if u == t.ReporterID {
			reporter = append(reporter, u)
		} else {
			followers = append(followers, u)
		}
	}
	if err := n.enqueue(ctx, t, kind, templateID, residentPage(t.ID), data, reporter); err != nil {
		return err
	}
	if len(followers) == 0 {
		return nil
	}
	fdata := make(map[string]string, len(data))
	for k, v := range data {
		fdata[k] = v
	}
	fdata["thing1"] = followerThing
	return n.enqueue(ctx, t, kind, templateID, residentPage(t.ID), fdata, followers)
}

// residents are the reporter and the followers of t, each once.
func residents(t *model.Ticket) []string {
	out := make([]string, 0, 1+len(t.Followers))
	for _, id := range append([]string{t.ReporterID}, t.Followers...) {
		if id != "" && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// problem is the thing1 of every template: the description, shortened.
func problem(t *model.Ticket) string {
	if s := TruncateThing(t.Description, thingMax); s != "" {
		return s
	}
	if s := TruncateThing(t.Category, thingMax); s != "" {
		return s
	}
	return problemDefault
}

// enqueue queues one job per user. The keys are a function of the ticket's
// version, so calling again after a partial failure queues only duplicates
// that Handle drops.
func (n *Notifier) enqueue(ctx context.Context, t *model.Ticket, kind, templateID, page string, data map[string]string, users []string) error {
	if templateID == "" {
		return nil // this notification is not configured
	}
	for _, u := range users {
		b, err := json.Marshal(notifyJob{
			Key:    t.ID + "/" + kind + "/" + strconv.FormatInt(t.Version, 10) + "/" + u,
			UserID: u, TemplateID: templateID, Page: page, Data: data,
		})
		if err != nil {
			return fmt.Errorf("notify %s of ticket %s: %w", kind, t.ID, err)
		}
		if err := n.queue.Add(ctx, string(b)); err != nil {
			return fmt.Errorf("notify %s of ticket %s: %w", kind, t.ID, err)
		}
	}
	return nil
}

// Handle sends one queued message; it is the Worker's handler of the
// notification queue. It returns an error only when the message was not
// sent and a later attempt may succeed (the Worker retries it); every other
// outcome is recorded and returns nil:
//
//   - already attempted (a second delivery of the job): nothing, at most once;
//   - no allowance recorded: nothing sent, OutcomeNoAllowance;
//   - WeChat says no allowance (the user revoked it or our count drifted):
//     the count is cleared so we stop trying, OutcomeRevoked;
//   - WeChat refuses the content or template, or the user has no openid:
//     logged as an error, OutcomeFailed — retrying cannot help;
//   - WeChat unavailable, or our stores failing: the allowance is refunded,
//     the attempt forgotten, and the error returned.
func (n *Notifier) Handle(ctx context.Context, payload string) error {
	var j notifyJob
	if err := json.Unmarshal([]byte(payload), &j); err != nil || j.Key == "" || j.UserID == "" || j.TemplateID == "" {
		n.logger.ErrorContext(ctx, "malformed notification job dropped", "job", payload)
		return nil
	}
	first, err := n.dedup.Begin(ctx, j.Key, j.UserID, j.TemplateID)
	if err != nil {
		return fmt.Errorf("notification %s: %w", j.Key, err)
	}
	if !first {
		return nil
	}
	ok, err := n.allowances.Consume(ctx, j.UserID, j.TemplateID)
	if err != nil {
		return n.retry(ctx, j, false, err)
	}
	if !ok {
		return n.finish(ctx, j, OutcomeNoAllowance)
	}
	u, err := n.users.Get(ctx, j.UserID)
	switch {
	case errors.Is(err, model.ErrNotFound):
		n.refund(ctx, j)
		n.logger.WarnContext(ctx, "notification to an unknown user", "key", j.Key)
		return n.finish(ctx, j, OutcomeFailed)
	case err != nil:
		return n.retry(ctx, j, true, err)
	case u.OpenID == "":
		n.refund(ctx, j)
		n.logger.WarnContext(ctx, "notification to a user without openid", "key", j.Key)
		return n.finish(ctx, j, OutcomeFailed)
	}

	err = n.sender.Send(ctx, u.OpenID, j.TemplateID, j.Page, j.Data)
	switch {
	case err == nil:
		return n.finish(ctx, j, OutcomeSent)
	case errors.Is(err, model.ErrConflict):
		if err := n.allowances.Clear(ctx, j.UserID, j.TemplateID); err != nil {
			// The next message finds out again and clears then.
			n.logger.WarnContext(ctx, "clear allowance failed", "key", j.Key, "error", err.Error())
		}
		return n.finish(ctx, j, OutcomeRevoked)
	case errors.Is(err, model.ErrInvalidArgument):
		// WeChat took nothing from the user's allowance for a refused message.
		n.refund(ctx, j)
		n.logger.ErrorContext(ctx, "WeChat refused a notification", "key", j.Key, "template", j.TemplateID, "error", err.Error())
		return n.finish(ctx, j, OutcomeFailed)
	}
	return n.retry(ctx, j, true, err)
}

// retry undoes an attempt that sent nothing, so that the Worker's retry of
// the job starts afresh, and returns cause.
func (n *Notifier) retry(ctx context.Context, j notifyJob, consumed bool, cause error) error {
	if consumed {
		n.refund(ctx, j)
	}
	if err := n.dedup.Forget(ctx, j.Key); err != nil {
		// The retry will find the record and drop the message: at most once.
		n.logger.WarnContext(ctx, "forget notification failed; it will not be retried", "key", j.Key, "error", err.Error())
	}
	return fmt.Errorf("notification %s: %w", j.Key, cause)
}

func (n *Notifier) refund(ctx context.Context, j notifyJob) {
	if err := n.allowances.Refund(ctx, j.UserID, j.TemplateID); err != nil {
		// Our count is one lower than WeChat's: the user may miss a message.
		n.logger.WarnContext(ctx, "refund allowance failed", "key", j.Key, "error", err.Error())
	}
}

// finish records the outcome. A failure to record is logged, not returned:
// the attempt is over either way, and a redelivery would only be dropped.
func (n *Notifier) finish(ctx context.Context, j notifyJob, outcome string) error {
	if err := n.dedup.Finish(ctx, j.Key, outcome); err != nil {
		n.logger.WarnContext(ctx, "record notification outcome failed", "key", j.Key, "outcome", outcome, "error", err.Error())
	}
	return nil
}

// TruncateThing fits s into a "thing" keyword of at most n characters
// (runes, as WeChat counts them): control characters and runs of white
// space become one space, the ends are trimmed, and a longer text is cut to
// n-1 characters followed by "…" so the total is n. It never leaves a
// space or a dangling zero-width joiner (half an emoji sequence) before the
// ellipsis.
func TruncateThing(s string, n int) string {
	if n <= 0 {
		return ""
	}
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || r == utf8.RuneError
	}), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	rs := []rune(s)[:n-1]
	for len(rs) > 0 {
		last := rs[len(rs)-1]
		if last != '\u200d' && last != ' ' {
			break
		}
		rs = rs[:len(rs)-1]
	}
	return string(rs) + "…"
}

// NotificationPruner is the part of the notification record that forgets
// old entries.
type NotificationPruner interface {
	Prune(ctx context.Context, cutoff time.Time) (int, error)
}

// RunPruning forgets, every hour until ctx is done, the record of
// notifications older than keep.
func (n *Notifier) RunPruning(ctx context.Context, log NotificationPruner, keep time.Duration) {
	queue.Every(ctx, n.logger, "prune-notifications", time.Hour, func(ctx context.Context) (int, error) {
		return log.Prune(ctx, n.now().Add(-keep))
	})
}
