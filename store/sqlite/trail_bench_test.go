package sqlite

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/model"
)

// BenchmarkTrail appends to an access trail of 200,000 entries and reads a
// page of one actor's reveals in a month: the index range read, newest
// first, that an auditor's question is.
func BenchmarkTrail(b *testing.B) {
	ctx := context.Background()
	db, err := Open(ctx, b.TempDir(), Options{SkipIntegrityCheck: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	tr := db.Trail()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	actions := []model.AuditAction{model.ActionIdentityReveal, model.ActionExport, model.ActionPeopleChange, model.ActionLoginFailed}
	// Bulk fill in one transaction: 200,000 entries over a year, 50 actors.
	tx, err := db.w.Begin()
	if err != nil {
		b.Fatal(err)
	}
	for i := range 200_000 {
		at := start.Add(time.Duration(i) * 157 * time.Second)
		if _, err := tx.Exec(sqlAuditInsert, ridBase(at)+int64(i%7), at.UnixMilli(), fmt.Sprintf("s%02d", i%50), "员工",
			string(actions[i%len(actions)]), fmt.Sprintf("2026%04d-%04d", i%365, i%1000), "查看了工单的来电人姓名、电话", "10.0.0.1"); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	if _, err := db.w.Exec("ANALYZE"); err != nil {
		b.Fatal(err)
	}
	b.Run("Append", func(b *testing.B) {
		for b.Loop() {
			e := model.AuditEntry{ActorID: "s01", ActorName: "员工", Action: model.ActionIdentityReveal, Target: "20261207-0001", Detail: "来电人", IP: "10.0.0.1"}
			if err := tr.Append(ctx, &e); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ListActorActionMonth", func(b *testing.B) {
		q := model.AuditQuery{ActorID: "s07", Action: model.ActionIdentityReveal, From: start.AddDate(0, 6, 0), To: start.AddDate(0, 7, 0)}
		for b.Loop() {
			if _, _, err := tr.List(ctx, q, "", 50); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ListTarget", func(b *testing.B) {
		q := model.AuditQuery{Target: "20260100-0100"}
		for b.Loop() {
			if _, _, err := tr.List(ctx, q, "", 50); err != nil {
				b.Fatal(err)
			}
		}
	})
}
