package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/citizen-city/chengguantong/model"
)

// People stores the profiles staff create: grid workers, party branches and
// party members, with the phone claims that keep a phone to one active
// profile per role.
type People struct{ db *DB }

// People returns the people store.
func (db *DB) People() *People { return &People{db: db} }

// profileKind is one of the directory's two tables and what hangs off it.
type profileKind struct {
	role    model.Role
	table   string // workers, party_members
	columns string // in scan order
	// keyTable lists a profile's grids (workers) or communities (members)
	// as (keyCol, created_at, idCol), in creation order per key.
	keyTable, keyCol string
	// gramTable lists the grams of a profile's name and phone as (gram,
	// created_at, idCol).
	gramTable string
	idCol     string // the profile's id in keyTable and gramTable
	hasBranch bool
	label     string // how messages name the profile
}

var (
	workerKind = profileKind{
		role: model.RoleGridWorker, table: "workers",
		columns:  "id, name, phone, grid_codes, user_id, active, created_at",
		keyTable: "worker_grids", keyCol: "grid_code", gramTable: "worker_grams", idCol: "worker_id",
		label: "网格员",
	}
	memberKind = profileKind{
		role: model.RolePartyMember, table: "party_members",
		columns:  "id, name, phone, branch_id, communities, user_id, active, created_at",
		keyTable: "member_communities", keyCol: "community", gramTable: "member_grams", idCol: "member_id",
		hasBranch: true, label: "在职党员",
	}
)

// kindOf is the profile table of a role. Errors: invalid_argument.
func kindOf(role model.Role) (profileKind, error) {
	switch role {
	case model.RoleGridWorker:
		return workerKind, nil
	case model.RolePartyMember:
		return memberKind, nil
	}
	return profileKind{}, model.Errorf(model.CodeInvalidArgument, "身份 %s 没有档案", role)
}

func scanWorker(r scannable) (*model.Worker, error) {
	var (
		w     model.Worker
		grids string
		at    int64
	)
	if err := r.Scan(&w.ID, &w.Name, &w.Phone, &grids, &w.UserID, &w.Active, &at); err != nil {
		return nil, err
	}
	var err error
	if w.GridCodes, err = stringsOfJSON[string](grids); err != nil {
		return nil, err
	}
	w.CreatedAt = timeOfMs(at)
	return &w, nil
}

func scanMember(r scannable) (*model.PartyMember, error) {
	var (
		m           model.PartyMember
		communities string
		at          int64
	)
	if err := r.Scan(&m.ID, &m.Name, &m.Phone, &m.BranchID, &communities, &m.UserID, &m.Active, &at); err != nil {
		return nil, err
	}
	var err error
	if m.Communities, err = stringsOfJSON[string](communities); err != nil {
		return nil, err
	}
	m.CreatedAt = timeOfMs(at)
	return &m, nil
}

// index rewrites a profile's rows in its key and gram tables: keys are
// its grids or communities.
func (k profileKind) index(ctx context.Context, tx *sql.Tx, id string, created int64, name, phone string, keys []string) error {
	for _, table := range []string{k.keyTable, k.gramTable} {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+table+" WHERE "+k.idCol+" = ?", id); err != nil {
			return err
		}
	}
	for _, key := range keys {
		if _, err := tx.ExecContext(ctx, "INSERT OR IGNORE INTO "+k.keyTable+" ("+k.keyCol+", created_at, "+k.idCol+") VALUES (?, ?, ?)",
			key, created, id); err != nil {
			return err
		}
	}
	for _, g := range nameGrams(foldText(name), foldText(phone)) {
		if _, err := tx.ExecContext(ctx, "INSERT INTO "+k.gramTable+" (gram, created_at, "+k.idCol+") VALUES (?, ?, ?)",
			g, created, id); err != nil {
			return err
		}
	}
	return nil
}

