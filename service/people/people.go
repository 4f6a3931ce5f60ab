package people

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/citizen-city/chengguantong/model"
)

// ProfileStore keeps the staff-created profiles.
type ProfileStore interface {
	CreateWorker(ctx context.Context, w model.Worker) (*model.Worker, error)
	CreateBranch(ctx context.Context, b model.Branch) (*model.Branch, error)
	GetBranch(ctx context.Context, id string) (*model.Branch, error)
	CreatePartyMember(ctx context.Context, p model.PartyMember) (*model.PartyMember, error)
	GetWorker(ctx context.Context, id string) (*model.Worker, error)
	GetPartyMember(ctx context.Context, id string) (*model.PartyMember, error)
	ListWorkers(ctx context.Context, f model.PeopleFilter, cursor string, limit int) ([]*model.Worker, string, int64, error)
	ListPartyMembers(ctx context.Context, f model.PeopleFilter, cursor string, limit int) ([]*model.PartyMember, string, int64, error)
	UpdateWorker(ctx context.Context, w *model.Worker) error
	UpdatePartyMember(ctx context.Context, p *model.PartyMember) error
	ListBranches(ctx context.Context) ([]model.Branch, map[string]int, error)
	RenameBranch(ctx context.Context, id, name string) (*model.Branch, error)
	// ClaimPhone returns the id of another active profile of role holding
	// phone, or "" once profileID holds it.
	ClaimPhone(ctx context.Context, role model.Role, phone, profileID string) (string, error)
	ReleasePhone(ctx context.Context, role model.Role, phone, profileID string) error
}

// InviteRevoker makes a profile's unused invites stop working.
type InviteRevoker interface {
	RevokeUnused(ctx context.Context, role model.Role, profileID string) error
}

// Accounts are the WeChat accounts bound to profiles: their roles and duty.
type Accounts interface {
	Get(ctx context.Context, id string) (*model.User, error)
	Bind(ctx context.Context, userID string, role model.Role, profileID string) (*model.User, error)
	Unbind(ctx context.Context, userID string, role model.Role) (*model.User, error)
	SetDuty(ctx context.Context, userID string, onDuty bool) (*model.User, error)
	OnDuty(ctx context.Context, userIDs []string) ([]string, error)
}

// GridCatalogue lists the uploaded grids, whose codes and communities
// profiles must name.
type GridCatalogue interface {
	List(ctx context.Context) ([]model.Grid, error)
}

// TaskReturner lists a handler's open tasks and gives one back to be
// routed again: the dispatch service's own steps (Tasks.Mine, Tasks.Return).
type TaskReturner interface {
	Mine(ctx context.Context, u *model.User, cursor string, limit int) ([]*model.Ticket, string, error)
	Return(ctx context.Context, u *model.User, id, reason string) (*model.Ticket, error)
}

// Loads counts users' open tickets (their load, shown in the directory).
type Loads interface {
	OpenLoads(ctx context.Context, userIDs []string) (map[string]int, error)
}

// Directory is the staff's management of grid workers, party branches and party
// members, each of whom joins through a single-use invite code: the people
// directory.
type Directory struct {
	profiles  ProfileStore
	invites   InviteStore
	revoker   InviteRevoker
	users     Accounts
	grids     GridCatalogue
	loads     Loads
	tasks     TaskReturner
	inviteTTL time.Duration
	now       func() time.Time
	logger    *slog.Logger
}

// DirectoryDeps are the collaborators of Directory.
type DirectoryDeps struct {
	Profiles  ProfileStore
	Invites   InviteStore
	Revoker   InviteRevoker
	Users     Accounts
	Grids     GridCatalogue
	Loads     Loads
	Tasks     TaskReturner
	InviteTTL time.Duration
	Now       func() time.Time
	Logger    *slog.Logger
}

// NewDirectory returns the people service.
func NewDirectory(d DirectoryDeps) *Directory {
	return &Directory{profiles: d.Profiles, invites: d.Invites, revoker: d.Revoker, users: d.Users, grids: d.Grids, loads: d.Loads,
		tasks: d.Tasks, inviteTTL: d.InviteTTL, now: d.Now, logger: d.Logger}
}

