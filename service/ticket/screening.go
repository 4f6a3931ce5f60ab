package ticket

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service/catalogue"
	"github.com/citizen-city/chengguantong/service/photos"
)

// ContentCheck is WeChat content security as screening needs it.
type ContentCheck interface {
	// CheckText runs msgSecCheck v2 and returns result.suggest: pass,
	// review or risky.
	CheckText(ctx context.Context, openID, text string) (suggest string, err error)
	// CheckImage starts mediaCheckAsync; the verdict arrives later at
	// /wechat/push under the returned trace id.
	CheckImage(ctx context.Context, openID, url string) (traceID string, err error)
}

// ModerationStore is the photo side of screening.
type ModerationStore interface {
	SetTrace(ctx context.Context, id, traceID string) error
	SetVerdict(ctx context.Context, traceID, suggest string) (*model.Photo, error)
	ExpireModeration(ctx context.Context, cutoff time.Time) (int, error)
	SaveEarlyVerdict(ctx context.Context, traceID, suggest string) error
	TakeEarlyVerdict(ctx context.Context, traceID string) (string, bool, error)
}

// UserGetter loads a WeChat user (for the openid content checks need).
type UserGetter interface {
	Get(ctx context.Context, id string) (*model.User, error)
}

// Screening registers (立案) submitted reports: content security for text
// and photos, duplicate detection, then hand-over to dispatch. It runs as a
// queue worker; every step is idempotent, so a job handled twice has the
// effect of one.
type Screening struct {
	tickets    Store
	photos     PhotoStore
	moderation ModerationStore
	users      UserGetter
	content    ContentCheck
	categories *catalogue.Categories
	signer     *photos.URLSigner
	reports    *Reports
	// workflow commits the steps; with a router it routes a ticket in the
	// same transition that registers it, without one the relay queues
	// registered tickets for dispatch.
	workflow *Workflow
	now      func() time.Time
	logger   *slog.Logger
}

// ScreeningDeps are the collaborators of Screening.
type ScreeningDeps struct {
	Tickets    Store
	Photos     PhotoStore
	Moderation ModerationStore
	Users      UserGetter
	Content    ContentCheck
	Categories *catalogue.Categories
	Signer     *photos.URLSigner
	Reports    *Reports
	Workflow   *Workflow
	Now        func() time.Time
	Logger     *slog.Logger
}

// NewScreening returns the screening service.
func NewScreening(d ScreeningDeps) *Screening {
	return &Screening{tickets: d.Tickets, photos: d.Photos, moderation: d.Moderation, users: d.Users, content: d.Content,
		categories: d.Categories, signer: d.Signer, reports: d.Reports, workflow: d.Workflow, now: d.Now, logger: d.Logger}
}

// Reasons shown to the resident.
const (
	ReasonRiskyText  = "描述中含有不宜公开的内容，请修改后重新提交"
	ReasonRiskyPhoto = "照片未通过内容安全审核，请重新拍摄后提交"
	ReasonPhotoUsed  = "照片已用于其他反映，请重新上传"
	noteHeld         = "内容需人工审核"
	// noteReporterGone holds a report whose reporter closed their account
	// before it was screened.
	noteReporterGone = "反映人已注销账号，无法进行内容安全检查，转人工审核"
	noteRegistered   = "已立案，等待派遣"
)

// DuplicateWindow is how far back an open ticket can absorb a duplicate.
const DuplicateWindow = 7 * 24 * time.Hour

