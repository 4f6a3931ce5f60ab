package storetest

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/model"
)

// The variants every engine stores (service.VariantFull, VariantThumb).
const (
	variantFull  = "full"
	variantThumb = "thumb"
)

// runPhotos: photos, their files, claims, moderation and the sweeper.
func runPhotos(t *testing.T, open Open) {
	runCases(t, open, func(e Engine) bool { return e.Photos != nil }, []suiteCase{
		{"FilesReadBackWhole", testPhotoFilesReadBackWhole},
		{"RoundTrip", testPhotoRoundTrip},
		{"ClaimIsAllOrNothing", testPhotoClaimIsAllOrNothing},
		{"ClaimRace", testPhotoClaimRace},
		{"Moderation", testPhotoModeration},
		{"VerdictRacingTheTraceIsKept", testVerdictRacingTheTrace},
		{"EarlyVerdicts", testEarlyVerdicts},
		{"DeleteUnused", testDeleteUnusedPhotos},
		{"ClaimRacingTheSweeper", testClaimRacingTheSweeper},
	})
}

func photoFile(data []byte) model.PhotoFile {
	sum := sha256.Sum256(data)
	return model.PhotoFile{Data: data, ContentType: "image/jpeg", SHA256: hex.EncodeToString(sum[:])}
}

func mustPhoto(t *testing.T, e Engine, owner string) *model.Photo {
	t.Helper()
	full := fmt.Appendf(nil, "full bytes of a photo of %s", owner)
	p, err := e.Photos.Create(t.Context(), model.Photo{OwnerID: owner, ContentType: "image/jpeg", Width: 4, Height: 3},
		photoFile(full), photoFile([]byte("thumb")))
	expectOK(t, err, "create photo")
	return p
}