// CreateWorker stores a new grid worker profile (active, unbound) and
// returns it with its id (w.ID if set) and creation time. Errors: conflict
// (the id is taken), unavailable.
func (s *People) CreateWorker(ctx context.Context, w model.Worker) (*model.Worker, error) {
	now := s.db.clockMs()
	if w.ID == "" {
		w.ID = model.NewID(now)
	}
	w.CreatedAt, w.Active, w.UserID = now, true, ""
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO workers (id, name, name_fold, phone, grid_codes, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			w.ID, w.Name, foldText(w.Name), w.Phone, jsonStrings(w.GridCodes), msOf(now)); err != nil {
			return err
		}
		return workerKind.index(ctx, tx, w.ID, msOf(now), w.Name, w.Phone, w.GridCodes)
	})
	if err != nil {
		return nil, fmt.Errorf("create worker: %w", err)
	}
	return &w, nil
}

// GetWorker returns a grid worker profile. Errors: not_found, unavailable.
func (s *People) GetWorker(ctx context.Context, id string) (*model.Worker, error) {
	w, err := scanWorker(s.db.r.QueryRowContext(ctx, "SELECT "+workerKind.columns+" FROM workers WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, missing("没有网格员 %s", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get worker: %w", translate(err))
	}
	return w, nil
}

