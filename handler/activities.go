package handler

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service"
)

// ActivityService is party members' volunteer activities.
type ActivityService interface {
	Create(ctx context.Context, staff *model.User, in service.ActivityInput) (*model.Activity, error)
	CheckIn(ctx context.Context, u *model.User, id string) (model.Checkin, bool, error)
}

// ActivityHandlers serve POST /api/v1/admin/activities (staff) and
// POST /api/v1/activities/{id}/checkin (party members).
type ActivityHandlers struct {
	Svc ActivityService
}

type createActivityRequest struct {
	Title     string `json:"title"`
	Kind      string `json:"kind"`
	Community string `json:"community"`
	StartsAt  string `json:"starts_at"`
	EndsAt    string `json:"ends_at"`
}

// Create is POST /api/v1/admin/activities → 201 {"id"}. Errors: 400
// naming the field; 403 for anyone but staff.
func (h *ActivityHandlers) Create(c echo.Context) error {
	var req createActivityRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	a, err := h.Svc.Create(c.Request().Context(), currentUser(c), service.ActivityInput{
		Title: req.Title, Kind: req.Kind, Community: req.Community, StartsAt: req.StartsAt, EndsAt: req.EndsAt,
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, idResponse{ID: a.ID})
}

type checkinResponse struct {
	ActivityID string `json:"activity_id"`
	// AlreadyCheckedIn is true when this member had checked in before; the
	// participation still counts once.
	AlreadyCheckedIn bool      `json:"already_checked_in"`
	CheckedInAt      time.Time `json:"checked_in_at"`
}

// CheckIn is POST /api/v1/activities/{id}/checkin → 200, also for a
// repeated check-in (already_checked_in: true, counted once). Errors: 403
// not a party member; 404 unknown activity; 409 outside the check-in
// window.
func (h *ActivityHandlers) CheckIn(c echo.Context) error {
	ci, first, err := h.Svc.CheckIn(c.Request().Context(), currentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, checkinResponse{ActivityID: ci.ActivityID, AlreadyCheckedIn: !first, CheckedInAt: ci.At.UTC()})
}
