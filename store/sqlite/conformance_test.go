package sqlite_test

import (
	"context"
	"testing"

	"github.com/citizen-city/chengguantong/store/sqlite"
	"github.com/citizen-city/chengguantong/store/storetest"
)

// TestConformance runs the store suite against SQLite: a fresh database
// under a temporary DATA_DIR per test.
func TestConformance(t *testing.T) {
	storetest.Run(t, openEngine)
}

// openEngine opens a fresh store. A DATA_DIR has one server process, so
// every named instance shares the one open database; each records its
// handoffs under its own name.
func openEngine(tb storetest.TB) func(instance string) storetest.Engine {
	tb.Helper()
	db, err := sqlite.Open(context.Background(), tb.TempDir(), sqlite.Options{Instance: "instance-a", SkipIntegrityCheck: true})
	if err != nil {
		tb.Fatalf("open sqlite store: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db.EngineAs
}