// Invited is a new profile and the invite code that binds it; the code is
// shown once and only its hash is kept.
type Invited struct {
	ID         string
	InviteCode string
	ExpiresAt  time.Time
}

// WorkerRow is a grid worker as the directory shows it: the profile,
// whether its invite was redeemed, and the bound user's duty and load.
type WorkerRow struct {
	model.Worker
	Bound     bool
	OnDuty    bool
	OpenTasks int
}

// MemberRow is a party member as the directory shows it.
type MemberRow struct {
	model.PartyMember
	BranchName string
	Bound      bool
	OnDuty     bool
	OpenTasks  int
}

// BranchRow is a party branch with its number of active members.
type BranchRow struct {
	model.Branch
	Members int
}

// WorkerPatch is what staff may change of a worker; nil fields stay.
type WorkerPatch struct {
	Name      *string
	Phone     *string
	GridCodes *[]string
	Active    *bool
}

// MemberPatch is what staff may change of a party member; nil fields stay.
type MemberPatch struct {
	Name        *string
	Phone       *string
	BranchID    *string
	Communities *[]string
	Active      *bool
}

// CreateWorker adds a grid worker profile. Errors: invalid_argument (a
// grid code naming no uploaded grid, field grid_codes[i]), conflict (the
// phone is another active worker's).
func (p *Directory) CreateWorker(ctx context.Context, w model.Worker) (*Invited, error) {
	if err := checkName(w.Name); err != nil {
		return nil, err
	}
	if err := checkPhone(w.Phone); err != nil {
		return nil, err
	}
	codes, err := p.checkGridCodes(ctx, w.GridCodes)
	if err != nil {
		return nil, err
	}
	w.Name, w.GridCodes, w.ID = strings.TrimSpace(w.Name), codes, model.NewID(p.now())
	if err := p.claimPhone(ctx, model.RoleGridWorker, w.Phone, w.ID); err != nil {
		return nil, err
	}
	created, err := p.profiles.CreateWorker(ctx, w)
	if err != nil {
		return nil, fmt.Errorf("create worker: %w", err)
	}
	return p.invite(ctx, model.RoleGridWorker, created.ID)
}

// CreateBranch adds a party branch (党支部). Errors: invalid_argument.
func (p *Directory) CreateBranch(ctx context.Context, name string) (*model.Branch, error) {
	if err := checkBranchName(name); err != nil {
		return nil, err
	}
	b, err := p.profiles.CreateBranch(ctx, model.Branch{Name: strings.TrimSpace(name)})
	if err != nil {
		return nil, fmt.Errorf("create branch: %w", err)
	}
	return b, nil
}

// CreatePartyMember adds a party member profile. Errors: invalid_argument
// (an unknown branch_id, a community no uploaded grid is in), conflict
// (the phone is another active member's).
func (p *Directory) CreatePartyMember(ctx context.Context, m model.PartyMember) (*Invited, error) {
	if err := checkName(m.Name); err != nil {
		return nil, err
	}
	if err := checkPhone(m.Phone); err != nil {
		return nil, err
	}
	if _, err := p.branch(ctx, m.BranchID); err != nil {
		return nil, err
	}
	communities, err := p.checkCommunities(ctx, m.Communities)
	if err != nil {
		return nil, err
	}
	m.Name, m.Communities, m.ID = strings.TrimSpace(m.Name), communities, model.NewID(p.now())
	if err := p.claimPhone(ctx, model.RolePartyMember, m.Phone, m.ID); err != nil {
		return nil, err
	}
	created, err := p.profiles.CreatePartyMember(ctx, m)
	if err != nil {
		return nil, fmt.Errorf("create party member: %w", err)
	}
	return p.invite(ctx, model.RolePartyMember, created.ID)
}

func (p *Directory) branch(ctx context.Context, id string) (*model.Branch, error) {
	if strings.TrimSpace(id) == "" {
		return nil, model.InvalidNamed("branch_id", "请选择在职党员所属的党支部")
	}
	b, err := p.profiles.GetBranch(ctx, id)
	if errors.Is(err, model.ErrNotFound) {
		return nil, model.InvalidNamed("branch_id", "所选党支部（%s）不存在，请重新选择", id)
	}
	if err != nil {
		return nil, fmt.Errorf("party branch: %w", err)
	}
	return b, nil
}

