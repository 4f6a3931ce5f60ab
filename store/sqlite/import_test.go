package sqlite

import (
	"errors"
	"io"
	"reflect"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/citizen-city/chengguantong/geo"
	"github.com/citizen-city/chengguantong/model"
)

// Every Import… keeps the ids, times and states it is given, and the
// store's contract reads them back as they were.
func TestImportKeepsWhatItIsGiven(t *testing.T) {
	db := openTestDB(t)
	ctx := t.Context()
	at := time.Date(2025, 3, 4, 5, 6, 7, 8_000_000, time.UTC)
	later := at.Add(90 * time.Minute)

	user := model.User{ID: "aaaaaaaaaaaaaaaaaaaaaaa1", Kind: model.KindWeChat, OpenID: "o-1",
		Roles: []model.Role{model.RoleResident, model.RoleGridWorker}, WorkerID: "w1", OnDuty: true, CreatedAt: at}
	if err := db.ImportUsers(ctx, []model.User{user}); err != nil {
		t.Fatal(err)
	}
	if got, err := db.Users().Get(ctx, user.ID); err != nil || !reflect.DeepEqual(*got, user) {
		t.Fatalf("user = %+v, %v; want %+v", got, err, user)
	}
	if err := db.ImportStaff(ctx, []StaffAccount{{User: model.User{ID: "s1", Username: "clerk", CreatedAt: at}, PasswordHash: []byte("$2a$hash")}}); err != nil {
		t.Fatal(err)
	}
	if u, hash, err := db.Users().StaffCredentials(ctx, "clerk"); err != nil || u.ID != "s1" || string(hash) != "$2a$hash" || !u.CreatedAt.Equal(at) {
		t.Fatalf("staff = %+v %q %v", u, hash, err)
	}

	if err := db.ImportBranches(ctx, []model.Branch{{ID: "b1", Name: "第一支部", CreatedAt: at}}); err != nil {
		t.Fatal(err)
	}
	worker := model.Worker{ID: "w1", Name: "李四", Phone: "13800000001", GridCodes: []string{"g1", "g2"}, UserID: user.ID, Active: true, CreatedAt: at}
	idle := model.Worker{ID: "w2", Name: "王五", Phone: "13800000002", GridCodes: []string{"g1"}, Active: false, CreatedAt: later}
	if err := db.ImportWorkers(ctx, []model.Worker{worker, idle}); err != nil {
		t.Fatal(err)
	}
	if got, err := db.People().GetWorker(ctx, "w1"); err != nil || !reflect.DeepEqual(*got, worker) {
		t.Fatalf("worker = %+v, %v; want %+v", got, err, worker)
	}
	// Indexed for routing and the directory.
	if users, err := db.People().WorkerUsers(ctx, "g2"); err != nil || !reflect.DeepEqual(users, []string{user.ID}) {
		t.Fatalf("WorkerUsers(g2) = %v, %v", users, err)
	}
	if ws, _, n, err := db.People().ListWorkers(ctx, model.PeopleFilter{Words: []string{"王"}}, "", 10); err != nil || n != 1 || ws[0].ID != "w2" {
		t.Fatalf("directory search = %v %d %v", ws, n, err)
	}
	member := model.PartyMember{ID: "m1", Name: "赵六", Phone: "13900000001", BranchID: "b1", Communities: []string{"龙江社区"}, Active: true, CreatedAt: at}
	if err := db.ImportPartyMembers(ctx, []model.PartyMember{member}); err != nil {
		t.Fatal(err)
	}
	if got, err := db.People().GetPartyMember(ctx, "m1"); err != nil || !reflect.DeepEqual(*got, member) {
		t.Fatalf("member = %+v, %v", got, err)
	}
	if _, counts, err := db.People().ListBranches(ctx); err != nil || counts["b1"] != 1 {
		t.Fatalf("branch members = %v, %v", counts, err)
	}
	if err := db.ImportPhoneClaims(ctx, []PhoneClaim{{Role: model.RoleGridWorker, Phone: "13800000001", ProfileID: "w1", At: at}}); err != nil {
		t.Fatal(err)
	}
	if holder, err := db.People().ClaimPhone(ctx, model.RoleGridWorker, "13800000001", "w9"); err != nil || holder != "w1" {
		t.Fatalf("a claimed phone's holder = %q, %v", holder, err)
	}

	used := InviteRecord{CodeHash: "h-used", Invite: model.Invite{Role: model.RoleGridWorker, ProfileID: "w1", ExpiresAt: later, UsedBy: user.ID, UsedAt: at}, CreatedAt: at}
	revoked := InviteRecord{CodeHash: "h-revoked", Invite: model.Invite{Role: model.RoleGridWorker, ProfileID: "w2", ExpiresAt: later.Add(1000 * time.Hour)}, Revoked: true, CreatedAt: at}
	if err := db.ImportInvites(ctx, []InviteRecord{used, revoked}); err != nil {
		t.Fatal(err)
	}
	if inv, err := db.Invites().Redeem(ctx, "h-used", user.ID); err != nil || !inv.UsedAt.Equal(at) {
		t.Fatalf("redeeming a used invite again = %+v, %v", inv, err)
	}
	if _, err := db.Invites().Redeem(ctx, "h-revoked", "someone"); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("redeeming a revoked invite = %v, want not_found", err)
	}

	cats := []model.Category{{Code: "0101", Name: "井盖", Major: "市政设施", SLAHours: 48, VolunteerSuitable: true, DuplicateRadiusM: 30}}
	if err := db.ImportCategories(ctx, cats, at); err != nil {
		t.Fatal(err)
	}
	if got, err := db.Categories().List(ctx); err != nil || !reflect.DeepEqual(got, cats) {
		t.Fatalf("categories = %+v, %v", got, err)
	}
	shape := orb.MultiPolygon{{{{118, 32}, {118.01, 32}, {118.01, 32.01}, {118, 32}}}}
	grid := geo.Grid{Code: "g1", Name: "一网格", Community: "龙江社区", Shape: shape}
	if err := db.ImportGrids(ctx, []GridRecord{{Grid: grid, UpdatedAt: at}}, "rev-1"); err != nil {
		t.Fatal(err)
	}
	if all, err := db.Grids().All(ctx); err != nil || len(all) != 1 || !reflect.DeepEqual(all[0], grid) {
		t.Fatalf("grids = %+v, %v", all, err)
	}
	if gs, err := db.Grids().List(ctx); err != nil || !gs[0].UpdatedAt.Equal(at) {
		t.Fatalf("grid list = %+v, %v", gs, err)
	}
	if rev, err := db.Grids().Revision(ctx); err != nil || rev != "rev-1" {
		t.Fatalf("revision = %q, %v", rev, err)
	}

	taken := at.Add(-time.Hour)
	photo := model.Photo{ID: "6b168757dd23ac1744905f97", OwnerID: user.ID, ContentType: "image/jpeg", Width: 640, Height: 480,
		Size: 4, SHA256: "sum-full", TakenAt: &taken, ExifLocation: &model.Point{Lat: 32.1, Lng: 118.2}, UsedBy: "t1",
		Moderation: model.Moderation{TraceID: "tr1", Suggest: "pass", CheckedAt: later}, CreatedAt: at}
	lost := model.Photo{ID: "6b168757dd23ac1744905f98", OwnerID: user.ID, ContentType: "image/jpeg", Size: 3, SHA256: "x", CreatedAt: at}
	err := db.ImportPhotos(ctx, []PhotoRecord{
		{Photo: photo, ThumbSize: 2, ThumbSHA256: "sum-thumb", SentAt: at, Full: []byte("full"), Thumb: []byte("th")},
		{Photo: lost, Thumb: []byte("t")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Sync(); err != nil {
		t.Fatal(err)
	}
	if got, err := db.Photos().Get(ctx, photo.ID); err != nil || !reflect.DeepEqual(*got, photo) {
		t.Fatalf("photo = %+v, %v; want %+v", got, err, photo)
	}
	for variant, want := range map[string]string{VariantFull: "full", VariantThumb: "th"} {
		r, n, sum, err := db.Photos().Open(ctx, photo.ID, variant)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r)
		r.Close()
		if string(b) != want || n != int64(len(want)) || sum != "sum-"+variant {
			t.Fatalf("%s = %q (%d, %s)", variant, b, n, sum)
		}
	}
	if _, _, _, err := db.Photos().Open(ctx, lost.ID, VariantFull); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("a photo imported without its file = %v, want not_found", err)
	}
	if err := db.ImportPhotos(ctx, []PhotoRecord{{Photo: model.Photo{ID: "../../etc"}}}); !errors.Is(err, model.ErrInvalidArgument) {
		t.Fatalf("a photo id that is no path = %v, want invalid_argument", err)
	}
	if err := db.ImportPhotoTraces(ctx, []PhotoTrace{{TraceID: "tr2", PhotoID: lost.ID, At: at}}); err != nil {
		t.Fatal(err)
	}
	if p, err := db.Photos().SetVerdict(ctx, "tr2", "risky"); err != nil || p.ID != lost.ID {
		t.Fatalf("verdict of an imported trace = %+v, %v", p, err)
	}
	if err := db.ImportMediaVerdicts(ctx, []MediaVerdict{{TraceID: "tr3", Suggest: "pass", At: at}}); err != nil {
		t.Fatal(err)
	}
	if s, ok, err := db.Photos().TakeEarlyVerdict(ctx, "tr3"); err != nil || !ok || s != "pass" {
		t.Fatalf("early verdict = %q %v %v", s, ok, err)
	}

	act := model.Activity{ID: "a1", Title: "清扫", Kind: model.ActivityKinds()[0], Community: "龙江社区", StartsAt: at, EndsAt: later, CreatedBy: "s1", CreatedAt: at}
	if err := db.ImportActivities(ctx, []model.Activity{act}); err != nil {
		t.Fatal(err)
	}
	if got, err := db.Activities().Get(ctx, "a1"); err != nil || !reflect.DeepEqual(*got, act) {
		t.Fatalf("activity = %+v, %v", got, err)
	}
	ci := model.Checkin{ActivityID: "a1", Kind: act.Kind, StartsAt: at, MemberID: "m1", UserID: user.ID, BranchID: "b1", At: later}
	if err := db.ImportCheckins(ctx, []model.Checkin{ci}); err != nil {
		t.Fatal(err)
	}
	if got, first, err := db.Activities().CheckIn(ctx, ci); err != nil || first || !reflect.DeepEqual(got, ci) {
		t.Fatalf("check-in again = %+v %v %v", got, first, err)
	}

	key := model.APIKey{ID: "k1", Name: "热线", Hash: "digest", CreatedBy: "s1", CreatedAt: at, RevokedAt: later}
	if err := db.ImportAPIKeys(ctx, []model.APIKey{key}); err != nil {
		t.Fatal(err)
	}
	if got, err := db.APIKeys().Get(ctx, "k1"); err != nil || !reflect.DeepEqual(*got, key) {
		t.Fatalf("api key = %+v, %v", got, err)
	}
	sub := model.Open311Submitter{TicketID: "t1", KeyID: "k1", KeyName: "热线", Email: "a@b.c", FirstName: "张", CreatedAt: at}
	if err := db.ImportSubmitters(ctx, []model.Open311Submitter{sub}); err != nil {
		t.Fatal(err)
	}
	if got, err := db.Submitters().Get(ctx, "t1"); err != nil || !reflect.DeepEqual(*got, sub) {
		t.Fatalf("submitter = %+v, %v", got, err)
	}
	if err := db.ImportAllowances(ctx, []Allowance{{UserID: user.ID, TemplateID: "tmpl", Remaining: 3, UpdatedAt: at}}); err != nil {
		t.Fatal(err)
	}
	if n, err := db.Subscriptions().Remaining(ctx, user.ID, "tmpl"); err != nil || n != 3 {
		t.Fatalf("allowances = %d, %v", n, err)
	}
	if err := db.ImportNotifications(ctx, []NotificationRecord{{Key: "n1", Status: "sent", UserID: user.ID, TemplateID: "tmpl", At: at, FinishedAt: later}}); err != nil {
		t.Fatal(err)
	}
	if st, err := db.Notifications().Status(ctx, "n1"); err != nil || st != "sent" {
		t.Fatalf("notification = %q, %v", st, err)
	}

	tk := &model.Ticket{ID: model.NewID(at), ReporterID: "r1", Category: "0101", Description: "井盖缺失", Point: model.Point{Lat: 32, Lng: 118.8}}
	if err := tk.Report(model.Act{At: at}); err != nil {
		t.Fatal(err)
	}
	if err := db.Tickets().Load(ctx, []*model.Ticket{tk}); err != nil {
		t.Fatal(err)
	}
	hist := []model.TicketVersion{{Version: 1, Events: 2, AssigneeID: "w:1;=", AssigneeRole: model.RoleGridWorker},
		{Version: 3, Events: 4, AssigneeID: "m1", AssigneeRole: model.RolePartyMember}}
	if err := db.SetTicketRecords(ctx, []TicketRecord{{TicketID: tk.ID, Idem: "idem-1", BodyHash: "body", History: hist}}); err != nil {
		t.Fatal(err)
	}
	if got, hash, err := db.Tickets().ByIdem(ctx, "idem-1"); err != nil || got.ID != tk.ID || hash != "body" {
		t.Fatalf("ByIdem = %+v %q %v", got, hash, err)
	}
	if got, err := db.Tickets().History(ctx, tk.ID, 3); err != nil || !reflect.DeepEqual(got, hist) {
		t.Fatalf("History = %+v, %v; want %+v", got, err, hist)
	}
	if err := db.SetTicketRecords(ctx, []TicketRecord{{TicketID: tk.ID}}); err != nil {
		t.Fatal(err)
	}
	if got, err := db.Tickets().History(ctx, tk.ID, 3); err != nil || len(got) != 0 {
		t.Fatalf("History after it was emptied = %+v, %v", got, err)
	}
	if _, _, err := db.Tickets().ByIdem(ctx, "idem-1"); err != nil {
		t.Fatalf("an empty Idem changed the ticket's: %v", err)
	}
	if err := db.SetTicketRecords(ctx, []TicketRecord{{TicketID: "nope", Idem: "idem-2"}}); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("the record of no ticket = %v, want not_found", err)
	}

	c, err := db.Count(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := Counted{Users: 1, Staff: 1, Invites: 2, InvitesUsed: 1, Branches: 1, Workers: 2, PartyMembers: 1, ProfileLinks: 1,
		PhoneClaims: 1, Categories: 1, Grids: 1, Photos: 2, PhotoFiles: 3, PhotoTraces: 1, MediaVerdicts: 0, Activities: 1,
		Checkins: 1, APIKeys: 1, Submitters: 1, Allowances: 1, Notifications: 1, Tickets: 1}
	if c != want {
		t.Fatalf("Count = %+v\nwant    %+v", c, want)
	}
}

// A batch with a key already stored stores nothing of itself.
func TestImportBatchIsAllOrNothing(t *testing.T) {
	db := openTestDB(t)
	ctx := t.Context()
	at := time.Date(2025, 3, 4, 0, 0, 0, 0, time.UTC)
	if err := db.ImportBranches(ctx, []model.Branch{{ID: "b1", Name: "一", CreatedAt: at}}); err != nil {
		t.Fatal(err)
	}
	err := db.ImportBranches(ctx, []model.Branch{{ID: "b2", Name: "二", CreatedAt: at}, {ID: "b1", Name: "一again", CreatedAt: at}})
	if !errors.Is(err, model.ErrConflict) {
		t.Fatalf("a batch with a taken id = %v, want conflict", err)
	}
	if _, err := db.People().GetBranch(ctx, "b2"); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("the batch's first branch = %v, want not_found (nothing stored)", err)
	}
	if ps, err := db.RollupPeriods(ctx); err != nil || len(ps) != 0 {
		t.Fatalf("periods of an empty store = %v, %v", ps, err)
	}
}
