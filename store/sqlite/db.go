// Package sqlite is the embedded store: one SQLite database under DATA_DIR,
// opened by one server process at a time, in WAL mode with one writer
// connection (every write in order, no busy waits between writers) and a
// pool of readers that never block it. Its schema is numbered migrations,
// run at start-up. A ticket's transition, its statistics and the work it
// hands to Redis are written in one transaction.
//
// It translates SQLite's errors into model errors at its edge: a unique
// constraint is a conflict, a full disk or a locked file is unavailable,
// a damaged file stops the server at start-up.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/citizen-city/chengguantong/model"
)

// FileName is the database's file under DATA_DIR.
const FileName = "chengguantong.db"

// Options are what a caller may set when opening the store.
type Options struct {
	// Instance names this process in the hand-offs it commits (see
	// model.Handoff), so that another process can tell whose are left.
	Instance string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Readers bounds the reader pool (default 2 per CPU, at least 4).
	Readers int
	// SkipIntegrityCheck skips the start-up check (tests that open and
	// close a store many times).
	SkipIntegrityCheck bool
	// Logger receives what the operator must know: the disk under
	// DATA_DIR full, and space back. Nil: slog.Default().
	Logger *slog.Logger
}

// DB is an open embedded store.
type DB struct {
	dir      string
	path     string
	w        *sql.DB // one connection: every write goes through it in turn
	r        *sql.DB // readers
	lock     *dirLock
	now      func() time.Time
	instance string
	ws       stmtCache // the writer's prepared statements (tickets.go)
	rs       stmtCache // the readers' prepared statements (query)
	logger   *slog.Logger
	// full is set when a write failed for lack of space, and cleared by
	// a write that succeeds or by Ping finding room again (space.go).
	full atomic.Bool
}

//go:embed migrations/*.sql
var migrations embed.FS

// Open opens (creating if need be) the store under dir. It refuses with a
// Chinese message a directory another server process holds, a database
// whose integrity check fails, and a database written by a newer version.
func Open(ctx context.Context, dir string, opt Options) (*DB, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir %s: %w", abs, err)
	}
	lock, err := lockDir(abs)
	if err != nil {
		return nil, err
	}
	db := &DB{dir: abs, path: filepath.Join(abs, FileName), lock: lock, now: opt.Now, instance: opt.Instance, logger: opt.Logger}
	if db.now == nil {
		db.now = time.Now
	}
	if db.logger == nil {
		db.logger = slog.Default()
	}
	if err := db.open(ctx, opt); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func (db *DB) open(ctx context.Context, opt Options) error {
	var err error
	// _txlock=immediate: a write transaction takes the write lock at BEGIN,
	// so it never fails half-way for a lock another connection holds.
	if db.w, err = sql.Open("sqlite", dsn(db.path, "_txlock=immediate")); err != nil {
		return fmt.Errorf("open %s: %w", db.path, err)
	}
	db.w.SetMaxOpenConns(1)
	db.w.SetMaxIdleConns(1)
	db.w.SetConnMaxLifetime(0)
	db.w.SetConnMaxIdleTime(0)
	if db.r, err = sql.Open("sqlite", dsn(db.path, "_pragma=query_only(1)")); err != nil {
		return fmt.Errorf("open %s: %w", db.path, err)
	}
	n := opt.Readers
	if n <= 0 {
		n = max(4, 2*runtime.NumCPU())
	}
	db.r.SetMaxOpenConns(n)
	db.r.SetMaxIdleConns(n)
	if _, err := db.w.ExecContext(ctx, "PRAGMA journal_mode=WAL"); err != nil {
		if corrupt(err) {
			return db.damaged(err.Error())
		}
		return translate(fmt.Errorf("enable WAL: %w", err))
	}
	// Keep the WAL and its index (-shm) when the store closes: a server
	// that must start on a full disk cannot make a new -shm (32 KB), and
	// without one it cannot open the database at all. The writer is the
	// last connection Close closes, so its setting decides.
	if err := db.persistWAL(ctx); err != nil {
		return translate(fmt.Errorf("keep the WAL: %w", err))
	}
	if !opt.SkipIntegrityCheck {
		if err := db.checkIntegrity(ctx); err != nil {
			return err
		}
	}
	if err := db.migrate(ctx); err != nil {
		return err
	}
	if err := db.settleMigrations(ctx); err != nil {
		return err
	}
	// The planner's statistics, for the queries it plans itself: ANALYZE
	// what changed much since the last time, reading at most a thousand
	// rows of each index (milliseconds whatever the size). Best effort.
	_, _ = db.w.ExecContext(ctx, "PRAGMA analysis_limit = 1000")
	_, _ = db.w.ExecContext(ctx, "PRAGMA optimize = 0x10002")
	return nil
}