// Handle screens one ticket. It is safe to call any number of times.
func (s *Screening) Handle(ctx context.Context, ticketID string) error {
	t, err := s.tickets.Get(ctx, ticketID)
	if errors.Is(err, model.ErrNotFound) {
		return nil // nothing to do for a job whose ticket never got recorded
	}
	if err != nil {
		return err
	}
	if t.Status == model.StatusMerged {
		// Finish a merge interrupted after t was marked: o must count t.
		o, err := s.tickets.Get(ctx, t.DuplicateOf)
		if err != nil {
			return err
		}
		if !slices.Contains(o.MergedIDs, t.ID) {
			return s.merge(ctx, t, o)
		}
		return nil
	}
	if t.Status != model.StatusSubmitted || t.Held {
		// Registered already: finish the photo checks a crash may have
		// cut short (they follow the commit, see below).
		if t.Status != model.StatusRejected {
			return s.checkPhotos(ctx, t, "")
		}
		return nil
	}
	now := s.now()

	u, err := s.users.Get(ctx, t.ReporterID)
	if errors.Is(err, model.ErrNotFound) {
		// The reporter closed their account while the report waited: with
		// no openid WeChat cannot check it, so staff decide; its personal
		// data goes after this first transition (service/privacy).
		before := Snapshot(t)
		if err := t.Hold(model.Act{At: now, Note: noteReporterGone}); err != nil {
			return err
		}
		return s.workflow.Commit(ctx, before, t)
	}
	if err != nil {
		return fmt.Errorf("screen %s: %w", t.ID, err)
	}
	// Make the photos durably the ticket's; a lost race means another report
	// of the same resident holds one.
	if n, err := s.photos.Claim(ctx, t.ReporterID, ticketPhotos(t), t.ID); err != nil {
		return err
	} else if n < len(ticketPhotos(t)) {
		return s.reject(ctx, t, ReasonPhotoUsed)
	}
	suggest, err := s.content.CheckText(ctx, u.OpenID, t.Description+"\n"+t.Address)
	if err != nil {
		return fmt.Errorf("screen %s: text check: %w", t.ID, &checkError{err})
	}
	switch suggest {
	case "risky":
		return s.reject(ctx, t, ReasonRiskyText)
	case "review":
		before := Snapshot(t)
		if err := t.Hold(model.Act{At: now, Note: noteHeld}); err != nil {
			return err
		}
		if err := s.workflow.Commit(ctx, before, t); err != nil {
			return err
		}
		return s.checkPhotos(ctx, t, u.OpenID)
	}

	if dup, err := s.findDuplicate(ctx, t); err != nil {
		return err
	} else if dup != nil {
		if err := s.merge(ctx, t, dup); err != nil {
			return err
		}
		return s.checkPhotos(ctx, t, u.OpenID)
	}
	before := Snapshot(t)
	if err := s.register(ctx, t, now); err != nil {
		return err
	}
	// Registered and routed (立案 and 派遣) in one transition: one commit and
	// no queue hop between them. The dispatch queue stays for returns,
	// re-assignment and the reconciler (and takes registered tickets when
	// the workflow has no router).
	if err := s.workflow.Commit(ctx, before, t); err != nil {
		return err
	}
	// Photos are checked asynchronously, and the ticket does not wait for
	// the verdicts (see docs/screening.md): a risky verdict withdraws it
	// later. So the checks are sent after the commit, off the path to the
	// assignee; a crash before they are all sent leaves the job to be
	// retried, and the retry sends what is missing.
	return s.checkPhotos(ctx, t, u.OpenID)
}

// checkPhotos sends every photo of t not yet sent to mediaCheckAsync and
// applies a verdict that came early. It is idempotent.
func (s *Screening) checkPhotos(ctx context.Context, t *model.Ticket, openID string) error {
	ps, err := s.photos.Many(ctx, ticketPhotos(t))
	if err != nil {
		return err
	}
	for _, p := range ps {
		if p.Moderation.Blocked() {
			return s.withdraw(ctx, t.ID)
		}
		if p.Moderation.TraceID != "" {
			continue
		}
		if openID == "" {
			u, err := s.users.Get(ctx, t.ReporterID)
			if err != nil {
				return fmt.Errorf("screen %s: %w", t.ID, err)
			}
			openID = u.OpenID
		}
		trace, err := s.content.CheckImage(ctx, openID, s.signer.URL(p.ID, photos.VariantFull))
		if err != nil {
			return fmt.Errorf("screen %s: photo check: %w", t.ID, &checkError{err})
		}
		if err := s.moderation.SetTrace(ctx, p.ID, trace); err != nil {
			return err
		}
		// The verdict may have come before the trace id was recorded.
		if suggest, ok, err := s.moderation.TakeEarlyVerdict(ctx, trace); err != nil {
			return err
		} else if ok {
			if _, err := s.moderation.SetVerdict(ctx, trace, suggest); err != nil {
				return err
			}
			if suggest == "risky" {
				return s.withdraw(ctx, t.ID)
			}
		}
	}
	return nil
}

// findDuplicate returns the nearest open ticket of the same category within
// the category's radius, reported in the last seven days.
func (s *Screening) findDuplicate(ctx context.Context, t *model.Ticket) (*model.Ticket, error) {
	cat, err := s.categories.Get(ctx, t.Category)
	if err != nil || cat.DuplicateRadiusM == 0 {
		return nil, nil //nolint:nilerr // a category removed since is no duplicate
	}
	near, err := s.reports.near(ctx, t.Point, float64(cat.DuplicateRadiusM), t.Category, openRegistered, t.CreatedAt.Add(-DuplicateWindow))
	if err != nil {
		return nil, err
	}
	for _, n := range near {
		if n.Ticket.ID != t.ID {
			return n.Ticket, nil
		}
	}
	return nil, nil
}

// register is 立案, and routing or — for a patrol case its reporter handled
// on the spot — 自处置, in one step.
func (s *Screening) register(ctx context.Context, t *model.Ticket, now time.Time) error {
	sla, err := s.workflow.SLA(ctx, t)
	if err != nil {
		return err
	}
	if err := t.Register(model.Act{At: now, Note: noteRegistered}, sla); err != nil {
		return err
	}
	if !t.SelfHandled || t.Resolution == nil {
		return s.workflow.Route(ctx, t, nil)
	}
	return s.selfHandle(ctx, t, now)
}

