package ferretdb

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// TestEmbeddedIDLookupsUseAnIndex checks, in SQLite's own query plan, that
// FerretDB's lookup by _id — the statement it runs for FindOne({_id}) — is
// answered from an index once the keeper has run, for a collection made
// before Sync and one made lazily after it.
func TestEmbeddedIDLookupsUseAnIndex(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	e, err := Start(dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	client, err := mongo.Connect(options.Client().ApplyURI(e.URI))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Disconnect(ctx)
	db := client.Database("plan")
	if _, err := db.Collection("early").InsertOne(ctx, bson.M{"_id": "a"}); err != nil {
		t.Fatal(err)
	}
	if err := e.IndexIDs(ctx, "plan"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Collection("late").InsertOne(ctx, bson.M{"_id": "b"}); err != nil {
		t.Fatal(err)
	}
	if err := e.IndexIDs(ctx, "plan"); err != nil {
		t.Fatal(err)
	}
	// And FerretDB still finds documents by _id through it.
	var got bson.M
	if err := db.Collection("late").FindOne(ctx, bson.M{"_id": "b"}).Decode(&got); err != nil || got["_id"] != "b" {
		t.Fatalf("FindOne by _id = %v, %v", got, err)
	}

	sdb, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "ferretdb", "plan.sqlite")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer sdb.Close()
	for _, coll := range []string{"early", "late"} {
		var table string
		if err := sdb.QueryRow("SELECT table_name FROM "+ferretMetadataTable+" WHERE name = ?", coll).Scan(&table); err != nil {
			t.Fatal(err)
		}
		// The statement of FerretDB's sqlite backend (collection.Query).
		rows, err := sdb.Query(`EXPLAIN QUERY PLAN SELECT `+ferretDocColumn+` FROM "`+table+`" WHERE `+ferretDocColumn+`->'$._id' = ?`, `"a"`)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		_ = rows.Close()
		if p := strings.Join(plan, "; "); !strings.Contains(p, "USING INDEX "+table+idIndexSuffix) {
			t.Errorf("%s: lookup by _id plans %q; want the index %s", coll, p, table+idIndexSuffix)
		}
	}
}
