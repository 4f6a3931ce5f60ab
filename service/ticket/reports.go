package ticket

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/citizen-city/chengguantong/geo"
	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service/catalogue"
	"github.com/citizen-city/chengguantong/service/limit"
)

// Store keeps tickets.
type Store interface {
	Insert(ctx context.Context, t *model.Ticket, idem, bodyHash string) error
	ByIdem(ctx context.Context, idem string) (*model.Ticket, string, error)
	Get(ctx context.Context, id string) (*model.Ticket, error)
	GetByCaseNo(ctx context.Context, caseNo string) (*model.Ticket, error)
	// Commit writes after as the next version of before, with the
	// statistics' delta and the handoff (see store/storetest/contract.go).
	Commit(ctx context.Context, before, after *model.Ticket) error
	Unrelayed(ctx context.Context, limit int) ([]model.Handoff, error)
	Relayed(ctx context.Context, ticketID string, version int64) error
	ListByReporter(ctx context.Context, reporterID, cursor string, limit int) ([]*model.Ticket, string, error)
	Near(ctx context.Context, center model.Point, radiusM float64, category string, statuses []model.Status, since time.Time, limit int) ([]*model.Ticket, error)
	Stale(ctx context.Context, status model.Status, held bool, before time.Time, limit int) ([]string, error)
	Open(ctx context.Context, after string, limit int) ([]*model.Ticket, error)
	ListAssigned(ctx context.Context, assigneeID string, statuses []model.Status, cursor string, limit int) ([]*model.Ticket, string, error)
	ListPool(ctx context.Context, communities []string, cursor string, limit int) ([]*model.Ticket, string, error)
}

// Locker holds short leases in Redis.
type Locker interface {
	Acquire(ctx context.Context, key, owner string, ttl time.Duration) (ok bool, holder string, err error)
	Take(ctx context.Context, key, owner string, ttl time.Duration) error
	Release(ctx context.Context, key, owner string) error
}

// ReportLimits are the per-resident abuse limits.
type ReportLimits struct {
	PerDay int
}

// Reports is the resident's side: submitting, reading and following reports.
type Reports struct {
	tickets    Store
	photos     PhotoStore
	categories *catalogue.Categories
	locks      Locker
	limiter    limit.Limiter
	workflow   *Workflow
	limits     ReportLimits
	now        func() time.Time
	logger     *slog.Logger
}

// ReportsDeps are the collaborators of Reports.
type ReportsDeps struct {
	Tickets    Store
	Photos     PhotoStore
	Categories *catalogue.Categories
	Locks      Locker
	Limiter    limit.Limiter
	// Workflow takes the report in (Intake): stored, then screened.
	Workflow *Workflow
	Limits   ReportLimits
	Now      func() time.Time
	Logger   *slog.Logger
}

// NewReports returns the reporting service.
func NewReports(d ReportsDeps) *Reports {
	return &Reports{tickets: d.Tickets, photos: d.Photos, categories: d.Categories, locks: d.Locks,
		limiter: d.Limiter, workflow: d.Workflow, limits: d.Limits, now: d.Now, logger: d.Logger}
}

// ReportInput is what a resident submits.
type ReportInput struct {
	Category    string
	Description string
	Location    model.Location
	Address     string
	PhotoIDs    []string
	// IdempotencyKey, when set, makes a retried submission return the same
	// report instead of making a second one.
	IdempotencyKey string
	// Source is wechat (a resident's report, the default) or patrol (a grid
	// worker's 巡查上报).
	Source model.Source
	// SelfHandled, for a patrol case, says its reporter handled it on the
	// spot (自处置): Resolution holds the note and the "after" photos, and
	// the case is registered and resolved at once.
	SelfHandled bool
	Resolution  *ResolutionInput
}

// ResolutionInput is a self-handled case's handling: what was done and the
// "after" photos.
type ResolutionInput struct {
	Note     string
	PhotoIDs []string
}

// photoIDs are every photo of the submission and the field naming each.
func (in *ReportInput) photoIDs() ([]string, []string) {
	ids, fields := slices.Clone(in.PhotoIDs), make([]string, 0, len(in.PhotoIDs))
	for i := range in.PhotoIDs {
		fields = append(fields, fmt.Sprintf("photo_ids[%d]", i))
	}
	if in.SelfHandled && in.Resolution != nil {
		for i, id := range in.Resolution.PhotoIDs {
			ids = append(ids, id)
			fields = append(fields, fmt.Sprintf("resolution.photo_ids[%d]", i))
		}
	}
	return ids, fields
}

