package sqlite_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/store/sqlite"
)

func TestOneServerPerDataDir(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, dir, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = sqlite.Open(ctx, dir, sqlite.Options{})
	if !errors.Is(err, model.ErrUnavailable) || !strings.Contains(err.Error(), "另一个服务进程") {
		t.Fatalf("second open = %v, want unavailable naming the holder", err)
	}
	if held, pid := sqlite.Held(dir); !held || pid == "" {
		t.Fatalf("Held = %v %q, want held with a pid", held, pid)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if held, _ := sqlite.Held(dir); held {
		t.Fatal("still held after Close")
	}
	db, err = sqlite.Open(ctx, dir, sqlite.Options{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	db.Close()
}

func TestDamagedFileIsRefused(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, dir, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	f, err := os.OpenFile(filepath.Join(dir, sqlite.FileName), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	junk := make([]byte, 4096)
	for i := range junk {
		junk[i] = byte(i*7 + 3)
	}
	if _, err := f.WriteAt(junk, 0); err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, err = sqlite.Open(ctx, dir, sqlite.Options{})
	if !errors.Is(err, model.ErrUnavailable) || !strings.Contains(err.Error(), "损坏") {
		t.Fatalf("open of a damaged file = %v, want unavailable saying it is damaged", err)
	}
}
