package handler

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service/people"
)

// The people directory has two rosters, grid workers and party members,
// with the same five calls each. One code path serves both: the routes'
// group names its roster (withRoster), and the handlers call it through
// the roster interface, which workerRoster and memberRoster adapt from
// PeopleService.

// personRequest is what staff send to add or change a grid worker or a
// party member: a worker's roster reads grid_codes, a member's branch_id
// and communities. In a PATCH an absent field stays as it is.
type personRequest struct {
	Name        *string   `json:"name"`
	Phone       *string   `json:"phone"`
	GridCodes   *[]string `json:"grid_codes"`
	BranchID    *string   `json:"branch_id"`
	Communities *[]string `json:"communities"`
	Active      *bool     `json:"active"`
}

// personJSON is a grid worker or a party member as the people directory
// shows them to staff, phone included (nobody else sees it): a worker with
// grid_codes, a member with branch_id, branch_name and communities.
type personJSON struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Phone       string    `json:"phone"`
	GridCodes   *[]string `json:"grid_codes,omitempty"`
	BranchID    *string   `json:"branch_id,omitempty"`
	BranchName  *string   `json:"branch_name,omitempty"`
	Communities *[]string `json:"communities,omitempty"`
	Bound       bool      `json:"bound"` // the invite has been redeemed
	OnDuty      bool      `json:"on_duty"`
	OpenTasks   int       `json:"open_tasks"`
	Active      bool      `json:"active"`
	CreatedAt   time.Time `json:"created_at"`
}

// invitedJSON is a new person's id and the invite code that binds them
// (shown once).
type invitedJSON struct {
	ID              string    `json:"id"`
	InviteCode      string    `json:"invite_code"`
	InviteExpiresAt time.Time `json:"invite_expires_at"`
}

// inviteJSON is a new invite code for someone already in the directory;
// an earlier unused one stops working.
type inviteJSON struct {
	InviteCode string    `json:"invite_code"`
	ExpiresAt  time.Time `json:"expires_at"`
}

// roster is one people directory as the handlers call it. Errors are the
// service's: invalid_argument naming the field, not_found, conflict (a
// phone another active person of the role holds; an invite for a bound
// person).
type roster interface {
	create(ctx context.Context, req personRequest) (*people.Invited, error)
	list(ctx context.Context, f model.PeopleFilter, cursor string, limit int) ([]personJSON, string, int64, error)
	get(ctx context.Context, id string) (personJSON, error)
	update(ctx context.Context, id string, req personRequest) (personJSON, error)
	invite(ctx context.Context, id string) (*people.Invited, error)
}

const rosterKey = "roster"

// withRoster makes r the roster of the group's routes.
func withRoster(r roster) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.Set(rosterKey, r)
			return next(c)
		}
	}
}

func rosterOf(c echo.Context) roster {
	return c.Get(rosterKey).(roster) // set by withRoster on every route that reads it
}

func (h *handlers) createPerson(c echo.Context) error {
	var req personRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	inv, err := rosterOf(c).create(c.Request().Context(), req)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, invitedJSON{ID: inv.ID, InviteCode: inv.InviteCode, InviteExpiresAt: inv.ExpiresAt})
}

// listPeople answers one page of a directory, filtered by grid or
// community, branch, q (words in the name or phone) and active.
func (h *handlers) listPeople(c echo.Context) error {
	words, err := queryWords(c)
	if err != nil {
		return err
	}
	active, err := boolParam(c, "active")
	if err != nil {
		return err
	}
	f := model.PeopleFilter{Grid: c.QueryParam("grid"), Community: c.QueryParam("community"),
		BranchID: c.QueryParam("branch_id"), Words: words, Active: active}
	cursor, limit, err := pageParams(c)
	if err != nil {
		return err
	}
	items, next, total, err := rosterOf(c).list(c.Request().Context(), f, cursor, limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listJSON[personJSON]{Items: items, NextCursor: signCursor(c, next), Total: &total})
}

