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
	GetByCaseNo(ctx context.Context, caseNo string) (*model.Ticket, error)
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
	Dispatch(ctx context.Context, staff *model.User, id, assigneeUserID, note string) (*model.Ticket, error)
}

// GridNames names grids by code (the grid index).
type GridNames interface {
	Get(code string) (model.Grid, bool)
}

// CategoryNames names categories by code (the catalogue).
type CategoryNames interface {
	Get(ctx context.Context, code string) (model.Category, error)
}

// StaffTickets is the staff's view of every ticket: search with a total,
// the full ticket with real names, who can take it, and dispatch by the
// people directory's id.
type StaffTickets struct {
	tickets    StaffTicketStore
	people     Directory
	users      StaffUsers
	loads      Loads
	dispatch   ManualDispatcher
	grids      GridNames
	categories CategoryNames
	now        func() time.Time
}

// StaffTicketsDeps are the collaborators of StaffTickets.
type StaffTicketsDeps struct {
	Tickets  StaffTicketStore
	People   Directory
	Users    StaffUsers
	Loads    Loads
	Dispatch ManualDispatcher
	// Grids name the grids of candidates and exports, Categories the
	// categories of exports (nil: codes only).
	Grids      GridNames
	Categories CategoryNames
	Now        func() time.Time
}

// NewStaffTickets returns the staff's ticket service.
func NewStaffTickets(d StaffTicketsDeps) *StaffTickets {
	return &StaffTickets{tickets: d.Tickets, people: d.People, users: d.Users, loads: d.Loads, dispatch: d.Dispatch,
		grids: d.Grids, categories: d.Categories, now: d.Now}
}

// GridName is the name of grid code, "" when unknown.
func (s *StaffTickets) GridName(code string) string {
	if s.grids == nil || code == "" {
		return ""
	}
	g, _ := s.grids.Get(code)
	return g.Name
}

// Person is someone acting on or holding a ticket as staff see them: ID is
// the people directory's id for a worker or party member (the account id
// for staff and residents), Name the real name (a staff account's
// username; empty for residents), Phone a worker's or member's phone, and
// where they serve: a worker's grids, a party member's communities.
type Person struct {
	ID          string
	Name        string
	Role        model.Role
	Phone       string
	GridCodes   []string
	Communities []string
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
	// Timeline is set by Get only: a list shows no timeline. Its notes name
	// people by their real names (see unmask).
	Timeline []StaffEvent
}

// HeldReason is why a held report waits for a review: the note of its
// latest held event ("" when it is not held).
func (t StaffTicket) HeldReason() string {
	if !t.Held {
		return ""
	}
	for i := len(t.Ticket.Timeline) - 1; i >= 0; i-- {
		if e := t.Ticket.Timeline[i]; e.Type == model.EventHeld {
			return e.Note
		}
	}
	return ""
}

// StaffPage is one page of the staff's search.
type StaffPage struct {
	Items []StaffTicket
	Next  string
	// Total counts every match: exact, or a lower bound when TotalCapped.
	Total       int64
	TotalCapped bool
}

// staffQueryTimeout bounds one search of the tickets (a page and its
// count): with q it is a regular-expression scan, on FerretDB of the whole
// collection.
const staffQueryTimeout = 15 * time.Second

// search runs one bounded page of a staff search.
func (s *StaffTickets) search(ctx context.Context, q model.TicketQuery, cursor string, limit int) (model.TicketPage, error) {
	qctx, cancel := context.WithTimeout(ctx, staffQueryTimeout)
	defer cancel()
	page, err := s.tickets.ListStaff(qctx, q, cursor, limit)
	if err != nil && ctx.Err() == nil && errors.Is(qctx.Err(), context.DeadlineExceeded) {
		return model.TicketPage{}, model.Wrap(model.CodeUnavailable, err,
			fmt.Sprintf("工单查询 %d 秒内没有完成；请缩小时间范围（from、to）或增加筛选条件后重试", int(staffQueryTimeout/time.Second)))
	}
	return page, err
}

// MaxExportRows bounds one ticket export: a busy county's month (15,000–
// 20,000 tickets) fits, with room.
const MaxExportRows = 50000

// exportLimit is MaxExportRows (a variable for the tests).
var exportLimit = MaxExportRows

// exportPage is how many tickets Each reads at a time.
const exportPage = 1000

