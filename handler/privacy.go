package handler

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service/audit"
	"github.com/citizen-city/chengguantong/service/people"
	"github.com/citizen-city/chengguantong/service/photos"
	"github.com/citizen-city/chengguantong/service/privacy"
)

// The duty of care's routes (API.md, "Staff roles, access trail, data
// rights, redaction"): staff accounts under roles, signing out and own
// passwords, revealing an identity, the access trail, a resident's data
// and 注销, the redaction of photos; and what the views of a ticket hide
// from whom: a leader reads no phone and no full name, a follower none of
// the first reporter's words or photos.

// StaffService is the staff accounts' management (people.Auth).
type StaffService interface {
	CreateStaff(ctx context.Context, in people.StaffInput) (*model.User, error)
	ListStaff(ctx context.Context) ([]*model.User, error)
	UpdateStaff(ctx context.Context, id string, p people.StaffPatch) (*model.User, error)
	ResetStaffPassword(ctx context.Context, id, password string) (*model.User, error)
	ChangeOwnPassword(ctx context.Context, u *model.User, old, newPassword string) (*model.Session, error)
}

// PrivacyService is identities, data rights and redaction (privacy.Service).
type PrivacyService interface {
	Reveal(ctx context.Context, ref string) (*privacy.Identity, error)
	MyData(ctx context.Context, u *model.User) (*privacy.Data, error)
	DeleteAccount(ctx context.Context, u *model.User) error
	Redact(ctx context.Context, id string, rects []privacy.Rect) (*model.Photo, error)
}

// AuditService reads the access trail (audit.Trail).
type AuditService interface {
	List(ctx context.Context, q model.AuditQuery, cursor string, limit int) ([]model.AuditEntry, string, error)
	Export(ctx context.Context, q model.AuditQuery, filter string, w io.Writer) error
}

// withAuditSource puts the client's address — as the IP extractor resolves
// it, TRUSTED_PROXIES respected — into the request's context, for the
// access trail; authenticate adds who is calling.
func withAuditSource() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			c.SetRequest(r.WithContext(audit.WithSource(r.Context(), audit.Source{IP: c.RealIP()})))
			return next(c)
		}
	}
}

// setAuditActor names the authenticated user in the request's context.
func setAuditActor(c echo.Context, u *model.User) {
	name := u.Name
	if name == "" {
		name = u.Username
	}
	if u.Kind == model.KindWeChat {
		name = "" // a resident acts under no name
	}
	r := c.Request()
	c.SetRequest(r.WithContext(audit.WithSource(r.Context(), audit.Source{ActorID: u.ID, ActorName: name, IP: c.RealIP()})))
}

// seesIdentities reports whether u may read names and phone numbers in
// full in the staff's views: dispatchers and admins; a leader reads them
// masked.
func seesIdentities(u *model.User) bool {
	return u.HasAny(model.RoleDispatcher, model.RoleAdmin)
}

// --- signing out, own password ---------------------------------------------

// logout ends the caller's session on every instance and clears the
// console's cookie (204). Signed in by the cookie, the request carries
// X-Requested-With like every write by cookie (authenticate checks), so
// that another site's page cannot sign a clerk out.
func (h *handlers) logout(c echo.Context) error {
	if err := h.Auth.Logout(c.Request().Context(), currentUser(c)); err != nil {
		return err
	}
	if _, err := c.Request().Cookie(StaffCookie); err == nil {
		setStaffCookie(c, "", time.Time{})
	}
	return c.NoContent(http.StatusNoContent)
}

type passwordChangeRequest struct {
	Old string `json:"old"`
	New string `json:"new"`
}

// changePassword sets the caller's own password; the answer is a new
// session, every other one of the account having ended.
func (h *handlers) changePassword(c echo.Context) error {
	var req passwordChangeRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	s, err := h.Staff.ChangeOwnPassword(c.Request().Context(), currentUser(c), req.Old, req.New)
	if err != nil {
		return err
	}
	if _, err := c.Request().Cookie(StaffCookie); err == nil {
		setStaffCookie(c, s.Token, s.ExpiresAt) // the console's session is the new one
	}
	return c.JSON(http.StatusOK, toSession(s))
}

// --- staff accounts --------------------------------------------------------

