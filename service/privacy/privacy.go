// Package privacy is the bureau's duty of care for the personal data it
// holds (个人信息保护法; docs/privacy.md): identities shown to staff only when
// a dispatcher asks, and recorded; a resident's copy of their data and the
// closing of their account (注销); the retention period after which a
// ticket's personal data goes; the blurring of regions of a photo. None of
// it changes what the statistics count: tickets are rewritten through the
// store's Anonymise, which writes no statistics delta.
package privacy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strings"
	"time"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/photo"
	"github.com/citizen-city/chengguantong/service/audit"
)

// Tickets reads tickets (store.Tickets).
type Tickets interface {
	Get(ctx context.Context, id string) (*model.Ticket, error)
	GetByCaseNo(ctx context.Context, caseNo string) (*model.Ticket, error)
	ListByReporter(ctx context.Context, reporterID, cursor string, limit int) ([]*model.Ticket, string, error)
}

// Store rewrites personal data (store.Privacy).
type Store interface {
	Anonymise(ctx context.Context, before *model.Ticket, scrub func(*model.Ticket), complete bool) (*model.Ticket, error)
	Expired(ctx context.Context, before time.Time, limit int) ([]string, error)
	DeleteResident(ctx context.Context, userID string) error
	DeleteSubmitter(ctx context.Context, ticketID string) error
	QueueErasure(ctx context.Context, e model.Erasure) error
	Erasures(ctx context.Context, limit int) ([]model.Erasure, error)
	ErasureDone(ctx context.Context, e model.Erasure) error
}

// Photos reads photos (store.Photos).
type Photos interface {
	Get(ctx context.Context, id string) (*model.Photo, error)
	Many(ctx context.Context, ids []string) ([]*model.Photo, error)
	Open(ctx context.Context, id, variant string) (io.ReadCloser, int64, string, error)
}

// Redaction keeps blurred renditions and removes photos (store.Redaction).
type Redaction interface {
	Redact(ctx context.Context, id string, full, thumb model.PhotoFile, keepOriginal bool) (*model.Photo, error)
	Remove(ctx context.Context, id string) error
	DropOriginal(ctx context.Context, id string) error
	Disown(ctx context.Context, id string) error
	Owned(ctx context.Context, ownerID string, limit int) ([]string, error)
}

// Submitters reads what an Open311 client said about who filed a ticket.
type Submitters interface {
	Get(ctx context.Context, ticketID string) (*model.Open311Submitter, error)
}

// Allowances reads a resident's subscribe-message allowances.
type Allowances interface {
	Remaining(ctx context.Context, userID, templateID string) (int, error)
}

// Trail records in the access trail (package audit's Trail).
type Trail interface {
	Write(ctx context.Context, action model.AuditAction, target, detail string) error
	Record(ctx context.Context, action model.AuditAction, target, detail string)
}

// Lease is a short exclusive lease in Redis, so that one instance at a time
// does the periodic work.
type Lease interface {
	Acquire(ctx context.Context, key, owner string, ttl time.Duration) (ok bool, holder string, err error)
	Release(ctx context.Context, key, owner string) error
}

// ErasePhotos says what becomes of a closed account's photos.
type ErasePhotos string

// The choices of ERASE_PHOTOS.
const (
	// ErasePhotosRemove removes every photo of the account (the default).
	ErasePhotosRemove ErasePhotos = "remove"
	// ErasePhotosKeepRedacted keeps the blurred rendition of the photos
	// staff redacted (their original goes), removes the others.
	ErasePhotosKeepRedacted ErasePhotos = "redacted"
)

// Config are the settings of the duty of care.
type Config struct {
	// TicketRetention is how long after its last change a final ticket
	// keeps its personal data (TICKET_RETENTION_DAYS, 730 by default).
	TicketRetention time.Duration
	// KeepOriginal keeps a redacted photo's original for dispatchers
	// (REDACT_KEEP_ORIGINAL, true by default); false replaces it.
	KeepOriginal bool
	// ErasePhotos is what becomes of a closed account's photos.
	ErasePhotos ErasePhotos
	// Templates are the subscribe-message templates whose allowances
	// GET /me/data lists.
	Templates []string
}

