package ticket

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/citizen-city/chengguantong/model"
)

// StaffTicketStore is the staff's search of every ticket and the record of
// each ticket's transitions.
type StaffTicketStore interface {
	Get(ctx context.Context, id string) (*model.Ticket, error)
	ListStaff(ctx context.Context, q model.TicketQuery, cursor string, limit int) (model.TicketPage, error)
	History(ctx context.Context, id string, version int64) ([]model.TicketVersion, error)
}

// Directory reads the people directory's profiles.
type Directory interface {
	GetWorker(ctx context.Context, id string) (*model.Worker, error)
	GetPartyMember(ctx context.Context, id string) (*model.PartyMember, error)
	ListWorkers(ctx context.Context, f model.PeopleFilter, cursor string, limit int) ([]*model.Worker, string, int64, error)
	ListPartyMembers(ctx context.Context, f model.PeopleFilter, cursor string, limit int) ([]*model.PartyMember, string, int64, error)
}

// StaffUsers loads the accounts that act on tickets.
type StaffUsers interface {
	Get(ctx context.Context, id string) (*model.User, error)
	GetStaff(ctx context.Context, id string) (*model.User, error)
	OnDuty(ctx context.Context, userIDs []string) ([]string, error)
}

// ManualDispatcher is the dispatch service's staff step (Tasks.Dispatch).
type ManualDispatcher interface {
	Dispatch(ctx context.Context, staff *model.User, id, assigneeUserID string) (*model.Ticket, error)
}

// StaffTickets is the staff's view of every ticket: search with a total,
// the full ticket with real names, who can take it, and dispatch by the
// people directory's id.
type StaffTickets struct {
	tickets  StaffTicketStore
	people   Directory
	users    StaffUsers
	loads    Loads
	dispatch ManualDispatcher
	now      func() time.Time
}

// StaffTicketsDeps are the collaborators of StaffTickets.
type StaffTicketsDeps struct {
	Tickets  StaffTicketStore
	People   Directory
	Users    StaffUsers
	Loads    Loads
	Dispatch ManualDispatcher
	Now      func() time.Time
}

// NewStaffTickets returns the staff's ticket service.
func NewStaffTickets(d StaffTicketsDeps) *StaffTickets {
	return &StaffTickets{tickets: d.Tickets, people: d.People, users: d.Users, loads: d.Loads, dispatch: d.Dispatch, now: d.Now}
}

// Person is someone acting on or holding a ticket as staff see them: ID is
// the people directory's id for a worker or party member (the account id
// for staff and residents), Name the real name (a staff account's
// username; empty for residents), Phone a worker's or member's phone.
type Person struct {
	ID    string
	Name  string
	Role  model.Role
	Phone string
}

// StaffEvent is a timeline step with who acted and, for a dispatch or a
// claim, to whom the ticket went.
type StaffEvent struct {
	model.Event
	Actor  *Person
	Target *Person
}

// StaffTicket is a ticket as staff see it.
type StaffTicket struct {
	*model.Ticket
	Assignee *Person
	// Timeline is set by Get only: a list shows no timeline.
	Timeline []StaffEvent
}

// staffQueryTimeout bounds one search of the tickets (a page and its
// count): with q it is a regular-expression scan, on FerretDB of the whole
// collection.
const staffQueryTimeout = 15 * time.Second

// search runs one bounded page of a staff search.
func (s *StaffTickets) search(ctx context.Context, q model.TicketQuery, cursor string, limit int) ([]*model.Ticket, string, int64, error) {
	qctx, cancel := context.WithTimeout(ctx, staffQueryTimeout)
	defer cancel()
	page, err := s.tickets.ListStaff(qctx, q, cursor, limit)
	ts, next, total := page.Items, page.Next, page.Total
	if err != nil && ctx.Err() == nil && errors.Is(qctx.Err(), context.DeadlineExceeded) {
		return nil, "", 0, model.Wrap(model.CodeUnavailable, err,
			fmt.Sprintf("工单查询 %d 秒内没有完成；请缩小时间范围（from、to）或增加筛选条件后重试", int(staffQueryTimeout/time.Second)))
	}
	return ts, next, total, err
}

