package sqlite

import (
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/model"
)

// TestDeskPlans: the activities' lists and detail are served by an index.
func TestDeskPlans(t *testing.T) {
	db := openTestDB(t)
	at := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	var shapes []queryShape
	for name, f := range map[string]model.ActivityFilter{
		"all":                 {},
		"period":              {From: at, To: at.AddDate(0, 1, 0)},
		"community":           {Communities: []string{"c1"}},
		"communities, period": {Communities: []string{"c1", "c2"}, From: at},
		"kind":                {Kind: model.ActivityTheme},
		"kind, period":        {Kind: model.ActivityTheme, From: at, To: at.AddDate(0, 1, 0)},
		"upcoming":            {Communities: []string{"c1", "c2"}, EndsAfter: at, Live: true, Soonest: true},
	} {
		for _, cursor := range []string{"", "1:x"} {
			q, args, err := activityQuery(f, cursor, 20)
			if err != nil {
				t.Fatal(err)
			}
			// Several communities merge their index ranges in a sort; an
			// unfiltered page walks the index of starts, stopped by LIMIT.
			shapes = append(shapes, queryShape{name: "activities " + name, query: q, args: args,
				scans: []string{"USING INDEX activities_by_start_id"}, sorts: len(f.Communities) > 1})
		}
	}
	// The address book: exact and prefix matches from the index of names;
	// any part through the trigrams (three characters or more) and the
	// grams (fewer), whose full-text index reads only the matching rows.
	for name, words := range map[string][]string{"long": {"幸福路"}, "short": {"福"}, "both": {"幸福路", "12"}} {
		long, short, _ := wordsMatch(words)
		q, args := addressContains(long, short)
		shapes = append(shapes, queryShape{name: "addresses containing, " + name, query: q, args: args, scans: []string{"VIRTUAL TABLE INDEX"}})
	}
	shapes = append(shapes,
		queryShape{name: "addresses by prefix", query: sqlAddressPrefix, args: []any{"幸福", "幸福\U0010FFFF", 20}},
		queryShape{name: "an activity's check-ins", query: sqlActivityCheckins, args: []any{"a"}},
		queryShape{name: "activity by id", query: "SELECT " + activityColumns + " FROM activities WHERE id = ?", args: []any{"a"}},
	)
	requirePlans(t, db, shapes)
}