// readVariant reads a variant whole, checking the length Open gave.
func readVariant(t *testing.T, e Engine, id, variant string) ([]byte, string, error) {
	t.Helper()
	r, size, sum, err := e.Photos.Open(t.Context(), id, variant)
	if err != nil {
		return nil, "", err
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	expectOK(t, err, "read %s of %s", variant, id)
	if int64(len(b)) != size {
		t.Fatalf("%s of %s: read %d bytes, Open said %d", variant, id, len(b), size)
	}
	return b, sum, nil
}

func testPhotoFilesReadBackWhole(t *testing.T, e Engine) {
	for _, n := range []int{3*255*1024 + 17, 255 * 1024, 1000, 1, 0} {
		full := make([]byte, n)
		_, _ = rand.Read(full)
		thumb := []byte("thumb bytes")
		p, err := e.Photos.Create(t.Context(), model.Photo{OwnerID: "u1", ContentType: "image/jpeg"}, photoFile(full), photoFile(thumb))
		expectOK(t, err, "create a photo of %d bytes", n)
		for variant, want := range map[string][]byte{variantFull: full, variantThumb: thumb} {
			got, sum, err := readVariant(t, e, p.ID, variant)
			expectOK(t, err, "open %s of %d bytes", variant, n)
			if !bytes.Equal(got, want) || sum != photoFile(want).SHA256 {
				t.Fatalf("%d bytes, %s: read %d bytes with digest %s, want %d with %s", n, variant, len(got), sum, len(want), photoFile(want).SHA256)
			}
		}
	}
}

func testPhotoRoundTrip(t *testing.T, e Engine) {
	ctx := t.Context()
	taken := time.Date(2026, 5, 1, 9, 30, 15, 0, time.UTC)
	full, thumb := photoFile([]byte("the full image")), photoFile([]byte("small"))
	p, err := e.Photos.Create(ctx, model.Photo{OwnerID: "u1", ContentType: "image/png", Width: 1600, Height: 1200,
		TakenAt: &taken, ExifLocation: &model.Point{Lat: 32.0603, Lng: 118.7969}}, full, thumb)
	expectOK(t, err, "create")
	if p.ID == "" || p.Size != int64(len(full.Data)) || p.SHA256 != full.SHA256 || p.UsedBy != "" || p.CreatedAt.IsZero() {
		t.Fatalf("created = %+v", p)
	}
	got, err := e.Photos.Get(ctx, p.ID)
	expectOK(t, err, "get")
	if got.ID != p.ID || got.OwnerID != "u1" || got.ContentType != "image/png" || got.Width != 1600 || got.Height != 1200 ||
		got.Size != int64(len(full.Data)) || got.SHA256 != full.SHA256 || got.TakenAt == nil || !got.TakenAt.Equal(taken) ||
		got.ExifLocation == nil || *got.ExifLocation != (model.Point{Lat: 32.0603, Lng: 118.7969}) ||
		got.UsedBy != "" || got.Moderation != (model.Moderation{}) || !got.CreatedAt.Equal(p.CreatedAt) {
		t.Fatalf("Get = %+v, want %+v", got, p)
	}
	bare := mustPhoto(t, e, "u2")
	if b, err := e.Photos.Get(ctx, bare.ID); err != nil || b.TakenAt != nil || b.ExifLocation != nil {
		t.Fatalf("a photo without EXIF = %+v, %v", b, err)
	}
	many, err := e.Photos.Many(ctx, []string{bare.ID, "nope", p.ID})
	expectOK(t, err, "many")
	var ids []string
	for _, m := range many {
		ids = append(ids, m.ID)
	}
	slices.Sort(ids)
	want := []string{bare.ID, p.ID}
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Fatalf("Many = %v, want %v (the ones that exist)", ids, want)
	}
	if none, err := e.Photos.Many(ctx, []string{"nope"}); err != nil || len(none) != 0 {
		t.Fatalf("Many(unknown) = %v, %v", none, err)
	}
	b, sum, err := readVariant(t, e, p.ID, variantThumb)
	expectOK(t, err, "open thumb")
	if string(b) != "small" || sum != thumb.SHA256 {
		t.Fatalf("thumb = %q %s", b, sum)
	}
	_, err = e.Photos.Get(ctx, "nope")
	expectCode(t, err, model.CodeNotFound, "Get(unknown)")
	_, _, _, err = e.Photos.Open(ctx, "nope", variantFull)
	expectCode(t, err, model.CodeNotFound, "Open(unknown)")
	_, _, _, err = e.Photos.Open(ctx, p.ID, "raw")
	expectCode(t, err, model.CodeNotFound, "Open(unknown variant)")
	// A photo never redacted: its original is its full rendition.
	b, sum, err = readVariant(t, e, p.ID, model.VariantOriginal)
	expectOK(t, err, "open original")
	if sum != full.SHA256 || len(b) == 0 {
		t.Fatalf("original of an unredacted photo = %d bytes, %s; want the full rendition", len(b), sum)
	}
	_, _, _, err = e.Photos.Open(ctx, "../../etc/passwd", variantFull)
	expectCode(t, err, model.CodeNotFound, "Open(a path)")
}

func testPhotoClaimIsAllOrNothing(t *testing.T, e Engine) {
	ctx := t.Context()
	a, b, c := mustPhoto(t, e, "u1"), mustPhoto(t, e, "u1"), mustPhoto(t, e, "u1")
	theirs := mustPhoto(t, e, "u2")
	claim := func(owner string, ids []string, ticket string, want int) {
		t.Helper()
		n, err := e.Photos.Claim(ctx, owner, ids, ticket)
		expectOK(t, err, "claim %v for %s", ids, ticket)
		if n != want {
			t.Fatalf("Claim(%s, %v, %s) = %d, want %d", owner, ids, ticket, n, want)
		}
	}
	usedBy := func(p *model.Photo) string {
		t.Helper()
		got, err := e.Photos.Get(ctx, p.ID)
		expectOK(t, err, "get")
		return got.UsedBy
	}
	// Someone else's photo among them: none is claimed.
	claim("u1", []string{a.ID, theirs.ID}, "t1", 0)
	// An unknown photo among them: likewise.
	claim("u1", []string{a.ID, "nope"}, "t1", 0)
	if usedBy(a) != "" || usedBy(theirs) != "" {
		t.Fatal("a refused claim took a photo")
	}
	claim("u1", []string{a.ID, b.ID}, "t1", 2)
	claim("u1", []string{a.ID, b.ID}, "t1", 2) // a retry succeeds again
	if usedBy(a) != "t1" || usedBy(b) != "t1" {
		t.Fatalf("claimed photos used by %q, %q, want t1", usedBy(a), usedBy(b))
	}
	// Another ticket: not the used ones, and not the free one beside them.
	claim("u1", []string{b.ID}, "t2", 0)
	claim("u1", []string{c.ID, a.ID}, "t2", 0)
	if usedBy(c) != "" || usedBy(a) != "t1" {
		t.Fatalf("after refused claims: c used by %q, a by %q", usedBy(c), usedBy(a))
	}
	// A claim that adds to what the ticket has.
	claim("u1", []string{a.ID, c.ID}, "t1", 2)
	// A claim refused for one photo still says how many are the ticket's.
	claim("u1", []string{a.ID, theirs.ID}, "t1", 1)
	claim("u2", []string{theirs.ID}, "t3", 1)
	if n, err := e.Photos.Claim(ctx, "u1", nil, "t4"); err != nil || n != 0 {
		t.Fatalf("Claim(none) = %d, %v", n, err)
	}
}

