package main

import (
	"strings"
	"time"

	"github.com/citizen-city/chengguantong/geo"
	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/store/sqlite"
)

// The documents of the FerretDB-based embedded mode, as its store (package
// store at 06dffe6 and the versions before it) wrote them. They are copied
// here, not shared with store/mongodb: that package's documents have moved
// on, and these must not.

// The collections of the old store.
const (
	colUsers             = "users"
	colStaff             = "staff"
	colInvites           = "invites"
	colInviteRedemptions = "invite_redemptions"
	colProfileLinks      = "profile_links"
	colWorkers           = "workers"
	colBranches          = "branches"
	colPartyMembers      = "party_members"
	colPhoneClaims       = "phone_claims"
	colCategories        = "categories"
	colGrids             = "grids"
	colMeta              = "meta"
	colPhotos            = "photos"
	colPhotoClaims       = "photo_claims"
	colPhotoTraces       = "photo_traces"
	colMediaVerdicts     = "media_verdicts"
	colPhotoFiles        = "photo_files.files"
	colPhotoChunks       = "photo_files.chunks"
	colActivities        = "activities"
	colCheckins          = "activity_checkins"
	colAPIKeys           = "open311_keys"
	colSubmitters        = "open311_submitters"
	colSubscriptions     = "subscriptions"
	colNotifications     = "notifications"
	colTickets           = "tickets"
	colTicketLog         = "ticket_log"
	colStatsVersion      = "ticket_stats_version"
)

// derivedCollections are the old store's bookkeeping, which the new store
// does not need: the statistics' roll-ups and their applier's state (the
// new store counts the tickets as it loads them).
var derivedCollections = []string{"rollups", "stats_state", "stats_pending", "stats_seq", "stats_marks", colStatsVersion}

// utc is t in UTC, and the zero time for the zero instant BSON stores for
// an unset time.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

type oldUser struct {
	ID            string    `bson:"_id"`
	OpenID        string    `bson:"openid"`
	Roles         []string  `bson:"roles"`
	WorkerID      string    `bson:"worker_id"`
	PartyMemberID string    `bson:"party_member_id"`
	OnDuty        bool      `bson:"on_duty"`
	CreatedAt     time.Time `bson:"created_at"`
}

func (d *oldUser) model() model.User {
	u := model.User{ID: d.ID, Kind: model.KindWeChat, OpenID: d.OpenID, WorkerID: d.WorkerID, PartyMemberID: d.PartyMemberID,
		OnDuty: d.OnDuty, CreatedAt: utc(d.CreatedAt)}
	for _, r := range d.Roles {
		u.Roles = append(u.Roles, model.Role(r))
	}
	return u
}

type oldStaff struct {
	ID           string    `bson:"_id"`
	Username     string    `bson:"username"`
	PasswordHash []byte    `bson:"password_hash"`
	CreatedAt    time.Time `bson:"created_at"`
}

// oldInvite is an invite: _id is the digest of the code. Its use is decided
// by the redemption (oldRedemption, same _id), which a crash could leave
// without the invite's used_by.
type oldInvite struct {
	ID        string    `bson:"_id"`
	Role      string    `bson:"role"`
	ProfileID string    `bson:"profile_id"`
	ExpiresAt time.Time `bson:"expires_at"`
	UsedBy    string    `bson:"used_by"`
	UsedAt    time.Time `bson:"used_at"`
	Revoked   bool      `bson:"revoked"`
	CreatedAt time.Time `bson:"created_at"`
}

type oldRedemption struct {
	ID     string    `bson:"_id"`
	UserID string    `bson:"user_id"`
	At     time.Time `bson:"at"`
}

func (d *oldInvite) record(r *oldRedemption) sqlite.InviteRecord {
	inv := model.Invite{Role: model.Role(d.Role), ProfileID: d.ProfileID, ExpiresAt: utc(d.ExpiresAt), UsedBy: d.UsedBy, UsedAt: utc(d.UsedAt)}
	if r != nil {
		inv.UsedBy, inv.UsedAt = r.UserID, utc(r.At)
	}
	return sqlite.InviteRecord{CodeHash: d.ID, Invite: inv, Revoked: d.Revoked, CreatedAt: utc(d.CreatedAt)}
}

