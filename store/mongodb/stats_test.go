package mongodb_test

import (
	"context"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/internal/testenv"
	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/store/mongodb"
	"github.com/citizen-city/chengguantong/store/redis"
)

// An applier that dies in the middle of a batch — its record written, half
// of the roll-ups, no pending mark cleared — is finished by the next
// holder of the lease: every transition counted once.
func TestAppliersBatchCutShortIsFinishedOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := testenv.Mongo(t)
	r := testenv.Redis(t)
	lease := redis.NewLocks(r)
	at := time.Date(2026, 11, 25, 9, 0, 0, 0, model.ChinaTime())
	tickets := mongodb.NewTickets(m, "a", func() time.Time { return at })
	var ids []string
	for i := range 6 {
		tk := newTicket(at.Add(time.Duration(i) * time.Minute))
		tk.GridCode = []string{"g1", "g2", "g3"}[i%3]
		if err := tickets.Insert(ctx, tk, "t:"+tk.ID, "h"); err != nil {
			t.Fatal(err)
		}
		before := *tk
		if err := tk.Register(model.Act{At: at.Add(time.Hour)}, model.SLA{Hours: 24}); err != nil {
			t.Fatal(err)
		}
		if err := tickets.Commit(ctx, &before, tk); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, tk.ID)
	}
	dying := mongodb.NewStats(m, mongodb.StatsDeps{Tickets: tickets, Lease: lease, Cache: r, Owner: "a"})
	if n, err := dying.CountCutShort(ctx); err != nil || n != len(ids) {
		t.Fatalf("cut short: %d, %v", n, err)
	}
	next := mongodb.NewStats(m, mongodb.StatsDeps{Lease: lease, Cache: r, Owner: "b"})
	if err := next.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	want := model.Contribution{}
	for _, id := range ids {
		tk, err := tickets.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		want.Add(model.Contribute(tk))
	}
	check := func(what string) {
		t.Helper()
		for _, dim := range []string{model.DimAll, model.DimGrid, model.DimCategory} {
			rows, err := next.Read(ctx, dim, []string{"d20261125", "m202611", "y2026"})
			if err != nil {
				t.Fatal(err)
			}
			got := 0
			for _, row := range rows {
				w := want[model.RollupKey{Period: row.Period, Dim: row.Dim, Key: row.Key}]
				if row.Values != w {
					t.Fatalf("%s: %s %s %q = %v, want %v", what, row.Period, dim, row.Key, row.Values, w)
				}
				got++
			}
			if got == 0 {
				t.Fatalf("%s: nothing counted by %s", what, dim)
			}
		}
	}
	check("after the next holder finished the batch")
	// Nothing is counted twice by later passes either.
	if err := dying.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	check("after another pass")
}
