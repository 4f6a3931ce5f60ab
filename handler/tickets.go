package handler

import (
	"bytes"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service/ticket"
)

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
	var err error
	if q.Overdue, err = boolParam(c, "overdue"); err != nil {
		return q, err
	}
	if q.Late, err = boolParam(c, "late"); err != nil {
		return q, err
	}
	if q.Held, err = boolParam(c, "held"); err != nil {
		return q, err
	}
	if q.Words, err = queryWords(c); err != nil {
		return q, err
	}
	// One word that is a ticket id or a case number also finds that ticket.
	if len(q.Words) == 1 {
		if w := strings.ToLower(q.Words[0]); ticketIDPattern.MatchString(w) || model.IsCaseNo(w) {
			q.Ref = w
		}
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

func (h *handlers) staffTickets(c echo.Context) error {
	q, err := ticketQuery(c)
	if err != nil {
		return err
	}
	cursor, limit, err := pageParams(c)
	if err != nil {
		return err
	}
	page, err := h.StaffTickets.List(c.Request().Context(), q, cursor, limit)
	if err != nil {
		return err
	}
	out := staffListJSON{listJSON: listJSON[staffTicketJSON]{Items: make([]staffTicketJSON, len(page.Items)),
		NextCursor: signCursor(c, page.Next), Total: &page.Total}, TotalCapped: page.TotalCapped}
	for i := range page.Items {
		out.Items[i] = h.toStaffTicket(&page.Items[i], false)
		h.forViewer(c, &out.Items[i])
	}
	return c.JSON(http.StatusOK, out)
}

// staffListJSON is a page of the staff's ticket list: total is exact, or a
// lower bound with total_capped.
type staffListJSON struct {
	listJSON[staffTicketJSON]
	TotalCapped bool `json:"total_capped,omitempty"`
}

func (h *handlers) staffTicket(c echo.Context) error {
	t, err := h.StaffTickets.Get(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	out := h.toStaffTicket(t, true)
	h.forViewer(c, &out)
	return c.JSON(http.StatusOK, out)
}

// showStaff answers a staff step on t with one ticket's staff view: real
// names, the timeline's actors. Should looking the people up fail — the
// step is committed all the same — the same view names them by role and
// account id.
func (h *handlers) showStaff(c echo.Context, t *model.Ticket) staffTicketJSON {
	st, err := h.StaffTickets.Get(c.Request().Context(), t.ID)
	if err != nil {
		h.Logger.WarnContext(c.Request().Context(), "staff view without names", "ticket", t.ID, "error", err.Error())
		st = unnamedStaffTicket(t)
	}
	return h.toStaffTicket(st, true)
}

// xlsxContentType is the media type of an .xlsx workbook.
const xlsxContentType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

func (h *handlers) exportTickets(c echo.Context) error {
	q, err := ticketQuery(c)
	if err != nil {
		return err
	}
	now := h.Now().In(shanghai)
	title := "工单导出 " + now.Format("2006-01-02 15:04")
	if !q.From.IsZero() || !q.To.IsZero() {
		title += fmt.Sprintf("（上报时间 %s 至 %s）", c.QueryParam("from"), c.QueryParam("to"))
	}
	var buf bytes.Buffer
	masked := !seesIdentities(currentUser(c))
	n, err := h.StaffTickets.Export(c.Request().Context(), q, title, masked, &buf)
	if err != nil {
		return err
	}
	h.recordExport(c, "工单", fmt.Sprintf("导出工单 %d 件；%s", n, describeTicketQuery(c)))
	name := "工单-" + now.Format("20060102-1504") + ".xlsx"
	c.Response().Header().Set(echo.HeaderContentDisposition, attachmentDisposition("tickets.xlsx", name))
	return c.Blob(http.StatusOK, xlsxContentType, buf.Bytes())
}

// candidateJSON is someone staff may dispatch a ticket to: where they
// serve (a worker's grids by code and name, a party member's
// communities), whether they are on duty, their open tasks, and own for
// the workers of the ticket's own grid (listed first).
type candidateJSON struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Role        string   `json:"role"`
	GridCodes   []string `json:"grid_codes,omitempty"`
	GridNames   []string `json:"grid_names,omitempty"`
	Communities []string `json:"communities,omitempty"`
	Own         bool     `json:"own"`
	OnDuty      bool     `json:"on_duty"`
	OpenTasks   int      `json:"open_tasks"`
}

func (h *handlers) ticketCandidates(c echo.Context) error {
	cs, err := h.StaffTickets.Candidates(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	out := itemsJSON[candidateJSON]{Items: make([]candidateJSON, len(cs))}
	for i, x := range cs {
		out.Items[i] = candidateJSON{ID: x.ID, Name: x.Name, Role: string(x.Role), GridCodes: x.GridCodes, GridNames: x.GridNames,
			Communities: x.Communities, Own: x.Own(), OnDuty: x.OnDuty, OpenTasks: x.OpenTasks}
	}
	return c.JSON(http.StatusOK, out)
}

// dispatchRequest names the person (a directory id from /candidates) and,
// for someone off duty, the staff's confirmation.
type dispatchRequest struct {
	AssigneeID     string `json:"assignee_id"`
	ConfirmOffDuty bool   `json:"confirm_off_duty"`
}

func (h *handlers) dispatchTicket(c echo.Context) error {
	var req dispatchRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	t, err := h.StaffTickets.Dispatch(c.Request().Context(), currentUser(c), c.Param("id"),
		ticket.DispatchInput{AssigneeID: req.AssigneeID, ConfirmOffDuty: req.ConfirmOffDuty})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, h.toStaffTicket(t, true))
}

func (h *handlers) rejectTicket(c echo.Context) error {
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

type decisionRequest struct {
	Approve *bool  `json:"approve"`
	Note    string `json:"note"`
}

// decideExtension is the staff's decision on a 延期 request.
func (h *handlers) decideExtension(c echo.Context) error {
	var req decisionRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if req.Approve == nil {
		return model.Invalid("approve", "必须填写：true（批准延期）或 false（驳回）")
	}
	t, err := h.Workflow.DecideExtension(c.Request().Context(), currentUser(c), c.Param("id"), *req.Approve, req.Note)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, h.showStaff(c, t))
}

// deferTicket is 挂账: the handling clock stops until resumeTicket.
func (h *handlers) deferTicket(c echo.Context) error {
	var req reasonRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	t, err := h.Workflow.Defer(c.Request().Context(), currentUser(c), c.Param("id"), req.Reason)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, h.showStaff(c, t))
}

