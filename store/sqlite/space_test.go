package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/citizen-city/chengguantong/model"
)

// A write refused for lack of space marks the store full and says so in
// the log; Ping then looks for room with a probe write, and clears the
// mark (saying so) when there is room, as does a write that succeeds. The
// fault suite's TestEmbeddedFullDisk fills a real file system.
func TestFullDiskMarkClearsItself(t *testing.T) {
	var logs bytes.Buffer
	db, err := Open(context.Background(), t.TempDir(), Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()

	db.noteWrite(fmt.Errorf("write photo file: %w", syscall.ENOSPC))
	if !db.full.Load() || !strings.Contains(logs.String(), "storage full") {
		t.Fatalf("after ENOSPC: full=%v, log %q", db.full.Load(), logs.String())
	}
	db.noteWrite(model.Invalid("x", "not a disk error"))
	if !db.full.Load() {
		t.Fatal("an error other than a full disk cleared the mark")
	}
	// This disk has room: Ping's probe finds it.
	if err := db.Ping(ctx); err != nil {
		t.Fatalf("Ping with room on the disk: %v", err)
	}
	if db.full.Load() || !strings.Contains(logs.String(), "room again") {
		t.Fatalf("after Ping found room: full=%v, log %q", db.full.Load(), logs.String())
	}

	db.noteWrite(syscall.ENOSPC)
	if _, err := db.Categories().List(ctx); err != nil {
		t.Fatal(err)
	}
	if !db.full.Load() {
		t.Fatal("a read cleared the mark")
	}
	if err := db.write(ctx, func(tx *sql.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if db.full.Load() {
		t.Fatal("a write that succeeded left the mark")
	}
}

// A store closed cleanly keeps its WAL (empty, checkpointed) and the WAL's
// index (-shm): a server started next on a full disk could not make them.
func TestCloseKeepsTheWALFiles(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{FileName + "-wal", FileName + "-shm", cleanMark} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("after a clean close: %v", err)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, FileName+"-wal")); err == nil && fi.Size() != 0 {
		t.Errorf("the WAL holds %d bytes after the last checkpoint", fi.Size())
	}
}