// List returns a page of the tickets matching q and how many match in all
// (a lower bound past model.MaxExactTotal, with TotalCapped). Errors:
// invalid_argument (a cursor this server did not give), unavailable.
func (s *StaffTickets) List(ctx context.Context, q model.TicketQuery, cursor string, limit int) (StaffPage, error) {
	q.Now = s.now()
	page, err := s.search(ctx, q, cursor, limit)
	if err != nil {
		return StaffPage{}, err
	}
	names := s.names()
	out := StaffPage{Items: make([]StaffTicket, len(page.Items)), Next: page.Next, Total: page.Total, TotalCapped: page.TotalCapped}
	for i, t := range page.Items {
		out.Items[i] = StaffTicket{Ticket: t, Assignee: names.person(ctx, t.AssigneeID, t.AssigneeRole)}
	}
	return out, nil
}

// Count is how many tickets match q: exact, or a lower bound (capped)
// past model.MaxExactTotal — the total of the list of q, by the same
// query. Errors: unavailable.
func (s *StaffTickets) Count(ctx context.Context, q model.TicketQuery) (total int64, capped bool, err error) {
	q.Now = s.now()
	page, err := s.search(ctx, q, "", 1)
	return page.Total, page.TotalCapped, err
}

// Each calls fn with every ticket matching q in q.Sort's order, at most
// MaxExportRows of them. Errors: invalid_argument when more match (named
// before fn is called when the total is exact, else once the rows pass the
// limit), unavailable.
func (s *StaffTickets) Each(ctx context.Context, q model.TicketQuery, fn func(StaffTicket) error) error {
	q.Now = s.now()
	cursor := ""
	// One cache of names for every page: an export's pages name the same
	// few dozen handlers, each looked up once, not per page. Pages of
	// exportPage: each page's total counts up to model.MaxExactTotal rows
	// again, so 15,000 rows in pages of 100 counted 1.5 million.
	names := s.names()
	tooMany := func() error {
		return model.Invalid("to", "筛选出的工单超过一次导出的上限 %d 个；请缩小时间范围（from、to）或增加筛选条件", exportLimit)
	}
	n := 0
	for first := true; first || cursor != ""; first = false {
		page, err := s.search(ctx, q, cursor, exportPage)
		if err != nil {
			return err
		}
		// An exact total says at once; a capped one (past
		// model.MaxExactTotal) is a lower bound, so the rows are counted.
		if !page.TotalCapped && page.Total > int64(exportLimit) {
			return tooMany()
		}
		if n += len(page.Items); n > exportLimit {
			return tooMany()
		}
		for _, t := range page.Items {
			if err := fn(StaffTicket{Ticket: t, Assignee: names.person(ctx, t.AssigneeID, t.AssigneeRole)}); err != nil {
				return err
			}
		}
		cursor = page.Next
	}
	return nil
}

// Get returns a ticket as staff see it: the assignee's name and phone, and
// every timeline step with the acting person's real name and, for a
// dispatch, the person it went to (from the ticket's log of transitions).
// Errors: not_found.
func (s *StaffTickets) Get(ctx context.Context, id string) (*StaffTicket, error) {
	t, err := Load(ctx, s.tickets, id)
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
		ev.Note = unmask(ev.Note, ev.Actor, ev.Target)
		out.Timeline[i] = ev
	}
	return out, nil
}