func (h *handlers) resumeTicket(c echo.Context) error {
	t, err := h.Workflow.Resume(c.Request().Context(), currentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, h.showStaff(c, t))
}

type noteRequest struct {
	Note string `json:"note"`
}

// urgeTicket is 督办.
func (h *handlers) urgeTicket(c echo.Context) error {
	var req noteRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	t, err := h.Workflow.Urge(c.Request().Context(), currentUser(c), c.Param("id"), req.Note)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, h.showStaff(c, t))
}

type verifyRequest struct {
	Passed *bool  `json:"passed"`
	Note   string `json:"note"`
}

// verifyTicket is 核查 of a resolved ticket.
func (h *handlers) verifyTicket(c echo.Context) error {
	var req verifyRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	t, err := h.Workflow.Verify(c.Request().Context(), currentUser(c), c.Param("id"), req.Passed, req.Note)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, h.showStaff(c, t))
}

type hotlineRequest struct {
	Category    string        `json:"category"`
	Description string        `json:"description"`
	Location    *locationJSON `json:"location"`
	Address     string        `json:"address"`
	Source      string        `json:"source"`
	CallerName  string        `json:"caller_name"`
	CallerPhone string        `json:"caller_phone"`
}

// takeCall registers a case taken by phone (12345 热线).
func (h *handlers) takeCall(c echo.Context) error {
	var req hotlineRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	loc, err := req.Location.model("location")
	if err != nil {
		return err
	}
	t, err := h.Workflow.TakeCall(c.Request().Context(), currentUser(c), ticket.HotlineInput{
		Category: req.Category, Description: req.Description, Location: loc, Address: req.Address,
		Source: model.Source(req.Source), CallerName: req.CallerName, CallerPhone: req.CallerPhone,
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, h.showStaff(c, t))
}

// attachmentDisposition is a Content-Disposition for a file name that is
// not ASCII: the real name in RFC 5987 encoding (the filename* parameter,
// UTF-8 and percent-encoded), which browsers prefer (RFC 6266), and an
// ASCII name for clients that do not understand it.
func attachmentDisposition(asciiName, name string) string {
	const hex = "0123456789ABCDEF"
	var ext strings.Builder
	for _, b := range []byte(name) {
		if isAttrChar(b) {
			ext.WriteByte(b)
		} else {
			ext.WriteByte('%')
			ext.WriteByte(hex[b>>4])
			ext.WriteByte(hex[b&15])
		}
	}
	return fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`, asciiName, ext.String())
}

// isAttrChar reports whether b may stand unencoded in an RFC 5987 value.
func isAttrChar(b byte) bool {
	switch {
	case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		return true
	}
	return strings.IndexByte("!#$&+-.^_`|~", b) >= 0
}