// validateChannel checks source, self_handled and resolution.
func (in *ReportInput) validateChannel() error {
	switch in.Source {
	case "":
		in.Source = model.SourceWeChat
	case model.SourceWeChat, model.SourcePatrol:
	default:
		return model.Invalid("source", "只能是 wechat（居民随手拍）或 patrol（网格员巡查上报），收到 %q", in.Source)
	}
	if !in.SelfHandled {
		if in.Resolution != nil {
			return model.Invalid("resolution", "只有自处置（self_handled: true）的巡查案件可以附带处置结果")
		}
		return nil
	}
	if in.Source != model.SourcePatrol {
		return model.Invalid("self_handled", "只有网格员巡查上报（source: patrol）的案件可以自处置")
	}
	if in.Resolution == nil {
		return model.Invalid("resolution", "自处置案件必须附带处置结果 {\"note\", \"photo_ids\"}")
	}
	in.Resolution.Note = strings.TrimSpace(in.Resolution.Note)
	if n := utf8.RuneCountInString(in.Resolution.Note); n == 0 || n > 500 {
		return model.Invalid("resolution.note", "必须是 1 到 500 个字，说明如何处置")
	}
	if n := len(in.Resolution.PhotoIDs); n == 0 || n > maxPhotos {
		return model.Invalid("resolution.photo_ids", "需要 1 到 %d 张处置后的照片，收到 %d 张", maxPhotos, n)
	}
	ids, fields := in.photoIDs()
	for i, id := range ids {
		if id == "" || len(id) > 64 {
			return model.Invalid(fields[i], "不是照片编号")
		}
		if j := slices.Index(ids, id); j != i {
			return model.Invalid(fields[i], "照片 %s 已在 %s 中使用", id, fields[j])
		}
	}
	return nil
}

const (
	// MaxDescription and MaxAddress bound a ticket's texts, in characters.
	MaxDescription = 1000
	MaxAddress     = 200
	maxPhotos      = 9
	// submitInFlight is how long a submission may hold its photos before
	// it is recorded; past that it is taken for crashed.
	submitInFlight = 15 * time.Second
	photoClaimTTL  = 24 * time.Hour
)

// Validate checks everything that needs no database. Errors are
// invalid_argument naming the field.
func (in *ReportInput) Validate() error {
	in.Category = strings.TrimSpace(in.Category)
	if in.Category == "" {
		return model.Invalid("category", "不能为空：请选择问题分类")
	}
	in.Description = strings.TrimSpace(in.Description)
	if n := utf8.RuneCountInString(in.Description); n == 0 {
		return model.Invalid("description", "不能为空：请描述遇到的问题")
	} else if n > MaxDescription {
		return model.Invalid("description", "有 %d 个字，最多 %d 个字", n, MaxDescription)
	}
	if err := ValidateLocation("location", in.Location); err != nil {
		return err
	}
	in.Address = strings.TrimSpace(in.Address)
	if utf8.RuneCountInString(in.Address) > MaxAddress {
		return model.Invalid("address", "最多 %d 个字", MaxAddress)
	}
	if len(in.PhotoIDs) == 0 {
		return model.Invalid("photo_ids", "至少要有一张照片")
	}
	if len(in.PhotoIDs) > maxPhotos {
		return model.Invalid("photo_ids", "有 %d 张照片，最多 %d 张", len(in.PhotoIDs), maxPhotos)
	}
	seen := map[string]bool{}
	for i, id := range in.PhotoIDs {
		if id == "" || len(id) > 64 {
			return model.Invalid(fmt.Sprintf("photo_ids[%d]", i), "不是照片 id")
		}
		if seen[id] {
			return model.Invalid(fmt.Sprintf("photo_ids[%d]", i), "重复了照片 %s", id)
		}
		seen[id] = true
	}
	if len(in.IdempotencyKey) > 128 {
		return model.Invalid("Idempotency-Key", "最多 128 个字符")
	}
	return in.validateChannel()
}

