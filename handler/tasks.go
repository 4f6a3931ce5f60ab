package handler

import (
	"io"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/citizen-city/chengguantong/model"
)

// taskJSON is a ticket as its handler sees it: what and where, never who
// reported it.
type taskJSON struct {
	ID          string          `json:"id"`
	Status      string          `json:"status"`
	Category    string          `json:"category"`
	Description string          `json:"description"`
	Location    locationOut     `json:"location"`
	Address     string          `json:"address"`
	Photos      []photoRef      `json:"photos"`
	GridID      string          `json:"grid_id,omitempty"`
	Community   string          `json:"community,omitempty"`
	Reporters   int             `json:"reporters"`
	Deadline    *time.Time      `json:"deadline,omitempty"`
	AcceptBy    *time.Time      `json:"accept_by,omitempty"`
	Overdue     bool            `json:"overdue"`
	CreatedAt   time.Time       `json:"created_at"`
	Resolution  *resolutionJSON `json:"resolution,omitempty"`
	Source      string          `json:"source"`
	DueAt       *time.Time      `json:"due_at"`
	Extension   *extensionJSON  `json:"extension,omitempty"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func (h *handlers) toTask(t *model.Ticket) taskJSON {
	out := taskJSON{
		ID: t.ID, Status: string(t.Status), Category: t.Category, Description: t.Description,
		Location: locationOut{Lat: t.Location.Lat, Lng: t.Location.Lng, CoordType: string(t.Location.CoordType)},
		Address:  t.Address, Photos: h.photoRefs(t.PhotoIDs), GridID: t.GridCode, Community: t.Community,
		Reporters: t.Reporters, Deadline: timePtr(t.DueAt), AcceptBy: timePtr(t.AcceptBy), Overdue: t.Overdue,
		CreatedAt: t.CreatedAt.UTC(), Source: string(t.Source), DueAt: timePtr(t.DueAt), Extension: toExtension(t.Extension),
	}
	if res := t.Resolution; res != nil {
		out.Resolution = &resolutionJSON{Note: res.Note, Photos: h.photoRefs(res.PhotoIDs), ResolvedAt: res.ResolvedAt.UTC()}
	}
	return out
}

// ticketPage answers a cursor-paged list of tickets in the API's list
// shape: it reads ?limit= and ?cursor=, asks list for the page and shows
// each ticket with show.
func ticketPage[T any](c echo.Context, list func(cursor string, limit int) ([]*model.Ticket, string, error), show func(*model.Ticket) T) error {
	cursor, limit, err := pageParams(c)
	if err != nil {
		return err
	}
	ts, next, err := list(cursor, limit)
	if err != nil {
		return err
	}
	out := listResponse[T]{Items: make([]T, len(ts)), NextCursor: signCursor(c, next)}
	for i, t := range ts {
		out.Items[i] = show(t)
	}
	return c.JSON(http.StatusOK, out)
}

func (h *handlers) taskList(c echo.Context, list func(cursor string, limit int) ([]*model.Ticket, string, error)) error {
	return ticketPage(c, list, h.toTask)
}

func (h *handlers) myTasks(c echo.Context) error {
	return h.taskList(c, func(cursor string, limit int) ([]*model.Ticket, string, error) {
		return h.Tasks.Mine(c.Request().Context(), currentUser(c), cursor, limit)
	})
}

func (h *handlers) taskPool(c echo.Context) error {
	return h.taskList(c, func(cursor string, limit int) ([]*model.Ticket, string, error) {
		return h.Tasks.Pool(c.Request().Context(), currentUser(c), cursor, limit)
	})
}

func (h *handlers) claimTask(c echo.Context) error {
	t, err := h.Tasks.Claim(c.Request().Context(), currentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, h.toTask(t))
}

func (h *handlers) acceptTask(c echo.Context) error {
	t, err := h.Tasks.Accept(c.Request().Context(), currentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, h.toTask(t))
}

type reasonRequest struct {
	Reason string `json:"reason"`
}

func (h *handlers) returnTask(c echo.Context) error {
	var req reasonRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	t, err := h.Tasks.Return(c.Request().Context(), currentUser(c), c.Param("id"), req.Reason)
	if err != nil {
		return err
	}
	// The caller no longer holds it: answer with what they may still see.
	return c.JSON(http.StatusOK, map[string]string{"id": t.ID, "status": "returned"})
}

type resolveRequest struct {
	Note     string   `json:"note"`
	PhotoIDs []string `json:"photo_ids"`
}

func (h *handlers) resolveTask(c echo.Context) error {
	var req resolveRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	t, err := h.Tasks.Resolve(c.Request().Context(), currentUser(c), c.Param("id"), req.Note, req.PhotoIDs)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, h.toTask(t))
}

// adminTicketJSON is a ticket as staff see it: everything, with the assignee.
type adminTicketJSON struct {
	reportJSON
	Assignee  *assigneeJSON `json:"assignee"`
	Queue     string        `json:"queue,omitempty"`
	Pool      bool          `json:"pool"`
	Held      bool          `json:"held"`
	Escalated bool          `json:"escalated"`
	Overdue   bool          `json:"overdue"`
	Returns   int           `json:"returns"`
	Deadline  *time.Time    `json:"deadline,omitempty"`
	// The workflow's branches and channels, for staff only.
	Urges        int         `json:"urges"`
	VerifyFails  int         `json:"verify_fails"`
	PhotoFlags   []string    `json:"photo_flags,omitempty"`
	DeferredFrom string      `json:"deferred_from,omitempty"`
	Caller       *callerJSON `json:"caller,omitempty"`
}

type assigneeJSON struct {
	ID   string `json:"id"`
	Role string `json:"role"`
}

func (h *handlers) toAdminTicket(t *model.Ticket) adminTicketJSON {
	out := adminTicketJSON{reportJSON: h.toReport(t), Queue: t.Queue, Pool: t.Pool, Held: t.Held,
		Escalated: t.Escalated, Overdue: t.Overdue, Returns: t.Returns, Deadline: timePtr(t.DueAt),
		Urges: t.Urges, VerifyFails: t.VerifyFails, PhotoFlags: t.PhotoFlags, DeferredFrom: string(t.DeferredFrom), Caller: toCaller(t)}
	if t.AssigneeID != "" {
		out.Assignee = &assigneeJSON{ID: t.AssigneeID, Role: string(t.AssigneeRole)}
	}
	return out
}

// dateParam reads a calendar date in China Standard Time, or a full RFC
// 3339 timestamp; with a date, end=true gives the start of the next day
// (the API's "to" is inclusive for dates).
func dateParam(c echo.Context, name string, end bool) (time.Time, error) {
	s := c.QueryParam(name)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := time.ParseInLocation("2006-01-02", s, shanghai)
	if err != nil {
		return time.Time{}, model.Invalid(name, "必须是日期（如 2026-11-25）或 RFC 3339 时间，不能是 %q", s)
	}
	if end {
		d = d.AddDate(0, 0, 1)
	}
	return d, nil
}

type dispatchRequest struct {
	AssigneeID string `json:"assignee_id"`
}

// maxGridUpload bounds a GeoJSON upload.
const maxGridUpload = 16 << 20

type gridJSON struct {
	ID        string `json:"id"`
	Code      string `json:"code"`
	Name      string `json:"name"`
	Community string `json:"community"`
	// Geometry is the grid's outline as a GeoJSON MultiPolygon (WGS-84,
	// [lng, lat]); absent when the grid was returned without it.
	Geometry *multiPolygonJSON `json:"geometry,omitempty"`
}

// multiPolygonJSON is a GeoJSON MultiPolygon geometry.
type multiPolygonJSON struct {
	Type        string           `json:"type"`
	Coordinates [][][][2]float64 `json:"coordinates"`
}

func areaJSON(area [][][]model.Point) *multiPolygonJSON {
	if len(area) == 0 {
		return nil
	}
	coords := make([][][][2]float64, len(area))
	for i, poly := range area {
		coords[i] = make([][][2]float64, len(poly))
		for j, ring := range poly {
			pts := make([][2]float64, len(ring))
			for k, p := range ring {
				pts[k] = [2]float64{p.Lng, p.Lat}
			}
			coords[i][j] = pts
		}
	}
	return &multiPolygonJSON{Type: "MultiPolygon", Coordinates: coords}
}

func (h *handlers) uploadGrids(c echo.Context) error {
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, maxGridUpload))
	if err != nil {
		return jsonError(err, body)
	}
	if err := checkJSONText(body); err != nil {
		return err
	}
	grids, err := h.Grids.Upload(c.Request().Context(), body)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, gridList(grids))
}

func (h *handlers) listGrids(c echo.Context) error {
	grids, err := h.Grids.List(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, gridList(grids))
}

func gridList(grids []model.Grid) map[string][]gridJSON {
	items := make([]gridJSON, len(grids))
	for i, g := range grids {
		items[i] = gridJSON{ID: g.Code, Code: g.Code, Name: g.Name, Community: g.Community, Geometry: areaJSON(g.Area)}
	}
	return map[string][]gridJSON{"items": items}
}

type deadLetterJSON struct {
	Queue   string    `json:"queue"`
	Payload string    `json:"payload"`
	Reason  string    `json:"reason"`
	At      time.Time `json:"at"`
}

func (h *handlers) deadLetters(c echo.Context) error {
	items, err := h.DeadLetters.DeadLetters(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]deadLetterJSON, len(items))
	for i, d := range items {
		out[i] = deadLetterJSON{Queue: d.Queue, Payload: d.Payload, Reason: d.Reason, At: d.At.UTC()}
	}
	return c.JSON(http.StatusOK, map[string][]deadLetterJSON{"items": out})
}
