package sqlite

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"

	"github.com/citizen-city/chengguantong/model"
)

// A full disk is an answer, not a crash: a write refused for lack of space
// (SQLite's SQLITE_FULL, or ENOSPC/EDQUOT writing a photo's file) answers
// unavailable with msgStorageFull, and marks the store full, which Ping —
// and so /readyz — reports until there is room again; the log says when it
// fills and when it has room again. Nothing needs a restart: the next write
// after space returns succeeds (SQLite rolls back the refused transaction
// and its WAL is intact) and clears the mark once a probe write finds room;
// Ping probes too, so /readyz recovers on an idle server.

// minFree is the room Ping wants under DATA_DIR: below it (or after a
// refused write) it writes a probe file of this size to see whether a
// write would fit.
const minFree = 1 << 20

// probeName is the probe file under DATA_DIR, removed at once.
const probeName = "space-probe"

// noteWrite marks the store full after a write refused for lack of space;
// after a write that succeeded while marked, it looks whether there is
// room (a write may fit in the WAL's room on a full disk, or write
// nothing), and clears the mark if so.
func (db *DB) noteWrite(err error) {
	switch {
	case err == nil:
		if db.full.Load() {
			_ = db.checkSpace()
		}
	case isFull(err):
		db.filled(err)
	}
}

// isFull reports whether err is a write refused for lack of space.
func isFull(err error) bool {
	return StorageFull(err) || errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

func (db *DB) filled(cause error) {
	if !db.full.Swap(true) {
		db.logger.Error("storage full: the disk under DATA_DIR has no room; writes answer 503 (unavailable, "+msgStorageFull+") and /readyz says so until space returns, reads go on",
			"data_dir", db.dir, "error", cause.Error())
	}
}

func (db *DB) spaceBack() {
	if db.full.Swap(false) {
		db.logger.Warn("storage has room again: writes resume", "data_dir", db.dir)
	}
}

// checkSpace is Ping's look at the disk: while the store is marked full,
// or the file system has less than minFree available, a probe write of
// minFree bytes says whether a write would fit. It answers unavailable
// with the storage-full message, or nil (clearing the mark).
func (db *DB) checkSpace() error {
	var st syscall.Statfs_t
	low := syscall.Statfs(db.dir, &st) == nil && st.Bavail*uint64(st.Bsize) < minFree
	if !db.full.Load() && !low {
		return nil
	}
	if err := probe(filepath.Join(db.dir, probeName)); err != nil {
		if isFull(err) {
			db.filled(err)
			return model.Wrap(model.CodeUnavailable, err, msgStorageFull)
		}
		return model.Wrap(model.CodeUnavailable, err, "数据目录暂时不可写，请稍后重试")
	}
	db.spaceBack()
	return nil
}

// probe writes minFree bytes to path and removes it.
func probe(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer os.Remove(path)
	_, err = f.Write(make([]byte, minFree))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