// oldLink binds a profile to a WeChat user: _id is "<role>/<profile id>".
// It decides the binding; the profile's user_id follows it, unless a crash
// came between.
type oldLink struct {
	ID     string `bson:"_id"`
	UserID string `bson:"user_id"`
}

type oldWorker struct {
	ID        string    `bson:"_id"`
	Name      string    `bson:"name"`
	Phone     string    `bson:"phone"`
	GridCodes []string  `bson:"grid_codes"`
	UserID    string    `bson:"user_id"`
	Inactive  bool      `bson:"inactive"`
	CreatedAt time.Time `bson:"created_at"`
}

type oldBranch struct {
	ID        string    `bson:"_id"`
	Name      string    `bson:"name"`
	CreatedAt time.Time `bson:"created_at"`
}

type oldMember struct {
	ID          string    `bson:"_id"`
	Name        string    `bson:"name"`
	Phone       string    `bson:"phone"`
	BranchID    string    `bson:"branch_id"`
	Communities []string  `bson:"communities"`
	UserID      string    `bson:"user_id"`
	Inactive    bool      `bson:"inactive"`
	CreatedAt   time.Time `bson:"created_at"`
}

// oldPhoneClaim: _id is "<role>/<phone>".
type oldPhoneClaim struct {
	ID      string    `bson:"_id"`
	Profile string    `bson:"profile"`
	At      time.Time `bson:"at"`
}

func (d *oldPhoneClaim) claim() sqlite.PhoneClaim {
	role, phone, _ := strings.Cut(d.ID, "/")
	return sqlite.PhoneClaim{Role: model.Role(role), Phone: phone, ProfileID: d.Profile, At: utc(d.At)}
}

type oldCategory struct {
	Code              string `bson:"_id"`
	Name              string `bson:"name"`
	Major             string `bson:"major"`
	SLAHours          int    `bson:"sla_hours"`
	VolunteerSuitable bool   `bson:"volunteer_suitable"`
	DuplicateRadiusM  int    `bson:"duplicate_radius_m"`
}

type oldGrid struct {
	Code      string    `bson:"_id"`
	Name      string    `bson:"name"`
	Community string    `bson:"community"`
	Shape     []byte    `bson:"shape"`
	UpdatedAt time.Time `bson:"updated_at"`
}

func (d *oldGrid) record() (sqlite.GridRecord, error) {
	shape, err := geo.DecodeShape(d.Shape)
	if err != nil {
		return sqlite.GridRecord{}, err
	}
	return sqlite.GridRecord{Grid: geo.Grid{Code: d.Code, Name: d.Name, Community: d.Community, Shape: shape}, UpdatedAt: utc(d.UpdatedAt)}, nil
}

type oldPoint struct {
	Lat float64 `bson:"lat"`
	Lng float64 `bson:"lng"`
}

type oldModeration struct {
	TraceID   string    `bson:"trace_id"`
	Suggest   string    `bson:"suggest"`
	SentAt    time.Time `bson:"sent_at"`
	CheckedAt time.Time `bson:"checked_at"`
}

// oldPhoto is what is known of a photo; its bytes are the GridFS files
// "<id>.full" and "<id>.thumb" of the bucket photo_files. Its use is
// decided by its claim (photo_claims, same _id): a ticket's id, or
// "-deleted" for a photo being deleted.
type oldPhoto struct {
	ID          string        `bson:"_id"`
	OwnerID     string        `bson:"owner_id"`
	ContentType string        `bson:"content_type"`
	Width       int           `bson:"width"`
	Height      int           `bson:"height"`
	Size        int64         `bson:"size"`
	SHA256      string        `bson:"sha256"`
	ThumbSHA256 string        `bson:"thumb_sha256"`
	ThumbSize   int64         `bson:"thumb_size"`
	TakenAt     *time.Time    `bson:"taken_at"`
	ExifLoc     *oldPoint     `bson:"exif_location"`
	UsedBy      string        `bson:"used_by"`
	Moderation  oldModeration `bson:"moderation"`
	CreatedAt   time.Time     `bson:"created_at"`
}

// claimDeleted is the claim of a photo the sweeper was deleting.
const claimDeleted = "-deleted"

type oldPhotoClaim struct {
	ID     string `bson:"_id"`
	Ticket string `bson:"ticket"`
}

