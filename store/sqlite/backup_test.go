package sqlite_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/store/sqlite"
)

func newTicket(at time.Time, desc string) *model.Ticket {
	tk := &model.Ticket{ID: model.NewID(at), ReporterID: "r1", Category: "0101", Description: desc, Address: "鼓楼区中山路",
		Point: model.Point{Lat: 32, Lng: 118.8}}
	_ = tk.Report(model.Act{At: at})
	return tk
}

// A backup taken while commits go on is a sound store with every ticket
// committed before it began and none half-written; Restore puts it back
// into an empty directory only.
func TestBackupWhileWritingAndRestore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, dir, sqlite.Options{Instance: "a"})
	if err != nil {
		t.Fatal(err)
	}
	s := db.Tickets()
	at := time.Date(2026, 6, 1, 2, 0, 0, 0, time.UTC)
	var before []string
	for i := range 200 {
		tk := newTicket(at.Add(time.Duration(i)*time.Second), "井盖破损")
		if err := s.Insert(ctx, tk, "t:"+tk.ID, ""); err != nil {
			t.Fatal(err)
		}
		before = append(before, tk.ID)
	}
	// A photo: the backup carries its bytes, not only its row.
	photo, err := db.Photos().Create(ctx, model.Photo{OwnerID: "u1", ContentType: "image/jpeg"},
		model.PhotoFile{Data: []byte("full bytes"), ContentType: "image/jpeg", SHA256: "f"},
		model.PhotoFile{Data: []byte("thumb bytes"), ContentType: "image/jpeg", SHA256: "t"})
	if err != nil {
		t.Fatal(err)
	}
	// A writer keeps committing while the backup runs.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			tk := newTicket(at.Add(time.Hour+time.Duration(i)*time.Millisecond), "路灯不亮")
			if err := s.Insert(ctx, tk, "t:"+tk.ID, ""); err != nil {
				t.Error(err)
				return
			}
			after := *tk
			if err := after.Register(model.Act{At: at.Add(2 * time.Hour)}, model.SLA{Hours: 24}); err != nil {
				t.Error(err)
				return
			}
			if err := s.Commit(ctx, tk, &after); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	backup := filepath.Join(t.TempDir(), "backup.db")
	err = db.Backup(ctx, backup)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Backup(ctx, backup); !errors.Is(err, model.ErrInvalidArgument) {
		t.Fatalf("a backup over an existing file: %v, want invalid_argument", err)
	}

	// Not over a directory in use, nor a non-empty one.
	if err := sqlite.Restore(ctx, backup, dir); !errors.Is(err, model.ErrUnavailable) || !strings.Contains(err.Error(), "另一个服务进程") {
		t.Fatalf("restore into a held directory: %v", err)
	}
	db.Close()
	if err := sqlite.Restore(ctx, backup, dir); !errors.Is(err, model.ErrInvalidArgument) || !strings.Contains(err.Error(), "不是空的") {
		t.Fatalf("restore into a non-empty directory: %v", err)
	}
	junk := filepath.Join(t.TempDir(), "junk.db")
	if err := os.WriteFile(junk, []byte(strings.Repeat("not a database ", 500)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := sqlite.Restore(ctx, junk, t.TempDir()); !errors.Is(err, model.ErrInvalidArgument) || !strings.Contains(err.Error(), "不可用") {
		t.Fatalf("restore of a file that is no backup: %v", err)
	}

	target := t.TempDir()
	if err := sqlite.Restore(ctx, backup, target); err != nil {
		t.Fatal(err)
	}
	restored, err := sqlite.Open(ctx, target, sqlite.Options{})
	if err != nil {
		t.Fatalf("open the restored store: %v", err)
	}
	defer restored.Close()
	rs := restored.Tickets()
	for _, id := range before {
		if _, err := rs.Get(ctx, id); err != nil {
			t.Fatalf("ticket %s committed before the backup: %v", id, err)
		}
	}
	rc, _, _, err := restored.Photos().Open(ctx, photo.ID, sqlite.VariantFull)
	if err != nil {
		t.Fatalf("the photo stored before the backup: %v", err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "full bytes" {
		t.Fatalf("restored photo = %q", b)
	}
	// Every ticket in the copy is whole: inserted with its handoff, and
	// committed with its statistics.
	page, err := rs.ListStaff(ctx, model.TicketQuery{Statuses: []model.Status{model.StatusPending}}, "", 1)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := restored.Stats().Read(ctx, model.DimAll, []string{"y2026"})
	if err != nil {
		t.Fatal(err)
	}
	var registered float64
	for _, r := range rows {
		registered += r.Values[model.CounterRegistered]
	}
	if int64(registered) != page.Total {
		t.Fatalf("the copy has %d registered tickets but counts %v", page.Total, registered)
	}
}