func testPhotoClaimRace(t *testing.T, e Engine) {
	ctx := t.Context()
	for round := range 6 {
		shared := mustPhoto(t, e, "u1")
		own := []*model.Photo{mustPhoto(t, e, "u1"), mustPhoto(t, e, "u1")}
		var wg sync.WaitGroup
		ns := make([]int, 2)
		for i := range 2 {
			wg.Go(func() {
				n, err := e.Photos.Claim(ctx, "u1", []string{own[i].ID, shared.ID}, fmt.Sprintf("t%d-%d", round, i))
				if err != nil {
					t.Errorf("claim: %v", err)
				}
				ns[i] = n
			})
		}
		wg.Wait()
		if (ns[0] == 2) == (ns[1] == 2) {
			t.Fatalf("round %d: claims of one photo by two tickets got %v, want exactly one whole", round, ns)
		}
		loser := 0
		if ns[0] == 2 {
			loser = 1
		}
		if ns[loser] != 0 {
			t.Fatalf("round %d: the losing claim counted %d", round, ns[loser])
		}
		got, err := e.Photos.Get(ctx, own[loser].ID)
		expectOK(t, err, "get")
		if got.UsedBy != "" {
			t.Fatalf("round %d: the losing ticket holds %s", round, got.ID)
		}
	}
}

func testPhotoModeration(t *testing.T, e Engine) {
	ctx := t.Context()
	passed, risky, waiting, unsent := mustPhoto(t, e, "u"), mustPhoto(t, e, "u"), mustPhoto(t, e, "u"), mustPhoto(t, e, "u")
	for _, p := range []*model.Photo{passed, risky, waiting} {
		expectOK(t, e.Photos.SetTrace(ctx, p.ID, "trace-"+p.ID), "set trace")
	}
	got, err := e.Photos.Get(ctx, waiting.ID)
	expectOK(t, err, "get")
	if got.Moderation.TraceID != "trace-"+waiting.ID || got.Moderation.Suggest != "" || got.Moderation.Blocked() {
		t.Fatalf("sent for checking = %+v", got.Moderation)
	}
	v, err := e.Photos.SetVerdict(ctx, "trace-"+risky.ID, "risky")
	expectOK(t, err, "verdict")
	if v.ID != risky.ID || !v.Moderation.Blocked() || v.Moderation.TraceID != "trace-"+risky.ID || v.Moderation.CheckedAt.IsZero() {
		t.Fatalf("SetVerdict = %+v", v)
	}
	_, err = e.Photos.SetVerdict(ctx, "trace-"+passed.ID, "pass")
	expectOK(t, err, "verdict")
	_, err = e.Photos.SetVerdict(ctx, "unknown-trace", "risky")
	expectCode(t, err, model.CodeNotFound, "SetVerdict(unknown trace)")

	// Checks sent before the cutoff without a verdict time out.
	n, err := e.Photos.ExpireModeration(ctx, time.Now().Add(-time.Hour))
	expectOK(t, err, "expire (nothing that old)")
	if n != 0 {
		t.Fatalf("ExpireModeration(an hour ago) = %d, want 0", n)
	}
	n, err = e.Photos.ExpireModeration(ctx, time.Now().Add(time.Hour))
	expectOK(t, err, "expire")
	if n != 1 {
		t.Fatalf("ExpireModeration = %d, want 1 (the one waiting)", n)
	}
	want := map[string]string{passed.ID: "pass", risky.ID: "risky", waiting.ID: "timeout", unsent.ID: ""}
	for id, suggest := range want {
		got, err := e.Photos.Get(ctx, id)
		expectOK(t, err, "get")
		if got.Moderation.Suggest != suggest {
			t.Fatalf("photo %s: suggest %q, want %q", id, got.Moderation.Suggest, suggest)
		}
		if suggest == "timeout" && (got.Moderation.CheckedAt.IsZero() || got.Moderation.Blocked()) {
			t.Fatalf("timed out = %+v, want checked and not blocked", got.Moderation)
		}
	}
	if n, err := e.Photos.ExpireModeration(ctx, time.Now().Add(time.Hour)); err != nil || n != 0 {
		t.Fatalf("a second expiry = %d, %v; want 0", n, err)
	}
	// A verdict after the timeout still counts.
	v, err = e.Photos.SetVerdict(ctx, "trace-"+waiting.ID, "risky")
	expectOK(t, err, "late verdict")
	if !v.Moderation.Blocked() {
		t.Fatalf("late verdict = %+v", v.Moderation)
	}
}