// selfHandle resolves a registered patrol case its reporter handled on the
// spot, in the grid it lies in; its "after" photos are flagged when their
// EXIF says far away or before the "before" photos.
func (s *Screening) selfHandle(ctx context.Context, t *model.Ticket, now time.Time) error {
	grid, _ := s.workflow.Locate(ctx, t.Point)
	after, err := s.photos.Many(ctx, t.Resolution.PhotoIDs)
	if err != nil {
		return err
	}
	beforePhotos, err := s.photos.Many(ctx, t.PhotoIDs)
	if err != nil {
		return err
	}
	var since time.Time
	for _, p := range beforePhotos {
		if p.TakenAt != nil && (since.IsZero() || p.TakenAt.Before(since)) {
			since = *p.TakenAt
		}
	}
	by := s.workflow.ActorOf(ctx, t.ReporterID, model.RoleGridWorker)
	return t.SelfHandle(model.Act{At: now, By: by, Note: t.Resolution.Note}, grid.Code, grid.Community, t.Resolution.PhotoIDs,
		s.workflow.PhotoFlags(t, after, since))
}

// ticketPhotos are a ticket's photos: the report's and, for a self-handled
// patrol case, the "after" photos of its resolution.
func ticketPhotos(t *model.Ticket) []string {
	if t.SelfHandled && t.Resolution != nil {
		return append(slices.Clip(t.PhotoIDs), t.Resolution.PhotoIDs...)
	}
	return t.PhotoIDs
}

// merge joins t to the open ticket o. The join is recorded on o first and
// is idempotent, so a crash before t is marked merged only repeats it.
func (s *Screening) merge(ctx context.Context, t, o *model.Ticket) error {
	now := s.now()
	_, err := s.workflow.Step(ctx, o.ID, func(o *model.Ticket) error {
		if slices.Contains(o.MergedIDs, t.ID) {
			return errUnchanged
		}
		return o.Join(model.Act{At: now}, t.ID, t.ReporterID)
	})
	if err != nil {
		return err
	}
	if t.Status == model.StatusMerged {
		return nil
	}
	before := Snapshot(t)
	if err := t.Merge(model.Act{At: now, Note: "已有居民反映过此问题，已合并跟进"}, o.ID); err != nil {
		return err
	}
	return s.workflow.Commit(ctx, before, t)
}

func (s *Screening) reject(ctx context.Context, t *model.Ticket, reason string) error {
	before := Snapshot(t)
	if err := t.Reject(model.Act{At: s.now(), Note: reason}); err != nil {
		return err
	}
	return s.workflow.Commit(ctx, before, t)
}

// OnMediaVerdict records a photo verdict pushed by WeChat. A risky photo
// withdraws the ticket it belongs to, unless that ticket is already closed
// or resolved. Unknown trace ids are ignored (not ours, or long gone).
func (s *Screening) OnMediaVerdict(ctx context.Context, traceID, suggest string) error {
	p, err := s.moderation.SetVerdict(ctx, traceID, suggest)
	if errors.Is(err, model.ErrNotFound) {
		// Either not ours, or the screening worker has not recorded the
		// trace id yet: park the verdict where it will look, then look once
		// more in case it recorded the id meanwhile.
		if err := s.moderation.SaveEarlyVerdict(ctx, traceID, suggest); err != nil {
			return err
		}
		p, err = s.moderation.SetVerdict(ctx, traceID, suggest)
		if errors.Is(err, model.ErrNotFound) {
			s.logger.InfoContext(ctx, "media verdict parked until its trace id is recorded", "trace_id", traceID, "suggest", suggest)
			return nil
		}
	}
	if err != nil {
		return err
	}
	if suggest != "risky" || p.UsedBy == "" {
		return nil
	}
	return s.withdraw(ctx, p.UsedBy)
}

// withdraw rejects a ticket for a risky photo, unless it is past the point
// where it can be (closed, or already rejected).
func (s *Screening) withdraw(ctx context.Context, ticketID string) error {
	for range 3 {
		t, err := s.tickets.Get(ctx, ticketID)
		if err != nil {
			return err
		}
		if !model.CanApply(model.EventRejected, t.Status) {
			return nil
		}
		err = s.reject(ctx, t, ReasonRiskyPhoto)
		if !errors.Is(err, model.ErrConflict) {
			return err
		}
	}
	return model.Errorf(model.CodeConflict, "工单一直在变化，审核结果将在重试时处理")
}

// ExpireModeration treats photo checks with no verdict after wait as passed.
func (s *Screening) ExpireModeration(ctx context.Context, wait time.Duration) (int, error) {
	return s.moderation.ExpireModeration(ctx, s.now().Add(-wait))
}

// Requeue queues again the reports left submitted for longer than age
// (a lost queue message, a Redis flush): the reconciler's half of
// at-least-once delivery.
func (s *Screening) Requeue(ctx context.Context, queue Queue, age time.Duration) (int, error) {
	ids, err := s.tickets.Stale(ctx, model.StatusSubmitted, false, s.now().Add(-age), 500)
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		if err := queue.Add(ctx, id); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}
