package handler

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service"
)

// StaffTicketService is the staff's view of every ticket.
type StaffTicketService interface {
	List(ctx context.Context, q model.TicketQuery, cursor string, limit int) ([]service.StaffTicket, string, int64, error)
	Get(ctx context.Context, id string) (*service.StaffTicket, error)
	Candidates(ctx context.Context, id string) ([]service.Candidate, error)
	Dispatch(ctx context.Context, staff *model.User, id, assigneeID string) (*service.StaffTicket, error)
	Export(ctx context.Context, q model.TicketQuery, title string, w io.Writer) error
}

// staffPersonJSON is who holds or acts on a ticket, by real name; phone in
// the ticket's own view only.
type staffPersonJSON struct {
	ID    string `json:"id,omitempty"`
	Name  string `json:"name"`
	Role  string `json:"role"`
	Phone string `json:"phone,omitempty"`
}

func toStaffPerson(p *service.Person, phone bool) *staffPersonJSON {
	if p == nil {
		return nil
	}
	out := &staffPersonJSON{ID: p.ID, Name: p.Name, Role: string(p.Role)}
	if p.Role == model.RoleResident {
		out.ID = "" // a resident is shown by role only
	}
	if phone {
		out.Phone = p.Phone
	}
	return out
}

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

// staffTicketJSON is a ticket as staff see it.
type staffTicketJSON struct {
	ID           string           `json:"id"`
	Status       string           `json:"status"`
	Source       string           `json:"source"`
	Category     string           `json:"category"`
	Description  string           `json:"description"`
	Location     locationOut      `json:"location"`
	Address      string           `json:"address"`
	Photos       []photoRef       `json:"photos"`
	GridID       *string          `json:"grid_id"`
	Community    string           `json:"community,omitempty"`
	DuplicateOf  string           `json:"duplicate_of,omitempty"`
	Reporters    int              `json:"reporters"`
	RejectReason string           `json:"reject_reason,omitempty"`
	Assignee     *staffPersonJSON `json:"assignee"`
	DueAt        *time.Time       `json:"due_at"`
	RegisteredAt *time.Time       `json:"registered_at,omitempty"`
	Held         bool             `json:"held"`
	Queue        string           `json:"queue,omitempty"`
	Pool         bool             `json:"pool"`
	Overdue      bool             `json:"overdue"`
	Escalated    bool             `json:"escalated"`
	Returns      int              `json:"returns"`
	Reopens      int              `json:"reopens"`
	CreatedAt    time.Time        `json:"created_at"`
	UpdatedAt    time.Time        `json:"updated_at"`
	Resolution   *resolutionJSON  `json:"resolution,omitempty"`
	Feedback     *feedbackJSON    `json:"feedback,omitempty"`
	// The workflow's branches and channels (API.md, "The rest of the GB/T
	// 30428 workflow"); caller is a hotline case's caller.
	Extension    *extensionJSON   `json:"extension,omitempty"`
	DeferredFrom string           `json:"deferred_from,omitempty"`
	Urges        int              `json:"urges"`
	VerifyFails  int              `json:"verify_fails"`
	SelfHandled  bool             `json:"self_handled"`
	PhotoFlags   []string         `json:"photo_flags,omitempty"`
	Caller       *callerJSON      `json:"caller,omitempty"`
	Timeline     []staffEventJSON `json:"timeline,omitempty"`
}