// UpdateWorker writes a worker profile's name, phone, grid codes and
// activity, and sets w.UserID to the WeChat user bound to it (which an
// update never changes: only LinkUser does). Errors: not_found,
// unavailable.
func (s *People) UpdateWorker(ctx context.Context, w *model.Worker) error {
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		var (
			user    string
			created int64
		)
		err := tx.QueryRowContext(ctx, "SELECT user_id, created_at FROM workers WHERE id = ?", w.ID).Scan(&user, &created)
		if errors.Is(err, sql.ErrNoRows) {
			return missing("没有这个网格员")
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE workers SET name = ?, name_fold = ?, phone = ?, grid_codes = ?, active = ? WHERE id = ?`,
			w.Name, foldText(w.Name), w.Phone, jsonStrings(w.GridCodes), w.Active, w.ID); err != nil {
			return err
		}
		w.UserID = user
		return workerKind.index(ctx, tx, w.ID, created, w.Name, w.Phone, w.GridCodes)
	})
	if err != nil {
		return fmt.Errorf("update worker: %w", err)
	}
	return nil
}

// WorkerUsers returns the WeChat users bound to the active worker profiles
// of a grid, in the workers' creation order: whom routing may pick.
// Errors: unavailable.
func (s *People) WorkerUsers(ctx context.Context, gridCode string) ([]string, error) {
	rows, err := s.db.r.QueryContext(ctx, sqlWorkerUsers, gridCode)
	if err != nil {
		return nil, fmt.Errorf("grid workers: %w", translate(err))
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			return nil, fmt.Errorf("grid workers: %w", translate(err))
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("grid workers: %w", translate(err))
	}
	if out == nil {
		out = []string{}
	}
	return out, nil
}

const sqlWorkerUsers = `SELECT w.user_id FROM worker_grids g CROSS JOIN workers w ON w.id = g.worker_id
	WHERE g.grid_code = ? AND w.active = 1 AND w.user_id <> '' ORDER BY g.created_at, g.worker_id`

// CreateBranch stores a new party branch. Errors: unavailable.
func (s *People) CreateBranch(ctx context.Context, b model.Branch) (*model.Branch, error) {
	now := s.db.clockMs()
	b.ID, b.CreatedAt = model.NewID(now), now
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO branches (id, name, created_at) VALUES (?, ?, ?)", b.ID, b.Name, msOf(now))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create branch: %w", err)
	}
	return &b, nil
}

func scanBranch(r scannable) (*model.Branch, error) {
	var (
		b  model.Branch
		at int64
	)
	if err := r.Scan(&b.ID, &b.Name, &at); err != nil {
		return nil, err
	}
	b.CreatedAt = timeOfMs(at)
	return &b, nil
}

// GetBranch returns a branch by id. Errors: not_found, unavailable.
func (s *People) GetBranch(ctx context.Context, id string) (*model.Branch, error) {
	b, err := scanBranch(s.db.r.QueryRowContext(ctx, "SELECT id, name, created_at FROM branches WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, missing("没有党支部 %s", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get branch: %w", translate(err))
	}
	return b, nil
}

// ListBranches returns every party branch in creation order, with how many
// active party members each has. Errors: unavailable.
func (s *People) ListBranches(ctx context.Context) ([]model.Branch, map[string]int, error) {
	rows, err := s.db.r.QueryContext(ctx, sqlBranches)
	if err != nil {
		return nil, nil, fmt.Errorf("list branches: %w", translate(err))
	}
	defer rows.Close()
	out := []model.Branch{}
	for rows.Next() {
		b, err := scanBranch(rows)
		if err != nil {
			return nil, nil, fmt.Errorf("list branches: %w", translate(err))
		}
		out = append(out, *b)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("list branches: %w", translate(err))
	}
	rows.Close()
	counts, err := s.db.r.QueryContext(ctx, sqlBranchMembers)
	if err != nil {
		return nil, nil, fmt.Errorf("count branch members: %w", translate(err))
	}
	defer counts.Close()
	members := map[string]int{}
	for counts.Next() {
		var (
			id string
			n  int
		)
		if err := counts.Scan(&id, &n); err != nil {
			return nil, nil, fmt.Errorf("count branch members: %w", translate(err))
		}
		members[id] = n
	}
	if err := counts.Err(); err != nil {
		return nil, nil, fmt.Errorf("count branch members: %w", translate(err))
	}
	return out, members, nil
}

const (
	sqlBranches      = "SELECT id, name, created_at FROM branches ORDER BY created_at, id"
	sqlBranchMembers = "SELECT branch_id, count(*) FROM party_members WHERE active = 1 GROUP BY branch_id"
)

// RenameBranch sets a branch's name. Errors: not_found, unavailable.
func (s *People) RenameBranch(ctx context.Context, id, name string) (*model.Branch, error) {
	var b *model.Branch
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		var err error
		b, err = scanBranch(tx.QueryRowContext(ctx, "UPDATE branches SET name = ? WHERE id = ? RETURNING id, name, created_at", name, id))
		if errors.Is(err, sql.ErrNoRows) {
			return missing("没有党支部 %s", id)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("rename branch: %w", err)
	}
	return b, nil
}

// CreatePartyMember stores a new party member profile (active, unbound)
// and returns it with its id (p.ID if set). Errors: conflict (the id is
// taken), unavailable.
func (s *People) CreatePartyMember(ctx context.Context, p model.PartyMember) (*model.PartyMember, error) {
	now := s.db.clockMs()
	if p.ID == "" {
		p.ID = model.NewID(now)
	}
	p.CreatedAt, p.Active, p.UserID = now, true, ""
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO party_members (id, name, name_fold, phone, branch_id, communities, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			p.ID, p.Name, foldText(p.Name), p.Phone, p.BranchID, jsonStrings(p.Communities), msOf(now)); err != nil {
			return err
		}
		return memberKind.index(ctx, tx, p.ID, msOf(now), p.Name, p.Phone, p.Communities)
	})
	if err != nil {
		return nil, fmt.Errorf("create party member: %w", err)
	}
	return &p, nil
}

// GetPartyMember returns a party member profile. Errors: not_found,
// unavailable.
func (s *People) GetPartyMember(ctx context.Context, id string) (*model.PartyMember, error) {
	m, err := scanMember(s.db.r.QueryRowContext(ctx, "SELECT "+memberKind.columns+" FROM party_members WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, missing("没有在职党员 %s", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get party member: %w", translate(err))
	}
	return m, nil
}

// UpdatePartyMember writes a party member profile's name, phone, branch,
// communities and activity, and sets p.UserID to the bound WeChat user, as
// UpdateWorker does. Errors: not_found, unavailable.
func (s *People) UpdatePartyMember(ctx context.Context, p *model.PartyMember) error {
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		var (
			user    string
			created int64
		)
		err := tx.QueryRowContext(ctx, "SELECT user_id, created_at FROM party_members WHERE id = ?", p.ID).Scan(&user, &created)
		if errors.Is(err, sql.ErrNoRows) {
			return missing("没有这个在职党员")
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE party_members SET name = ?, name_fold = ?, phone = ?, branch_id = ?, communities = ?, active = ?
			WHERE id = ?`,
			p.Name, foldText(p.Name), p.Phone, p.BranchID, jsonStrings(p.Communities), p.Active, p.ID); err != nil {
			return err
		}
		p.UserID = user
		return memberKind.index(ctx, tx, p.ID, created, p.Name, p.Phone, p.Communities)
	})
	if err != nil {
		return fmt.Errorf("update party member: %w", err)
	}
	return nil
}