// MaxExportRows bounds one ticket export.
const MaxExportRows = 10000

// List returns a page of the tickets matching q and how many match in all.
// Errors: invalid_argument (a cursor this server did not give), unavailable.
func (s *StaffTickets) List(ctx context.Context, q model.TicketQuery, cursor string, limit int) ([]StaffTicket, string, int64, error) {
	q.Now = s.now()
	ts, next, total, err := s.search(ctx, q, cursor, limit)
	if err != nil {
		return nil, "", 0, err
	}
	names := s.names()
	out := make([]StaffTicket, len(ts))
	for i, t := range ts {
		out[i] = StaffTicket{Ticket: t, Assignee: names.person(ctx, t.AssigneeID, t.AssigneeRole)}
	}
	return out, next, total, nil
}

// Each calls fn with every ticket matching q in q.Sort's order, at most
// MaxExportRows of them. Errors: invalid_argument when more match (the
// message says how many), unavailable.
func (s *StaffTickets) Each(ctx context.Context, q model.TicketQuery, fn func(StaffTicket) error) error {
	q.Now = s.now()
	cursor := ""
	for first := true; first || cursor != ""; first = false {
		ts, next, total, err := s.search(ctx, q, cursor, 100)
		if err != nil {
			return err
		}
		if total > MaxExportRows {
			return model.Invalid("to", "筛选出 %d 个工单，超过一次导出的上限 %d 个；请缩小时间范围（from、to）或增加筛选条件", total, MaxExportRows)
		}
		names := s.names()
		for _, t := range ts {
			if err := fn(StaffTicket{Ticket: t, Assignee: names.person(ctx, t.AssigneeID, t.AssigneeRole)}); err != nil {
				return err
			}
		}
		cursor = next
	}
	return nil
}

// Get returns a ticket as staff see it: the assignee's name and phone, and
// every timeline step with the acting person's real name and, for a
// dispatch, the person it went to (from the ticket's log of transitions).
// Errors: not_found.
func (s *StaffTickets) Get(ctx context.Context, id string) (*StaffTicket, error) {
	t, err := s.tickets.Get(ctx, id)
	if errors.Is(err, model.ErrNotFound) {
		return nil, model.Errorf(model.CodeNotFound, "没有编号为 %s 的工单", id)
	}
	if err != nil {
		return nil, err
	}
	return s.view(ctx, t)
}

func (s *StaffTickets) view(ctx context.Context, t *model.Ticket) (*StaffTicket, error) {
	history, err := s.tickets.History(ctx, t.ID, t.Version)
	if err != nil {
		return nil, err
	}
	names := s.names()
	out := &StaffTicket{Ticket: t, Assignee: names.person(ctx, t.AssigneeID, t.AssigneeRole), Timeline: make([]StaffEvent, len(t.Timeline))}
	for i, e := range t.Timeline {
		ev := StaffEvent{Event: e, Actor: names.person(ctx, e.ActorID, e.ActorRole)}
		if e.Type == model.EventDispatched || e.Type == model.EventClaimed {
			ev.Target = s.target(ctx, names, history, i, e)
		}
		out.Timeline[i] = ev
	}
	return out, nil
}

// target is to whom the dispatch or claim at timeline index i went. The
// event names the new assignee (events stored before it did: the history
// record of the transition that made the event names it); the role is that
// record's when it is the transition's own, a claim's is a party member's,
// and otherwise the person's.
func (s *StaffTickets) target(ctx context.Context, names *staffNames, history []model.TicketVersion, i int, e model.Event) *Person {
	var made *model.TicketVersion
	for k, v := range history {
		if v.Events > i {
			// Trusted only when it is the transition that added event i:
			// the record before it is the version before, without the
			// event (a ticket loaded in bulk has only its last version's).
			if (k == 0 && v.Version == 1) || (k > 0 && history[k-1].Version == v.Version-1 && history[k-1].Events <= i) {
				made = &history[k]
			}
			break
		}
	}
	who := e.AssigneeID
	if who == "" {
		if made == nil {
			return nil
		}
		who = made.AssigneeID
	}
	role := model.RolePartyMember
	switch {
	case made != nil && made.AssigneeID == who:
		role = made.AssigneeRole
	case e.Type == model.EventDispatched:
		role = names.roleOf(ctx, who)
	}
	return names.person(ctx, who, role)
}

