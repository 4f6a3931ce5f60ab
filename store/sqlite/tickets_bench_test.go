package sqlite

import (
	"context"
	"testing"
	"time"
)

// BenchmarkLoad measures the bulk path (seed-history, migrations): batches
// of 5,000 generated tickets, each batch a few days of a year in turn, into
// a fresh store. Generation is not timed.
func BenchmarkLoad(b *testing.B) {
	ctx := context.Background()
	db, err := Open(ctx, b.TempDir(), Options{SkipIntegrityCheck: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	s := db.Tickets()
	g := newGen(3, time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC), 365)
	n, k := 0, 0
	for b.Loop() {
		b.StopTimer()
		batch := g.window(5000, k%100, 100)
		k++
		b.StartTimer()
		if err := s.Load(ctx, batch); err != nil {
			b.Fatal(err)
		}
		n += len(batch)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "tickets/s")
}