func (h *handlers) getPerson(c echo.Context) error {
	p, err := rosterOf(c).get(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

// patchPerson changes what the request names; deactivating takes the
// person off duty and out of routing, and routes their open tasks again.
func (h *handlers) patchPerson(c echo.Context) error {
	var req personRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	p, err := rosterOf(c).update(c.Request().Context(), c.Param("id"), req)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

func (h *handlers) invitePerson(c echo.Context) error {
	inv, err := rosterOf(c).invite(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, inviteJSON{InviteCode: inv.InviteCode, ExpiresAt: inv.ExpiresAt.UTC()})
}

// workerRoster is the grid workers' directory.
type workerRoster struct{ PeopleService }

func (r workerRoster) create(ctx context.Context, req personRequest) (*people.Invited, error) {
	return r.CreateWorker(ctx, model.Worker{Name: deref(req.Name), Phone: deref(req.Phone), GridCodes: deref(req.GridCodes)})
}

func (r workerRoster) list(ctx context.Context, f model.PeopleFilter, cursor string, limit int) ([]personJSON, string, int64, error) {
	rows, next, total, err := r.ListWorkers(ctx, f, cursor, limit)
	return showAll(rows, showWorker), next, total, err
}

func (r workerRoster) get(ctx context.Context, id string) (personJSON, error) {
	w, err := r.GetWorker(ctx, id)
	return showRow(w, err, showWorker)
}

func (r workerRoster) update(ctx context.Context, id string, req personRequest) (personJSON, error) {
	w, err := r.UpdateWorker(ctx, id, people.WorkerPatch{Name: req.Name, Phone: req.Phone, GridCodes: req.GridCodes, Active: req.Active})
	return showRow(w, err, showWorker)
}

func (r workerRoster) invite(ctx context.Context, id string) (*people.Invited, error) {
	return r.InviteWorker(ctx, id)
}

func showWorker(w people.WorkerRow) personJSON {
	codes := nonNil(w.GridCodes)
	return personJSON{ID: w.ID, Name: w.Name, Phone: w.Phone, GridCodes: &codes, Bound: w.Bound, OnDuty: w.OnDuty,
		OpenTasks: w.OpenTasks, Active: w.Active, CreatedAt: w.CreatedAt.UTC()}
}

// memberRoster is the party members' directory.
type memberRoster struct{ PeopleService }

func (r memberRoster) create(ctx context.Context, req personRequest) (*people.Invited, error) {
	return r.CreatePartyMember(ctx, model.PartyMember{Name: deref(req.Name), Phone: deref(req.Phone),
		BranchID: deref(req.BranchID), Communities: deref(req.Communities)})
}

func (r memberRoster) list(ctx context.Context, f model.PeopleFilter, cursor string, limit int) ([]personJSON, string, int64, error) {
	rows, next, total, err := r.ListPartyMembers(ctx, f, cursor, limit)
	return showAll(rows, showMember), next, total, err
}

func (r memberRoster) get(ctx context.Context, id string) (personJSON, error) {
	m, err := r.GetPartyMember(ctx, id)
	return showRow(m, err, showMember)
}

func (r memberRoster) update(ctx context.Context, id string, req personRequest) (personJSON, error) {
	m, err := r.UpdatePartyMember(ctx, id, people.MemberPatch{Name: req.Name, Phone: req.Phone,
		BranchID: req.BranchID, Communities: req.Communities, Active: req.Active})
	return showRow(m, err, showMember)
}

func (r memberRoster) invite(ctx context.Context, id string) (*people.Invited, error) {
	return r.InvitePartyMember(ctx, id)
}

func showMember(m people.MemberRow) personJSON {
	communities, branchID, branchName := nonNil(m.Communities), m.BranchID, m.BranchName
	return personJSON{ID: m.ID, Name: m.Name, Phone: m.Phone, BranchID: &branchID, BranchName: &branchName,
		Communities: &communities, Bound: m.Bound, OnDuty: m.OnDuty, OpenTasks: m.OpenTasks, Active: m.Active,
		CreatedAt: m.CreatedAt.UTC()}
}

// showAll shows each row of a page.
func showAll[R any](rows []R, show func(R) personJSON) []personJSON {
	out := make([]personJSON, len(rows))
	for i, r := range rows {
		out[i] = show(r)
	}
	return out
}

// showRow shows the row a service call returned, or passes its error on.
func showRow[R any](row *R, err error, show func(R) personJSON) (personJSON, error) {
	if err != nil {
		return personJSON{}, err
	}
	return show(*row), nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

type branchRequest struct {
	Name *string `json:"name"`
}

// branchJSON is a party branch (党支部) with its number of active members.
type branchJSON struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Members int    `json:"members"`
}

type idJSON struct {
	ID string `json:"id"`
}

func (h *handlers) createBranch(c echo.Context) error {
	var req branchRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	b, err := h.People.CreateBranch(c.Request().Context(), deref(req.Name))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, idJSON{ID: b.ID})
}

func (h *handlers) listBranches(c echo.Context) error {
	rows, err := h.People.ListBranches(c.Request().Context())
	if err != nil {
		return err
	}
	out := itemsJSON[branchJSON]{Items: make([]branchJSON, len(rows))}
	for i, r := range rows {
		out.Items[i] = branchJSON{ID: r.ID, Name: r.Name, Members: r.Members}
	}
	return c.JSON(http.StatusOK, out)
}

func (h *handlers) renameBranch(c echo.Context) error {
	var req branchRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if req.Name == nil {
		return model.InvalidNamed("name", "请填写党支部的新名称")
	}
	r, err := h.People.RenameBranch(c.Request().Context(), c.Param("id"), *req.Name)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, branchJSON{ID: r.ID, Name: r.Name, Members: r.Members})
}