// testVerdictRacingTheTrace: a verdict WeChat pushes while the screening
// worker is still recording the trace id on the photo is never lost: the
// photo ends blocked.
func testVerdictRacingTheTrace(t *testing.T, e Engine) {
	ctx := t.Context()
	const n = 24
	ids := make([]string, n)
	for i := range ids {
		ids[i] = mustPhoto(t, e, "u").ID
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i, id := range ids {
		trace := fmt.Sprintf("trace-%d-%s", i, id)
		wg.Go(func() {
			if err := e.Photos.SetTrace(ctx, id, trace); err != nil {
				errs <- err
			}
		})
		wg.Go(func() {
			// As a push that comes as soon as the trace exists.
			for {
				_, err := e.Photos.SetVerdict(ctx, trace, "risky")
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
		p, err := e.Photos.Get(ctx, id)
		expectOK(t, err, "get")
		if !p.Moderation.Blocked() || p.Moderation.TraceID == "" {
			t.Errorf("photo %s: moderation %+v, want risky with its trace", id, p.Moderation)
		}
	}
}

func testEarlyVerdicts(t *testing.T, e Engine) {
	ctx := t.Context()
	if s, ok, err := e.Photos.TakeEarlyVerdict(ctx, "none"); err != nil || ok || s != "" {
		t.Fatalf("TakeEarlyVerdict(none) = %q %v %v", s, ok, err)
	}
	expectOK(t, e.Photos.SaveEarlyVerdict(ctx, "tr1", "review"), "save")
	expectOK(t, e.Photos.SaveEarlyVerdict(ctx, "tr1", "risky"), "save again") // the last word counts
	if s, ok, err := e.Photos.TakeEarlyVerdict(ctx, "tr1"); err != nil || !ok || s != "risky" {
		t.Fatalf("TakeEarlyVerdict = %q %v %v, want risky", s, ok, err)
	}
	if _, ok, err := e.Photos.TakeEarlyVerdict(ctx, "tr1"); err != nil || ok {
		t.Fatalf("a second take = %v %v, want none", ok, err)
	}
	// Parked verdicts no photo took by the moderation cutoff go.
	expectOK(t, e.Photos.SaveEarlyVerdict(ctx, "tr2", "pass"), "save")
	_, err := e.Photos.ExpireModeration(ctx, time.Now().Add(-time.Hour))
	expectOK(t, err, "expire")
	if s, ok, err := e.Photos.TakeEarlyVerdict(ctx, "tr2"); err != nil || !ok || s != "pass" {
		t.Fatalf("a recent parked verdict after an expiry = %q %v %v, want kept", s, ok, err)
	}
	expectOK(t, e.Photos.SaveEarlyVerdict(ctx, "tr3", "pass"), "save")
	_, err = e.Photos.ExpireModeration(ctx, time.Now().Add(time.Hour))
	expectOK(t, err, "expire")
	if _, ok, err := e.Photos.TakeEarlyVerdict(ctx, "tr3"); err != nil || ok {
		t.Fatalf("a parked verdict older than the cutoff = %v %v, want gone", ok, err)
	}
	// Concurrent takes: one gets it.
	expectOK(t, e.Photos.SaveEarlyVerdict(ctx, "tr4", "risky"), "save")
	var wg sync.WaitGroup
	got := make([]bool, 6)
	for i := range got {
		wg.Go(func() {
			_, ok, err := e.Photos.TakeEarlyVerdict(ctx, "tr4")
			if err != nil {
				t.Errorf("take: %v", err)
			}
			got[i] = ok
		})
	}
	wg.Wait()
	if n := len(slices.DeleteFunc(got, func(b bool) bool { return !b })); n != 1 {
		t.Fatalf("%d concurrent takes got the verdict, want 1", n)
	}
}

func testDeleteUnusedPhotos(t *testing.T, e Engine) {
	ctx := t.Context()
	unused, used, checked := mustPhoto(t, e, "u1"), mustPhoto(t, e, "u1"), mustPhoto(t, e, "u1")
	_, err := e.Photos.Claim(ctx, "u1", []string{used.ID}, "t1")
	expectOK(t, err, "claim")
	expectOK(t, e.Photos.SetTrace(ctx, checked.ID, "tr-checked"), "trace")
	if n, err := e.Photos.DeleteUnused(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("DeleteUnused(an hour ago) = %d, %v; want 0 (all are newer)", n, err)
	}
	n, err := e.Photos.DeleteUnused(ctx, time.Now().Add(time.Hour))
	expectOK(t, err, "delete unused")
	if n != 2 {
		t.Fatalf("DeleteUnused = %d, want 2", n)
	}
	for _, p := range []*model.Photo{unused, checked} {
		_, err := e.Photos.Get(ctx, p.ID)
		expectCode(t, err, model.CodeNotFound, "Get(deleted)")
		for _, v := range []string{variantFull, variantThumb} {
			_, _, _, err := e.Photos.Open(ctx, p.ID, v)
			expectCode(t, err, model.CodeNotFound, "Open(deleted, %s)", v)
		}
		if n, err := e.Photos.Claim(ctx, "u1", []string{p.ID}, "t2"); err != nil || n != 0 {
			t.Fatalf("claiming a deleted photo = %d, %v", n, err)
		}
	}
	_, err = e.Photos.SetVerdict(ctx, "tr-checked", "risky")
	expectCode(t, err, model.CodeNotFound, "a verdict for a deleted photo")
	if many, err := e.Photos.Many(ctx, []string{unused.ID, used.ID}); err != nil || len(many) != 1 || many[0].ID != used.ID {
		t.Fatalf("Many after the sweep = %v, %v", many, err)
	}
	if b, _, err := readVariant(t, e, used.ID, variantFull); err != nil || len(b) == 0 {
		t.Fatalf("the used photo after the sweep: %d bytes, %v", len(b), err)
	}
	if n, err := e.Photos.DeleteUnused(ctx, time.Now().Add(time.Hour)); err != nil || n != 0 {
		t.Fatalf("a second sweep = %d, %v; want 0", n, err)
	}
}

// testClaimRacingTheSweeper: of a report claiming an old unused photo and
// the sweeper deleting it, exactly one wins, and whatever is claimed is
// whole.
func testClaimRacingTheSweeper(t *testing.T, e Engine) {
	ctx := t.Context()
	const n = 12
	photos := make([]*model.Photo, n)
	for i := range photos {
		photos[i] = mustPhoto(t, e, "u1")
	}
	claimed := make([]bool, n)
	var wg sync.WaitGroup
	for i, p := range photos {
		wg.Go(func() {
			got, err := e.Photos.Claim(ctx, "u1", []string{p.ID}, fmt.Sprint("t", i))
			if err != nil {
				t.Errorf("claim: %v", err)
			}
			claimed[i] = got == 1
		})
	}
	wg.Go(func() {
		if _, err := e.Photos.DeleteUnused(ctx, time.Now().Add(time.Hour)); err != nil {
			t.Errorf("sweep: %v", err)
		}
	})
	wg.Wait()
	for i, p := range photos {
		got, err := e.Photos.Get(ctx, p.ID)
		if claimed[i] {
			expectOK(t, err, "get a claimed photo")
			if got.UsedBy != fmt.Sprint("t", i) {
				t.Fatalf("claimed photo %s used by %q", p.ID, got.UsedBy)
			}
			if _, _, err := readVariant(t, e, p.ID, variantFull); err != nil {
				t.Fatalf("a claimed photo's file after the sweep: %v", err)
			}
			continue
		}
		expectCode(t, err, model.CodeNotFound, "an unclaimed photo after the sweep")
	}
}