// checkGridCodes validates a worker's grids against the uploaded grids and
// returns their codes: each entry is a grid's code, or a grid's name when
// no other grid has it (a clerk knows the grids by name). Errors:
// invalid_argument naming grid_codes[i], in words: the grid that does not
// exist, or the name that several grids share.
func (p *Directory) checkGridCodes(ctx context.Context, codes []string) ([]string, error) {
	codes, err := checkList("grid_codes", "负责网格", codes, 1, 50)
	if err != nil {
		return nil, err
	}
	grids, err := p.grids.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("grids: %w", err)
	}
	byCode := make(map[string]bool, len(grids))
	byName := make(map[string][]string, len(grids))
	for _, g := range grids {
		byCode[g.Code] = true
		byName[g.Name] = append(byName[g.Name], g.Code)
	}
	out := make([]string, 0, len(codes))
	for i, v := range codes {
		field := fmt.Sprintf("grid_codes[%d]", i)
		switch named := byName[v]; {
		case byCode[v]:
		case len(named) == 1:
			v = named[0]
		case len(named) > 1:
			return nil, model.InvalidNamed(field, "负责网格「%s」对应多个网格（编码 %s），请改填其中一个网格的编码", v, strings.Join(named, "、"))
		default:
			return nil, model.InvalidNamed(field, "负责网格「%s」不存在；请填写已上传网格的名称或编码", v)
		}
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out, nil
}

// checkCommunities validates a list of communities against the uploaded
// grids' communities. Errors: invalid_argument naming communities[i], in
// words.
func (p *Directory) checkCommunities(ctx context.Context, communities []string) ([]string, error) {
	communities, err := checkList("communities", "服务社区", communities, 1, 20)
	if err != nil {
		return nil, err
	}
	grids, err := p.grids.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("grids: %w", err)
	}
	known := make(map[string]bool, len(grids))
	for _, g := range grids {
		known[g.Community] = true
	}
	for i, v := range communities {
		if !known[v] {
			return nil, model.InvalidNamed(fmt.Sprintf("communities[%d]", i), "服务社区「%s」下没有任何已上传的网格；请填写网格所属的社区名称", v)
		}
	}
	return communities, nil
}

// claimPhone gives phone to profileID, or fails with conflict naming who
// holds it.
func (p *Directory) claimPhone(ctx context.Context, role model.Role, phone, profileID string) error {
	holder, err := p.profiles.ClaimPhone(ctx, role, phone, profileID)
	if err != nil {
		return fmt.Errorf("claim phone: %w", err)
	}
	if holder == "" {
		return nil
	}
	name := ""
	if role == model.RolePartyMember {
		if m, err := p.profiles.GetPartyMember(ctx, holder); err == nil {
			name = m.Name
		}
	} else if w, err := p.profiles.GetWorker(ctx, holder); err == nil {
		name = w.Name
	}
	return model.Errorf(model.CodeConflict, "手机号 %s 已由%s%s使用；一个手机号只能属于一位在岗的%s", phone, role.Label(), name, role.Label())
}

// ListWorkers returns a page of the worker directory with its total.
// Errors: invalid_argument (a cursor naming no profile), unavailable.
func (p *Directory) ListWorkers(ctx context.Context, f model.PeopleFilter, cursor string, limit int) ([]WorkerRow, string, int64, error) {
	ws, next, total, err := p.profiles.ListWorkers(ctx, f, cursor, limit)
	return pageOf(ctx, ws, next, total, err, p.workerRows)
}

// GetWorker returns one worker of the directory. Errors: not_found.
func (p *Directory) GetWorker(ctx context.Context, id string) (*WorkerRow, error) {
	return oneOf(ctx, id, model.RoleGridWorker, p.profiles.GetWorker, p.workerRows)
}