// persistWAL sets SQLITE_FCNTL_PERSIST_WAL on the writer connection.
func (db *DB) persistWAL(ctx context.Context) error {
	c, err := db.w.Conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Raw(func(dc any) error {
		fc, ok := dc.(msqlite.FileControl)
		if !ok {
			return errors.New("the SQLite driver offers no file control")
		}
		_, err := fc.FileControlPersistWAL("main", 1)
		return err
	})
}

// dsn is the driver's URI of path with the pragmas every connection needs.
func dsn(path string, extra ...string) string {
	q := []string{
		"_pragma=busy_timeout(10000)",
		"_pragma=foreign_keys(1)",
		"_pragma=synchronous(NORMAL)", // durable at each checkpoint; WAL keeps the file consistent
		"_pragma=temp_store(MEMORY)",
		"_pragma=cache_size(-32000)", // 32 MB per connection
		// Deleted and rewritten content (a resident's erased texts) is
		// zeroed where that costs no extra I/O (docs/privacy.md).
		"_pragma=secure_delete(FAST)",
		"_time_format=sqlite",
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + strings.Join(append(q, extra...), "&")
}

// maxReadStatements bounds the readers' prepared statements: texts past
// it (IN lists of many lengths, say) are prepared at each call.
const maxReadStatements = 256

// query runs a read on the readers, with its text prepared once and kept
// (up to maxReadStatements texts): the lists and searches are built at run
// time, so the same text recurs with other arguments, and parsing one costs
// as much as running it — the duplicate search's 45 arms took a millisecond
// to parse and a tenth of that to run.
func (db *DB) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if p := db.readStmt(ctx, query); p != nil {
		return p.QueryContext(ctx, args...)
	}
	return db.r.QueryContext(ctx, query, args...)
}

// queryRow is query for one row.
func (db *DB) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if p := db.readStmt(ctx, query); p != nil {
		return p.QueryRowContext(ctx, args...)
	}
	return db.r.QueryRowContext(ctx, query, args...)
}

// readStmt is query's prepared statement on the readers, prepared now if
// there is room; nil when there is none (the caller runs the text).
func (db *DB) readStmt(ctx context.Context, query string) *sql.Stmt {
	db.rs.mu.Lock()
	if db.rs.m == nil {
		db.rs.m = map[string]*sql.Stmt{}
	}
	p, full := db.rs.m[query], len(db.rs.m) >= maxReadStatements
	db.rs.mu.Unlock()
	if p != nil || full {
		return p
	}
	p, err := db.r.PrepareContext(ctx, query)
	if err != nil {
		return nil // the caller's run says what is wrong
	}
	db.rs.mu.Lock()
	defer db.rs.mu.Unlock()
	if q := db.rs.m[query]; q != nil { // another call was first
		p.Close()
		return q
	}
	if len(db.rs.m) >= maxReadStatements {
		p.Close()
		return nil
	}
	db.rs.m[query] = p
	return p
}

// Close closes the connections and releases the directory.
func (db *DB) Close() error {
	var errs []error
	db.rs.mu.Lock()
	for _, p := range db.rs.m {
		p.Close()
	}
	db.rs.m = nil
	db.rs.mu.Unlock()
	if db.w != nil {
		_, _ = db.w.Exec("PRAGMA optimize") // the statistics, for the next start
		// A last checkpoint folds the WAL into the database file, so that
		// the next start has nothing to replay.
		_, ckErr := db.w.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
		// The readers first: the writer, closing last, keeps the WAL's
		// files (persistWAL).
		if db.r != nil {
			errs = append(errs, db.r.Close())
		}
		errs = append(errs, db.w.Close())
		if ckErr == nil && errors.Join(errs...) == nil {
			db.markClean()
		}
	} else if db.r != nil {
		errs = append(errs, db.r.Close())
	}
	if db.lock != nil {
		errs = append(errs, db.lock.release())
	}
	return errors.Join(errs...)
}

// Dir is the directory the store lives in.
func (db *DB) Dir() string { return db.dir }

// Ping checks that the database answers a read and that the disk under
// DATA_DIR has room for writes (see space.go): while it has none, Ping
// answers unavailable with the storage-full message, so /readyz says so.
func (db *DB) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var one int
	if err := db.r.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return translate(err)
	}
	return db.checkSpace()
}