// ValidateLocation checks a submitted point: in range, of a known coordinate
// system, and inside China (where the service and GCJ-02 apply). Messages
// lead with the JSON path, then name the part in words (纬度, 经度, 坐标系).
func ValidateLocation(field string, l model.Location) error {
	path := func(part string) string {
		if field == "" {
			return part
		}
		return field + "." + part
	}
	if math.IsNaN(l.Lat) || l.Lat < -90 || l.Lat > 90 {
		return model.Invalid(path("lat"), "纬度必须在 -90 到 90 之间，收到 %g", l.Lat)
	}
	if math.IsNaN(l.Lng) || l.Lng < -180 || l.Lng > 180 {
		return model.Invalid(path("lng"), "经度必须在 -180 到 180 之间，收到 %g", l.Lng)
	}
	switch l.CoordType {
	case model.CoordGCJ02, model.CoordWGS84:
	case "":
		return model.Invalid(path("coord_type"), "坐标系不能为空：gcj02（wx.chooseLocation、地图组件）或 wgs84（wx.getLocation 默认）")
	default:
		return model.Invalid(path("coord_type"), "坐标系必须是 gcj02 或 wgs84，不能是 %q", l.CoordType)
	}
	if !geo.InChina(geo.Point{Lat: l.Lat, Lng: l.Lng}) {
		at := field
		if at == "" {
			at = "lat" // a query's parameters
		}
		return model.Invalid(at, "位置（纬度 %.6f，经度 %.6f）不在中国境内", l.Lat, l.Lng)
	}
	return nil
}

// ToWGS84 converts a submitted point for routing; GCJ-02 goes through the
// precise (iterative) inverse.
func ToWGS84(l model.Location) model.Point {
	if l.CoordType == model.CoordGCJ02 {
		p := geo.GCJ02ToWGS84(geo.Point{Lat: l.Lat, Lng: l.Lng})
		return model.Point{Lat: p.Lat, Lng: p.Lng}
	}
	return model.Point{Lat: l.Lat, Lng: l.Lng}
}