// pageOf turns a page of profiles into a page of directory rows.
func pageOf[P, R any](ctx context.Context, ps []P, next string, total int64, err error,
	rows func(context.Context, []P) ([]R, error)) ([]R, string, int64, error) {
	if err != nil {
		return nil, "", 0, err
	}
	out, err := rows(ctx, ps)
	return out, next, total, err
}

// oneOf reads one profile of role by id and makes its directory row.
// Errors: not_found naming what was asked for, unavailable.
func oneOf[P, R any](ctx context.Context, id string, role model.Role, get func(context.Context, string) (P, error),
	rows func(context.Context, []P) ([]R, error)) (*R, error) {
	profile, err := get(ctx, id)
	if errors.Is(err, model.ErrNotFound) {
		return nil, model.Errorf(model.CodeNotFound, "没有 id 为 %s 的%s", id, role.Label())
	}
	if err != nil {
		return nil, err
	}
	out, err := rows(ctx, []P{profile})
	if err != nil {
		return nil, err
	}
	return &out[0], nil
}

// duty returns which of users are on duty and their open tasks.
func (p *Directory) duty(ctx context.Context, users []string) (map[string]bool, map[string]int, error) {
	on := map[string]bool{}
	if len(users) == 0 {
		return on, map[string]int{}, nil
	}
	ids, err := p.users.OnDuty(ctx, users)
	if err != nil {
		return nil, nil, err
	}
	for _, id := range ids {
		on[id] = true
	}
	loads, err := p.loads.OpenLoads(ctx, users)
	if err != nil {
		return nil, nil, err
	}
	return on, loads, nil
}

func (p *Directory) workerRows(ctx context.Context, ws []*model.Worker) ([]WorkerRow, error) {
	var users []string
	for _, w := range ws {
		if w.UserID != "" {
			users = append(users, w.UserID)
		}
	}
	on, loads, err := p.duty(ctx, users)
	if err != nil {
		return nil, err
	}
	out := make([]WorkerRow, len(ws))
	for i, w := range ws {
		out[i] = WorkerRow{Worker: *w, Bound: w.UserID != "", OnDuty: w.Active && on[w.UserID], OpenTasks: loads[w.UserID]}
	}
	return out, nil
}

func (p *Directory) memberRows(ctx context.Context, ms []*model.PartyMember) ([]MemberRow, error) {
	var users []string
	for _, m := range ms {
		if m.UserID != "" {
			users = append(users, m.UserID)
		}
	}
	on, loads, err := p.duty(ctx, users)
	if err != nil {
		return nil, err
	}
	branches := map[string]string{}
	out := make([]MemberRow, len(ms))
	for i, m := range ms {
		name, ok := branches[m.BranchID]
		if !ok {
			if b, err := p.profiles.GetBranch(ctx, m.BranchID); err == nil {
				name = b.Name
			}
			branches[m.BranchID] = name
		}
		out[i] = MemberRow{PartyMember: *m, BranchName: name, Bound: m.UserID != "", OnDuty: m.Active && on[m.UserID], OpenTasks: loads[m.UserID]}
	}
	return out, nil
}

// UpdateWorker changes a worker's name, phone, grids or activity.
// Deactivating takes the worker off duty and out of routing (the bound
// user loses the grid_worker role) and routes their open tasks again;
// asking again finishes what a failed attempt left. Errors: not_found,
// invalid_argument, conflict (the phone is another active worker's).
func (p *Directory) UpdateWorker(ctx context.Context, id string, patch WorkerPatch) (*WorkerRow, error) {
	w, err := p.profiles.GetWorker(ctx, id)
	if errors.Is(err, model.ErrNotFound) {
		return nil, model.Errorf(model.CodeNotFound, "没有 id 为 %s 的网格员", id)
	}
	if err != nil {
		return nil, err
	}
	next := *w
	if err := patchContact(&next.Name, &next.Phone, patch.Name, patch.Phone); err != nil {
		return nil, err
	}
	if patch.GridCodes != nil {
		if next.GridCodes, err = p.checkGridCodes(ctx, *patch.GridCodes); err != nil {
			return nil, err
		}
	}
	if patch.Active != nil {
		next.Active = *patch.Active
	}
	if err := p.commitProfile(ctx, model.RoleGridWorker, w.ID, w.Phone, next.Phone, w.Active, next.Active,
		func() error { return p.profiles.UpdateWorker(ctx, &next) }); err != nil {
		return nil, err
	}
	if err := p.afterActivity(ctx, model.RoleGridWorker, next.ID, next.UserID, next.Active, patch.Active != nil); err != nil {
		return nil, err
	}
	return p.GetWorker(ctx, id)
}

