package sqlite

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/model"
)

// A commit that changes the description or the address (anonymisation)
// rewrites the ticket's search rows in its transaction: the old words no
// longer find it, the new ones do.
func TestCommitRewritesSearchRows(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, t.TempDir(), Options{SkipIntegrityCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := db.Tickets()
	at := time.Date(2026, 6, 1, 2, 0, 0, 0, time.UTC)
	tk := &model.Ticket{ID: model.NewID(at), ReporterID: "r1", Category: "0101", Description: "张三家门口井盖破损", Address: "中山路 8 号"}
	_ = tk.Report(model.Act{At: at})
	if err := s.Insert(ctx, tk, "t:"+tk.ID, ""); err != nil {
		t.Fatal(err)
	}
	after := *tk
	after.Description, after.Address = "**家门口井盖破损", "中山路"
	if err := s.Commit(ctx, tk, &after); err != nil {
		t.Fatal(err)
	}
	find := func(word string) []string {
		t.Helper()
		p, err := s.ListStaff(ctx, model.TicketQuery{Words: []string{word}}, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, x := range p.Items {
			out = append(out, x.ID)
		}
		return out
	}
	for _, w := range []string{"张三", "张", "张三家", "8"} {
		if got := find(w); len(got) != 0 {
			t.Errorf("%q still finds the ticket after its text changed", w)
		}
	}
	for _, w := range []string{"井盖", "家门口", "中山路", "井"} {
		if got := find(w); !slices.Equal(got, []string{tk.ID}) {
			t.Errorf("%q finds %v, want the ticket", w, got)
		}
	}
}
