package handler

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/citizen-city/chengguantong/model"
)

func (h *handlers) myTasks(c echo.Context) error {
	return ticketPage(c, func(cursor string, limit int) ([]*model.Ticket, string, error) {
		return h.Tasks.Mine(c.Request().Context(), currentUser(c), cursor, limit)
	}, h.toTask)
}

func (h *handlers) taskPool(c echo.Context) error {
	return ticketPage(c, func(cursor string, limit int) ([]*model.Ticket, string, error) {
		return h.Tasks.Pool(c.Request().Context(), currentUser(c), cursor, limit)
	}, h.toTask)
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

// returnedJSON answers a return: the caller no longer holds the ticket, so
// it sees no more of it than this.
type returnedJSON struct {
	ID     string `json:"id"`
	Status string `json:"status"` // always "returned"
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
	return c.JSON(http.StatusOK, returnedJSON{ID: t.ID, Status: "returned"})
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

type extensionRequest struct {
	Hours  *int   `json:"hours"`
	Reason string `json:"reason"`
}

// requestExtension is the assignee's 延期 request; staff decide it
// (decideExtension).
func (h *handlers) requestExtension(c echo.Context) error {
	var req extensionRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if req.Hours == nil {
		return model.Invalid("hours", "必须填写延期时长（1 到 %d 小时）", model.MaxExtensionHours)
	}
	t, err := h.Workflow.RequestExtension(c.Request().Context(), currentUser(c), c.Param("id"), *req.Hours, req.Reason)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, h.toTask(t))
}
