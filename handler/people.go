package handler

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/citizen-city/chengguantong/model"
)

type createWorkerRequest struct {
	Name      string   `json:"name"`
	Phone     string   `json:"phone"`
	GridCodes []string `json:"grid_codes"`
}

type invitedResponse struct {
	ID              string    `json:"id"`
	InviteCode      string    `json:"invite_code"`
	InviteExpiresAt time.Time `json:"invite_expires_at"`
}

func (h *handlers) createWorker(c echo.Context) error {
	var req createWorkerRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	inv, err := h.People.CreateWorker(c.Request().Context(), model.Worker{Name: req.Name, Phone: req.Phone, GridCodes: req.GridCodes})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, invitedResponse{ID: inv.ID, InviteCode: inv.InviteCode, InviteExpiresAt: inv.ExpiresAt})
}

type createBranchRequest struct {
	Name string `json:"name"`
}

type idResponse struct {
	ID string `json:"id"`
}

func (h *handlers) createBranch(c echo.Context) error {
	var req createBranchRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	b, err := h.People.CreateBranch(c.Request().Context(), req.Name)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, idResponse{ID: b.ID})
}

type createPartyMemberRequest struct {
	Name        string   `json:"name"`
	Phone       string   `json:"phone"`
	BranchID    string   `json:"branch_id"`
	Communities []string `json:"communities"`
}

func (h *handlers) createPartyMember(c echo.Context) error {
	var req createPartyMemberRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	inv, err := h.People.CreatePartyMember(c.Request().Context(), model.PartyMember{
		Name: req.Name, Phone: req.Phone, BranchID: req.BranchID, Communities: req.Communities,
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, invitedResponse{ID: inv.ID, InviteCode: inv.InviteCode, InviteExpiresAt: inv.ExpiresAt})
}