// staffAccountJSON is a staff account as admins see it: never its password.
type staffAccountJSON struct {
	ID        string    `json:"id"`
	Username  string    `json:"username"`
	Name      string    `json:"name"`
	Roles     []string  `json:"roles"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
}

func toStaffAccount(u *model.User) staffAccountJSON {
	out := staffAccountJSON{ID: u.ID, Username: u.Username, Name: u.Name, Roles: make([]string, len(u.Roles)), Active: !u.Disabled,
		CreatedAt: u.CreatedAt.UTC()}
	for i, r := range u.Roles {
		out.Roles[i] = string(r)
	}
	return out
}

type staffRequest struct {
	Username string    `json:"username"`
	Name     string    `json:"name"`
	Roles    *[]string `json:"roles"`
	Password string    `json:"password"`
	Active   *bool     `json:"active"`
}

func roles(rs *[]string) *[]model.Role {
	if rs == nil {
		return nil
	}
	out := make([]model.Role, len(*rs))
	for i, r := range *rs {
		out[i] = model.Role(r)
	}
	return &out
}

func (h *handlers) createStaff(c echo.Context) error {
	var req staffRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	in := people.StaffInput{Username: req.Username, Name: req.Name, Password: req.Password}
	if rs := roles(req.Roles); rs != nil {
		in.Roles = *rs
	}
	u, err := h.Staff.CreateStaff(c.Request().Context(), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toStaffAccount(u))
}

func (h *handlers) listStaff(c echo.Context) error {
	us, err := h.Staff.ListStaff(c.Request().Context())
	if err != nil {
		return err
	}
	out := listJSON[staffAccountJSON]{Items: make([]staffAccountJSON, len(us))}
	for i, u := range us {
		out.Items[i] = toStaffAccount(u)
	}
	return c.JSON(http.StatusOK, out)
}

type staffPatchRequest struct {
	Name   *string   `json:"name"`
	Roles  *[]string `json:"roles"`
	Active *bool     `json:"active"`
}

func (h *handlers) patchStaff(c echo.Context) error {
	var req staffPatchRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	u, err := h.Staff.UpdateStaff(c.Request().Context(), c.Param("id"), people.StaffPatch{Name: req.Name, Roles: roles(req.Roles), Active: req.Active})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toStaffAccount(u))
}

type passwordRequest struct {
	Password string `json:"password"`
}

func (h *handlers) resetStaffPassword(c echo.Context) error {
	var req passwordRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	u, err := h.Staff.ResetStaffPassword(c.Request().Context(), c.Param("id"), req.Password)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toStaffAccount(u))
}

// --- identities -------------------------------------------------------------

// identityJSON is who is behind a ticket, in full, as a reveal shows it.
type identityJSON struct {
	TicketID  string         `json:"ticket_id"`
	CaseNo    string         `json:"case_no,omitempty"`
	Source    string         `json:"source"`
	Reporter  *reporterJSON  `json:"reporter,omitempty"`
	Caller    *callerJSON    `json:"caller,omitempty"`
	Submitter *submitterJSON `json:"submitter,omitempty"`
}

// reporterJSON is the account that reported a ticket (never its openid).
type reporterJSON struct {
	ID string `json:"id"`
}

// submitterJSON is what an Open311 client said of who filed a ticket.
type submitterJSON struct {
	FirstName string `json:"first_name,omitempty"`
	LastName  string `json:"last_name,omitempty"`
	Email     string `json:"email,omitempty"`
	Phone     string `json:"phone,omitempty"`
	DeviceID  string `json:"device_id,omitempty"`
	AccountID string `json:"account_id,omitempty"`
	KeyName   string `json:"key_name,omitempty"`
}

// revealTicket shows a dispatcher or admin who is behind a ticket; the
// access trail records it before anything is shown.
func (h *handlers) revealTicket(c echo.Context) error {
	id, err := h.Privacy.Reveal(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	t := id.Ticket
	out := identityJSON{TicketID: t.ID, CaseNo: t.CaseNo, Source: string(t.Source)}
	if id.ReporterID != "" {
		out.Reporter = &reporterJSON{ID: id.ReporterID}
	}
	if id.CallerName != "" || id.CallerPhone != "" {
		out.Caller = &callerJSON{Name: id.CallerName, Phone: id.CallerPhone}
	}
	if s := id.Submitter; s != nil {
		out.Submitter = &submitterJSON{FirstName: s.FirstName, LastName: s.LastName, Email: s.Email, Phone: s.Phone,
			DeviceID: s.DeviceID, AccountID: s.AccountID, KeyName: s.KeyName}
	}
	return c.JSON(http.StatusOK, out)
}

// maskedCaller is a hotline caller as every staff view shows them until a
// reveal: the family name and the phone's first three and last four
// digits.
func maskedCaller(t *model.Ticket) *callerJSON {
	if t.CallerName == "" && t.CallerPhone == "" {
		return nil
	}
	out := &callerJSON{Name: model.MaskName(t.CallerName), Masked: true}
	if t.CallerPhone != "" {
		out.Phone = model.MaskPhone(t.CallerPhone)
	}
	return out
}

// forViewer adapts one staff view of a ticket to who reads it: a
// dispatcher or admin also gets each photo's original (unblurred) URL; a
// leader reads no phone number and no full name — the texts scrubbed as the
// public reads them, people by masked name, in the notes too.
func (h *handlers) forViewer(c echo.Context, out *staffTicketJSON) {
	u := currentUser(c)
	if seesIdentities(u) {
		for i := range out.Photos {
			out.Photos[i].OriginalURL = h.PhotoURLs.URL(out.Photos[i].ID, model.VariantOriginal)
		}
		return
	}
	out.Description, out.Address = model.ScrubPublic(out.Description), model.ScrubPublic(out.Address)
	out.Caller = nil
	// The notes the workflow writes name people ("已派遣至网格员张伟处置"):
	// every name the view carries is masked in them too, longest first (a
	// name inside another is masked as part of it).
	var names []string
	for _, p := range []*staffPersonJSON{out.Assignee} {
		if p != nil && utf8.RuneCountInString(p.Name) > 1 {
			names = append(names, p.Name)
		}
	}
	for _, e := range out.Timeline {
		for _, p := range []*staffPersonJSON{e.Actor, e.Assignee} {
			if p != nil && utf8.RuneCountInString(p.Name) > 1 {
				names = append(names, p.Name)
			}
		}
	}
	slices.SortFunc(names, func(a, b string) int { return len(b) - len(a) })
	scrub := func(s string) string {
		s = model.ScrubPublic(s)
		for _, n := range names {
			s = strings.ReplaceAll(s, n, model.MaskName(n))
		}
		return s
	}
	mask := func(p *staffPersonJSON) {
		if p != nil {
			p.Name, p.Phone = model.MaskName(p.Name), ""
		}
	}
	mask(out.Assignee)
	if out.Feedback != nil {
		out.Feedback.Comment = scrub(out.Feedback.Comment)
	}
	if out.Resolution != nil {
		out.Resolution.Note = scrub(out.Resolution.Note)
	}
	for i := range out.Timeline {
		e := &out.Timeline[i]
		e.Note = scrub(e.Note)
		mask(e.Actor)
		mask(e.Assignee)
	}
}

// --- a resident's data -------------------------------------------------------

// myDataJSON is everything stored about a resident.
type myDataJSON struct {
	Profile struct {
		ID        string    `json:"id"`
		Roles     []string  `json:"roles"`
		CreatedAt time.Time `json:"created_at"`
	} `json:"profile"`
	Reports []myReportJSON `json:"reports"`
	// Following are the tickets the resident's merged reports joined, as a
	// follower reads them.
	Following     []reportJSON   `json:"following"`
	Ratings       []ratingJSON   `json:"ratings"`
	Subscriptions map[string]int `json:"subscriptions"`
	ExportedAt    time.Time      `json:"exported_at"`
}

// myReportJSON is one of the resident's reports, with its case number.
type myReportJSON struct {
	CaseNo string `json:"case_no"`
	reportJSON
}

type ratingJSON struct {
	TicketID  string    `json:"ticket_id"`
	CaseNo    string    `json:"case_no"`
	Satisfied bool      `json:"satisfied"`
	Rating    int       `json:"rating"`
	Comment   string    `json:"comment,omitempty"`
	At        time.Time `json:"at"`
}

func (h *handlers) myData(c echo.Context) error {
	d, err := h.Privacy.MyData(c.Request().Context(), currentUser(c))
	if err != nil {
		return err
	}
	var out myDataJSON
	out.Profile.ID, out.Profile.Roles, out.Profile.CreatedAt = d.User.ID, toUser(d.User).Roles, d.User.CreatedAt.UTC()
	out.Reports, out.Following, out.Ratings = []myReportJSON{}, []reportJSON{}, []ratingJSON{}
	for _, t := range d.Reports {
		out.Reports = append(out.Reports, myReportJSON{CaseNo: t.CaseNo, reportJSON: h.toReport(t)})
		if fb := t.Feedback; fb != nil {
			out.Ratings = append(out.Ratings, ratingJSON{TicketID: t.ID, CaseNo: t.CaseNo, Satisfied: fb.Satisfied,
				Rating: fb.Rating, Comment: fb.Comment, At: fb.At.UTC()})
		}
	}
	for _, t := range d.Following {
		out.Following = append(out.Following, h.toFollowerReport(t))
	}
	out.Subscriptions = d.Allowances
	out.ExportedAt = h.Now().UTC()
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="my-data.json"`)
	return c.JSON(http.StatusOK, out)
}