// write runs fn in one write transaction (BEGIN IMMEDIATE on the writer
// connection) and commits it; fn's error, or a failed commit, rolls it
// back. Errors are translated into model errors; a write refused for lack
// of space marks the store full, one that succeeds clears the mark.
func (db *DB) write(ctx context.Context, fn func(tx *sql.Tx) error) (err error) {
	defer func() { db.noteWrite(err) }()
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return translate(err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return translate(err)
	}
	if err := tx.Commit(); err != nil {
		_ = tx.Rollback()
		return translate(err)
	}
	return nil
}

// migrate brings the schema to the newest migration, each in its own
// transaction. A database newer than this binary is refused.
func (db *DB) migrate(ctx context.Context) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	slices.Sort(names)
	var current int
	if err := db.w.QueryRowContext(ctx, "PRAGMA user_version").Scan(&current); err != nil {
		if corrupt(err) {
			return db.damaged(err.Error())
		}
		return translate(fmt.Errorf("schema version: %w", err))
	}
	latest := 0
	for _, name := range names {
		n, err := migrationNumber(name)
		if err != nil {
			return err
		}
		latest = max(latest, n)
		if n <= current {
			continue
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		err = db.write(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return fmt.Errorf("migration %s: %w", filepath.Base(name), err)
			}
			_, err := tx.ExecContext(ctx, "PRAGMA user_version = "+strconv.Itoa(n))
			return err
		})
		if err != nil {
			return err
		}
	}
	if current > latest {
		return model.Errorf(model.CodeUnavailable, "数据目录 %s 由更新版本的服务写入（数据库版本 %d，本程序只认识到 %d）；请使用更新的版本，或从备份恢复", db.dir, current, latest)
	}
	return nil
}

// settleMigrations does what a migration asked for that SQL cannot: a
// migration that adds statistics counters sets meta's rebuild_stats, and
// the roll-ups are rebuilt from the tickets once (every ticket counted
// with the counters as the model now defines them).
func (db *DB) settleMigrations(ctx context.Context) error {
	var why string
	err := db.w.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'rebuild_stats'").Scan(&why)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return translate(fmt.Errorf("read meta: %w", err))
	}
	if _, err := db.Stats().Rebuild(ctx); err != nil {
		return fmt.Errorf("rebuild the statistics after migration %s: %w", why, err)
	}
	return db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "DELETE FROM meta WHERE key = 'rebuild_stats'")
		return err
	})
}

// migrationNumber reads NNNN from migrations/NNNN_name.sql.
func migrationNumber(name string) (int, error) {
	base := filepath.Base(name)
	digits, _, ok := strings.Cut(base, "_")
	n, err := strconv.Atoi(digits)
	if !ok || err != nil || n <= 0 {
		return 0, fmt.Errorf("migration %s: the name must start with its number (0001_name.sql)", base)
	}
	return n, nil
}

// msgStorageFull is what a write that found the disk full answers.
const msgStorageFull = "存储空间已满，无法保存；请联系管理员清理 DATA_DIR 所在的磁盘后重试（已保存的数据不受影响）"

// translate turns a driver error into a model error at the store's edge.
// A model error passes through unchanged.
func translate(err error) error {
	if err == nil {
		return nil
	}
	var me *model.Error
	if errors.As(err, &me) {
		return err
	}
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return model.Wrap(model.CodeNotFound, err, "记录不存在")
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return model.Wrap(model.CodeUnavailable, err, "数据库暂时不可用，请稍后重试")
	}
	var se *msqlite.Error
	if errors.As(err, &se) {
		code := se.Code()
		switch {
		case code == sqlite3.SQLITE_CONSTRAINT_UNIQUE, code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return model.Wrap(model.CodeConflict, err, "记录已存在")
		case code&0xff == sqlite3.SQLITE_FULL:
			return model.Wrap(model.CodeUnavailable, err, msgStorageFull)
		case code&0xff == sqlite3.SQLITE_BUSY, code&0xff == sqlite3.SQLITE_LOCKED:
			return model.Wrap(model.CodeUnavailable, err, "数据库繁忙，请稍后重试")
		case code&0xff == sqlite3.SQLITE_IOERR, code&0xff == sqlite3.SQLITE_CANTOPEN, code&0xff == sqlite3.SQLITE_READONLY:
			return model.Wrap(model.CodeUnavailable, err, "数据库暂时不可写，请稍后重试")
		case code&0xff == sqlite3.SQLITE_CORRUPT, code&0xff == sqlite3.SQLITE_NOTADB:
			return model.Wrap(model.CodeUnavailable, err, "数据库文件已损坏，请联系管理员从备份恢复")
		}
	}
	return model.Wrap(model.CodeInternal, err, "数据库出错")
}

// StorageFull reports whether err is a write refused for a full disk.
func StorageFull(err error) bool {
	var se *msqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_FULL
}
