package sqlite

import (
	"context"
	"fmt"
	"testing"
)

// A read's text is prepared once and reused with other arguments; past
// maxReadStatements texts, reads run unprepared and still answer.
func TestReadStatementsPreparedOnce(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, t.TempDir(), Options{SkipIntegrityCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const q = "SELECT ? + 1"
	for i := range 5 {
		var n int
		if err := db.queryRow(ctx, q, i).Scan(&n); err != nil || n != i+1 {
			t.Fatalf("run %d: %d %v", i, n, err)
		}
	}
	first := db.rs.m[q]
	if first == nil || len(db.rs.m) != 1 {
		t.Fatalf("the text was not kept once: %d kept", len(db.rs.m))
	}
	for i := range maxReadStatements + 10 {
		rows, err := db.query(ctx, fmt.Sprintf("SELECT %d", i))
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if !rows.Next() || rows.Scan(&n) != nil || n != i {
			t.Fatalf("SELECT %d read %d", i, n)
		}
		rows.Close()
	}
	if len(db.rs.m) != maxReadStatements || db.rs.m[q] != first {
		t.Fatalf("%d texts kept (want %d), the first one kept: %v", len(db.rs.m), maxReadStatements, db.rs.m[q] == first)
	}
	if _, err := db.query(ctx, "SELECT nonsense FROM nowhere"); err == nil {
		t.Fatal("a bad read answered")
	}
}