// oldTrace is a content check: _id is the trace id. The verdict lands on
// it first, then on the photo.
type oldTrace struct {
	ID        string    `bson:"_id"`
	Photo     string    `bson:"photo"`
	Suggest   string    `bson:"suggest"`
	CheckedAt time.Time `bson:"checked_at"`
	At        time.Time `bson:"at"`
}

type oldVerdict struct {
	ID      string    `bson:"_id"`
	Suggest string    `bson:"suggest"`
	At      time.Time `bson:"at"`
}

func (d *oldPhoto) record(usedBy string, trace *oldTrace) sqlite.PhotoRecord {
	p := model.Photo{ID: d.ID, OwnerID: d.OwnerID, ContentType: d.ContentType, Width: d.Width, Height: d.Height,
		Size: d.Size, SHA256: d.SHA256, UsedBy: usedBy, CreatedAt: utc(d.CreatedAt),
		Moderation: model.Moderation{TraceID: d.Moderation.TraceID, Suggest: d.Moderation.Suggest, CheckedAt: utc(d.Moderation.CheckedAt)}}
	if d.TakenAt != nil {
		t := d.TakenAt.UTC()
		p.TakenAt = &t
	}
	if d.ExifLoc != nil {
		p.ExifLocation = &model.Point{Lat: d.ExifLoc.Lat, Lng: d.ExifLoc.Lng}
	}
	if trace != nil && p.Moderation.Suggest == "" && trace.Suggest != "" {
		// The verdict reached the trace but not the photo (a crash between).
		p.Moderation.Suggest, p.Moderation.CheckedAt = trace.Suggest, utc(trace.CheckedAt)
	}
	return sqlite.PhotoRecord{Photo: p, ThumbSize: d.ThumbSize, ThumbSHA256: d.ThumbSHA256, SentAt: utc(d.Moderation.SentAt)}
}

// oldFile is a GridFS file of the photo bucket: _id is "<photo id>.<variant>".
type oldFile struct {
	ID     string `bson:"_id"`
	Length int64  `bson:"length"`
}

type oldChunk struct {
	FileID string `bson:"files_id"`
	N      int    `bson:"n"`
	Data   []byte `bson:"data"`
}

type oldActivity struct {
	ID        string    `bson:"_id"`
	Title     string    `bson:"title"`
	Kind      string    `bson:"kind"`
	Community string    `bson:"community"`
	StartsAt  time.Time `bson:"starts_at"`
	EndsAt    time.Time `bson:"ends_at"`
	CreatedBy string    `bson:"created_by"`
	CreatedAt time.Time `bson:"created_at"`
}

type oldCheckin struct {
	ActivityID string    `bson:"activity_id"`
	Kind       string    `bson:"kind"`
	StartsAt   time.Time `bson:"starts_at"`
	MemberID   string    `bson:"member_id"`
	UserID     string    `bson:"user_id"`
	BranchID   string    `bson:"branch_id"`
	At         time.Time `bson:"at"`
}

type oldAPIKey struct {
	ID        string    `bson:"_id"`
	Name      string    `bson:"name"`
	Hash      string    `bson:"hash"`
	CreatedBy string    `bson:"created_by"`
	CreatedAt time.Time `bson:"created_at"`
	RevokedAt time.Time `bson:"revoked_at"`
}

type oldSubmitter struct {
	TicketID  string    `bson:"_id"`
	KeyID     string    `bson:"key_id"`
	KeyName   string    `bson:"key_name"`
	Email     string    `bson:"email"`
	Phone     string    `bson:"phone"`
	FirstName string    `bson:"first_name"`
	LastName  string    `bson:"last_name"`
	DeviceID  string    `bson:"device_id"`
	AccountID string    `bson:"account_id"`
	MediaURL  string    `bson:"media_url"`
	AddressID string    `bson:"address_id"`
	CreatedAt time.Time `bson:"created_at"`
}

// oldAllowance: _id is "<user>|<template>".
type oldAllowance struct {
	ID         string    `bson:"_id"`
	UserID     string    `bson:"user_id"`
	TemplateID string    `bson:"template_id"`
	Remaining  int       `bson:"remaining"`
	UpdatedAt  time.Time `bson:"updated_at"`
}

