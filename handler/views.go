package handler

import (
	"time"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service/photos"
	"github.com/citizen-city/chengguantong/service/ticket"
)

// A ticket has one JSON view per audience, each built here from model and
// nowhere else; the other resources' views sit beside their handlers.
//
//	audience                          view             answered by
//	its reporter                      reportJSON       POST /reports, /reports/mine, /reports/{id}, feedback
//	its followers                     reportJSON       /reports/{id} (toFollowerReport: no reporter's words or photos)
//	its assignee                      taskJSON         /tasks, /tasks/pool, claim, accept, resolve, extension
//	staff, in a list                  staffTicketJSON  /admin/tickets (no timeline, no phone)
//	staff, one ticket                 staffTicketJSON  /admin/tickets/{id} and every staff step
//	anyone nearby                     nearbyJSON       /reports/nearby (no identity at all)
//	other platforms                   requestJSON/XML  /open311/v2/requests (open311.go)
//
// What every audience sees of a ticket is ticketJSON, embedded in the
// first three; each adds its own. The reporter's identity is in none of
// them; a hotline caller's is in the staff's only, masked until a reveal
// (privacy.go), and a leader's staff view masks names and phones
// (forViewer).

// ticketJSON is what every audience of a ticket sees: what, where, since
// when, by when, and how it was resolved.
type ticketJSON struct {
	ID string `json:"id"`
	// CaseNo is the 案件编号 (YYYYMMDD-NNNN) a caller quotes; every route
	// that takes the id takes it too.
	CaseNo      string          `json:"case_no"`
	Status      string          `json:"status"`
	Source      string          `json:"source"`
	Category    string          `json:"category"`
	Description string          `json:"description"`
	Location    locationOut     `json:"location"`
	Address     string          `json:"address"`
	Photos      []photoRef      `json:"photos"`
	GridID      *string         `json:"grid_id"`
	Reporters   int             `json:"reporters"`
	CreatedAt   time.Time       `json:"created_at"`
	DueAt       *time.Time      `json:"due_at"`
	Extension   *extensionJSON  `json:"extension,omitempty"`
	Resolution  *resolutionJSON `json:"resolution,omitempty"`
}

func (h *handlers) toTicket(t *model.Ticket) ticketJSON {
	out := ticketJSON{
		ID: t.ID, CaseNo: t.CaseNo, Status: string(t.Status), Source: string(t.Source), Category: t.Category, Description: t.Description,
		Location: locationOut{Lat: t.Location.Lat, Lng: t.Location.Lng, CoordType: string(t.Location.CoordType)},
		Address:  t.Address, Photos: h.photoRefs(t.PhotoIDs), Reporters: t.Reporters, CreatedAt: t.CreatedAt.UTC(),
		DueAt: timePtr(t.DueAt), Extension: toExtension(t.Extension),
	}
	if t.GridCode != "" {
		g := t.GridCode
		out.GridID = &g
	}
	if res := t.Resolution; res != nil {
		out.Resolution = &resolutionJSON{Note: res.Note, Photos: h.photoRefs(res.PhotoIDs), ResolvedAt: res.ResolvedAt.UTC()}
	}
	return out
}

// reportJSON is a report as its reporter sees it (a follower, whose report
// was merged into it, sees what the service leaves in it).
type reportJSON struct {
	ticketJSON
	DuplicateOf  string        `json:"duplicate_of,omitempty"`
	RejectReason string        `json:"reject_reason,omitempty"`
	SelfHandled  bool          `json:"self_handled,omitempty"`
	UpdatedAt    time.Time     `json:"updated_at"`
	Timeline     []eventJSON   `json:"timeline"`
	Feedback     *feedbackJSON `json:"feedback,omitempty"`
}

func (h *handlers) toReport(t *model.Ticket) reportJSON {
	r := reportJSON{ticketJSON: h.toTicket(t), DuplicateOf: t.DuplicateOf, RejectReason: t.RejectReason,
		SelfHandled: t.SelfHandled, UpdatedAt: t.UpdatedAt.UTC(), Timeline: make([]eventJSON, len(t.Timeline)),
		Feedback: toFeedback(t.Feedback)}
	for i, e := range t.Timeline {
		r.Timeline[i] = eventJSON{At: e.At.UTC(), Type: string(e.Type), Name: e.Type.Stage(), Status: string(e.Status), Note: e.Note}
		if e.ActorRole == model.RoleGridWorker || e.ActorRole == model.RolePartyMember || e.ActorRole == model.RoleStaff {
			r.Timeline[i].Actor = &actorJSON{Role: string(e.ActorRole), Name: e.ActorName}
		}
	}
	return r
}

// eventJSON is a step of a report's timeline as its reporter sees it.
type eventJSON struct {
	At   time.Time `json:"at"`
	Type string    `json:"type"`
	// Name is the GB/T 30428 stage of the step (立案, 派遣, 处置 …).
	Name   string     `json:"name"`
	Status string     `json:"status"`
	Note   string     `json:"note,omitempty"`
	Actor  *actorJSON `json:"actor,omitempty"`
}