// patchContact checks and sets a profile's name and phone where the patch
// gives them. Errors: invalid_argument.
func patchContact(name, phone *string, newName, newPhone *string) error {
	if newName != nil {
		if err := checkName(*newName); err != nil {
			return err
		}
		*name = strings.TrimSpace(*newName)
	}
	if newPhone != nil {
		if err := checkPhone(*newPhone); err != nil {
			return err
		}
		*phone = *newPhone
	}
	return nil
}

// commitProfile claims a new phone (or the phone of a profile becoming
// active again) before the update, and releases the old claim after it.
func (p *Directory) commitProfile(ctx context.Context, role model.Role, id, oldPhone, newPhone string, wasActive, active bool, update func() error) error {
	if active && (newPhone != oldPhone || !wasActive) {
		if err := p.claimPhone(ctx, role, newPhone, id); err != nil {
			return err
		}
	}
	if err := update(); err != nil {
		return fmt.Errorf("update %s: %w", role, err)
	}
	if wasActive && (oldPhone != newPhone || !active) {
		if err := p.profiles.ReleasePhone(ctx, role, oldPhone, id); err != nil {
			return err
		}
	}
	if !active && newPhone != oldPhone {
		return p.profiles.ReleasePhone(ctx, role, newPhone, id)
	}
	return nil
}

// afterActivity carries a profile's activity over to its bound user: a
// deactivated profile's invites stop working, its user loses the role,
// goes off duty and gives back the open tasks held in the role; a
// reactivated one's user gets the role back.
func (p *Directory) afterActivity(ctx context.Context, role model.Role, profileID, userID string, active, asked bool) error {
	if !asked {
		return nil
	}
	if active {
		if userID == "" {
			return nil
		}
		if _, err := p.users.Bind(ctx, userID, role, profileID); err != nil {
			return fmt.Errorf("reactivate %s: %w", role, err)
		}
		return nil
	}
	if err := p.revoker.RevokeUnused(ctx, role, profileID); err != nil {
		return err
	}
	if userID == "" {
		return nil
	}
	u, err := p.users.Unbind(ctx, userID, role)
	if err != nil {
		return fmt.Errorf("deactivate %s: %w", role, err)
	}
	if _, err := p.users.SetDuty(ctx, userID, false); err != nil {
		return fmt.Errorf("deactivate %s: %w", role, err)
	}
	return p.rerouteOpenTasks(ctx, u, role)
}

