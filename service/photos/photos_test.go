package photos_test

import (
	"context"
	"errors"
	"testing"

	"github.com/citizen-city/chengguantong/internal/testenv"
	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/photo"
	"github.com/citizen-city/chengguantong/service/photos"
	"github.com/citizen-city/chengguantong/store/redis"
)

// TestUploadAdmission: a resident has at most two uploads in flight (the
// third is refused at once, 429 with Retry-After, and costs no quota); a
// released one frees its place; bodies on their way hold only the bytes
// that arrived, within a budget of twice the processing slots' worth of
// full-size uploads, past which the answer is 503 with Retry-After.
func TestUploadAdmission(t *testing.T) {
	ctx := context.Background()
	const maxBytes = 1 << 20
	p := photo.NewProcessor(photo.Limits{MaxBytes: maxBytes}, 1)
	uploads := photos.NewUploads(nil, p, nil, redis.NewRateLimiter(testenv.Redis(t)), 3, 2) // budget: 2 × 2 × 1 MiB
	alice, bob := &model.User{ID: testenv.Name("alice")}, &model.User{ID: testenv.Name("bob")}

	a1, err := uploads.Admit(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	a2, err := uploads.Admit(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	var me *model.Error
	if _, err := uploads.Admit(ctx, alice); !errors.As(err, &me) || me.Code != model.CodeRateLimited || me.RetryAfterSeconds <= 0 {
		t.Fatalf("a third upload in flight: %v", err)
	}
	b1, err := uploads.Admit(ctx, bob)
	if err != nil {
		t.Fatalf("another resident beside the first's two: %v", err)
	}
	a1.Release()
	a1.Release() // a second release gives nothing back twice
	a3, err := uploads.Admit(ctx, alice)
	if err != nil {
		t.Fatalf("after a release: %v", err)
	}
	// The refusal cost no quota: three admitted of three a minute.
	a3.Release()
	if _, err := uploads.Admit(ctx, alice); !errors.As(err, &me) || me.Code != model.CodeRateLimited {
		t.Fatalf("a fourth in the minute: %v", err)
	}

	// The budget for bodies on their way: 4 MiB.
	for _, a := range []*photos.Admission{a2, b1} {
		if err := a.Buffer(2 * maxBytes); err != nil {
			t.Fatalf("within the budget: %v", err)
		}
	}
	if err := a2.Buffer(1); !errors.As(err, &me) || me.Code != model.CodeUnavailable || me.RetryAfterSeconds <= 0 {
		t.Fatalf("past the budget: %v", err)
	}
	a2.Release()
	if err := b1.Buffer(maxBytes); err != nil {
		t.Fatalf("a released body's bytes are given back: %v", err)
	}
	b1.Release()
}
