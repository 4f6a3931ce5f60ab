package sqlite

import (
	"strings"
	"testing"

	"github.com/citizen-city/chengguantong/model"
)

// queryShape is one query the store makes, with arguments of the right
// types, and the full reads its plan may do.
type queryShape struct {
	name  string
	query string
	args  []any
	// scans lists what the plan may read whole, as substrings of its SCAN
	// lines: a table bounded by the city's size (grids, categories, api
	// keys, branches), or an index walked in the page's order that the
	// LIMIT stops. Any other SCAN fails: a table that grows with tickets
	// (photos, check-ins, notifications, users …) must be searched.
	scans []string
	// sorts allows a temporary b-tree (ORDER BY, GROUP BY): a page must
	// come in its index's order.
	sorts bool
}

// explainPlan returns the details of query's EXPLAIN QUERY PLAN, one per
// step.
func explainPlan(t *testing.T, db *DB, query string, args ...any) []string {
	t.Helper()
	rows, err := db.r.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatalf("explain %s: %v", query, err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notUsed int
		var detail string
		if err := rows.Scan(&id, &parent, &notUsed, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan
}

// requirePlans fails t for each shape whose plan reads more than it may.
func requirePlans(t *testing.T, db *DB, shapes []queryShape) {
	t.Helper()
	for _, s := range shapes {
		plan := explainPlan(t, db, s.query, s.args...)
		for _, step := range plan {
			bad := false
			switch {
			case strings.HasPrefix(step, "SCAN "):
				bad = true
				for _, ok := range s.scans {
					if strings.Contains(step, ok) {
						bad = false
					}
				}
			case strings.HasPrefix(step, "USE TEMP B-TREE"):
				bad = !s.sorts
			}
			if bad {
				t.Errorf("%s: %q in its plan:\n  %s\nquery: %s", s.name, step, strings.Join(plan, "\n  "), s.query)
			}
		}
		if testing.Verbose() {
			t.Logf("%s:\n  %s", s.name, strings.Join(plan, "\n  "))
		}
	}
}

// TestPeoplePlans: every query of the people directory, the accounts,
// photos, activities, notifications and the rest is served by an index.
func TestPeoplePlans(t *testing.T) {
	db := openTestDB(t)
	yes, no := true, false
	var shapes []queryShape

	// The directory: each filter combination, first page and later ones,
	// page and total.
	filters := map[string]model.PeopleFilter{
		"all":                        {},
		"active":                     {Active: &yes},
		"inactive":                   {Active: &no},
		"words":                      {Words: []string{"王", "1001"}},
		"words, active":              {Words: []string{"王"}, Active: &yes},
		"grid":                       {Grid: "g1"},
		"grid, active, words":        {Grid: "g1", Active: &no, Words: []string{"13900"}},
		"community":                  {Community: "幸福里社区"},
		"branch":                     {BranchID: "b1"},
		"branch, community":          {BranchID: "b1", Community: "幸福里社区"},
		"branch, active, words":      {BranchID: "b1", Active: &yes, Words: []string{"党"}},
		"community, active, words":   {Community: "c", Active: &yes, Words: []string{"党员甲"}},
		"grid and community (never)": {Grid: "g1", Community: "c"},
	}
	for name, f := range filters {
		for _, k := range []profileKind{workerKind, memberKind} {
			for _, after := range []*dirPosition{nil, {created: 1, id: "x"}} {
				page, pageArgs, count, countArgs := directoryQuery(k, f, after, 20)
				if page == "" {
					continue // matches nothing, asks nothing
				}
				// An unfiltered page walks creation order; a count of a
				// bounded table may read one index whole.
				shapes = append(shapes,
					queryShape{name: k.table + " page, " + name, query: page, args: pageArgs, scans: []string{"_by_created"}},
					queryShape{name: k.table + " total, " + name, query: count, args: countArgs, scans: []string{"COVERING INDEX " + k.table + "_by_created"}})
			}
		}
	}
	shapes = append(shapes,
		queryShape{name: "cursor", query: "SELECT created_at FROM workers WHERE id = ?", args: []any{"x"}},
		queryShape{name: "WorkerUsers", query: sqlWorkerUsers, args: []any{"g1"}},
		queryShape{name: "ClaimPhone holder", query: "SELECT id FROM workers WHERE phone = ? AND active = 1 AND id <> ? LIMIT 1", args: []any{"1", "x"}},
		queryShape{name: "ClaimPhone holder (members)", query: "SELECT id FROM party_members WHERE phone = ? AND active = 1 AND id <> ? LIMIT 1", args: []any{"1", "x"}},
		queryShape{name: "phone claim", query: "SELECT profile_id, at FROM phone_claims WHERE role = ? AND phone = ?", args: []any{"r", "1"}},
		queryShape{name: "reindex grids", query: "DELETE FROM worker_grids WHERE worker_id = ?", args: []any{"x"}},
		queryShape{name: "reindex grams", query: "DELETE FROM worker_grams WHERE worker_id = ?", args: []any{"x"}},
		queryShape{name: "reindex communities", query: "DELETE FROM member_communities WHERE member_id = ?", args: []any{"x"}},
		queryShape{name: "reindex member grams", query: "DELETE FROM member_grams WHERE member_id = ?", args: []any{"x"}},
		queryShape{name: "ListBranches", query: sqlBranches, scans: []string{"USING INDEX branches_by_created"}},
		queryShape{name: "ListBranches counts", query: sqlBranchMembers},

		queryShape{name: "user by openid", query: "SELECT " + userColumns + " FROM users WHERE openid = ?", args: []any{"o"}},
		queryShape{name: "user by id", query: "SELECT " + userColumns + " FROM users WHERE id = ?", args: []any{"u"}},
		queryShape{name: "OnDuty", query: "SELECT id FROM users WHERE id IN (" + qmarks(3) + ") AND on_duty = 1", args: []any{"a", "b", "c"}},
		queryShape{name: "staff by username", query: "SELECT id, username, password_hash, created_at FROM staff WHERE username = ?", args: []any{"s"}},
		queryShape{name: "RevokeUnused", query: "UPDATE invites SET expires_at = min(expires_at, ?), revoked = 1 WHERE profile_id = ? AND role = ? AND used_by = ''",
			args: []any{1, "p", "r"}},

		queryShape{name: "photo", query: "SELECT " + photoColumns + " FROM photos WHERE id = ? AND gone = 0", args: []any{"p"}},
		queryShape{name: "photos", query: "SELECT " + photoColumns + " FROM photos WHERE id IN (" + qmarks(3) + ") AND gone = 0", args: []any{"a", "b", "c"}},
		queryShape{name: "photo trace", query: "SELECT photo_id FROM photo_traces WHERE trace_id = ?", args: []any{"t"}},
		queryShape{name: "DeleteUnused mark", query: sqlMarkUnused, args: []any{1, deleteBatch}},
		// photos_gone holds only the rows being deleted.
		queryShape{name: "DeleteUnused gone", query: sqlGonePhotos, scans: []string{"USING INDEX photos_gone"}},
		queryShape{name: "ExpireModeration", query: sqlExpireModeration, args: []any{1, 1}},
		queryShape{name: "early verdicts by age", query: "DELETE FROM media_verdicts WHERE at < ?", args: []any{1}},

		// Grouped by kind: the period's rows, searched, then counted.
		queryShape{name: "CountActivities", query: sqlCountActivities, args: []any{1, 2}, sorts: true},
		// The period's live activities by start, each one's check-ins by
		// key; the order within an activity sorts the period's rows.
		queryShape{name: "CheckinsBetween", query: sqlCheckinsBetween, args: []any{1, 2}, sorts: true},
		queryShape{name: "check-in", query: "SELECT " + checkinColumns + " FROM activity_checkins WHERE activity_id = ? AND member_id = ?", args: []any{"a", "m"}},

		queryShape{name: "Prune", query: sqlPruneNotifications, args: []any{1}},
		queryShape{name: "subscription", query: "SELECT remaining FROM subscriptions WHERE user_id = ? AND template_id = ?", args: []any{"u", "t"}},
		queryShape{name: "api keys", query: "SELECT " + apiKeyColumns + " FROM api_keys ORDER BY id DESC LIMIT 1000", scans: []string{"SCAN api_keys"}},
		queryShape{name: "categories", query: "SELECT code FROM categories ORDER BY code", scans: []string{"SCAN categories"}},
		queryShape{name: "grids", query: "SELECT code, name, community, shape FROM grids ORDER BY code", scans: []string{"SCAN grids"}},
	)
	requirePlans(t, db, shapes)
}
