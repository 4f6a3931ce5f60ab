package mongodb_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/internal/testenv"
	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/store/mongodb"
)

// A verdict that WeChat pushes while the screening worker is still recording
// the trace id on the photo is never lost: the photo ends blocked. On
// FerretDB v1 the two updates of different fields of one document can
// overwrite each other, which once left a risky photo served.
func TestVerdictRacingTheTraceIsKept(t *testing.T) {
	t.Parallel()
	photos := mongodb.NewPhotos(testenv.Mongo(t), time.Now)
	ctx := context.Background()
	file := model.PhotoFile{Data: []byte("x"), ContentType: "image/jpeg", SHA256: "0"}
	const n = 24
	ids := make([]string, n)
	for i := range ids {
		p, err := photos.Create(ctx, model.Photo{OwnerID: "u", ContentType: "image/jpeg", Width: 1, Height: 1}, file, file)
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = p.ID
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i, id := range ids {
		trace := fmt.Sprintf("trace-%d-%s", i, id)
		wg.Go(func() {
			if err := photos.SetTrace(ctx, id, trace); err != nil {
				errs <- err
			}
		})
		wg.Go(func() {
			// As a push that comes as soon as the trace exists.
			for {
				_, err := photos.SetVerdict(ctx, trace, "risky")
				if !errors.Is(err, model.ErrNotFound) {
					if err != nil {
						errs <- err
					}
					return
				}
				time.Sleep(time.Millisecond)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, id := range ids {
		p, err := photos.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !p.Moderation.Blocked() || p.Moderation.TraceID == "" {
			t.Errorf("photo %s: moderation %+v, want risky with its trace", id, p.Moderation)
		}
	}
}