func (d *oldAllowance) record() sqlite.Allowance {
	user, tmpl := d.UserID, d.TemplateID
	if user == "" || tmpl == "" {
		user, tmpl, _ = strings.Cut(d.ID, "|")
	}
	return sqlite.Allowance{UserID: user, TemplateID: tmpl, Remaining: d.Remaining, UpdatedAt: utc(d.UpdatedAt)}
}

type oldNotification struct {
	Key        string    `bson:"_id"`
	Status     string    `bson:"status"`
	UserID     string    `bson:"user_id"`
	TemplateID string    `bson:"template_id"`
	At         time.Time `bson:"at"`
	FinishedAt time.Time `bson:"finished_at"`
}

// The ticket: one document per ticket (oldTicket) and one log entry per
// committed transition (oldLogEntry, _id "<ticket>/<version>", holding the
// ticket's changeable fields after it). The log entry decides a
// transition; a crash between it and the ticket's update leaves the
// ticket behind its log, which the old store rolled forward on the next
// change — and the migration does too.

type oldLocation struct {
	Lat       float64 `bson:"lat"`
	Lng       float64 `bson:"lng"`
	CoordType string  `bson:"coord_type"`
}

type oldEvent struct {
	At        time.Time `bson:"at"`
	Type      string    `bson:"type"`
	Status    string    `bson:"status"`
	ActorID   string    `bson:"actor_id"`
	ActorRole string    `bson:"actor_role"`
	ActorName string    `bson:"actor_name"`
	Note      string    `bson:"note"`
	Assignee  string    `bson:"assignee"`
}

type oldExtension struct {
	Status      string    `bson:"status"`
	Hours       int       `bson:"hours"`
	Reason      string    `bson:"reason"`
	RequestedAt time.Time `bson:"requested_at"`
	RequestedBy string    `bson:"requested_by"`
	DecidedAt   time.Time `bson:"decided_at"`
	DecidedBy   string    `bson:"decided_by"`
	Note        string    `bson:"note"`
}

type oldResolution struct {
	Note       string    `bson:"note"`
	PhotoIDs   []string  `bson:"photo_ids"`
	ResolvedAt time.Time `bson:"resolved_at"`
	ResolverID string    `bson:"resolver_id"`
}

type oldFeedback struct {
	Satisfied bool      `bson:"satisfied"`
	Rating    int       `bson:"rating"`
	Comment   string    `bson:"comment"`
	At        time.Time `bson:"at"`
}

// oldFields are the fields a transition may change.
type oldFields struct {
	Status       string         `bson:"status"`
	GridCode     string         `bson:"grid_code"`
	Community    string         `bson:"community"`
	AssigneeID   string         `bson:"assignee_id"`
	AssigneeRole string         `bson:"assignee_role"`
	DuplicateOf  string         `bson:"duplicate_of"`
	Reporters    int            `bson:"reporters"`
	Followers    []string       `bson:"followers"`
	MergedIDs    []string       `bson:"merged_ids"`
	Queue        string         `bson:"queue"`
	Pool         bool           `bson:"pool"`
	ReturnedBy   []string       `bson:"returned_by"`
	Escalated    bool           `bson:"escalated"`
	RegisteredAt time.Time      `bson:"registered_at"`
	RejectReason string         `bson:"reject_reason"`
	Held         bool           `bson:"held"`
	Returns      int            `bson:"returns"`
	Reopens      int            `bson:"reopens"`
	Overdue      bool           `bson:"overdue"`
	DueAt        time.Time      `bson:"due_at"`
	AcceptBy     time.Time      `bson:"accept_by"`
	Resolution   *oldResolution `bson:"resolution"`
	Feedback     *oldFeedback   `bson:"feedback"`
	Timeline     []oldEvent     `bson:"timeline"`
	UpdatedAt    time.Time      `bson:"updated_at"`
	Extension    *oldExtension  `bson:"extension"`
	DeferredFrom string         `bson:"deferred_from"`
	DeferredAt   time.Time      `bson:"deferred_at"`
	DeferredLeft int64          `bson:"deferred_left_s"`
	Urges        int            `bson:"urges"`
	VerifyFails  int            `bson:"verify_fails"`
	SelfHandled  bool           `bson:"self_handled"`
	PhotoFlags   []string       `bson:"photo_flags"`
}