// Service is the duty of care's use cases.
type Service struct {
	tickets    Tickets
	store      Store
	photos     Photos
	redaction  Redaction
	submitters Submitters
	allowances Allowances
	processor  *photo.Processor
	trail      Trail
	lease      Lease
	forget     func(userID string)
	cfg        Config
	instance   string
	now        func() time.Time
	logger     *slog.Logger
}

// Deps are the collaborators of Service.
type Deps struct {
	Tickets    Tickets
	Store      Store
	Photos     Photos
	Redaction  Redaction
	Submitters Submitters
	Allowances Allowances
	Processor  *photo.Processor
	Trail      Trail
	Lease      Lease
	// Forget drops a user from the authentication cache (people.Auth's
	// ForgetUser), so a closed account's token fails at once here.
	Forget   func(userID string)
	Config   Config
	Instance string
	Now      func() time.Time
	Logger   *slog.Logger
}

// New returns the duty of care's service.
func New(d Deps) *Service {
	if d.Forget == nil {
		d.Forget = func(string) {}
	}
	return &Service{tickets: d.Tickets, store: d.Store, photos: d.Photos, redaction: d.Redaction, submitters: d.Submitters,
		allowances: d.Allowances, processor: d.Processor, trail: d.Trail, lease: d.Lease, forget: d.Forget, cfg: d.Config,
		instance: d.Instance, now: d.Now, logger: d.Logger}
}

// ticket reads a ticket by id or case number. Errors: not_found.
func (s *Service) ticket(ctx context.Context, ref string) (*model.Ticket, error) {
	var t *model.Ticket
	var err error
	if strings.Contains(ref, "-") {
		t, err = s.tickets.GetByCaseNo(ctx, ref)
	} else {
		t, err = s.tickets.Get(ctx, ref)
	}
	if errors.Is(err, model.ErrNotFound) {
		return nil, model.Errorf(model.CodeNotFound, "没有编号为 %s 的工单", ref)
	}
	return t, err
}

// Identity is who is behind a ticket, in full: a hotline caller's name and
// phone, what an Open311 client said of its submitter, the reporter's
// account and channel.
type Identity struct {
	Ticket      *model.Ticket
	ReporterID  string
	Source      model.Source
	CallerName  string
	CallerPhone string
	Submitter   *model.Open311Submitter
}

// Reveal shows a dispatcher or an admin who is behind a ticket, and records
// it in the access trail first: nothing is shown unless the entry was
// written. Errors: not_found, unavailable (the trail could not be written).
func (s *Service) Reveal(ctx context.Context, ref string) (*Identity, error) {
	t, err := s.ticket(ctx, ref)
	if err != nil {
		return nil, err
	}
	id := &Identity{Ticket: t, ReporterID: t.ReporterID, Source: t.Source, CallerName: t.CallerName, CallerPhone: t.CallerPhone}
	var what []string
	if t.CallerName != "" || t.CallerPhone != "" {
		what = append(what, "来电人姓名、电话")
	}
	if t.Source == model.SourceOpen311 {
		sub, err := s.submitters.Get(ctx, t.ID)
		switch {
		case err == nil:
			id.Submitter = sub
			what = append(what, "Open311 提交人的姓名、邮箱、电话")
		case !errors.Is(err, model.ErrNotFound):
			return nil, err
		}
	}
	if t.ReporterID != "" {
		what = append(what, "反映人账号")
	}
	if len(what) == 0 {
		what = append(what, "（无身份信息：已匿名化）")
	}
	if err := s.trail.Write(ctx, model.ActionIdentityReveal, caseRef(t), "查看了工单的"+strings.Join(what, "、")); err != nil {
		return nil, model.Wrap(model.CodeUnavailable, err, "访问留痕暂时无法写入，身份信息未显示；请稍后重试")
	}
	return id, nil
}

// caseRef names a ticket in the trail: its case number, else its id.
func caseRef(t *model.Ticket) string {
	if t.CaseNo != "" {
		return t.CaseNo
	}
	return t.ID
}

// maxReports bounds the reports one resident's data lists.
const maxReports = 1000