// rerouteOpenTasks gives every open task u holds in role back to the
// dispatch service, which routes each again to someone else: the one
// place deactivation touches tickets.
func (p *Directory) rerouteOpenTasks(ctx context.Context, u *model.User, role model.Role) error {
	var ids []string
	cursor := ""
	for {
		page, next, err := p.tasks.Mine(ctx, u, cursor, 100)
		if err != nil {
			return fmt.Errorf("open tasks of %s: %w", u.ID, err)
		}
		for _, t := range page {
			if t.AssigneeRole == role || t.AssigneeRole == "" {
				ids = append(ids, t.ID)
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	var errs []error
	for _, id := range ids {
		_, err := p.tasks.Return(ctx, u, id, role.Label()+"已停用，重新派遣")
		if err != nil && !errors.Is(err, model.ErrNotFound) && !errors.Is(err, model.ErrConflict) {
			errs = append(errs, fmt.Errorf("reroute ticket %s: %w", id, err))
		}
	}
	if len(errs) > 0 {
		p.logger.WarnContext(ctx, "deactivation: some open tasks were not routed again; deactivate again to retry", "user_id", u.ID, "failed", len(errs))
		return errors.Join(errs...)
	}
	return nil
}

// InviteWorker makes a new invite code for a worker who has not bound
// yet; every earlier unused code stops working. Errors: not_found,
// conflict (deactivated, or already bound to a WeChat user).
func (p *Directory) InviteWorker(ctx context.Context, id string) (*Invited, error) {
	w, err := p.profiles.GetWorker(ctx, id)
	if errors.Is(err, model.ErrNotFound) {
		return nil, model.Errorf(model.CodeNotFound, "没有 id 为 %s 的网格员", id)
	}
	if err != nil {
		return nil, err
	}
	return p.reinvite(ctx, model.RoleGridWorker, w.ID, w.Name, w.Active, w.UserID)
}

// InvitePartyMember is InviteWorker for party members.
func (p *Directory) InvitePartyMember(ctx context.Context, id string) (*Invited, error) {
	m, err := p.profiles.GetPartyMember(ctx, id)
	if errors.Is(err, model.ErrNotFound) {
		return nil, model.Errorf(model.CodeNotFound, "没有 id 为 %s 的在职党员", id)
	}
	if err != nil {
		return nil, err
	}
	return p.reinvite(ctx, model.RolePartyMember, m.ID, m.Name, m.Active, m.UserID)
}

func (p *Directory) reinvite(ctx context.Context, role model.Role, id, name string, active bool, userID string) (*Invited, error) {
	if !active {
		return nil, model.Errorf(model.CodeConflict, "%s%s已停用；先启用（active: true）再发邀请码", role.Label(), name)
	}
	if userID != "" {
		return nil, model.Errorf(model.CodeConflict, "%s%s已绑定微信，无需新的邀请码", role.Label(), name)
	}
	if err := p.revoker.RevokeUnused(ctx, role, id); err != nil {
		return nil, err
	}
	return p.invite(ctx, role, id)
}

// ListPartyMembers returns a page of the party-member directory with its
// total. Errors: invalid_argument (a cursor naming no profile), unavailable.
func (p *Directory) ListPartyMembers(ctx context.Context, f model.PeopleFilter, cursor string, limit int) ([]MemberRow, string, int64, error) {
	ms, next, total, err := p.profiles.ListPartyMembers(ctx, f, cursor, limit)
	return pageOf(ctx, ms, next, total, err, p.memberRows)
}

// GetPartyMember returns one party member of the directory. Errors: not_found.
func (p *Directory) GetPartyMember(ctx context.Context, id string) (*MemberRow, error) {
	return oneOf(ctx, id, model.RolePartyMember, p.profiles.GetPartyMember, p.memberRows)
}

// UpdatePartyMember changes a party member as UpdateWorker changes a
// worker. Errors: not_found, invalid_argument, conflict.
func (p *Directory) UpdatePartyMember(ctx context.Context, id string, patch MemberPatch) (*MemberRow, error) {
	m, err := p.profiles.GetPartyMember(ctx, id)
	if errors.Is(err, model.ErrNotFound) {
		return nil, model.Errorf(model.CodeNotFound, "没有 id 为 %s 的在职党员", id)
	}
	if err != nil {
		return nil, err
	}
	next := *m
	if err := patchContact(&next.Name, &next.Phone, patch.Name, patch.Phone); err != nil {
		return nil, err
	}
	if patch.BranchID != nil {
		if _, err := p.branch(ctx, *patch.BranchID); err != nil {
			return nil, err
		}
		next.BranchID = *patch.BranchID
	}
	if patch.Communities != nil {
		if next.Communities, err = p.checkCommunities(ctx, *patch.Communities); err != nil {
			return nil, err
		}
	}
	if patch.Active != nil {
		next.Active = *patch.Active
	}
	if err := p.commitProfile(ctx, model.RolePartyMember, m.ID, m.Phone, next.Phone, m.Active, next.Active,
		func() error { return p.profiles.UpdatePartyMember(ctx, &next) }); err != nil {
		return nil, err
	}
	if err := p.afterActivity(ctx, model.RolePartyMember, next.ID, next.UserID, next.Active, patch.Active != nil); err != nil {
		return nil, err
	}
	return p.GetPartyMember(ctx, id)
}

// ListBranches returns every party branch with its number of active
// members. Errors: unavailable.
func (p *Directory) ListBranches(ctx context.Context) ([]BranchRow, error) {
	bs, counts, err := p.profiles.ListBranches(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]BranchRow, len(bs))
	for i, b := range bs {
		out[i] = BranchRow{Branch: b, Members: counts[b.ID]}
	}
	return out, nil
}

// RenameBranch renames a party branch. Errors: invalid_argument, not_found.
func (p *Directory) RenameBranch(ctx context.Context, id, name string) (*BranchRow, error) {
	if err := checkBranchName(name); err != nil {
		return nil, err
	}
	b, err := p.profiles.RenameBranch(ctx, id, strings.TrimSpace(name))
	if errors.Is(err, model.ErrNotFound) {
		return nil, model.Errorf(model.CodeNotFound, "没有 id 为 %s 的党支部", id)
	}
	if err != nil {
		return nil, err
	}
	_, counts, err := p.profiles.ListBranches(ctx)
	if err != nil {
		return nil, err
	}
	return &BranchRow{Branch: *b, Members: counts[b.ID]}, nil
}

func (p *Directory) invite(ctx context.Context, role model.Role, profileID string) (*Invited, error) {
	code := newInviteCode()
	exp := p.now().Add(p.inviteTTL).UTC().Truncate(time.Second)
	if err := p.invites.Create(ctx, model.Digest(code), model.Invite{Role: role, ProfileID: profileID, ExpiresAt: exp}); err != nil {
		return nil, fmt.Errorf("create invite: %w", err)
	}
	return &Invited{ID: profileID, InviteCode: code, ExpiresAt: exp}, nil
}

// inviteAlphabet is Crockford's base32: no I, L, O or U to misread.
const inviteAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// newInviteCode returns 12 characters (60 bits) of randomness, plenty for a
// code that expires and whose guesses are rate limited.
func newInviteCode() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = inviteAlphabet[int(b[i])%len(inviteAlphabet)]
	}
	return string(b)
}

