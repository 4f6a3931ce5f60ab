package sqlite_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"testing"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/store/sqlite"
)

func benchDB(b *testing.B) *sqlite.DB {
	b.Helper()
	db, err := sqlite.Open(context.Background(), b.TempDir(), sqlite.Options{SkipIntegrityCheck: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// BenchmarkPhotoCreate: one upload's store work — its row, then two files
// written, synced and renamed, the directory synced.
func BenchmarkPhotoCreate(b *testing.B) {
	db := benchDB(b)
	photos := db.Photos()
	full, thumb := make([]byte, 300<<10), make([]byte, 24<<10)
	_, _ = rand.Read(full)
	_, _ = rand.Read(thumb)
	ctx := context.Background()
	b.SetBytes(int64(len(full) + len(thumb)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := photos.Create(ctx, model.Photo{OwnerID: "u1", ContentType: "image/jpeg", Width: 1600, Height: 1200},
			model.PhotoFile{Data: full, SHA256: "f"}, model.PhotoFile{Data: thumb, SHA256: "t"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPhotoOpen: serving a thumbnail — its row, then its file read.
func BenchmarkPhotoOpen(b *testing.B) {
	db := benchDB(b)
	photos := db.Photos()
	ctx := context.Background()
	p, err := photos.Create(ctx, model.Photo{OwnerID: "u1"}, model.PhotoFile{Data: make([]byte, 300<<10)}, model.PhotoFile{Data: make([]byte, 24<<10)})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		r, _, _, err := photos.Open(ctx, p.ID, sqlite.VariantThumb)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, r)
		r.Close()
	}
}

// BenchmarkWorkerDirectory: pages of 20 of a directory of 5,000 grid
// workers in 500 grids, with their totals.
func BenchmarkWorkerDirectory(b *testing.B) {
	db := benchDB(b)
	people := db.People()
	ctx := context.Background()
	surnames := []rune("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗")
	for i := range 5000 {
		name := string(surnames[i%len(surnames)]) + string(surnames[(i/7)%len(surnames)]) + "明"
		w := model.Worker{Name: name, Phone: fmt.Sprintf("139%08d", i), GridCodes: []string{fmt.Sprintf("g%03d", i%500), fmt.Sprintf("g%03d", (i+1)%500)}}
		if _, err := people.CreateWorker(ctx, w); err != nil {
			b.Fatal(err)
		}
	}
	yes := true
	for _, c := range []struct {
		name string
		f    model.PeopleFilter
	}{
		{"all", model.PeopleFilter{}},
		{"active", model.PeopleFilter{Active: &yes}},
		{"grid", model.PeopleFilter{Grid: "g123"}},
		{"surname", model.PeopleFilter{Words: []string{"王"}}},
		{"phone", model.PeopleFilter{Words: []string{"0001234"}}},
		{"surname and phone", model.PeopleFilter{Words: []string{"王", "12"}}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, _, _, err := people.ListWorkers(ctx, c.f, "", 20); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