// Candidate is someone staff may dispatch a ticket to.
type Candidate struct {
	Person
	UserID    string
	OnDuty    bool
	OpenTasks int
	// Rank is 0 for the ticket's grid's workers, 1 for its community's
	// party members, 2 for everyone else.
	Rank int
}

// MaxCandidates bounds the candidate list.
const MaxCandidates = 100

// Candidates returns who can take a ticket, best first: the active, bound
// workers of its grid, then the party members of its community, then
// everyone else; within each, those on duty first, then the least loaded,
// then by name. Errors: not_found.
func (s *StaffTickets) Candidates(ctx context.Context, id string) ([]Candidate, error) {
	t, err := s.tickets.Get(ctx, id)
	if errors.Is(err, model.ErrNotFound) {
		return nil, model.Errorf(model.CodeNotFound, "没有编号为 %s 的工单", id)
	}
	if err != nil {
		return nil, err
	}
	active := true
	var out []Candidate
	for cursor, first := "", true; first || cursor != ""; first = false {
		ws, next, _, err := s.people.ListWorkers(ctx, model.PeopleFilter{Active: &active}, cursor, 100)
		if err != nil {
			return nil, err
		}
		for _, w := range ws {
			if w.UserID == "" {
				continue
			}
			rank := 2
			if t.GridCode != "" && slices.Contains(w.GridCodes, t.GridCode) {
				rank = 0
			}
			out = append(out, Candidate{Person: Person{ID: w.ID, Name: w.Name, Role: model.RoleGridWorker, Phone: w.Phone}, UserID: w.UserID, Rank: rank})
		}
		cursor = next
	}
	for cursor, first := "", true; first || cursor != ""; first = false {
		ms, next, _, err := s.people.ListPartyMembers(ctx, model.PeopleFilter{Active: &active}, cursor, 100)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			if m.UserID == "" {
				continue
			}
			rank := 2
			if t.Community != "" && slices.Contains(m.Communities, t.Community) {
				rank = 1
			}
			out = append(out, Candidate{Person: Person{ID: m.ID, Name: m.Name, Role: model.RolePartyMember, Phone: m.Phone}, UserID: m.UserID, Rank: rank})
		}
		cursor = next
	}
	users := make([]string, 0, len(out))
	for _, c := range out {
		users = append(users, c.UserID)
	}
	if len(users) > 0 {
		on, err := s.users.OnDuty(ctx, users)
		if err != nil {
			return nil, err
		}
		loads, err := s.loads.OpenLoads(ctx, users)
		if err != nil {
			return nil, err
		}
		for i := range out {
			out[i].OnDuty = slices.Contains(on, out[i].UserID)
			out[i].OpenTasks = loads[out[i].UserID]
		}
	}
	slices.SortStableFunc(out, func(a, b Candidate) int {
		if a.Rank != b.Rank {
			return a.Rank - b.Rank
		}
		if a.OnDuty != b.OnDuty {
			if a.OnDuty {
				return -1
			}
			return 1
		}
		if a.OpenTasks != b.OpenTasks {
			return a.OpenTasks - b.OpenTasks
		}
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.ID, b.ID))
	})
	if len(out) > MaxCandidates {
		out = out[:MaxCandidates]
	}
	return out, nil
}