// NormalizeInviteCode forgives what people do when they type a code:
// lower case, spaces and dashes, and the letters Crockford maps to digits.
func NormalizeInviteCode(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	r := strings.NewReplacer(" ", "", "-", "", "I", "1", "L", "1", "O", "0")
	return r.Replace(s)
}

func checkName(name string) error {
	name = strings.TrimSpace(name)
	if name == "" {
		return model.InvalidNamed("name", "姓名不能为空")
	}
	if n := utf8.RuneCountInString(name); n > 50 {
		return model.InvalidNamed("name", "姓名最多 50 个字，现在是 %d 个字", n)
	}
	return nil
}

func checkBranchName(name string) error {
	name = strings.TrimSpace(name)
	if name == "" {
		return model.InvalidNamed("name", "党支部名称不能为空")
	}
	if n := utf8.RuneCountInString(name); n > 50 {
		return model.InvalidNamed("name", "党支部名称最多 50 个字，现在是 %d 个字", n)
	}
	return nil
}

func checkPhone(phone string) error {
	if phone == "" {
		return model.InvalidNamed("phone", "手机号不能为空")
	}
	if !model.ValidMobile(phone) {
		return model.InvalidNamed("phone", "手机号必须是 11 位中国大陆手机号，“%s”不是", phone)
	}
	return nil
}

// checkList trims a list of names (what, in words, for the messages) of
// minN to maxN entries and drops repeats.
func checkList(field, what string, items []string, minN, maxN int) ([]string, error) {
	if len(items) < minN {
		return nil, model.InvalidNamed(field, "%s至少要填 %d 项", what, minN)
	}
	if len(items) > maxN {
		return nil, model.InvalidNamed(field, "%s最多 %d 项，现在有 %d 项", what, maxN, len(items))
	}
	seen := map[string]bool{}
	out := make([]string, 0, len(items))
	for i, s := range items {
		s = strings.TrimSpace(s)
		if s == "" || utf8.RuneCountInString(s) > 64 {
			return nil, model.InvalidNamed(fmt.Sprintf("%s[%d]", field, i), "%s的第 %d 项必须是 1 到 64 个字", what, i+1)
		}
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out, nil
}