// bodyHash is the digest of what was submitted, to tell a retry from a
// different request under the same Idempotency-Key.
func (in *ReportInput) bodyHash() string {
	b, _ := json.Marshal(struct {
		C, D, A, T string
		Lat, Lng   float64
		P          []string
		S          string           `json:",omitempty"`
		R          *ResolutionInput `json:",omitempty"`
	}{in.Category, in.Description, in.Address, string(in.Location.CoordType), in.Location.Lat, in.Location.Lng, in.PhotoIDs,
		string(in.Source), in.Resolution})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Submit files a report. It returns the new report, or — for a retry with
// the same Idempotency-Key and body — the report the first attempt made.
// Errors: invalid_argument (field named), idempotency_key_reused (same key,
// other body), conflict (the same key is still in flight), rate_limited,
// unavailable.
func (r *Reports) Submit(ctx context.Context, u *model.User, in ReportInput) (*model.Ticket, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	if in.Source == model.SourcePatrol && !u.Has(model.RoleGridWorker) {
		return nil, model.Errorf(model.CodePermissionDenied, "只有网格员可以巡查上报（source: patrol）；居民反映请不填 source 或填 wechat")
	}
	if in.Source == model.SourceWeChat {
		in.Source = "" // the body hash of a resident's report stays as it was
	}
	cat, err := r.categories.Get(ctx, in.Category)
	if err != nil {
		return nil, err
	}
	hash := in.bodyHash()
	// The ticket's unique idem decides idempotency: of all attempts with one
	// key, exactly one insert succeeds, and every other attempt replays it.
	// Nothing is looked up before that insert, because a first attempt (the
	// common case) would find nothing, and on FerretDB every lookup other
	// than by _id reads the whole collection.
	idem := ""
	if in.IdempotencyKey != "" {
		idem = model.Digest(u.ID + "\x00" + in.IdempotencyKey)
	}

	now := r.now()
	id := model.NewID(now)
	photoIDs, photoFields := in.photoIDs()
	if err := r.checkPhotos(ctx, u, photoIDs, photoFields, id); err != nil {
		if idem != "" {
			// A retry finds its photos taken by its own first attempt.
			if t, rerr := r.replay(ctx, idem, hash); t != nil || rerr != nil {
				return t, rerr
			}
		}
		return nil, err
	}
	day := now.In(model.ChinaTime()).Format("20060102")
	if err := limit.Check(ctx, r.limiter, "reports:"+u.ID+":"+day, r.limits.PerDay, 25*time.Hour,
		fmt.Sprintf("您今天已上报 %d 次，达到每日上限；感谢参与，请明天再报", r.limits.PerDay)); err != nil {
		r.releasePhotos(ctx, photoIDs, id)
		if idem != "" {
			// A retry of a report that was recorded is not a new report.
			if t, rerr := r.replay(ctx, idem, hash); t != nil || rerr != nil {
				return t, rerr
			}
		}
		return nil, err
	}

	t := &model.Ticket{
		ID: id, ReporterID: u.ID, Category: cat.Code, Description: in.Description,
		Location: in.Location, Point: ToWGS84(in.Location), Address: in.Address, PhotoIDs: in.PhotoIDs,
		CreatedAt: now,
	}
	act := model.Act{At: now, By: model.Actor{ID: u.ID, Role: model.RoleResident}}
	switch {
	case in.SelfHandled:
		act.By.Role = model.RoleGridWorker
		err = t.ReportHandledOnSite(act, in.Resolution.Note, in.Resolution.PhotoIDs)
	case in.Source == model.SourcePatrol:
		act.By.Role, t.Source = model.RoleGridWorker, model.SourcePatrol
		err = t.Report(act)
	default:
		err = t.Report(act)
	}
	if err != nil {
		return nil, err
	}
	if idem == "" {
		idem = "t:" + id
	}
	// Stored with its handoff, then queued for screening (a crash in
	// between is relayed by another instance, Relay.Sweep).
	stored, err := r.workflow.Intake(ctx, t, idem, hash)
	if err != nil {
		r.releasePhotos(ctx, photoIDs, id)
		if errors.Is(err, model.ErrConflict) {
			// Another attempt with the same key was recorded first.
			if t, err := r.replay(ctx, idem, hash); t != nil || err != nil {
				return t, err
			}
		}
		return nil, fmt.Errorf("submit report: %w", err)
	}
	return stored, nil
}

// replay returns the report an earlier attempt with the same key made.
func (r *Reports) replay(ctx context.Context, idem, hash string) (*model.Ticket, error) {
	return r.workflow.Replay(ctx, idem, hash, "这个 Idempotency-Key 已用于另一条内容不同的上报；新的上报请使用新的 Idempotency-Key")
}

// checkPhotos makes sure each photo is the caller's and unused, and holds
// it for ticket id in Redis so that two reports cannot take one photo. The
// screening worker makes the claim durable in MongoDB.
func (r *Reports) checkPhotos(ctx context.Context, u *model.User, ids, fields []string, ticketID string) error {
	photos, err := r.photos.Many(ctx, ids)
	if err != nil {
		return err
	}
	byID := make(map[string]*model.Photo, len(photos))
	for _, p := range photos {
		byID[p.ID] = p
	}
	for i, id := range ids {
		field := fields[i]
		p := byID[id]
		if p == nil || p.OwnerID != u.ID {
			return model.Invalid(field, "%s 不是您上传的照片", id)
		}
		if p.UsedBy != "" {
			return model.Invalid(field, "%s 已用于另一条上报；请重新上传", id)
		}
	}
	for i, id := range ids {
		ok, holder, err := r.locks.Acquire(ctx, "photo:"+id, ticketID, photoClaimTTL)
		inFlight := false
		if err == nil && !ok {
			// A holder whose report never got recorded does not keep the
			// photo once it is clearly dead (a crash mid-submit); until
			// then it is a submission still in flight, most likely this
			// one's own first attempt.
			if _, gerr := r.tickets.Get(ctx, holder); errors.Is(gerr, model.ErrNotFound) {
				if at, known := model.IDTime(holder); known && r.now().Sub(at) < submitInFlight {
					inFlight = true
				} else {
					err = r.locks.Take(ctx, "photo:"+id, ticketID, photoClaimTTL)
					ok = err == nil
				}
			}
		}
		if err != nil || !ok {
			r.releasePhotos(ctx, ids[:i], ticketID)
			switch {
			case err != nil:
				return err
			case inFlight:
				return model.Errorf(model.CodeConflict, "%s 的照片 %s 正被另一条提交中的上报使用；请稍后重试", fields[i], id)
			}
			return model.Invalid(fields[i], "%s 已用于另一条上报；请重新上传", id)
		}
	}
	return nil
}

func (r *Reports) releasePhotos(ctx context.Context, ids []string, ticketID string) {
	for _, id := range ids {
		_ = r.locks.Release(context.WithoutCancel(ctx), "photo:"+id, ticketID)
	}
}

// Get returns a report, named by its id or case number, to someone allowed
// to see it: its reporter, a resident whose duplicate was merged into it,
// its assignee, or staff.
// Anyone else gets not_found, as if it did not exist.
func (r *Reports) Get(ctx context.Context, u *model.User, id string) (*model.Ticket, error) {
	t, err := Load(ctx, r.tickets, id)
	if errors.Is(err, model.ErrNotFound) {
		return nil, model.Errorf(model.CodeNotFound, "没有这条上报 %s", id)
	}
	if err != nil {
		return nil, err
	}
	if !CanSee(u, t) {
		return nil, model.Errorf(model.CodeNotFound, "没有这条上报 %s", id)
	}
	return t, nil
}

// CanSee is the one authorization rule for reading a ticket as its
// reporter, follower or assignee does — or as staff who handle tickets
// (dispatchers, admins) do; a leader reads tickets through the staff's
// masked views only, an auditor not at all.
func CanSee(u *model.User, t *model.Ticket) bool {
	switch {
	case u.Has(model.RoleStaff):
		return u.HasAny(model.RoleDispatcher, model.RoleAdmin)
	case u.ID == t.ReporterID, u.ID == t.AssigneeID && t.AssigneeID != "":
		return true
	}
	for _, f := range t.Followers {
		if f == u.ID {
			return true
		}
	}
	return false
}

// Mine lists the caller's reports, newest first. Errors: invalid_argument
// (limit).
func (r *Reports) Mine(ctx context.Context, u *model.User, cursor string, limit int) ([]*model.Ticket, string, error) {
	return r.tickets.ListByReporter(ctx, u.ID, cursor, limit)
}

// NearbyQuery asks for open tickets around a point.
type NearbyQuery struct {
	Location model.Location
	RadiusM  float64
}

// Nearby is an open ticket near a point, without any reporter identity.
type Nearby struct {
	Ticket    *model.Ticket
	DistanceM float64
}

// MaxNearbyRadius is the largest radius /reports/nearby takes.
const MaxNearbyRadius = 2000

var openRegistered = []model.Status{model.StatusPending, model.StatusDispatched, model.StatusInProgress}

// Nearby lists open tickets within the radius, nearest first. Errors:
// invalid_argument.
func (r *Reports) Nearby(ctx context.Context, q NearbyQuery) ([]Nearby, error) {
	if err := ValidateLocation("", q.Location); err != nil {
		return nil, err
	}
	if q.RadiusM <= 0 || q.RadiusM > MaxNearbyRadius || math.IsNaN(q.RadiusM) {
		return nil, model.Invalid("radius_m", "必须在 1 到 %d 之间", MaxNearbyRadius)
	}
	return r.near(ctx, ToWGS84(q.Location), q.RadiusM, "", openRegistered, time.Time{})
}

func (r *Reports) near(ctx context.Context, p model.Point, radius float64, category string, statuses []model.Status, since time.Time) ([]Nearby, error) {
	center := geo.Point{Lat: p.Lat, Lng: p.Lng}
	ts, err := r.tickets.Near(ctx, p, radius, category, statuses, since, 500)
	if err != nil {
		return nil, err
	}
	var out []Nearby
	for _, t := range ts {
		d := geo.DistanceMeters(center, geo.Point{Lat: t.Point.Lat, Lng: t.Point.Lng})
		if d <= radius {
			out = append(out, Nearby{Ticket: t, DistanceM: d})
		}
	}
	sortNearby(out)
	return out, nil
}

func sortNearby(n []Nearby) {
	slices.SortFunc(n, func(a, b Nearby) int {
		if c := cmp.Compare(a.DistanceM, b.DistanceM); c != 0 {
			return c
		}
		return strings.Compare(a.Ticket.ID, b.Ticket.ID)
	})
}

// FromWGS84 renders a WGS-84 point in the coordinate system a client asked
// for (maps in China draw GCJ-02).
func FromWGS84(p model.Point, ct model.CoordType) (lat, lng float64) {
	if ct == model.CoordGCJ02 {
		g := geo.WGS84ToGCJ02(geo.Point{Lat: p.Lat, Lng: p.Lng})
		return g.Lat, g.Lng
	}
	return p.Lat, p.Lng
}