// actorJSON shows who acted only by role and masked name.
type actorJSON struct {
	Role string `json:"role"`
	Name string `json:"name,omitempty"`
}

// taskJSON is a ticket as its assignee sees it: what and where, by when,
// never who reported it.
type taskJSON struct {
	ticketJSON
	Community string     `json:"community,omitempty"`
	AcceptBy  *time.Time `json:"accept_by,omitempty"`
	// Overdue: open and past its deadline (model.Ticket.OpenOverdue).
	Overdue bool `json:"overdue"`
}

func (h *handlers) toTask(t *model.Ticket) taskJSON {
	return taskJSON{ticketJSON: h.toTicket(t), Community: t.Community, AcceptBy: timePtr(t.AcceptBy), Overdue: t.OpenOverdue()}
}

// staffTicketJSON is a ticket as staff see it: everything but the
// reporter's identity, with the assignee by name. In a list it has no
// timeline and no phone; one ticket's own view has both.
type staffTicketJSON struct {
	ticketJSON
	Community    string           `json:"community,omitempty"`
	DuplicateOf  string           `json:"duplicate_of,omitempty"`
	RejectReason string           `json:"reject_reason,omitempty"`
	Assignee     *staffPersonJSON `json:"assignee"`
	RegisteredAt *time.Time       `json:"registered_at,omitempty"`
	Held         bool             `json:"held"`
	HeldReason   string           `json:"held_reason,omitempty"`
	Queue        string           `json:"queue,omitempty"`
	Pool         bool             `json:"pool"`
	// Overdue is open and past the deadline (what overdue=true lists), Late
	// closed after it (late=true); Escalated that the deadline passed while
	// open, whatever happened since (已升级).
	Overdue   bool          `json:"overdue"`
	Late      bool          `json:"late"`
	Escalated bool          `json:"escalated"`
	Returns   int           `json:"returns"`
	Reopens   int           `json:"reopens"`
	UpdatedAt time.Time     `json:"updated_at"`
	Feedback  *feedbackJSON `json:"feedback,omitempty"`
	// The workflow's branches and channels (docs/state-machine.md); caller
	// is a hotline case's caller.
	DeferredFrom string           `json:"deferred_from,omitempty"`
	Urges        int              `json:"urges"`
	VerifyFails  int              `json:"verify_fails"`
	SelfHandled  bool             `json:"self_handled"`
	PhotoFlags   []string         `json:"photo_flags,omitempty"`
	Caller       *callerJSON      `json:"caller,omitempty"`
	Timeline     []staffEventJSON `json:"timeline,omitempty"`
}

// toStaffTicket shows st to staff; full is one ticket's own view (the
// timeline, the assignee's phone), else a list's.
func (h *handlers) toStaffTicket(st *ticket.StaffTicket, full bool) staffTicketJSON {
	t := st.Ticket
	out := staffTicketJSON{
		ticketJSON: h.toTicket(t), Community: t.Community, DuplicateOf: t.DuplicateOf, RejectReason: t.RejectReason,
		Assignee: toStaffPerson(st.Assignee, full), RegisteredAt: timePtr(t.RegisteredAt), Held: t.Held, HeldReason: st.HeldReason(),
		Queue: t.Queue, Pool: t.Pool, Overdue: t.OpenOverdue(), Late: t.ClosedLate(), Escalated: t.Escalated, Returns: t.Returns, Reopens: t.Reopens,
		UpdatedAt: t.UpdatedAt.UTC(), Feedback: toFeedback(t.Feedback), DeferredFrom: string(t.DeferredFrom), Urges: t.Urges,
		VerifyFails: t.VerifyFails, SelfHandled: t.SelfHandled, PhotoFlags: t.PhotoFlags, Caller: maskedCaller(t),
	}
	if full {
		out.Timeline = make([]staffEventJSON, len(st.Timeline))
		for i, e := range st.Timeline {
			out.Timeline[i] = staffEventJSON{At: e.At.UTC(), Type: string(e.Type), Name: e.Type.Stage(), Status: string(e.Status), Note: e.Note,
				Actor: toStaffPerson(e.Actor, false), Assignee: toStaffPerson(e.Target, false)}
		}
	}
	return out
}

// staffEventJSON is a step of the timeline as staff see it: who acted, and
// for a dispatch or a claim to whom the ticket went.
type staffEventJSON struct {
	At   time.Time `json:"at"`
	Type string    `json:"type"`
	// Name is the GB/T 30428 stage of the step (立案, 派遣, 督办 …).
	Name     string           `json:"name"`
	Status   string           `json:"status"`
	Note     string           `json:"note,omitempty"`
	Actor    *staffPersonJSON `json:"actor,omitempty"`
	Assignee *staffPersonJSON `json:"assignee,omitempty"`
}

// staffPersonJSON is who holds or acts on a ticket, by real name; phone in
// the ticket's own view only.
type staffPersonJSON struct {
	ID    string `json:"id,omitempty"`
	Name  string `json:"name"`
	Role  string `json:"role"`
	Phone string `json:"phone,omitempty"`
	// Where a worker or party member serves.
	GridCodes   []string `json:"grid_codes,omitempty"`
	Communities []string `json:"communities,omitempty"`
}