type oldTicket struct {
	ID          string      `bson:"_id"`
	Idem        string      `bson:"idem"`
	BodyHash    string      `bson:"body_hash"`
	ReporterID  string      `bson:"reporter_id"`
	Category    string      `bson:"category"`
	Description string      `bson:"description"`
	Location    oldLocation `bson:"location"`
	Point       oldPoint    `bson:"point"`
	Address     string      `bson:"address"`
	PhotoIDs    []string    `bson:"photo_ids"`
	Source      string      `bson:"source"`
	CallerName  string      `bson:"caller_name"`
	CallerPhone string      `bson:"caller_phone"`
	Version     int64       `bson:"version"`
	CreatedAt   time.Time   `bson:"created_at"`
	Fields      oldFields   `bson:",inline"`
}

type oldLogEntry struct {
	ID      string    `bson:"_id"`
	Ticket  string    `bson:"ticket"`
	Version int64     `bson:"version"`
	Fields  oldFields `bson:"fields"`
}

// oldStatsVersion is the version of a ticket the old statistics counted.
type oldStatsVersion struct {
	ID string `bson:"_id"`
	V  int64  `bson:"v"`
}

// ticket is the ticket as the old store read it (its Get), in UTC.
func (d *oldTicket) ticket() *model.Ticket {
	f := &d.Fields
	source := model.Source(d.Source)
	if source == "" { // stored before sources existed: a resident's WeChat report
		source = model.SourceWeChat
	}
	t := &model.Ticket{
		ID: d.ID, ReporterID: d.ReporterID, Category: d.Category, Description: d.Description,
		Location: model.Location{Lat: d.Location.Lat, Lng: d.Location.Lng, CoordType: model.CoordType(d.Location.CoordType)},
		Point:    model.Point{Lat: d.Point.Lat, Lng: d.Point.Lng}, Address: d.Address, PhotoIDs: d.PhotoIDs, Source: source,
		Status: model.Status(f.Status), Version: d.Version, GridCode: f.GridCode, Community: f.Community,
		AssigneeID: f.AssigneeID, AssigneeRole: model.Role(f.AssigneeRole), DuplicateOf: f.DuplicateOf,
		Reporters: f.Reporters, Followers: f.Followers, MergedIDs: f.MergedIDs, RejectReason: f.RejectReason,
		Queue: f.Queue, Pool: f.Pool, ReturnedBy: f.ReturnedBy, Escalated: f.Escalated, RegisteredAt: utc(f.RegisteredAt),
		Held: f.Held, Returns: f.Returns, Reopens: f.Reopens, Overdue: f.Overdue, DueAt: utc(f.DueAt), AcceptBy: utc(f.AcceptBy),
		CreatedAt: utc(d.CreatedAt), UpdatedAt: utc(f.UpdatedAt), CallerName: d.CallerName, CallerPhone: d.CallerPhone,
	}
	if r := f.Resolution; r != nil {
		t.Resolution = &model.Resolution{Note: r.Note, PhotoIDs: r.PhotoIDs, ResolvedAt: utc(r.ResolvedAt), ResolverID: r.ResolverID}
	}
	if fb := f.Feedback; fb != nil {
		t.Feedback = &model.Feedback{Satisfied: fb.Satisfied, Rating: fb.Rating, Comment: fb.Comment, At: utc(fb.At)}
	}
	for _, e := range f.Timeline {
		t.Timeline = append(t.Timeline, model.Event{At: utc(e.At), Type: model.EventType(e.Type), Status: model.Status(e.Status),
			ActorID: e.ActorID, ActorRole: model.Role(e.ActorRole), ActorName: e.ActorName, Note: e.Note, AssigneeID: e.Assignee})
	}
	if x := f.Extension; x != nil {
		t.Extension = &model.Extension{Status: model.ExtensionStatus(x.Status), Hours: x.Hours, Reason: x.Reason,
			RequestedAt: utc(x.RequestedAt), RequestedBy: x.RequestedBy, DecidedAt: utc(x.DecidedAt), DecidedBy: x.DecidedBy, Note: x.Note}
	}
	t.DeferredFrom, t.DeferredAt, t.DeferredLeft = model.Status(f.DeferredFrom), utc(f.DeferredAt), time.Duration(f.DeferredLeft)*time.Second
	t.Urges, t.VerifyFails, t.SelfHandled, t.PhotoFlags = f.Urges, f.VerifyFails, f.SelfHandled, f.PhotoFlags
	return t
}
