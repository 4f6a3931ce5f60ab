// Package ferretdb runs FerretDB v1 — a MongoDB wire-protocol server over
// SQLite files — inside the process, for what must speak to a MongoDB
// without one: the tests of the MongoDB store (internal/testenv) and the
// reading of a data directory written by the former FerretDB-based embedded
// mode. The server binary's production path never links it.
package ferretdb

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
)

// Server is FerretDB with its SQLite backend under a data directory,
// listening on a free loopback port.
type Server struct {
	// URI is the MongoDB connection string of the server.
	URI string

	cancel context.CancelFunc
	done   chan struct{}
	ids    *idIndexKeeper
}

var ferretNew sync.Mutex

// Start starts FerretDB on the SQLite files under dataDir/ferretdb (made
// if missing). Errors: the data directory's or FerretDB's.
func Start(dataDir string, logger *slog.Logger) (*Server, error) {
	dir, err := filepath.Abs(filepath.Join(dataDir, "ferretdb"))
	if err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	// ferretdb.New sets package state; two servers in one process (tests)
	// must not start at the same moment.
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
	s := &Server{URI: withPoolSize(f.MongoDBURI(), poolSize()), cancel: cancel, done: make(chan struct{}), ids: newIDIndexKeeper(dir)}
	keeperDone := make(chan struct{})
	go func() {
		defer close(keeperDone)
		s.ids.run(ctx)
	}()
	go func() {
		defer close(s.done)
		_ = f.Run(ctx)
		<-keeperDone
	}()
	return s, nil
}

// poolSize bounds the connections to FerretDB. SQLite has one writer at a
// time, and a writer that finds the database locked sleeps in SQLite's busy
// handler (1, 2, 5 … 100 ms) rather than queueing: with a hundred
// connections, dozens of writers slept in turn while the cores idled. A few
// connections per core keep the cores busy, and the driver's pool queues the
// rest in order.
func poolSize() int { return 2 * runtime.NumCPU() }

func withPoolSize(uri string, n int) string {
	sep := "?"
	if strings.Contains(uri, "?") {
		sep = "&"
	}
	return uri + sep + "maxPoolSize=" + strconv.Itoa(n)
}

// IndexIDs gives every collection that exists now in the database the _id
// index FerretDB's queries can use (see idIndexKeeper); collections made
// later get theirs within a second. Only for speed: FerretDB answers the
// same without it, scanning.
func (s *Server) IndexIDs(ctx context.Context, database string) error {
	return s.ids.Sync(ctx, database)
}

// Close stops the server and waits for FerretDB to close its files.
func (s *Server) Close() {
	s.cancel()
	<-s.done
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
