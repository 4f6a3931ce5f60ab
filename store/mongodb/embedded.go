package mongodb

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/FerretDB/FerretDB/ferretdb"
	"github.com/alicebob/miniredis/v2"
)

// Embedded is the single-machine mode's pair of servers, both inside this
// process: FerretDB speaking the MongoDB wire protocol over SQLite files
// under a data directory, and an in-memory Redis. MongoDB is the record and
// the Redis state is rebuilt from it, so losing Redis on restart loses
// nothing.
type Embedded struct {
	MongoURI string
	RedisURL string

	cancel context.CancelFunc
	done   chan struct{}
	redis  *miniredis.Miniredis
	ids    *idIndexKeeper
}

var ferretNew sync.Mutex

// StartEmbedded starts FerretDB with its SQLite backend under dataDir and an
// in-process Redis, each on a free loopback port.
func StartEmbedded(dataDir string, logger *slog.Logger) (*Embedded, error) {
	dir, err := filepath.Abs(filepath.Join(dataDir, "ferretdb"))
	if err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	// ferretdb.New sets package state; two embedded servers in one process
	// (tests) must not start at the same moment.
	ferretNew.Lock()
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Handler:   "sqlite",
		SQLiteURL: "file:" + dir + "/",
		// FerretDB logs every connection at info and every unsupported command
		// (the driver's endSessions on close) at warn; keep only its errors.
		Logger: slog.New(minLevel{Handler: logger.Handler(), min: slog.LevelError}).With("component", "ferretdb"),
	})
	ferretNew.Unlock()
	if err != nil {
		return nil, fmt.Errorf("start ferretdb: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &Embedded{MongoURI: withPoolSize(f.MongoDBURI(), embeddedPoolSize()), cancel: cancel, done: make(chan struct{}), ids: newIDIndexKeeper(dir)}
	keeperDone := make(chan struct{})
	go func() {
		defer close(keeperDone)
		e.ids.run(ctx)
	}()
	go func() {
		defer close(e.done)
		_ = f.Run(ctx)
		<-keeperDone
	}()

	e.redis = miniredis.NewMiniRedis()
	if err := e.redis.StartAddr("127.0.0.1:0"); err != nil {
		e.Close()
		return nil, fmt.Errorf("start in-process redis: %w", err)
	}
	e.RedisURL = "redis://" + e.redis.Addr()
	return e, nil
}

// embeddedPoolSize bounds the connections to the embedded FerretDB. SQLite
// has one writer at a time, and a writer that finds the database locked
// sleeps in SQLite's busy handler (1, 2, 5 … 100 ms) rather than queueing:
// with a hundred connections, dozens of writers slept in turn while the
// cores idled. A few connections per core keep the cores busy, and the
// driver's pool queues the rest in order. CGT_EMBEDDED_POOL overrides it.
func embeddedPoolSize() int {
	if n, err := strconv.Atoi(os.Getenv("CGT_EMBEDDED_POOL")); err == nil && n > 0 {
		return n
	}
	return 2 * runtime.NumCPU()
}

func withPoolSize(uri string, n int) string {
	sep := "?"
	if strings.Contains(uri, "?") {
		sep = "&"
	}
	return uri + sep + "maxPoolSize=" + strconv.Itoa(n)
}

// IndexIDs gives every collection that exists now in the database the _id
// index FerretDB's queries can use (see idIndexKeeper); collections made
// later get theirs within a second.
func (e *Embedded) IndexIDs(ctx context.Context, database string) error {
	return e.ids.Sync(ctx, database)
}

// Close stops both servers and waits for FerretDB to close its files.
func (e *Embedded) Close() {
	if e.redis != nil {
		e.redis.Close()
	}
	e.cancel()
	<-e.done
}

// minLevel drops records below min, whatever the wrapped handler's level.
type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return minLevel{Handler: h.Handler.WithAttrs(as), min: h.min}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{Handler: h.Handler.WithGroup(name), min: h.min}
}