// Data is everything stored about a resident.
type Data struct {
	User *model.User
	// Reports are their reports, newest first; Following the tickets their
	// merged reports follow.
	Reports   []*model.Ticket
	Following []*model.Ticket
	// Allowances are the subscribe messages they granted, per template.
	Allowances map[string]int
}

// MyData gathers everything stored about a resident (GET /me/data). Errors:
// permission_denied (not a WeChat account), unavailable.
func (s *Service) MyData(ctx context.Context, u *model.User) (*Data, error) {
	if u.Kind != model.KindWeChat {
		return nil, model.Errorf(model.CodePermissionDenied, "只有微信用户可以下载自己的数据")
	}
	d := &Data{User: u, Allowances: map[string]int{}}
	reports, err := s.reports(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	d.Reports = reports
	for _, id := range following(reports) {
		t, err := s.tickets.Get(ctx, id)
		if errors.Is(err, model.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		d.Following = append(d.Following, t)
	}
	for _, tmpl := range s.cfg.Templates {
		n, err := s.allowances.Remaining(ctx, u.ID, tmpl)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			d.Allowances[tmpl] = n
		}
	}
	return d, nil
}

// reports lists a resident's reports, all pages.
func (s *Service) reports(ctx context.Context, userID string) ([]*model.Ticket, error) {
	var out []*model.Ticket
	for cursor, first := "", true; (first || cursor != "") && len(out) < maxReports; first = false {
		page, next, err := s.tickets.ListByReporter(ctx, userID, cursor, 100)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		cursor = next
	}
	return out, nil
}

// following are the tickets a resident's merged reports joined.
func following(reports []*model.Ticket) []string {
	var out []string
	for _, t := range reports {
		if t.DuplicateOf != "" && !contains(out, t.DuplicateOf) {
			out = append(out, t.DuplicateOf)
		}
	}
	return out
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// DeleteAccount closes a resident's account (注销): the account and its
// openid go at once (a second login of the same WeChat user is a new
// resident); their photos are removed, or kept blurred as ERASE_PHOTOS
// says; each of their tickets, and each ticket they follow, is rewritten
// without them (model.Ticket.EraseResident) — at once, or, for a report
// still being screened, by the next pass of Run. The statistics do not
// change. Grid workers and party members are deactivated by staff instead:
// their handling stays attributed by name. Errors: permission_denied (not
// a resident's own WeChat account, or one bound as a worker or member),
// unavailable.
func (s *Service) DeleteAccount(ctx context.Context, u *model.User) error {
	if u.Kind != model.KindWeChat {
		return model.Errorf(model.CodePermissionDenied, "工作人员账号不能注销；请联系管理员停用")
	}
	if u.WorkerID != "" || u.PartyMemberID != "" {
		return model.Errorf(model.CodePermissionDenied, "您的账号绑定过网格员或在职党员身份，处置记录需按姓名保留，不能自行注销；请联系工作人员停用")
	}
	reports, err := s.reports(ctx, u.ID)
	if err != nil {
		return err
	}
	if err := s.store.DeleteResident(ctx, u.ID); err != nil && !errors.Is(err, model.ErrNotFound) {
		return err
	}
	s.forget(u.ID)
	photos, err := s.erasePhotos(ctx, u.ID)
	if err != nil {
		s.logger.ErrorContext(ctx, "erase a closed account's photos; the privacy job retries", "error", err.Error())
	}
	tickets := append(ids(reports), following(reports)...)
	queued := 0
	for _, id := range tickets {
		done, err := s.erase(ctx, model.Erasure{TicketID: id, UserID: u.ID})
		if err != nil || !done {
			if err != nil {
				s.logger.WarnContext(ctx, "erase later", "ticket", id, "error", err.Error())
			}
			if qerr := s.store.QueueErasure(ctx, model.Erasure{TicketID: id, UserID: u.ID, At: s.now()}); qerr != nil {
				return qerr
			}
			queued++
		}
	}
	if photos.failed > 0 || queued > 0 {
		// Whatever is left is done by Run; the account is gone already.
		if err := s.store.QueueErasure(ctx, model.Erasure{TicketID: "", UserID: u.ID, At: s.now()}); err != nil {
			return err
		}
	}
	// The entry names no one: neither the closed account nor its address.
	s.trail.Record(audit.WithSource(ctx, audit.Source{}), model.ActionAccountDelete, "居民",
		fmt.Sprintf("居民注销账号：%d 件上报、%d 件跟进的工单去除了其个人信息，%d 张照片已删除、%d 张保留打码图", len(reports), len(tickets)-len(reports), photos.removed, photos.kept))
	return nil
}

func ids(ts []*model.Ticket) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.ID
	}
	return out
}