func (h *handlers) toStaffTicket(st *service.StaffTicket, full bool) staffTicketJSON {
	t := st.Ticket
	out := staffTicketJSON{
		ID: t.ID, Status: string(t.Status), Source: string(t.Source), Category: t.Category, Description: t.Description,
		Location: locationOut{Lat: t.Location.Lat, Lng: t.Location.Lng, CoordType: string(t.Location.CoordType)},
		Address:  t.Address, Photos: h.photoRefs(t.PhotoIDs), Community: t.Community, DuplicateOf: t.DuplicateOf,
		Reporters: t.Reporters, RejectReason: t.RejectReason, Assignee: toStaffPerson(st.Assignee, full),
		DueAt: timePtr(t.DueAt), RegisteredAt: timePtr(t.RegisteredAt), Held: t.Held, Queue: t.Queue, Pool: t.Pool,
		Overdue: t.Overdue, Escalated: t.Escalated, Returns: t.Returns, Reopens: t.Reopens,
		CreatedAt: t.CreatedAt.UTC(), UpdatedAt: t.UpdatedAt.UTC(),
		Extension: toExtension(t.Extension), DeferredFrom: string(t.DeferredFrom), Urges: t.Urges, VerifyFails: t.VerifyFails,
		SelfHandled: t.SelfHandled, PhotoFlags: t.PhotoFlags, Caller: toCaller(t),
	}
	if t.GridCode != "" {
		g := t.GridCode
		out.GridID = &g
	}
	if res := t.Resolution; res != nil {
		out.Resolution = &resolutionJSON{Note: res.Note, Photos: h.photoRefs(res.PhotoIDs), ResolvedAt: res.ResolvedAt.UTC()}
	}
	if fb := t.Feedback; fb != nil {
		out.Feedback = &feedbackJSON{Satisfied: fb.Satisfied, Rating: fb.Rating, Comment: fb.Comment}
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

var ticketIDPattern = regexp.MustCompile(`^[0-9a-f]{24}$`)

// ticketQuery reads the staff list's filters (also the export's).
func ticketQuery(c echo.Context) (model.TicketQuery, error) {
	var q model.TicketQuery
	for _, s := range strings.Split(c.QueryParam("status"), ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if !model.Status(s).Valid() {
			return q, model.Invalid("status", "%q 不是工单状态；可选 submitted、rejected、pending、dispatched、in_progress、resolved、closed、merged、deferred，多个以逗号分隔", s)
		}
		q.Statuses = append(q.Statuses, model.Status(s))
	}
	q.Grid, q.Category, q.Queue = c.QueryParam("grid"), c.QueryParam("category"), c.QueryParam("queue")
	if s := c.QueryParam("source"); s != "" {
		if !model.Source(s).Valid() {
			return q, model.Invalid("source", "%q 不是来源；可选 wechat、patrol、hotline、open311", s)
		}
		q.Source = model.Source(s)
	}
	overdue, err := boolParam(c, "overdue")
	if err != nil {
		return q, err
	}
	q.Overdue = overdue
	if q.Words, err = queryWords(c); err != nil {
		return q, err
	}
	if len(q.Words) == 1 && ticketIDPattern.MatchString(strings.ToLower(q.Words[0])) {
		q.Ref = strings.ToLower(q.Words[0])
	}
	q.Sort = model.SortNewest
	if s := c.QueryParam("sort"); s != "" {
		if !model.TicketSort(s).Valid() {
			return q, model.Invalid("sort", "%q 不是排序方式；可选 -created_at（最新在前，默认）、created_at、due_at（处置时限最近在前）", s)
		}
		q.Sort = model.TicketSort(s)
	}
	if q.From, err = dateParam(c, "from", false); err != nil {
		return q, err
	}
	if q.To, err = dateParam(c, "to", true); err != nil {
		return q, err
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		return q, model.Invalid("to", "结束日期 %s 早于开始日期 %s", c.QueryParam("to"), c.QueryParam("from"))
	}
	return q, nil
}

// staffTicketPage is the list shape with the number of all matches.
type staffTicketPage struct {
	Items      []staffTicketJSON `json:"items"`
	NextCursor string            `json:"next_cursor"`
	Total      int64             `json:"total"`
}

func (h *handlers) staffTickets(c echo.Context) error {
	q, err := ticketQuery(c)
	if err != nil {
		return err
	}
	cursor, limit, err := pageParams(c)
	if err != nil {
		return err
	}
	ts, next, total, err := h.StaffTickets.List(c.Request().Context(), q, cursor, limit)
	if err != nil {
		return err
	}
	out := staffTicketPage{Items: make([]staffTicketJSON, len(ts)), NextCursor: signCursor(c, next), Total: total}
	for i := range ts {
		out.Items[i] = h.toStaffTicket(&ts[i], false)
	}
	return c.JSON(http.StatusOK, out)
}

func (h *handlers) staffTicket(c echo.Context) error {
	t, err := h.StaffTickets.Get(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, h.toStaffTicket(t, true))
}

type candidateJSON struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Role      string `json:"role"`
	OnDuty    bool   `json:"on_duty"`
	OpenTasks int    `json:"open_tasks"`
}

func (h *handlers) ticketCandidates(c echo.Context) error {
	cs, err := h.StaffTickets.Candidates(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	out := make([]candidateJSON, len(cs))
	for i, x := range cs {
		out[i] = candidateJSON{ID: x.ID, Name: x.Name, Role: string(x.Role), OnDuty: x.OnDuty, OpenTasks: x.OpenTasks}
	}
	return c.JSON(http.StatusOK, map[string][]candidateJSON{"items": out})
}

func (h *handlers) staffDispatch(c echo.Context) error {
	var req dispatchRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	t, err := h.StaffTickets.Dispatch(c.Request().Context(), currentUser(c), c.Param("id"), req.AssigneeID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, h.toStaffTicket(t, true))
}

func (h *handlers) exportTickets(c echo.Context) error {
	q, err := ticketQuery(c)
	if err != nil {
		return err
	}
	title := "工单导出 " + time.Now().In(shanghai).Format("2006-01-02 15:04")
	if !q.From.IsZero() || !q.To.IsZero() {
		title += fmt.Sprintf("（上报时间 %s 至 %s）", c.QueryParam("from"), c.QueryParam("to"))
	}
	var buf bytes.Buffer
	if err := h.StaffTickets.Export(c.Request().Context(), q, title, &buf); err != nil {
		return err
	}
	name := "工单-" + time.Now().In(shanghai).Format("20060102-1504") + ".xlsx"
	c.Response().Header().Set(echo.HeaderContentDisposition, attachmentDisposition("tickets.xlsx", name))
	return c.Blob(http.StatusOK, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", buf.Bytes())
}

// showStaff answers a staff step on t with the staff's view of it — real
// names, the timeline's actors — or, should looking the people up fail,
// with the ticket as stored.
func (h *handlers) showStaff(c echo.Context, t *model.Ticket) any {
	if h.StaffTickets != nil {
		if st, err := h.StaffTickets.Get(c.Request().Context(), t.ID); err == nil {
			return h.toStaffTicket(st, true)
		}
	}
	return h.toAdminTicket(t)
}

// staffReject rejects a ticket through the task service's step and answers
// with the staff's view of it.
func (h *handlers) staffReject(c echo.Context) error {
	var req reasonRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	t, err := h.Tasks.Reject(c.Request().Context(), currentUser(c), c.Param("id"), req.Reason)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, h.showStaff(c, t))
}