// unmask shows staff a timeline note with the real names of the people it
// names: notes are written for the resident's timeline, with masked names
// (已派遣至网格员张*处置), and history stays as written; this is the staff's
// view of it.
func unmask(note string, people ...*Person) string {
	var pairs []string
	for _, p := range people {
		if p == nil || p.Name == "" || p.Role == model.RoleResident {
			continue
		}
		if masked := model.MaskName(p.Name); masked != p.Name && strings.Contains(note, masked) {
			pairs = append(pairs, masked, p.Name)
		}
	}
	if len(pairs) == 0 {
		return note
	}
	// The longest mask first (张** before 张*), in one pass.
	for i := 2; i < len(pairs); i += 2 {
		for j := i; j >= 2 && len(pairs[j]) > len(pairs[j-2]); j -= 2 {
			pairs[j], pairs[j+1], pairs[j-2], pairs[j-1] = pairs[j-2], pairs[j-1], pairs[j], pairs[j+1]
		}
	}
	return strings.NewReplacer(pairs...).Replace(note)
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

// Candidate is someone staff may dispatch a ticket to, with where they
// serve (Person's GridCodes or Communities) and GridNames beside a
// worker's codes.
type Candidate struct {
	Person
	UserID    string
	GridNames []string
	OnDuty    bool
	OpenTasks int
	// Rank is 0 for the ticket's grid's workers, 1 for its community's
	// party members, 2 for everyone else.
	Rank int
}

// Own reports whether the candidate is a worker of the ticket's own grid.
func (c Candidate) Own() bool { return c.Rank == 0 }

// MaxCandidates bounds the candidate list.
const MaxCandidates = 100

// Candidates returns who can take a ticket (named by id or case number),
// best first: the active, bound workers of its grid, then the party
// members of its community, then everyone else; within each, those on duty
// first, then the least loaded, then by name. Errors: not_found.
func (s *StaffTickets) Candidates(ctx context.Context, id string) ([]Candidate, error) {
	t, err := Load(ctx, s.tickets, id)
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
			c := Candidate{Person: Person{ID: w.ID, Name: w.Name, Role: model.RoleGridWorker, Phone: w.Phone, GridCodes: w.GridCodes},
				UserID: w.UserID, Rank: rank, GridNames: make([]string, len(w.GridCodes))}
			for i, code := range w.GridCodes {
				c.GridNames[i] = s.GridName(code)
			}
			out = append(out, c)
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
			out = append(out, Candidate{Person: Person{ID: m.ID, Name: m.Name, Role: model.RolePartyMember, Phone: m.Phone,
				Communities: m.Communities}, UserID: m.UserID, Rank: rank})
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

// DispatchInput is a staff's manual dispatch: to whom, by their
// people-directory id (or user id), and — for someone off duty — the
// staff's confirmation that they mean it.
type DispatchInput struct {
	AssigneeID     string
	ConfirmOffDuty bool
}

// Dispatch assigns a ticket (named by id or case number) by hand to a
// worker or party member, through the dispatch service's own step —
// including a report held for review, which the dispatch registers —, and
// returns the staff's view. Someone off duty receives it only when
// in.ConfirmOffDuty says the staff know (the picker asks): the timeline
// then says so. Errors: invalid_argument (field assignee_id: unknown,
// deactivated, or not yet bound; field confirm_off_duty: off duty and not
// confirmed), not_found, conflict.
func (s *StaffTickets) Dispatch(ctx context.Context, staff *model.User, id string, in DispatchInput) (*StaffTicket, error) {
	assigneeID := strings.TrimSpace(in.AssigneeID)
	if assigneeID == "" {
		return nil, model.Invalid("assignee_id", "必填：从 /candidates 列出的人员中选一位的 id")
	}
	who, err := s.assignee(ctx, assigneeID)
	if err != nil {
		return nil, err
	}
	note := "人工派遣"
	on, err := s.users.OnDuty(ctx, []string{who.userID})
	if err != nil {
		return nil, err
	}
	if len(on) == 0 {
		if !in.ConfirmOffDuty {
			return nil, model.InvalidNamed("confirm_off_duty", "%s%s当前不在岗，收到任务可能无法及时处置；确认仍要派遣，请再次提交并注明已确认（confirm_off_duty: true）",
				who.role.Label(), who.name)
		}
		note = "人工派遣（处置人当时不在岗，经工作人员确认）"
	}
	t, err := s.dispatch.Dispatch(ctx, staff, id, who.userID, note)
	if errors.Is(err, model.ErrNotFound) {
		return nil, model.Errorf(model.CodeNotFound, "没有编号为 %s 的工单", id)
	}
	if err != nil {
		return nil, err
	}
	return s.view(ctx, t)
}

// directoryPerson is who a dispatch goes to.
type directoryPerson struct {
	userID, name string
	role         model.Role
}

// assignee resolves a directory id to the bound user; any other id is
// taken for a user id.
func (s *StaffTickets) assignee(ctx context.Context, id string) (directoryPerson, error) {
	w, err := s.people.GetWorker(ctx, id)
	if err == nil {
		return boundUser(model.RoleGridWorker, w.Name, w.Active, w.UserID)
	}
	if !errors.Is(err, model.ErrNotFound) {
		return directoryPerson{}, err
	}
	m, err := s.people.GetPartyMember(ctx, id)
	if err == nil {
		return boundUser(model.RolePartyMember, m.Name, m.Active, m.UserID)
	}
	if !errors.Is(err, model.ErrNotFound) {
		return directoryPerson{}, err
	}
	return directoryPerson{userID: id}, nil
}

func boundUser(role model.Role, name string, active bool, userID string) (directoryPerson, error) {
	if !active {
		return directoryPerson{}, model.Invalid("assignee_id", "%s%s已停用，不能派遣", role.Label(), name)
	}
	if userID == "" {
		return directoryPerson{}, model.Invalid("assignee_id", "%s%s还没有用邀请码绑定微信，收不到任务，不能派遣", role.Label(), name)
	}
	return directoryPerson{userID: userID, name: name, role: role}, nil
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
			return &Person{ID: w.ID, Name: w.Name, Role: role, Phone: w.Phone, GridCodes: w.GridCodes}
		}
	case role == model.RolePartyMember && u.PartyMemberID != "":
		if m, err := n.s.people.GetPartyMember(ctx, u.PartyMemberID); err == nil {
			return &Person{ID: m.ID, Name: m.Name, Role: role, Phone: m.Phone, Communities: m.Communities}
		}
	}
	return &Person{ID: u.ID, Role: role}
}