type photoCounts struct{ removed, kept, failed int }

// erasePhotos removes a closed account's photos, or keeps the blurred
// rendition of those staff redacted (ERASE_PHOTOS=redacted), without
// their original and without owner or EXIF.
func (s *Service) erasePhotos(ctx context.Context, userID string) (photoCounts, error) {
	var c photoCounts
	var errs []error
	for {
		owned, err := s.redaction.Owned(ctx, userID, 500)
		if err != nil {
			return c, err
		}
		if len(owned) == 0 {
			return c, errors.Join(errs...)
		}
		progress := false
		for _, id := range owned {
			p, err := s.photos.Get(ctx, id)
			if err != nil && !errors.Is(err, model.ErrNotFound) {
				errs = append(errs, err)
				c.failed++
				continue
			}
			if p != nil && s.cfg.ErasePhotos == ErasePhotosKeepRedacted && !p.RedactedAt.IsZero() {
				if err := s.redaction.DropOriginal(ctx, id); err != nil {
					errs = append(errs, err)
					c.failed++
					continue
				}
				if err := s.redaction.Disown(ctx, id); err != nil && !errors.Is(err, model.ErrNotFound) {
					errs = append(errs, err)
					c.failed++
					continue
				}
				c.kept++
				progress = true
				continue
			}
			if err := s.redaction.Remove(ctx, id); err != nil {
				errs = append(errs, err)
				c.failed++
				continue
			}
			c.removed++
			progress = true
		}
		if !progress {
			return c, errors.Join(errs...)
		}
	}
}

// eraseAttempts bounds the retries of one erasure on conflicts.
const eraseAttempts = 3

// erase rewrites one ticket without a closed account: EraseResident, and
// its photos that are gone taken out. It reports false when it must be
// done later (a report still being screened, or changing too fast).
// An erasure with no ticket is the account's photos left to remove.
func (s *Service) erase(ctx context.Context, e model.Erasure) (bool, error) {
	if e.TicketID == "" {
		c, err := s.erasePhotos(ctx, e.UserID)
		return err == nil && c.failed == 0, err
	}
	for range eraseAttempts {
		t, err := s.tickets.Get(ctx, e.TicketID)
		if errors.Is(err, model.ErrNotFound) {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		gone, err := s.gonePhotos(ctx, t)
		if err != nil {
			return false, err
		}
		if probe := t.Clone(); !probe.EraseResident(e.UserID) && len(gone) == 0 {
			return true, nil // nothing of theirs left in it
		}
		if t.Version == 0 {
			return false, nil // being screened: after its first transition
		}
		_, err = s.store.Anonymise(ctx, t, func(x *model.Ticket) {
			x.EraseResident(e.UserID)
			x.RemovePhotos(gone)
		}, false)
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, model.ErrConflict) {
			return false, err
		}
	}
	return false, nil
}

// gonePhotos are the report photos of t that no longer exist.
func (s *Service) gonePhotos(ctx context.Context, t *model.Ticket) ([]string, error) {
	if len(t.PhotoIDs) == 0 {
		return nil, nil
	}
	ps, err := s.photos.Many(ctx, t.PhotoIDs)
	if err != nil {
		return nil, err
	}
	var gone []string
	for _, id := range t.PhotoIDs {
		found := false
		for _, p := range ps {
			found = found || p.ID == id
		}
		if !found {
			gone = append(gone, id)
		}
	}
	return gone, nil
}

// Rect is a region to blur, as the API takes it.
type Rect = photo.Rect

