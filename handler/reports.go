package handler

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service"
)

type locationJSON struct {
	Lat       *float64 `json:"lat"`
	Lng       *float64 `json:"lng"`
	CoordType string   `json:"coord_type"`
}

func (l *locationJSON) model(field string) (model.Location, error) {
	if l == nil {
		return model.Location{}, model.Invalid(field, "不能为空：须为 {\"lat\", \"lng\", \"coord_type\"}")
	}
	if l.Lat == nil {
		return model.Location{}, model.Invalid(field+".lat", "不能为空")
	}
	if l.Lng == nil {
		return model.Location{}, model.Invalid(field+".lng", "不能为空")
	}
	return model.Location{Lat: *l.Lat, Lng: *l.Lng, CoordType: model.CoordType(l.CoordType)}, nil
}

type submitReportRequest struct {
	Category    string        `json:"category"`
	Description string        `json:"description"`
	Location    *locationJSON `json:"location"`
	Address     string        `json:"address"`
	PhotoIDs    []string      `json:"photo_ids"`
	// A grid worker's patrol case (巡查上报), possibly self-handled (自处置).
	Source      string                 `json:"source"`
	SelfHandled bool                   `json:"self_handled"`
	Resolution  *selfResolutionRequest `json:"resolution"`
}

type selfResolutionRequest struct {
	Note     string   `json:"note"`
	PhotoIDs []string `json:"photo_ids"`
}

type photoRef struct {
	ID           string `json:"id"`
	URL          string `json:"url"`
	ThumbnailURL string `json:"thumbnail_url"`
}

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

type locationOut struct {
	Lat       float64 `json:"lat"`
	Lng       float64 `json:"lng"`
	CoordType string  `json:"coord_type"`
}

// reportJSON is a report as its reporter (or a follower, the assignee or
// staff) sees it.
type reportJSON struct {
	ID           string          `json:"id"`
	Status       string          `json:"status"`
	Category     string          `json:"category"`
	Description  string          `json:"description"`
	Location     locationOut     `json:"location"`
	Address      string          `json:"address"`
	Photos       []photoRef      `json:"photos"`
	GridID       *string         `json:"grid_id"`
	DuplicateOf  string          `json:"duplicate_of,omitempty"`
	Reporters    int             `json:"reporters"`
	RejectReason string          `json:"reject_reason,omitempty"`
	CreatedAt    time.Time       `json:"created_at"`
	UpdatedAt    time.Time       `json:"updated_at"`
	Timeline     []eventJSON     `json:"timeline"`
	Resolution   *resolutionJSON `json:"resolution,omitempty"`
	Feedback     *feedbackJSON   `json:"feedback,omitempty"`
	Source       string          `json:"source"`
	DueAt        *time.Time      `json:"due_at"`
	SelfHandled  bool            `json:"self_handled,omitempty"`
	Extension    *extensionJSON  `json:"extension,omitempty"`
}

func (h *handlers) photoRefs(ids []string) []photoRef {
	out := make([]photoRef, len(ids))
	for i, id := range ids {
		out[i] = photoRef{ID: id, URL: h.PhotoURLs.URL(id, service.VariantFull), ThumbnailURL: h.PhotoURLs.URL(id, service.VariantThumb)}
	}
	return out
}

func (h *handlers) toReport(t *model.Ticket) reportJSON {
	r := reportJSON{
		ID: t.ID, Status: string(t.Status), Category: t.Category, Description: t.Description,
		Location: locationOut{Lat: t.Location.Lat, Lng: t.Location.Lng, CoordType: string(t.Location.CoordType)},
		Address:  t.Address, Photos: h.photoRefs(t.PhotoIDs), DuplicateOf: t.DuplicateOf, Reporters: t.Reporters,
		RejectReason: t.RejectReason, CreatedAt: t.CreatedAt.UTC(), UpdatedAt: t.UpdatedAt.UTC(),
		Timeline: make([]eventJSON, len(t.Timeline)),
	}
	if t.GridCode != "" {
		g := t.GridCode
		r.GridID = &g
	}
	for i, e := range t.Timeline {
		r.Timeline[i] = eventJSON{At: e.At.UTC(), Type: string(e.Type), Name: e.Type.Stage(), Status: string(e.Status), Note: e.Note}
		if e.ActorRole == model.RoleGridWorker || e.ActorRole == model.RolePartyMember || e.ActorRole == model.RoleStaff {
			r.Timeline[i].Actor = &actorJSON{Role: string(e.ActorRole), Name: e.ActorName}
		}
	}
	if res := t.Resolution; res != nil {
		r.Resolution = &resolutionJSON{Note: res.Note, Photos: h.photoRefs(res.PhotoIDs), ResolvedAt: res.ResolvedAt.UTC()}
	}
	if fb := t.Feedback; fb != nil {
		r.Feedback = &feedbackJSON{Satisfied: fb.Satisfied, Rating: fb.Rating, Comment: fb.Comment}
	}
	r.Source, r.DueAt, r.SelfHandled, r.Extension = string(t.Source), timePtr(t.DueAt), t.SelfHandled, toExtension(t.Extension)
	return r
}

