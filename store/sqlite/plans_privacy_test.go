package sqlite

import (
	"math"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/model"
)

// TestPrivacyPlans: every query of the access trail, the retention period,
// the erasures and a resident's account is served by an index: the trail
// by each filter and combination, with and without a time range and a
// cursor, newest first without a sort.
func TestPrivacyPlans(t *testing.T) {
	db := openTestDB(t)
	from, to := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	var shapes []queryShape
	for name, q := range map[string]model.AuditQuery{
		"all":                   {},
		"actor":                 {ActorID: "s1"},
		"action":                {Action: model.ActionIdentityReveal},
		"target":                {Target: "20260101-0001"},
		"actor, action":         {ActorID: "s1", Action: model.ActionExport},
		"action, target":        {Action: model.ActionIdentityReveal, Target: "20260101-0001"},
		"actor, action, target": {ActorID: "s1", Action: model.ActionIdentityReveal, Target: "20260101-0001"},
		"range":                 {From: from, To: to},
		"actor, range":          {ActorID: "s1", From: from, To: to},
		"action, from":          {Action: model.ActionLoginFailed, From: from},
		"target, to":            {Target: "admin", To: to},
	} {
		for _, before := range []int64{math.MaxInt64, ridBase(to)} {
			query, args := auditQuery(q, before, 50)
			shapes = append(shapes, queryShape{name: "trail " + name, query: query, args: args})
		}
	}
	shapes = append(shapes,
		queryShape{name: "trail free rid", query: sqlAuditFreeRID, args: []any{ridBase(to)}},
		queryShape{name: "trail prune", query: "DELETE FROM audit WHERE rid IN (SELECT rid FROM audit WHERE rid < ? ORDER BY rid LIMIT ?)", args: []any{ridBase(from), 1000}},
		queryShape{name: "Expired", query: sqlExpired, args: []any{to.UnixMilli(), 100}},
		queryShape{name: "Erasures", query: "SELECT ticket_id, user_id, at FROM erasures ORDER BY at LIMIT ?", args: []any{100}, scans: []string{"erasures_by_at"}},
		queryShape{name: "ErasureDone", query: "DELETE FROM erasures WHERE ticket_id = ? AND user_id = ?", args: []any{"t", "u"}},
		queryShape{name: "Anonymise row", query: `UPDATE tickets SET version = ?, reporter_id = ?, idem = 'x:' || id,
			anon = CASE WHEN ? > 0 THEN ? ELSE anon END WHERE id = ? AND version = ? RETURNING rid`, args: []any{2, "", 0, 0, "t", 1}},
		queryShape{name: "Owned photos", query: sqlOwnedPhotos, args: []any{"u", 100}},
		queryShape{name: "DeleteResident user", query: "DELETE FROM users WHERE id = ?", args: []any{"u"}},
		queryShape{name: "DeleteResident subscriptions", query: "DELETE FROM subscriptions WHERE user_id = ?", args: []any{"u"}},
		queryShape{name: "DeleteResident notifications", query: "DELETE FROM notifications WHERE user_id = ?", args: []any{"u"}},
		queryShape{name: "DeleteSubmitter", query: "DELETE FROM open311_submitters WHERE ticket_id = ?", args: []any{"t"}},
		queryShape{name: "photo trace of a photo", query: "DELETE FROM photo_traces WHERE trace_id = (SELECT trace_id FROM photos WHERE id = ?)", args: []any{"p"}},
		queryShape{name: "staff list", query: "SELECT " + staffColumns + " FROM staff ORDER BY username", scans: []string{"USING INDEX sqlite_autoindex_staff"}},
		queryShape{name: "staff by id", query: "SELECT " + staffColumns + " FROM staff WHERE id = ?", args: []any{"s"}},
		queryShape{name: "end sessions", query: "UPDATE users SET sessions = sessions + 1 WHERE id = ? RETURNING sessions", args: []any{"u"}},
	)
	requirePlans(t, db, shapes)
}