// Redact blurs regions of a photo (POST /admin/photos/{id}/redact): the
// blurred rendition is what the public, followers, workers and Open311 get
// from then on; the original stays for dispatchers only, or is replaced,
// as REDACT_KEEP_ORIGINAL says. Recorded in the access trail. Errors:
// invalid_argument (rects, naming rects[i] and the coordinate), not_found,
// payload_too_large (more memory than the decode pool has),
// unavailable.
func (s *Service) Redact(ctx context.Context, id string, rects []Rect) (*model.Photo, error) {
	if err := checkRects(rects); err != nil {
		return nil, err
	}
	p, err := s.photos.Get(ctx, id)
	if errors.Is(err, model.ErrNotFound) {
		return nil, model.Errorf(model.CodeNotFound, "照片 %s 不存在", id)
	}
	if err != nil {
		return nil, err
	}
	r, _, _, err := s.photos.Open(ctx, id, "full")
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(r, s.processor.Limits().MaxBytes*4))
	r.Close()
	if err != nil {
		return nil, model.Wrap(model.CodeUnavailable, err, "照片暂时无法读取，请稍后重试")
	}
	res, err := s.processor.Redact(ctx, data, rects)
	if err != nil {
		switch {
		case errors.Is(err, photo.ErrTooMuchMemory):
			return nil, model.Wrap(model.CodePayloadTooLarge, err, photo.UserMessage(err))
		case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
			return nil, model.Wrap(model.CodeUnavailable, err, "打码被中断，请重试")
		}
		return nil, model.Wrap(model.CodeInternal, err, "照片无法解码，不能打码")
	}
	thumbSum := sha256.Sum256(res.Thumb)
	out, err := s.redaction.Redact(ctx, id,
		model.PhotoFile{Data: res.Clean, ContentType: res.ContentType, SHA256: res.SHA256},
		model.PhotoFile{Data: res.Thumb, ContentType: "image/jpeg", SHA256: hex.EncodeToString(thumbSum[:])}, s.cfg.KeepOriginal)
	if err != nil {
		return nil, err
	}
	kept := "原图已被打码图替换"
	if out.HasOriginal {
		kept = "原图保留，仅派遣员和管理员可见"
	}
	where := ""
	if p.UsedBy != "" {
		if t, err := s.tickets.Get(ctx, p.UsedBy); err == nil {
			where = "（工单 " + caseRef(t) + "）"
		}
	}
	s.trail.Record(ctx, model.ActionPhotoRedact, id, fmt.Sprintf("照片 %s%s打码 %d 处；%s", id, where, len(rects), kept))
	return out, nil
}

// checkRects validates the regions: 1 to photo.MaxRects, each inside the
// photo and not empty. Errors: invalid_argument naming rects[i].x etc.
func checkRects(rects []Rect) error {
	if len(rects) == 0 {
		return model.Invalid("rects", "至少标出一个要打码的区域：{\"x\", \"y\", \"w\", \"h\"}，以照片宽高的比例（0 到 1）表示")
	}
	if len(rects) > photo.MaxRects {
		return model.Invalid("rects", "一次最多打码 %d 处，收到 %d 处", photo.MaxRects, len(rects))
	}
	const eps = 1e-9
	for i, r := range rects {
		f := func(name string) string { return fmt.Sprintf("rects[%d].%s", i, name) }
		for _, c := range []struct {
			name string
			v    float64
		}{{"x", r.X}, {"y", r.Y}, {"w", r.W}, {"h", r.H}} {
			if math.IsNaN(c.v) || c.v < 0 || c.v > 1 {
				return model.Invalid(f(c.name), "必须在 0 到 1 之间（照片宽高的比例），收到 %g", c.v)
			}
		}
		if r.W <= 0 {
			return model.Invalid(f("w"), "宽度必须大于 0")
		}
		if r.H <= 0 {
			return model.Invalid(f("h"), "高度必须大于 0")
		}
		if r.X+r.W > 1+eps {
			return model.Invalid(f("w"), "区域超出了照片右边缘（x + w = %g > 1）", r.X+r.W)
		}
		if r.Y+r.H > 1+eps {
			return model.Invalid(f("h"), "区域超出了照片下边缘（y + h = %g > 1）", r.Y+r.H)
		}
	}
	return nil
}
