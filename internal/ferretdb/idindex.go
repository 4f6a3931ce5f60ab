package ferretdb

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // the driver FerretDB's SQLite backend registers too
)

// idIndexKeeper, for the tests' speed, works around FerretDB v1.24's SQLite backend looking every
// document up by _id with a full table scan: FerretDB creates its _id index
// on the expression _ferretdb_sjson->"_id" but queries with
// _ferretdb_sjson->'$._id', and SQLite uses an expression index only for the
// very same expression. So each FindOne, update or delete by _id read and
// parsed the whole collection — 35 ms on 1,200 tickets, growing without
// bound. The keeper adds, to every collection table of every database under
// the data directory, an index on the expression the queries use. SQLite
// maintains it on every write and FerretDB, which does not know of it, never
// touches it (a dropped collection drops its table and the index with it).
//
// Collections appear lazily (on first insert), so the keeper looks again
// every second; Sync does one pass at once.
type idIndexKeeper struct {
	dir string

	mu   sync.Mutex
	done map[string]bool // "file\x00table" already indexed
}

const (
	ferretMetadataTable = "_ferretdb_collections"
	ferretDocColumn     = "_ferretdb_sjson"
	idIndexSuffix       = "_cgt_id"
)

func newIDIndexKeeper(dir string) *idIndexKeeper {
	return &idIndexKeeper{dir: dir, done: map[string]bool{}}
}

// run keeps the indexes until ctx ends.
func (k *idIndexKeeper) run(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		_ = k.Sync(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Sync indexes every collection that exists now in the named databases, or
// in all of them when none is named.
func (k *idIndexKeeper) Sync(ctx context.Context, databases ...string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	files, err := filepath.Glob(filepath.Join(k.dir, "*.sqlite"))
	if err != nil {
		return err
	}
	if len(databases) > 0 {
		files = files[:0]
		for _, d := range databases {
			files = append(files, filepath.Join(k.dir, d+".sqlite"))
		}
	}
	var errs []string
	for _, f := range files {
		if err := k.syncFile(ctx, f); err != nil {
			if _, serr := os.Stat(f); serr != nil {
				continue // the database was dropped meanwhile
			}
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("ferretdb _id indexes: %s", strings.Join(errs, "; "))
	}
	return nil
}

func (k *idIndexKeeper) syncFile(ctx context.Context, file string) error {
	if _, err := os.Stat(file); err != nil {
		return err
	}
	// mode=rw: a database dropped meanwhile must not be created again.
	db, err := sql.Open("sqlite", "file:"+file+"?mode=rw&_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, "SELECT table_name FROM "+ferretMetadataTable)
	if err != nil {
		if strings.Contains(err.Error(), "no such table") {
			return nil // a database FerretDB has not set up yet
		}
		return err
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			_ = rows.Close()
			return err
		}
		if !k.done[file+"\x00"+t] {
			tables = append(tables, t)
		}
	}
	if err := rows.Close(); err != nil {
		return err
	}
	for _, t := range tables {
		q := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %q ON %q (%s->'$._id')`, t+idIndexSuffix, t, ferretDocColumn)
		if _, err := db.ExecContext(ctx, q); err != nil {
			if strings.Contains(err.Error(), "no such table") {
				continue // dropped meanwhile
			}
			return err
		}
		k.done[file+"\x00"+t] = true
	}
	return nil
}
