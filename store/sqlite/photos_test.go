package sqlite

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/model"
)

// openTestDB opens a fresh store in a temporary DATA_DIR.
func openTestDB(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), t.TempDir(), Options{SkipIntegrityCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func testPhotoFile(s string) model.PhotoFile {
	return model.PhotoFile{Data: []byte(s), ContentType: "image/jpeg", SHA256: "sum-" + s}
}

func createTestPhoto(t *testing.T, p *Photos) *model.Photo {
	t.Helper()
	ph, err := p.Create(t.Context(), model.Photo{OwnerID: "u1", ContentType: "image/jpeg"}, testPhotoFile("full"), testPhotoFile("thumb"))
	if err != nil {
		t.Fatal(err)
	}
	return ph
}

func fileExists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// A row whose file is missing (a crash between the row and its files, or a
// file lost) answers not_found, never a 500, and is swept as unused.
func TestPhotoRowWithoutItsFile(t *testing.T) {
	db := openTestDB(t)
	photos := db.Photos()
	ctx := t.Context()
	p := createTestPhoto(t, photos)
	if err := os.Remove(photos.pathOf(p.ID, VariantFull)); err != nil {
		t.Fatal(err)
	}
	_, _, _, err := photos.Open(ctx, p.ID, VariantFull)
	if !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("Open of a missing file = %v, want not_found", err)
	}
	if r, _, _, err := photos.Open(ctx, p.ID, VariantThumb); err != nil {
		t.Fatalf("the other variant: %v", err)
	} else {
		r.Close()
	}
	if n, err := photos.DeleteUnused(ctx, time.Now().Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("DeleteUnused = %d, %v; want the photo swept", n, err)
	}
	if fileExists(photos.pathOf(p.ID, VariantThumb)) {
		t.Fatal("the sweep left the thumbnail")
	}
}

// A full disk while writing a photo's file is unavailable with the
// storage-full message, and leaves neither row nor file.
func TestPhotoWriteOnAFullDisk(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full here")
	}
	db := openTestDB(t)
	photos := db.Photos()
	id := model.NewID(time.Now())
	photos.newID = func(time.Time) string { return id }
	// The temporary file is /dev/full, which answers every write ENOSPC.
	if err := os.MkdirAll(photos.shardOf(id), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/full", photos.pathOf(id, VariantFull)+".tmp"); err != nil {
		t.Fatal(err)
	}
	_, err := photos.Create(t.Context(), model.Photo{OwnerID: "u1"}, testPhotoFile("full"), testPhotoFile("thumb"))
	var me *model.Error
	if !errors.As(err, &me) || me.Code != model.CodeUnavailable || me.Message != msgStorageFull {
		t.Fatalf("Create on a full disk = %v, want unavailable saying storage is full", err)
	}
	if _, err := photos.Get(t.Context(), id); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("the row after a failed write: %v, want none", err)
	}
	for _, v := range []string{VariantFull, VariantThumb} {
		if path := photos.pathOf(id, v); fileExists(path) || fileExists(path+".tmp") {
			t.Fatalf("%s left behind", v)
		}
	}
}

func TestPhotoFileErrors(t *testing.T) {
	for _, c := range []struct {
		err  error
		code model.Code
		msg  string
	}{
		{&fs.PathError{Op: "write", Path: "x", Err: syscall.ENOSPC}, model.CodeUnavailable, msgStorageFull},
		{fmt.Errorf("sync: %w", syscall.EDQUOT), model.CodeUnavailable, msgStorageFull},
		{&fs.PathError{Op: "open", Path: "x", Err: syscall.EROFS}, model.CodeUnavailable, ""},
		{&fs.PathError{Op: "write", Path: "x", Err: syscall.EIO}, model.CodeInternal, ""},
	} {
		err := photoFileError(c.err, "write photo file")
		var me *model.Error
		if !errors.As(err, &me) || me.Code != c.code || (c.msg != "" && me.Message != c.msg) || !errors.Is(err, c.err) {
			t.Errorf("photoFileError(%v) = %v, want %s %q wrapping the cause", c.err, err, c.code, c.msg)
		}
	}
	if photoFileError(nil, "x") != nil {
		t.Error("photoFileError(nil) is not nil")
	}
}