// LinkUser records which WeChat user a worker or party-member profile
// belongs to. It succeeds again for the same user (idempotent). Errors:
// conflict (another user holds the profile), not_found (no such profile),
// invalid_argument (a role without profiles), unavailable.
func (s *People) LinkUser(ctx context.Context, role model.Role, profileID, userID string) error {
	k, err := kindOf(role)
	if err != nil {
		return err
	}
	err = s.db.write(ctx, func(tx *sql.Tx) error {
		var holder string
		err := tx.QueryRowContext(ctx, "SELECT user_id FROM "+k.table+" WHERE id = ?", profileID).Scan(&holder)
		if errors.Is(err, sql.ErrNoRows) {
			return missing("没有%s档案 %s", k.label, profileID)
		}
		if err != nil {
			return err
		}
		switch holder {
		case userID:
			return nil
		case "":
			_, err := tx.ExecContext(ctx, "UPDATE "+k.table+" SET user_id = ? WHERE id = ?", userID, profileID)
			return err
		}
		return model.Errorf(model.CodeConflict, "这份档案已绑定到另一个微信用户")
	})
	if err != nil {
		return fmt.Errorf("link profile: %w", err)
	}
	return nil
}

// phoneClaimGrace is how long a claim made for a profile not stored (yet)
// holds its phone: the service claims before it creates, and a create that
// failed after its claim must not keep the phone for ever.
const phoneClaimGrace = time.Minute