func (h *handlers) submitReport(c echo.Context) error {
	var req submitReportRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	loc, err := req.Location.model("location")
	if err != nil {
		return err
	}
	in := service.ReportInput{
		Category: req.Category, Description: req.Description, Location: loc, Address: req.Address,
		PhotoIDs: req.PhotoIDs, IdempotencyKey: c.Request().Header.Get("Idempotency-Key"),
		Source: model.Source(req.Source), SelfHandled: req.SelfHandled,
	}
	if r := req.Resolution; r != nil {
		in.Resolution = &service.ResolutionInput{Note: r.Note, PhotoIDs: r.PhotoIDs}
	}
	t, err := h.Reports.Submit(c.Request().Context(), currentUser(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, h.toReport(t))
}

type listResponse[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

// pageParams reads ?limit= (default 20, max 100) and ?cursor=, which must
// be one signCursor made for this list (see cursor.go); it returns the
// store's cursor.
func pageParams(c echo.Context) (string, int, error) {
	limit := 20
	if s := c.QueryParam("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100 {
			return "", 0, model.Invalid("limit", "必须是 1 到 100 之间的整数")
		}
		limit = n
	}
	cursor, err := openCursor(c, c.QueryParam("cursor"))
	if err != nil {
		return "", 0, err
	}
	return cursor, limit, nil
}

func (h *handlers) myReports(c echo.Context) error {
	return ticketPage(c, func(cursor string, limit int) ([]*model.Ticket, string, error) {
		return h.Reports.Mine(c.Request().Context(), currentUser(c), cursor, limit)
	}, h.toReport)
}

func (h *handlers) getReport(c echo.Context) error {
	t, err := h.Reports.Get(c.Request().Context(), currentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, h.toReport(t))
}

type nearbyJSON struct {
	ID        string      `json:"id"`
	Category  string      `json:"category"`
	Status    string      `json:"status"`
	Location  locationOut `json:"location"`
	DistanceM float64     `json:"distance_m"`
	CreatedAt time.Time   `json:"created_at"`
	Reporters int         `json:"reporters"`
}

func floatParam(c echo.Context, name string, def *float64) (float64, error) {
	s := c.QueryParam(name)
	if s == "" {
		if def != nil {
			return *def, nil
		}
		return 0, model.Invalid(name, "不能为空")
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, model.Invalid(name, "必须是数字，不能是 %q", s)
	}
	return f, nil
}

func (h *handlers) nearbyReports(c echo.Context) error {
	lat, err := floatParam(c, "lat", nil)
	if err != nil {
		return err
	}
	lng, err := floatParam(c, "lng", nil)
	if err != nil {
		return err
	}
	defRadius := 500.0
	radius, err := floatParam(c, "radius_m", &defRadius)
	if err != nil {
		return err
	}
	loc := model.Location{Lat: lat, Lng: lng, CoordType: model.CoordType(c.QueryParam("coord_type"))}
	found, err := h.Reports.Nearby(c.Request().Context(), service.NearbyQuery{Location: loc, RadiusM: radius})
	if err != nil {
		return err
	}
	out := listResponse[nearbyJSON]{Items: make([]nearbyJSON, len(found))}
	for i, n := range found {
		// Points come back in the caller's coordinate system, for its map.
		lat, lng := service.FromWGS84(n.Ticket.Point, loc.CoordType)
		out.Items[i] = nearbyJSON{
			ID: n.Ticket.ID, Category: n.Ticket.Category, Status: string(n.Ticket.Status),
			Location:  locationOut{Lat: lat, Lng: lng, CoordType: string(loc.CoordType)},
			DistanceM: float64(int(n.DistanceM*10)) / 10, CreatedAt: n.Ticket.CreatedAt.UTC(), Reporters: n.Ticket.Reporters,
		}
	}
	return c.JSON(http.StatusOK, out)
}

type subscriptionsRequest struct {
	Accepted []string `json:"accepted"`
}

func (h *handlers) recordSubscriptions(c echo.Context) error {
	var req subscriptionsRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if err := h.Subscriptions.Record(c.Request().Context(), currentUser(c), req.Accepted); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

type feedbackRequest struct {
	Satisfied *bool  `json:"satisfied"`
	Rating    int    `json:"rating"`
	Comment   string `json:"comment"`
}

func (h *handlers) feedback(c echo.Context) error {
	var req feedbackRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	t, err := h.Feedback.Give(c.Request().Context(), currentUser(c), c.Param("id"),
		service.FeedbackInput{Satisfied: req.Satisfied, Rating: req.Rating, Comment: req.Comment})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, h.toReport(t))
}
