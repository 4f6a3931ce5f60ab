package handler

import (
	"context"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service"
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

// workerJSON is a grid worker as the people directory shows it to staff,
// phone included (nobody else sees it).
type workerJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Phone     string    `json:"phone"`
	GridCodes []string  `json:"grid_codes"`
	Bound     bool      `json:"bound"`
	OnDuty    bool      `json:"on_duty"`
	OpenTasks int       `json:"open_tasks"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
}

func toWorkerJSON(r service.WorkerRow) workerJSON {
	return workerJSON{ID: r.ID, Name: r.Name, Phone: r.Phone, GridCodes: nonNilStrings(r.GridCodes), Bound: r.Bound,
		OnDuty: r.OnDuty, OpenTasks: r.OpenTasks, Active: r.Active, CreatedAt: r.CreatedAt.UTC()}
}

// directoryMemberJSON is a party member as the people directory shows it to staff.
type directoryMemberJSON struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Phone       string    `json:"phone"`
	BranchID    string    `json:"branch_id"`
	BranchName  string    `json:"branch_name"`
	Communities []string  `json:"communities"`
	Bound       bool      `json:"bound"`
	OnDuty      bool      `json:"on_duty"`
	OpenTasks   int       `json:"open_tasks"`
	Active      bool      `json:"active"`
	CreatedAt   time.Time `json:"created_at"`
}

func toDirectoryMember(r service.MemberRow) directoryMemberJSON {
	return directoryMemberJSON{ID: r.ID, Name: r.Name, Phone: r.Phone, BranchID: r.BranchID, BranchName: r.BranchName,
		Communities: nonNilStrings(r.Communities), Bound: r.Bound, OnDuty: r.OnDuty, OpenTasks: r.OpenTasks,
		Active: r.Active, CreatedAt: r.CreatedAt.UTC()}
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// directoryPage is the list shape of API.md with the number of all matches.
type directoryPage[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
	Total      int64  `json:"total"`
}

// maxQueryWords bounds a search: each word is one more pattern every
// candidate document is matched against.
const maxQueryWords = 5

// queryWords splits ?q= into the words a search matches. Errors:
// invalid_argument (field q) when it is too long or has too many words.
func queryWords(c echo.Context) ([]string, error) {
	q := strings.TrimSpace(c.QueryParam("q"))
	if q == "" {
		return nil, nil
	}
	if err := model.CheckText("q", q); err != nil {
		return nil, err
	}
	if utf8.RuneCountInString(q) > 100 {
		return nil, model.Invalid("q", "搜索词最多 100 个字")
	}
	words := strings.Fields(q)
	if len(words) > maxQueryWords {
		return nil, model.Invalid("q", "搜索词最多 %d 个（以空格分隔），现有 %d 个", maxQueryWords, len(words))
	}
	return words, nil
}

// boolParam reads an optional true/false query parameter.
func boolParam(c echo.Context, name string) (*bool, error) {
	switch s := c.QueryParam(name); s {
	case "":
		return nil, nil
	case "true", "1":
		v := true
		return &v, nil
	case "false", "0":
		v := false
		return &v, nil
	default:
		return nil, model.Invalid(name, "只能是 true 或 false，不能是 %q", s)
	}
}

// peopleFilter reads the directory's filters: grid or community, q, active.
func peopleFilter(c echo.Context) (model.PeopleFilter, error) {
	words, err := queryWords(c)
	if err != nil {
		return model.PeopleFilter{}, err
	}
	active, err := boolParam(c, "active")
	if err != nil {
		return model.PeopleFilter{}, err
	}
	return model.PeopleFilter{Grid: c.QueryParam("grid"), Community: c.QueryParam("community"),
		BranchID: c.QueryParam("branch_id"), Words: words, Active: active}, nil
}

func (h *handlers) listWorkers(c echo.Context) error {
	return directoryList(c, h.People.ListWorkers, toWorkerJSON)
}

// directoryList answers one page of a people directory: the filter and page
// from the query, each row shown by show.
func directoryList[R, J any](c echo.Context, list func(context.Context, model.PeopleFilter, string, int) ([]R, string, int64, error), show func(R) J) error {
	f, err := peopleFilter(c)
	if err != nil {
		return err
	}
	cursor, limit, err := pageParams(c)
	if err != nil {
		return err
	}
	rows, next, total, err := list(c.Request().Context(), f, cursor, limit)
	if err != nil {
		return err
	}
	out := directoryPage[J]{Items: make([]J, len(rows)), NextCursor: signCursor(c, next), Total: total}
	for i, r := range rows {
		out.Items[i] = show(r)
	}
	return c.JSON(http.StatusOK, out)
}

func (h *handlers) getWorker(c echo.Context) error {
	r, err := h.People.GetWorker(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toWorkerJSON(*r))
}

type patchWorkerRequest struct {
	Name      *string   `json:"name"`
	Phone     *string   `json:"phone"`
	GridCodes *[]string `json:"grid_codes"`
	Active    *bool     `json:"active"`
}

func (h *handlers) patchWorker(c echo.Context) error {
	var req patchWorkerRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	r, err := h.People.UpdateWorker(c.Request().Context(), c.Param("id"), service.WorkerPatch{
		Name: req.Name, Phone: req.Phone, GridCodes: req.GridCodes, Active: req.Active,
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toWorkerJSON(*r))
}

type inviteResponse struct {
	InviteCode string    `json:"invite_code"`
	ExpiresAt  time.Time `json:"expires_at"`
}

func (h *handlers) inviteWorker(c echo.Context) error {
	inv, err := h.People.InviteWorker(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, inviteResponse{InviteCode: inv.InviteCode, ExpiresAt: inv.ExpiresAt.UTC()})
}

func (h *handlers) listPartyMembers(c echo.Context) error {
	return directoryList(c, h.People.ListPartyMembers, toDirectoryMember)
}

func (h *handlers) getPartyMember(c echo.Context) error {
	r, err := h.People.GetPartyMember(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toDirectoryMember(*r))
}

type patchMemberRequest struct {
	Name        *string   `json:"name"`
	Phone       *string   `json:"phone"`
	BranchID    *string   `json:"branch_id"`
	Communities *[]string `json:"communities"`
	Active      *bool     `json:"active"`
}

func (h *handlers) patchPartyMember(c echo.Context) error {
	var req patchMemberRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	r, err := h.People.UpdatePartyMember(c.Request().Context(), c.Param("id"), service.MemberPatch{
		Name: req.Name, Phone: req.Phone, BranchID: req.BranchID, Communities: req.Communities, Active: req.Active,
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toDirectoryMember(*r))
}

func (h *handlers) invitePartyMember(c echo.Context) error {
	inv, err := h.People.InvitePartyMember(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, inviteResponse{InviteCode: inv.InviteCode, ExpiresAt: inv.ExpiresAt.UTC()})
}

type directoryBranchJSON struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Members int    `json:"members"`
}

func (h *handlers) listBranches(c echo.Context) error {
	rows, err := h.People.ListBranches(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]directoryBranchJSON, len(rows))
	for i, r := range rows {
		out[i] = directoryBranchJSON{ID: r.ID, Name: r.Name, Members: r.Members}
	}
	return c.JSON(http.StatusOK, map[string][]directoryBranchJSON{"items": out})
}

type patchBranchRequest struct {
	Name *string `json:"name"`
}

func (h *handlers) patchBranch(c echo.Context) error {
	var req patchBranchRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if req.Name == nil {
		return model.Invalid("name", "必填：党支部的新名称")
	}
	r, err := h.People.RenameBranch(c.Request().Context(), c.Param("id"), *req.Name)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, directoryBranchJSON{ID: r.ID, Name: r.Name, Members: r.Members})
}