// ClaimPhone gives phone to profile profileID of role. It returns the id
// of another profile of the role that holds the phone (and claims
// nothing), or "" once the phone is profileID's. A profile holds a phone
// while it is active and has it; a claim made for a profile not yet stored
// holds it for phoneClaimGrace. The check and the claim are one
// transaction. Errors: invalid_argument (a role without profiles),
// unavailable.
func (s *People) ClaimPhone(ctx context.Context, role model.Role, phone, profileID string) (string, error) {
	k, err := kindOf(role)
	if err != nil {
		return "", err
	}
	holder := ""
	err = s.db.write(ctx, func(tx *sql.Tx) error {
		now := s.db.clockMs()
		err := tx.QueryRowContext(ctx, "SELECT id FROM "+k.table+" WHERE phone = ? AND active = 1 AND id <> ? LIMIT 1", phone, profileID).Scan(&holder)
		if err == nil {
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var (
			claimant string
			at       int64
		)
		err = tx.QueryRowContext(ctx, "SELECT profile_id, at FROM phone_claims WHERE role = ? AND phone = ?", string(role), phone).Scan(&claimant, &at)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		case claimant == profileID:
			return nil
		default:
			// The claimant is not an active profile with this phone (the
			// look above found none): stale, unless it is a profile still
			// being created.
			var n int
			if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM "+k.table+" WHERE id = ?", claimant).Scan(&n); err != nil {
				return err
			}
			if n == 0 && now.Sub(timeOfMs(at)) < phoneClaimGrace {
				holder = claimant
				return nil
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO phone_claims (role, phone, profile_id, at) VALUES (?, ?, ?, ?)
			ON CONFLICT (role, phone) DO UPDATE SET profile_id = excluded.profile_id, at = excluded.at`,
			string(role), phone, profileID, msOf(now))
		return err
	})
	if err != nil {
		return "", fmt.Errorf("claim phone: %w", err)
	}
	return holder, nil
}

// ReleasePhone gives up profileID's claim of phone, if it holds it.
// Errors: unavailable.
func (s *People) ReleasePhone(ctx context.Context, role model.Role, phone, profileID string) error {
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "DELETE FROM phone_claims WHERE role = ? AND phone = ? AND profile_id = ?", string(role), phone, profileID)
		return err
	})
	if err != nil {
		return fmt.Errorf("release phone: %w", err)
	}
	return nil
}

// ListWorkers returns a page of worker profiles matching f in creation
// order (created_at, then id) after cursor — the id of the previous page's
// last row —, the next cursor ("" after the last page) and how many match
// in all. Errors: invalid_argument (a cursor naming no worker),
// unavailable.
func (s *People) ListWorkers(ctx context.Context, f model.PeopleFilter, cursor string, limit int) ([]*model.Worker, string, int64, error) {
	ws, next, total, err := listProfiles(ctx, s.db, workerKind, f, cursor, limit, scanWorker, func(w *model.Worker) string { return w.ID })
	if err != nil {
		return nil, "", 0, fmt.Errorf("list workers: %w", err)
	}
	return ws, next, total, nil
}

// ListPartyMembers returns a page of party member profiles matching f, as
// ListWorkers does. Errors: invalid_argument, unavailable.
func (s *People) ListPartyMembers(ctx context.Context, f model.PeopleFilter, cursor string, limit int) ([]*model.PartyMember, string, int64, error) {
	ms, next, total, err := listProfiles(ctx, s.db, memberKind, f, cursor, limit, scanMember, func(m *model.PartyMember) string { return m.ID })
	if err != nil {
		return nil, "", 0, fmt.Errorf("list party members: %w", err)
	}
	return ms, next, total, nil
}

// dirPosition is a place in the directory's order: after this row.
type dirPosition struct {
	created int64
	id      string
}

// directoryQuery is the SQL of one directory page (limit+1 rows after
// after, if set) and of its total. One index drives each: the key table
// (grid, community) when the filter names a key, else the branch, else a
// word's gram, else activity, else creation order; in every case the
// driving index is in the page's order, so a page reads about its own rows
// and the rest of the filter is checked on them. A filter no profile of
// the kind can match (a worker's community) has no query: page is "".
func directoryQuery(k profileKind, f model.PeopleFilter, after *dirPosition, limit int) (page string, pageArgs []any, count string, countArgs []any) {
	var words []string
	for _, w := range f.Words {
		if w = foldText(strings.TrimSpace(w)); w != "" {
			words = append(words, w)
		}
	}
	key := f.Grid
	if k.role == model.RolePartyMember {
		key = f.Community
	}
	if (k.role == model.RoleGridWorker && (f.Community != "" || f.BranchID != "")) || (k.role == model.RolePartyMember && f.Grid != "") {
		// A filter by what the profile does not have matches nothing:
		// no query at all.
		return "", nil, "", nil
	}
	var (
		from  string
		where []string
		args  []any
	)
	cols := "p." + strings.ReplaceAll(k.columns, ", ", ", p.")
	driver := "p"
	switch {
	case key != "":
		from = k.keyTable + " d CROSS JOIN " + k.table + " p ON p.id = d." + k.idCol
		where, args = append(where, "d."+k.keyCol+" = ?"), append(args, key)
		driver = "d"
	case k.hasBranch && f.BranchID != "":
		from = k.table + " p INDEXED BY " + k.table + "_by_branch"
		where, args = append(where, "p.branch_id = ?"), append(args, f.BranchID)
		f.BranchID = ""
	case len(words) > 0:
		long := words[0]
		for _, w := range words {
			if len([]rune(w)) > len([]rune(long)) {
				long = w
			}
		}
		from = k.gramTable + " d CROSS JOIN " + k.table + " p ON p.id = d." + k.idCol
		where, args = append(where, "d.gram = ?"), append(args, wordGram(long))
		driver = "d"
	case f.Active != nil:
		from = k.table + " p INDEXED BY " + k.table + "_by_active"
		where, args = append(where, "p.active = ?"), append(args, *f.Active)
		f.Active = nil
	default:
		from = k.table + " p INDEXED BY " + k.table + "_by_created"
	}
	// The rest of the filter, on the profile's row.
	if k.role == model.RoleGridWorker && f.Grid != "" && driver == "p" {
		where, args = append(where, "EXISTS (SELECT 1 FROM worker_grids g WHERE g.worker_id = p.id AND g.grid_code = ?)"), append(args, f.Grid)
	}
	if k.role == model.RolePartyMember && f.Community != "" && driver == "p" {
		where, args = append(where, "EXISTS (SELECT 1 FROM member_communities c WHERE c.member_id = p.id AND c.community = ?)"), append(args, f.Community)
	}
	if k.hasBranch && f.BranchID != "" {
		where, args = append(where, "p.branch_id = ?"), append(args, f.BranchID)
	}
	if f.Active != nil {
		where, args = append(where, "p.active = ?"), append(args, *f.Active)
	}
	for _, w := range words {
		where, args = append(where, "(instr(p.name_fold, ?) > 0 OR instr(lower(p.phone), ?) > 0)"), append(args, w, w)
	}
	created, id := driver+".created_at", driver+".id"
	if driver == "d" {
		id = "d." + k.idCol
	}
	cond := func(w []string) string {
		if len(w) == 0 {
			return ""
		}
		return " WHERE " + strings.Join(w, " AND ")
	}
	count = "SELECT count(*) FROM " + from + cond(where)
	countArgs = args
	pageWhere, pageArgs := where, append([]any(nil), args...)
	if after != nil {
		pageWhere = append(append([]string(nil), where...), "("+created+", "+id+") > (?, ?)")
		pageArgs = append(pageArgs, after.created, after.id)
	}
	page = "SELECT " + cols + " FROM " + from + cond(pageWhere) + " ORDER BY " + created + ", " + id + " LIMIT ?"
	pageArgs = append(pageArgs, limit+1)
	return page, pageArgs, count, countArgs
}

// listProfiles reads one page of a directory and its total, in one read
// transaction so that the two agree.
func listProfiles[P any](ctx context.Context, db *DB, k profileKind, f model.PeopleFilter, cursor string, limit int,
	scan func(scannable) (P, error), idOf func(P) string) ([]P, string, int64, error) {
	if limit <= 0 {
		limit = 20
	}
	tx, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, "", 0, translate(err)
	}
	defer tx.Rollback()
	var after *dirPosition
	if cursor != "" {
		var created int64
		err := tx.QueryRowContext(ctx, "SELECT created_at FROM "+k.table+" WHERE id = ?", cursor).Scan(&created)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, "", 0, model.Invalid("cursor", "不是本服务给出的游标")
		}
		if err != nil {
			return nil, "", 0, translate(err)
		}
		after = &dirPosition{created: created, id: cursor}
	}
	page, pageArgs, count, countArgs := directoryQuery(k, f, after, limit)
	if page == "" {
		return []P{}, "", 0, nil
	}
	var total int64
	if err := tx.QueryRowContext(ctx, count, countArgs...).Scan(&total); err != nil {
		return nil, "", 0, translate(err)
	}
	rows, err := tx.QueryContext(ctx, page, pageArgs...)
	if err != nil {
		return nil, "", 0, translate(err)
	}
	defer rows.Close()
	out := []P{}
	for rows.Next() {
		p, err := scan(rows)
		if err != nil {
			return nil, "", 0, translate(err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, "", 0, translate(err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = idOf(out[limit-1])
	}
	return out, next, total, nil
}