// deleteMe closes the caller's account (注销).
func (h *handlers) deleteMe(c echo.Context) error {
	if err := h.Privacy.DeleteAccount(c.Request().Context(), currentUser(c)); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// --- followers ---------------------------------------------------------------

// isFollowerOnly reports whether u reads t only as a follower: a resident
// whose report was merged into it, not its reporter, assignee or staff.
func isFollowerOnly(u *model.User, t *model.Ticket) bool {
	if u.Has(model.RoleStaff) || u.ID == t.ReporterID || (t.AssigneeID != "" && u.ID == t.AssigneeID) {
		return false
	}
	for _, f := range t.Followers {
		if f == u.ID {
			return true
		}
	}
	return false
}

// toFollowerReport is a ticket as a follower reads it: its status, the
// city's steps and notes and the resolution's photos — never the first
// reporter's description, address, photos, rating or notes.
func (h *handlers) toFollowerReport(t *model.Ticket) reportJSON {
	r := h.toReport(t)
	r.Description, r.Address, r.Photos, r.Feedback = "", "", []photoRef{}, nil
	for i := range r.Timeline {
		if t.Timeline[i].ActorRole == model.RoleResident {
			r.Timeline[i].Note = ""
		}
	}
	if r.Resolution != nil {
		r.Resolution.Note = model.ScrubPublic(r.Resolution.Note)
	}
	return r
}

// --- photos --------------------------------------------------------------------

type redactRequest struct {
	Rects []struct {
		X *float64 `json:"x"`
		Y *float64 `json:"y"`
		W *float64 `json:"w"`
		H *float64 `json:"h"`
	} `json:"rects"`
}

// redactedJSON is a photo after a redaction: its (blurred) renditions'
// URLs, and whether the original is kept for dispatchers.
type redactedJSON struct {
	ID           string    `json:"id"`
	URL          string    `json:"url"`
	ThumbnailURL string    `json:"thumbnail_url"`
	OriginalURL  string    `json:"original_url,omitempty"`
	RedactedAt   time.Time `json:"redacted_at"`
	OriginalKept bool      `json:"original_kept"`
}

func (h *handlers) redactPhoto(c echo.Context) error {
	var req redactRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	rects := make([]privacy.Rect, len(req.Rects))
	for i, r := range req.Rects {
		for _, f := range []struct {
			name string
			v    *float64
		}{{"x", r.X}, {"y", r.Y}, {"w", r.W}, {"h", r.H}} {
			if f.v == nil {
				return model.Invalid(fmt.Sprintf("rects[%d].%s", i, f.name), "不能为空（照片宽高的比例，0 到 1）")
			}
		}
		rects[i] = privacy.Rect{X: *r.X, Y: *r.Y, W: *r.W, H: *r.H}
	}
	p, err := h.Privacy.Redact(c.Request().Context(), c.Param("id"), rects)
	if err != nil {
		return err
	}
	out := redactedJSON{ID: p.ID, URL: h.PhotoURLs.URL(p.ID, photos.VariantFull), ThumbnailURL: h.PhotoURLs.URL(p.ID, photos.VariantThumb),
		RedactedAt: p.RedactedAt.UTC(), OriginalKept: p.HasOriginal}
	if p.HasOriginal {
		out.OriginalURL = h.PhotoURLs.URL(p.ID, model.VariantOriginal)
	}
	return c.JSON(http.StatusOK, out)
}

// --- the access trail ------------------------------------------------------------

// auditEntryJSON is one entry of the access trail.
type auditEntryJSON struct {
	At     time.Time    `json:"at"`
	Actor  auditorActor `json:"actor"`
	Action string       `json:"action"`
	// ActionName is the action in Chinese.
	ActionName string `json:"action_name"`
	Target     string `json:"target"`
	Detail     string `json:"detail"`
	IP         string `json:"ip"`
}

type auditorActor struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// auditQuery reads the trail's filters, and says them in Chinese for an
// export's title.
func auditQuery(c echo.Context) (model.AuditQuery, string, error) {
	q := model.AuditQuery{ActorID: strings.TrimSpace(c.QueryParam("actor")), Action: model.AuditAction(c.QueryParam("action")),
		Target: strings.TrimSpace(c.QueryParam("target"))}
	var err error
	if q.From, err = dateParam(c, "from", false); err != nil {
		return q, "", err
	}
	if q.To, err = dateParam(c, "to", true); err != nil {
		return q, "", err
	}
	var f []string
	for _, p := range []struct{ label, v string }{{"操作人", q.ActorID}, {"操作", string(q.Action)}, {"对象", q.Target},
		{"起", c.QueryParam("from")}, {"止", c.QueryParam("to")}} {
		if p.v != "" {
			f = append(f, p.label+" "+p.v)
		}
	}
	return q, strings.Join(f, "，"), nil
}

func (h *handlers) listAudit(c echo.Context) error {
	q, _, err := auditQuery(c)
	if err != nil {
		return err
	}
	cursor, limit, err := pageParams(c)
	if err != nil {
		return err
	}
	es, next, err := h.Audit.List(c.Request().Context(), q, cursor, limit)
	if err != nil {
		return err
	}
	out := listJSON[auditEntryJSON]{Items: make([]auditEntryJSON, len(es)), NextCursor: signCursor(c, next)}
	for i, e := range es {
		out.Items[i] = auditEntryJSON{At: e.At.UTC(), Actor: auditorActor{ID: e.ActorID, Name: e.ActorName}, Action: string(e.Action),
			ActionName: e.Action.Label(), Target: e.Target, Detail: e.Detail, IP: e.IP}
	}
	return c.JSON(http.StatusOK, out)
}

func (h *handlers) exportAudit(c echo.Context) error {
	q, filter, err := auditQuery(c)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := h.Audit.Export(c.Request().Context(), q, filter, &buf); err != nil {
		return err
	}
	name := "访问留痕-" + h.Now().In(shanghai).Format("20060102-1504") + ".xlsx"
	c.Response().Header().Set(echo.HeaderContentDisposition, attachmentDisposition("audit.xlsx", name))
	return c.Blob(http.StatusOK, xlsxContentType, buf.Bytes())
}

// Recorder records an action in the access trail (audit.Trail).
type Recorder interface {
	Record(ctx context.Context, action model.AuditAction, target, detail string)
}

// recordExport records an export in the access trail (nothing without a
// Recorder: a test's server).
func (h *handlers) recordExport(c echo.Context, target, detail string) {
	if h.Trail != nil {
		h.Trail.Record(c.Request().Context(), model.ActionExport, target, detail)
	}
}

// describeTicketQuery says a ticket export's filter in Chinese, as the
// request gave it.
func describeTicketQuery(c echo.Context) string {
	var f []string
	for _, p := range []struct{ label, name string }{{"状态", "status"}, {"网格", "grid"}, {"类别", "category"}, {"来源", "source"},
		{"超期", "overdue"}, {"逾期结案", "late"}, {"挂起", "held"}, {"关键词", "q"}, {"起", "from"}, {"止", "to"}, {"排序", "sort"}} {
		if v := c.QueryParam(p.name); v != "" {
			f = append(f, p.label+" "+v)
		}
	}
	if len(f) == 0 {
		return "筛选：全部"
	}
	return "筛选：" + strings.Join(f, "，")
}
