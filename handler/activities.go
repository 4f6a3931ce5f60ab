package handler

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

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