func toStaffPerson(p *ticket.Person, phone bool) *staffPersonJSON {
	if p == nil {
		return nil
	}
	out := &staffPersonJSON{ID: p.ID, Name: p.Name, Role: string(p.Role), GridCodes: p.GridCodes, Communities: p.Communities}
	if p.Role == model.RoleResident {
		out.ID = "" // a resident is shown by role only
	}
	if phone {
		out.Phone = p.Phone
	}
	return out
}

// unnamedStaffTicket is t for staff when the names of its people cannot be
// looked up: each person by role, account id and the masked name the
// timeline keeps.
func unnamedStaffTicket(t *model.Ticket) *ticket.StaffTicket {
	st := &ticket.StaffTicket{Ticket: t, Timeline: make([]ticket.StaffEvent, len(t.Timeline))}
	if t.AssigneeID != "" {
		st.Assignee = &ticket.Person{ID: t.AssigneeID, Role: t.AssigneeRole}
	}
	for i, e := range t.Timeline {
		st.Timeline[i] = ticket.StaffEvent{Event: e}
		if e.ActorRole != "" {
			st.Timeline[i].Actor = &ticket.Person{ID: e.ActorID, Name: e.ActorName, Role: e.ActorRole}
		}
	}
	return st
}

// callerJSON is a hotline caller, shown to staff only: masked in every
// view (maskedCaller), in full by a reveal (privacy.go).
type callerJSON struct {
	Name   string `json:"name,omitempty"`
	Phone  string `json:"phone,omitempty"`
	Masked bool   `json:"masked,omitempty"`
}

// nearbyJSON is an open ticket near a point, for anyone deciding whether to
// report: no identity, the point in the caller's coordinate system.
type nearbyJSON struct {
	ID        string      `json:"id"`
	Category  string      `json:"category"`
	Status    string      `json:"status"`
	Location  locationOut `json:"location"`
	DistanceM float64     `json:"distance_m"`
	CreatedAt time.Time   `json:"created_at"`
	Reporters int         `json:"reporters"`
}

func toNearby(n ticket.Nearby, ct model.CoordType) nearbyJSON {
	lat, lng := ticket.FromWGS84(n.Ticket.Point, ct)
	return nearbyJSON{
		ID: n.Ticket.ID, Category: n.Ticket.Category, Status: string(n.Ticket.Status),
		Location:  locationOut{Lat: lat, Lng: lng, CoordType: string(ct)},
		DistanceM: float64(int(n.DistanceM*10)) / 10, CreatedAt: n.Ticket.CreatedAt.UTC(), Reporters: n.Ticket.Reporters,
	}
}

// locationOut is a point as a view shows it.
type locationOut struct {
	Lat       float64 `json:"lat"`
	Lng       float64 `json:"lng"`
	CoordType string  `json:"coord_type"`
}

// photoRef is a photo by its signed, expiring URLs.
type photoRef struct {
	ID           string `json:"id"`
	URL          string `json:"url"`
	ThumbnailURL string `json:"thumbnail_url"`
	// OriginalURL is the unblurred original of a redacted photo (the
	// photo itself if never redacted): in dispatchers' and admins' views
	// only.
	OriginalURL string `json:"original_url,omitempty"`
}

func (h *handlers) photoRefs(ids []string) []photoRef {
	out := make([]photoRef, len(ids))
	for i, id := range ids {
		out[i] = photoRef{ID: id, URL: h.PhotoURLs.URL(id, photos.VariantFull), ThumbnailURL: h.PhotoURLs.URL(id, photos.VariantThumb)}
	}
	return out
}

type resolutionJSON struct {
	Note       string     `json:"note"`
	Photos     []photoRef `json:"photos"`
	ResolvedAt time.Time  `json:"resolved_at"`
}

type feedbackJSON struct {
	Satisfied bool   `json:"satisfied"`
	Rating    int    `json:"rating"`
	Comment   string `json:"comment,omitempty"`
}

func toFeedback(fb *model.Feedback) *feedbackJSON {
	if fb == nil {
		return nil
	}
	return &feedbackJSON{Satisfied: fb.Satisfied, Rating: fb.Rating, Comment: fb.Comment}
}

// extensionJSON is a ticket's latest 延期 request.
type extensionJSON struct {
	Status      string     `json:"status"`
	Hours       int        `json:"hours"`
	Reason      string     `json:"reason"`
	RequestedAt time.Time  `json:"requested_at"`
	DecidedAt   *time.Time `json:"decided_at,omitempty"`
	Note        string     `json:"note,omitempty"`
}

func toExtension(x *model.Extension) *extensionJSON {
	if x == nil {
		return nil
	}
	return &extensionJSON{Status: string(x.Status), Hours: x.Hours, Reason: x.Reason, RequestedAt: x.RequestedAt.UTC(),
		DecidedAt: timePtr(x.DecidedAt), Note: x.Note}
}

// timePtr is t in UTC, or nil for the zero time (a JSON null).
func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}
