package handler

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service/people"
)

type createActivityRequest struct {
	Title     string `json:"title"`
	Kind      string `json:"kind"`
	Community string `json:"community"`
	StartsAt  string `json:"starts_at"`
	EndsAt    string `json:"ends_at"`
}

// createActivity is POST /api/v1/admin/activities → 201 {"id"}. Errors:
// 400 naming the field.
func (h *handlers) createActivity(c echo.Context) error {
	var req createActivityRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	a, err := h.Activities.Create(c.Request().Context(), currentUser(c), people.ActivityInput{
		Title: req.Title, Kind: req.Kind, Community: req.Community, StartsAt: req.StartsAt, EndsAt: req.EndsAt,
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, idJSON{ID: a.ID})
}

type checkinJSON struct {
	ActivityID string `json:"activity_id"`
	// AlreadyCheckedIn is true when this member had checked in before; the
	// participation still counts once.
	AlreadyCheckedIn bool      `json:"already_checked_in"`
	CheckedInAt      time.Time `json:"checked_in_at"`
}

// checkIn is POST /api/v1/activities/{id}/checkin → 200, also for a
// repeated check-in (already_checked_in: true, counted once). Errors: 404
// unknown activity; 409 outside the check-in window.
func (h *handlers) checkIn(c echo.Context) error {
	ci, first, err := h.Activities.CheckIn(c.Request().Context(), currentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, checkinJSON{ActivityID: ci.ActivityID, AlreadyCheckedIn: !first, CheckedInAt: ci.At.UTC()})
}

// activityJSON is an activity as staff and party members see it.
type activityJSON struct {
	ID           string     `json:"id"`
	Title        string     `json:"title"`
	Kind         string     `json:"kind"`
	Community    string     `json:"community"`
	StartsAt     time.Time  `json:"starts_at"`
	EndsAt       time.Time  `json:"ends_at"`
	CreatedAt    time.Time  `json:"created_at"`
	Cancelled    bool       `json:"cancelled"`
	CancelledAt  *time.Time `json:"cancelled_at,omitempty"`
	CancelReason string     `json:"cancel_reason,omitempty"`
}

func toActivity(a *model.Activity) activityJSON {
	return activityJSON{ID: a.ID, Title: a.Title, Kind: string(a.Kind), Community: a.Community, StartsAt: a.StartsAt.UTC(),
		EndsAt: a.EndsAt.UTC(), CreatedAt: a.CreatedAt.UTC(), Cancelled: a.Cancelled(), CancelledAt: timePtr(a.CancelledAt),
		CancelReason: a.CancelReason}
}

// activityDetailJSON is one activity with who checked in.
type activityDetailJSON struct {
	activityJSON
	Checkins []checkinRowJSON `json:"checkins"`
}

type checkinRowJSON struct {
	MemberID   string    `json:"member_id"`
	Name       string    `json:"name"`
	BranchName string    `json:"branch_name"`
	At         time.Time `json:"at"`
}

func activityPage(c echo.Context, as []*model.Activity, next string) error {
	out := listJSON[activityJSON]{Items: make([]activityJSON, len(as)), NextCursor: signCursor(c, next)}
	for i, a := range as {
		out.Items[i] = toActivity(a)
	}
	return c.JSON(http.StatusOK, out)
}

// listActivities is GET /api/v1/admin/activities?from=&to=&community=&kind=:
// a page of activities, latest start first, cancelled ones marked.
func (h *handlers) listActivities(c echo.Context) error {
	var (
		f   model.ActivityFilter
		err error
	)
	if f.From, err = dateParam(c, "from", false); err != nil {
		return err
	}
	if f.To, err = dateParam(c, "to", true); err != nil {
		return err
	}
	if community := c.QueryParam("community"); community != "" {
		f.Communities = []string{community}
	}
	f.Kind = model.ActivityKind(c.QueryParam("kind"))
	cursor, limit, err := pageParams(c)
	if err != nil {
		return err
	}
	as, next, err := h.Activities.List(c.Request().Context(), f, cursor, limit)
	if err != nil {
		return err
	}
	return activityPage(c, as, next)
}

// upcomingActivities is GET /api/v1/activities?community=: a party
// member's activities still to come (of their communities, or of the one
// named), soonest first.
func (h *handlers) upcomingActivities(c echo.Context) error {
	cursor, limit, err := pageParams(c)
	if err != nil {
		return err
	}
	as, next, err := h.Activities.Upcoming(c.Request().Context(), currentUser(c), c.QueryParam("community"), cursor, limit)
	if err != nil {
		return err
	}
	return activityPage(c, as, next)
}

// activityDetail is GET /api/v1/admin/activities/{id}: with its check-ins.
func (h *handlers) activityDetail(c echo.Context) error {
	a, rows, err := h.Activities.Detail(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toActivityDetail(a, rows))
}

func toActivityDetail(a *model.Activity, rows []people.CheckinRow) activityDetailJSON {
	out := activityDetailJSON{activityJSON: toActivity(a), Checkins: make([]checkinRowJSON, len(rows))}
	for i, r := range rows {
		out.Checkins[i] = checkinRowJSON{MemberID: r.MemberID, Name: r.Name, BranchName: r.BranchName, At: r.At.UTC()}
	}
	return out
}

type patchActivityRequest struct {
	Title     *string `json:"title"`
	Community *string `json:"community"`
	StartsAt  *string `json:"starts_at"`
	EndsAt    *string `json:"ends_at"`
}

// patchActivity is PATCH /api/v1/admin/activities/{id}: title, times,
// community.
func (h *handlers) patchActivity(c echo.Context) error {
	var req patchActivityRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	if _, err := h.Activities.Update(ctx, c.Param("id"), people.ActivityPatch{Title: req.Title, Community: req.Community,
		StartsAt: req.StartsAt, EndsAt: req.EndsAt}); err != nil {
		return err
	}
	return h.activityDetail(c)
}

// cancelActivity is POST /api/v1/admin/activities/{id}/cancel {"reason"}.
func (h *handlers) cancelActivity(c echo.Context) error {
	var req reasonRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if _, err := h.Activities.Cancel(c.Request().Context(), c.Param("id"), req.Reason); err != nil {
		return err
	}
	return h.activityDetail(c)
}