// Dispatch assigns a ticket by hand to a worker or party member named by
// their people-directory id (or, as before, their user id), through the
// dispatch service's own step, and returns the staff's view. Errors:
// invalid_argument (field assignee_id: unknown, deactivated, or not yet
// bound), not_found, conflict.
func (s *StaffTickets) Dispatch(ctx context.Context, staff *model.User, id, assigneeID string) (*StaffTicket, error) {
	assigneeID = strings.TrimSpace(assigneeID)
	if assigneeID == "" {
		return nil, model.Invalid("assignee_id", "必填：从 /candidates 列出的人员中选一位的 id")
	}
	userID, err := s.assigneeUser(ctx, assigneeID)
	if err != nil {
		return nil, err
	}
	t, err := s.dispatch.Dispatch(ctx, staff, id, userID)
	if errors.Is(err, model.ErrNotFound) {
		return nil, model.Errorf(model.CodeNotFound, "没有编号为 %s 的工单", id)
	}
	if err != nil {
		return nil, err
	}
	return s.view(ctx, t)
}

// assigneeUser resolves a directory id to the bound user's id; any other
// id is passed on as a user id.
func (s *StaffTickets) assigneeUser(ctx context.Context, id string) (string, error) {
	w, err := s.people.GetWorker(ctx, id)
	if err == nil {
		return boundUser(model.RoleGridWorker, w.Name, w.Active, w.UserID)
	}
	if !errors.Is(err, model.ErrNotFound) {
		return "", err
	}
	m, err := s.people.GetPartyMember(ctx, id)
	if err == nil {
		return boundUser(model.RolePartyMember, m.Name, m.Active, m.UserID)
	}
	if !errors.Is(err, model.ErrNotFound) {
		return "", err
	}
	return id, nil
}

func boundUser(role model.Role, name string, active bool, userID string) (string, error) {
	if !active {
		return "", model.Invalid("assignee_id", "%s%s已停用，不能派遣", role.Label(), name)
	}
	if userID == "" {
		return "", model.Invalid("assignee_id", "%s%s还没有用邀请码绑定微信，收不到任务，不能派遣", role.Label(), name)
	}
	return userID, nil
}

// staffNames resolves the people of one view, each once.
type staffNames struct {
	s     *StaffTickets
	cache map[string]*Person
}

func (s *StaffTickets) names() *staffNames { return &staffNames{s: s, cache: map[string]*Person{}} }

// roleOf guesses in which role a user holds tickets: as a grid worker if
// they are one, else as a party member.
func (n *staffNames) roleOf(ctx context.Context, userID string) model.Role {
	if u, err := n.s.users.Get(ctx, userID); err == nil && u.WorkerID == "" && u.PartyMemberID != "" {
		return model.RolePartyMember
	}
	return model.RoleGridWorker
}

// person returns who userID is in role, or nil for nobody (the system).
func (n *staffNames) person(ctx context.Context, userID string, role model.Role) *Person {
	if userID == "" {
		return nil
	}
	key := string(role) + "/" + userID
	if p, ok := n.cache[key]; ok {
		return p
	}
	p := n.lookup(ctx, userID, role)
	n.cache[key] = p
	return p
}

func (n *staffNames) lookup(ctx context.Context, userID string, role model.Role) *Person {
	if role == model.RoleStaff {
		if u, err := n.s.users.GetStaff(ctx, userID); err == nil {
			return &Person{ID: u.ID, Name: u.Username, Role: role}
		}
		return &Person{ID: userID, Role: role}
	}
	u, err := n.s.users.Get(ctx, userID)
	if err != nil {
		return &Person{ID: userID, Role: role}
	}
	switch {
	case role == model.RoleGridWorker && u.WorkerID != "":
		if w, err := n.s.people.GetWorker(ctx, u.WorkerID); err == nil {
			return &Person{ID: w.ID, Name: w.Name, Role: role, Phone: w.Phone}
		}
	case role == model.RolePartyMember && u.PartyMemberID != "":
		if m, err := n.s.people.GetPartyMember(ctx, u.PartyMemberID); err == nil {
			return &Person{ID: m.ID, Name: m.Name, Role: role, Phone: m.Phone}
		}
	}
	return &Person{ID: u.ID, Role: role}
}
