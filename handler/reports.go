package handler

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service/ticket"
)

// locationJSON is a point as a client sends it; every part is required.
type locationJSON struct {
	Lat       *float64 `json:"lat"`
	Lng       *float64 `json:"lng"`
	CoordType string   `json:"coord_type"`
}

// model is the point, or invalid_argument naming field (or its part) when
// a part is missing.
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

func (h *handlers) submitReport(c echo.Context) error {
	var req submitReportRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	loc, err := req.Location.model("location")
	if err != nil {
		return err
	}
	in := ticket.ReportInput{
		Category: req.Category, Description: req.Description, Location: loc, Address: req.Address,
		PhotoIDs: req.PhotoIDs, IdempotencyKey: c.Request().Header.Get("Idempotency-Key"),
		Source: model.Source(req.Source), SelfHandled: req.SelfHandled,
	}
	if r := req.Resolution; r != nil {
		in.Resolution = &ticket.ResolutionInput{Note: r.Note, PhotoIDs: r.PhotoIDs}
	}
	t, err := h.Reports.Submit(c.Request().Context(), currentUser(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, h.toReport(t))
}

func (h *handlers) myReports(c echo.Context) error {
	return ticketPage(c, func(cursor string, limit int) ([]*model.Ticket, string, error) {
		return h.Reports.Mine(c.Request().Context(), currentUser(c), cursor, limit)
	}, h.toReport)
}

func (h *handlers) getReport(c echo.Context) error {
	u := currentUser(c)
	t, err := h.Reports.Get(c.Request().Context(), u, c.Param("id"))
	if err != nil {
		return err
	}
	if isFollowerOnly(u, t) {
		return c.JSON(http.StatusOK, h.toFollowerReport(t))
	}
	return c.JSON(http.StatusOK, h.toReport(t))
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
	found, err := h.Reports.Nearby(c.Request().Context(), ticket.NearbyQuery{Location: loc, RadiusM: radius})
	if err != nil {
		return err
	}
	out := itemsJSON[nearbyJSON]{Items: make([]nearbyJSON, len(found))}
	for i, n := range found {
		// Points go back in the caller's coordinate system, for its map.
		out.Items[i] = toNearby(n, loc.CoordType)
	}
	return c.JSON(http.StatusOK, out)
}

type feedbackRequest struct {
	Satisfied *bool  `json:"satisfied"`
	Rating    int    `json:"rating"`
	Comment   string `json:"comment"`
}

func (h *handlers) giveFeedback(c echo.Context) error {
	var req feedbackRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	t, err := h.Feedback.Give(c.Request().Context(), currentUser(c), c.Param("id"),
		ticket.FeedbackInput{Satisfied: req.Satisfied, Rating: req.Rating, Comment: req.Comment})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, h.toReport(t))
}

// changeFeedback is PUT /api/v1/reports/{id}/feedback: the reporter's one
// change of a rating within 24 hours (satisfied cannot change).
func (h *handlers) changeFeedback(c echo.Context) error {
	var req feedbackRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	t, err := h.Feedback.Change(c.Request().Context(), currentUser(c), c.Param("id"),
		ticket.FeedbackInput{Satisfied: req.Satisfied, Rating: req.Rating, Comment: req.Comment})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, h.toReport(t))
}