// A crash after the sweeper marked photos gone and before it removed them:
// they read as gone at once, and the next sweep finishes them whatever
// its cutoff.
func TestPhotoSweepFinishesAnInterruptedDeletion(t *testing.T) {
	db := openTestDB(t)
	photos := db.Photos()
	ctx := t.Context()
	p := createTestPhoto(t, photos)
	if _, err := db.w.ExecContext(ctx, "UPDATE photos SET gone = 1 WHERE id = ?", p.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := photos.Get(ctx, p.ID); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("Get of a photo being deleted = %v, want not_found", err)
	}
	if n, err := photos.Claim(ctx, "u1", []string{p.ID}, "t1"); err != nil || n != 0 {
		t.Fatalf("Claim of a photo being deleted = %d, %v", n, err)
	}
	if n, err := photos.DeleteUnused(ctx, time.Now().Add(-24*time.Hour)); err != nil || n != 1 {
		t.Fatalf("DeleteUnused = %d, %v; want the interrupted deletion finished", n, err)
	}
	if fileExists(photos.pathOf(p.ID, VariantFull)) {
		t.Fatal("the file is still there")
	}
	var rows int
	if err := db.r.QueryRowContext(ctx, "SELECT count(*) FROM photos").Scan(&rows); err != nil || rows != 0 {
		t.Fatalf("%d rows left, %v", rows, err)
	}
}

// Files without a row (a store restored from a backup older than its
// photo files) are removed by the sweep once their shard is older than
// the cutoff; files with a row stay; a shard is listed once.
func TestPhotoFilesWithoutARowAreSwept(t *testing.T) {
	db := openTestDB(t)
	photos := db.Photos()
	ctx := t.Context()
	old := time.Now().Add(-72 * time.Hour)
	photos.newID = func(time.Time) string { return model.NewID(old) }
	orphan, kept := createTestPhoto(t, photos), createTestPhoto(t, photos)
	recent := db.Photos()
	fresh := createTestPhoto(t, recent)
	if _, err := db.w.ExecContext(ctx, "DELETE FROM photos WHERE id IN (?, ?)", orphan.ID, fresh.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := photos.Claim(ctx, "u1", []string{kept.ID}, "t1"); err != nil {
		t.Fatal(err)
	}
	if n, err := photos.DeleteUnused(ctx, time.Now().Add(-24*time.Hour)); err != nil || n != 0 {
		t.Fatalf("DeleteUnused = %d, %v", n, err)
	}
	for _, v := range []string{VariantFull, VariantThumb} {
		if fileExists(photos.pathOf(orphan.ID, v)) {
			t.Fatalf("the orphan's %s is still there", v)
		}
		if !fileExists(photos.pathOf(kept.ID, v)) {
			t.Fatalf("the kept photo's %s was removed", v)
		}
		// The current shard is not swept before its time has passed.
		if !fileExists(photos.pathOf(fresh.ID, v)) {
			t.Fatalf("a file of the current shard was removed")
		}
	}
	var mark string
	if err := db.r.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = ?", metaPhotosSwept).Scan(&mark); err != nil || mark != orphan.ID[:5] {
		t.Fatalf("swept mark = %q, %v; want %s", mark, err, orphan.ID[:5])
	}
	// An orphan put into an already swept shard is not looked for again:
	// a shard is written to only in its own time.
	if err := os.WriteFile(filepath.Join(photos.shardOf(orphan.ID), orphan.ID+".full"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := photos.DeleteUnused(ctx, time.Now().Add(-24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if !fileExists(photos.pathOf(orphan.ID, VariantFull)) {
		t.Fatal("a swept shard was listed again")
	}
}
