package storetest

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/model"
)

// runPrivacy holds the duty of care's resources to one behaviour on every
// engine: staff accounts and session versions, the access trail, the
// anonymisation of tickets (the statistics untouched), a resident's
// account deleted, the erasures still to do, redacted photos.
func runPrivacy(t *testing.T, open Open) {
	has := func(e Engine) bool { return e.Staff != nil && e.Trail != nil && e.Privacy != nil && e.Redaction != nil }
	runCases(t, open, has, []suiteCase{
		{"StaffRolesAndSessions", testStaffRolesAndSessions},
		{"TrailQueries", testTrailQueries},
		{"AnonymiseKeepsTheFigures", testAnonymiseKeepsTheFigures},
		{"AnonymiseConflicts", testAnonymiseConflicts},
		{"Expired", testExpired},
		{"DeleteResident", testDeleteResident},
		{"Erasures", testErasures},
		{"Redaction", testRedaction},
	})
}

func testStaffRolesAndSessions(t *testing.T, e Engine) {
	roles := []model.Role{model.RoleStaff, model.RoleLeader}
	u, err := e.Staff.Create(ctx, &model.User{Username: "leader1", Name: "王局长", Roles: roles}, []byte("h1"))
	expectOK(t, err, "create")
	if u.ID == "" || u.Kind != model.KindStaff || u.Name != "王局长" || !slices.Equal(u.Roles, roles) || u.Disabled || u.Sessions != 0 {
		t.Fatalf("created %+v", u)
	}
	_, err = e.Staff.Create(ctx, &model.User{Username: "leader1", Name: "又一个", Roles: roles}, []byte("h"))
	expectCode(t, err, model.CodeConflict, "a taken username")
	_, err = e.Staff.Create(ctx, &model.User{Username: "audit1", Name: "审计", Roles: []model.Role{model.RoleStaff, model.RoleAuditor}}, []byte("h"))
	expectOK(t, err, "create another")
	all, err := e.Staff.List(ctx)
	expectOK(t, err, "list")
	if len(all) != 2 || all[0].Username != "audit1" || all[1].Username != "leader1" {
		t.Fatalf("List = %+v, want both by username", all)
	}

	name := "王副局长"
	two := []model.Role{model.RoleStaff, model.RoleLeader, model.RoleDispatcher}
	u2, err := e.Staff.Update(ctx, u.ID, &name, two, nil)
	expectOK(t, err, "update")
	if u2.Name != name || !slices.Equal(u2.Roles, two) || u2.Sessions != 0 {
		t.Fatalf("updated %+v: a change of roles keeps the sessions", u2)
	}
	yes, no := true, false
	u3, err := e.Staff.Update(ctx, u.ID, nil, nil, &yes)
	expectOK(t, err, "disable")
	if !u3.Disabled || u3.Sessions != 1 || u3.Name != name {
		t.Fatalf("disabled %+v: disabling ends the sessions", u3)
	}
	u3, err = e.Staff.Update(ctx, u.ID, nil, nil, &yes)
	expectOK(t, err, "disable again")
	if u3.Sessions != 1 {
		t.Fatalf("disabling a disabled account raised its sessions to %d", u3.Sessions)
	}
	u3, err = e.Staff.Update(ctx, u.ID, nil, nil, &no)
	expectOK(t, err, "enable")
	got, hash, err := e.Users.StaffCredentials(ctx, "leader1")
	expectOK(t, err, "credentials")
	if got.Disabled || got.Sessions != 1 || !slices.Equal(got.Roles, two) || string(hash) != "h1" || got.Name != name {
		t.Fatalf("credentials %+v %q", got, hash)
	}
	_, err = e.Staff.Update(ctx, "000000000000000000000000", &name, nil, nil)
	expectCode(t, err, model.CodeNotFound, "update of no account")

	p, err := e.Staff.SetPassword(ctx, u.ID, []byte("h2"), nil)
	expectOK(t, err, "set password")
	if p.Sessions != 2 {
		t.Fatalf("a new password leaves sessions at %d, want 2", p.Sessions)
	}
	if seed, err := e.Staff.Seed(ctx, u.ID); err != nil || seed != nil {
		t.Fatalf("Seed before any = %q, %v", seed, err)
	}
	_, err = e.Staff.SetPassword(ctx, u.ID, []byte("h3"), []byte("s3"))
	expectOK(t, err, "set password with seed")
	_, err = e.Staff.SetPassword(ctx, u.ID, []byte("h4"), nil)
	expectOK(t, err, "set password keeping the seed")
	if seed, err := e.Staff.Seed(ctx, u.ID); err != nil || string(seed) != "s3" {
		t.Fatalf("Seed = %q, %v; want the one recorded", seed, err)
	}
	if _, hash, _ := e.Users.StaffCredentials(ctx, "leader1"); string(hash) != "h4" {
		t.Fatalf("hash %q, want h4", hash)
	}
	v, err := e.Staff.EndSessions(ctx, model.KindStaff, u.ID)
	expectOK(t, err, "end staff sessions")
	if s, _ := e.Users.GetStaff(ctx, u.ID); v != 5 || s.Sessions != 5 {
		t.Fatalf("EndSessions = %d, account %d; want 5", v, s.Sessions)
	}
	r, err := e.Users.UpsertWeChat(ctx, "openid-sessions")
	expectOK(t, err, "resident")
	if v, err := e.Staff.EndSessions(ctx, model.KindWeChat, r.ID); err != nil || v != 1 {
		t.Fatalf("EndSessions(resident) = %d, %v", v, err)
	}
	if got, _ := e.Users.Get(ctx, r.ID); got.Sessions != 1 {
		t.Fatalf("resident sessions %d after a sign-out", got.Sessions)
	}
	_, err = e.Staff.EndSessions(ctx, model.KindWeChat, "000000000000000000000000")
	expectCode(t, err, model.CodeNotFound, "end sessions of no one")
}

func testTrailQueries(t *testing.T, e Engine) {
	at := base
	type in struct {
		actor  string
		action model.AuditAction
		target string
	}
	var all []model.AuditEntry
	for i, x := range []in{
		{"s1", model.ActionIdentityReveal, "T1"}, {"s2", model.ActionIdentityReveal, "T1"}, {"s1", model.ActionExport, "工单"},
		{"", model.ActionLoginFailed, "admin"}, {"s1", model.ActionIdentityReveal, "T2"}, {"s3", model.ActionStaffChange, "s1"},
		{"s2", model.ActionExport, "工单"}, {"", model.ActionLoginLocked, "admin"}, {"s1", model.ActionIdentityReveal, "T1"},
	} {
		e1 := model.AuditEntry{At: at.Add(time.Duration(i) * time.Hour), ActorID: x.actor, ActorName: "名" + x.actor, Action: x.action,
			Target: x.target, Detail: fmt.Sprintf("第%d条", i), IP: "10.0.0.1"}
		expectOK(t, e.Trail.Append(ctx, &e1), "append %d", i)
		if e1.ID == "" {
			t.Fatalf("Append gave no id")
		}
		all = append(all, e1)
	}
	// newest first
	slices.Reverse(all)
	match := func(q model.AuditQuery) []string {
		var out []string
		for _, x := range all {
			if (q.ActorID == "" || x.ActorID == q.ActorID) && (q.Action == "" || x.Action == q.Action) && (q.Target == "" || x.Target == q.Target) &&
				(q.From.IsZero() || !x.At.Before(q.From)) && (q.To.IsZero() || x.At.Before(q.To)) {
				out = append(out, x.Detail)
			}
		}
		return out
	}
	for _, q := range []model.AuditQuery{
		{},
		{ActorID: "s1"},
		{Action: model.ActionIdentityReveal},
		{Target: "T1"},
		{ActorID: "s1", Action: model.ActionIdentityReveal},
		{ActorID: "s1", Action: model.ActionIdentityReveal, Target: "T1"},
		{Target: "admin", Action: model.ActionLoginLocked},
		{From: at.Add(2 * time.Hour), To: at.Add(6 * time.Hour)},
		{ActorID: "s1", From: at.Add(3 * time.Hour)},
		{Action: model.ActionExport, To: at.Add(5 * time.Hour)},
	} {
		// In pages of two, following the cursor.
		var got []string
		cursor := ""
		for range 10 {
			page, next, err := e.Trail.List(ctx, q, cursor, 2)
			expectOK(t, err, "list %+v", q)
			for _, x := range page {
				got = append(got, x.Detail)
			}
			if next == "" {
				break
			}
			cursor = next
		}
		if want := match(q); !slices.Equal(got, want) {
			t.Errorf("List(%+v) = %v, want %v", q, got, want)
		}
	}
	page, _, err := e.Trail.List(ctx, model.AuditQuery{Target: "T2"}, "", 10)
	expectOK(t, err, "list T2")
	if len(page) != 1 || page[0].ActorID != "s1" || page[0].ActorName != "名s1" || page[0].IP != "10.0.0.1" ||
		page[0].Action != model.ActionIdentityReveal || !page[0].At.Equal(base.Add(4*time.Hour)) {
		t.Fatalf("entry read back = %+v", page)
	}
	_, _, err = e.Trail.List(ctx, model.AuditQuery{}, "not a cursor", 10)
	expectCode(t, err, model.CodeInvalidArgument, "a bad cursor")

	n, err := e.Trail.Prune(ctx, at.Add(3*time.Hour), 100)
	expectOK(t, err, "prune")
	if n != 3 {
		t.Fatalf("Prune removed %d, want the 3 older entries", n)
	}
	left, _, _ := e.Trail.List(ctx, model.AuditQuery{}, "", 100)
	if len(left) != 6 || left[len(left)-1].Detail != "第3条" {
		t.Fatalf("after Prune: %+v", left)
	}
}

// anonymisable is a ticket of r1 followed by r2, closed by r1 with a
// comment, with personal data in its texts.
func anonymisable(t *testing.T, e Engine) *model.Ticket {
	t.Helper()
	tk := mustInsert(t, e.Tickets, report(base, func(tk *model.Ticket) {
		tk.Description = "张三丰家门口井盖丢失，电话13812345678"
		tk.Address = "幸福里3栋302室"
	}))
	tk = life(t, e.Tickets, tk, "g1", worker("w1"), 3)
	tk = step(t, e.Tickets, tk, func(tk *model.Ticket) error { return tk.Join(act(base.Add(30*time.Minute), model.Actor{}), "m1", "r2") })
	tk = step(t, e.Tickets, tk, resolve(base.Add(time.Hour), worker("w1")))
	return step(t, e.Tickets, tk, func(tk *model.Ticket) error {
		return tk.Confirm(act(base.Add(2*time.Hour), model.Actor{ID: "r1", Role: model.RoleResident}),
			model.Feedback{Satisfied: true, Rating: 4, Comment: "我是张三丰，谢谢"})
	})
}

func testAnonymiseKeepsTheFigures(t *testing.T, e Engine) {
	tk := anonymisable(t, e)
	other := life(t, e.Tickets, mustInsert(t, e.Tickets, report(base.Add(time.Minute))), "g1", worker("w1"), 3)
	want := expected(t, e.Tickets, []string{tk.ID, other.ID})
	checkStats(t, e.Stats, want, "before")

	out, err := e.Privacy.Anonymise(ctx, tk, func(t *model.Ticket) { t.EraseResident("r1") }, false)
	expectOK(t, err, "erase r1")
	if out.Version != tk.Version+1 || out.ReporterID != "" || out.Description != model.ErasedText {
		t.Fatalf("Anonymise returned %+v", out)
	}
	got, err := e.Tickets.Get(ctx, tk.ID)
	expectOK(t, err, "get")
	if got.Version != tk.Version+1 || got.ReporterID != "" || got.Description != model.ErasedText || got.Address != "" ||
		got.Feedback.Comment != "" || got.Feedback.Rating != 4 || !slices.Equal(got.Followers, []string{"r2"}) ||
		got.Status != model.StatusClosed || got.CaseNo != tk.CaseNo || !got.UpdatedAt.Equal(normal(tk).UpdatedAt) {
		t.Fatalf("after the erasure: %+v", got)
	}
	for _, ev := range got.Timeline {
		if ev.ActorID == "r1" {
			t.Fatalf("the timeline still names r1: %+v", ev)
		}
	}
	checkStats(t, e.Stats, want, "after the erasure")
	if mine, _, err := e.Tickets.ListByReporter(ctx, "r1", "", 10); err != nil || slices.Contains(ids(mine), tk.ID) {
		t.Fatalf("r1's reports still list the ticket: %v, %v", ids(mine), err)
	}
	page, err := e.Tickets.ListStaff(ctx, model.TicketQuery{Words: []string{"张三丰"}}, "", 10)
	expectOK(t, err, "search")
	if slices.Contains(ids(page.Items), tk.ID) {
		t.Fatalf("the search still finds the erased description")
	}
	// Whatever engine keeps of earlier states keeps no personal value:
	// History still answers.
	h, err := e.Tickets.History(ctx, tk.ID, got.Version)
	expectOK(t, err, "history")
	if len(h) == 0 {
		t.Fatalf("no history after the erasure")
	}

	// The retention period's anonymisation after it, and a second time.
	out2, err := e.Privacy.Anonymise(ctx, got, func(t *model.Ticket) { t.Anonymise() }, true)
	expectOK(t, err, "anonymise")
	if len(out2.Followers) != 0 || out2.Version != got.Version+1 {
		t.Fatalf("anonymised = %+v", out2)
	}
	again, err := e.Tickets.Get(ctx, tk.ID)
	expectOK(t, err, "get again")
	_, err = e.Privacy.Anonymise(ctx, again, func(t *model.Ticket) { t.Anonymise() }, true)
	expectOK(t, err, "anonymise twice")
	checkStats(t, e.Stats, want, "after the anonymisation")
	// A commit on the anonymised state still counts normally.
	cur, _ := e.Tickets.Get(ctx, other.ID)
	step(t, e.Tickets, cur, resolve(base.Add(3*time.Hour), worker("w1")))
	checkStats(t, e.Stats, expected(t, e.Tickets, []string{tk.ID, other.ID}), "after a later transition")
	if n, err := e.Stats.Rebuild(ctx); err != nil || n < 2 {
		t.Fatalf("Rebuild = %d, %v", n, err)
	}
	checkStats(t, e.Stats, expected(t, e.Tickets, []string{tk.ID, other.ID}), "after a rebuild")
}

func testAnonymiseConflicts(t *testing.T, e Engine) {
	fresh := mustInsert(t, e.Tickets, report(base))
	_, err := e.Privacy.Anonymise(ctx, fresh, func(t *model.Ticket) { t.EraseResident("r1") }, false)
	expectCode(t, err, model.CodeConflict, "a report not yet screened")
	if got, _ := e.Tickets.Get(ctx, fresh.ID); got.Version != 0 || got.ReporterID != "r1" {
		t.Fatalf("a refused anonymisation changed the ticket: %+v", got)
	}

	tk := anonymisable(t, e)
	_, err = e.Privacy.Anonymise(ctx, tk, func(t *model.Ticket) { t.Feedback.Rating = 1 }, false)
	expectCode(t, err, model.CodeInvalidArgument, "a rewrite of a counted fact")
	_, err = e.Privacy.Anonymise(ctx, tk, func(t *model.Ticket) { t.Status = model.StatusRejected }, false)
	expectCode(t, err, model.CodeInvalidArgument, "a rewrite of the status")

	// A transition decided on the state before the anonymisation conflicts,
	// and the reporter does not come back.
	open := life(t, e.Tickets, mustInsert(t, e.Tickets, report(base.Add(time.Minute))), "g1", worker("w1"), 3)
	_, err = e.Privacy.Anonymise(ctx, open, func(t *model.Ticket) { t.EraseResident("r1") }, false)
	expectOK(t, err, "erase an open ticket")
	stale := clone(open)
	if err := stale.Resolve(act(base.Add(time.Hour), worker("w1")), []string{"p2"}, nil); err != nil {
		t.Fatal(err)
	}
	expectCode(t, e.Tickets.Commit(ctx, open, stale), model.CodeConflict, "a commit decided before the erasure")
	cur, err := e.Tickets.Get(ctx, open.ID)
	expectOK(t, err, "get")
	if cur.ReporterID != "" || cur.Status != model.StatusInProgress {
		t.Fatalf("after the refused commit: %+v", cur)
	}
	// Decided again on the stored state, it goes through.
	step(t, e.Tickets, cur, resolve(base.Add(time.Hour), worker("w1")))
	// An anonymisation on a stale state conflicts too.
	_, err = e.Privacy.Anonymise(ctx, open, func(t *model.Ticket) { t.Anonymise() }, true)
	expectCode(t, err, model.CodeConflict, "an anonymisation of a stale state")
	_, err = e.Privacy.Anonymise(ctx, &model.Ticket{ID: "000000000000000000000000", Version: 3}, func(*model.Ticket) {}, false)
	if err == nil {
		t.Fatalf("anonymising no ticket succeeded")
	}
}

func testExpired(t *testing.T, e Engine) {
	var closed []*model.Ticket
	for i := range 3 {
		tk := mustInsert(t, e.Tickets, report(base.Add(time.Duration(i)*time.Minute)))
		closed = append(closed, life(t, e.Tickets, tk, "g1", worker("w1"), 5))
	}
	rejected := step(t, e.Tickets, mustInsert(t, e.Tickets, report(base.Add(10*time.Minute))), func(tk *model.Ticket) error {
		return tk.Reject(act(base.Add(11*time.Minute), model.Actor{ID: "s1", Role: model.RoleStaff, Name: "admin"}))
	})
	open := life(t, e.Tickets, mustInsert(t, e.Tickets, report(base.Add(20*time.Minute))), "g1", worker("w1"), 3)
	_ = open
	// updated_at is the commit's ticket time: the steps above ran at base+.
	cutoff := base.Add(30 * 24 * time.Hour)
	got, err := e.Privacy.Expired(ctx, cutoff, 10)
	expectOK(t, err, "expired")
	want := append(ids(closed), rejected.ID)
	slices.Sort(want)
	sorted := slices.Clone(got)
	slices.Sort(sorted)
	if !slices.Equal(sorted, want) {
		t.Fatalf("Expired = %v, want the final tickets %v", got, want)
	}
	if got, _ := e.Privacy.Expired(ctx, base, 10); len(got) != 0 {
		t.Fatalf("Expired before anything was final = %v", got)
	}
	if got, _ := e.Privacy.Expired(ctx, cutoff, 2); len(got) != 2 {
		t.Fatalf("Expired(limit 2) = %v", got)
	}
	// An erasure (not complete) leaves it listed; the anonymisation does
	// not.
	tk, _ := e.Tickets.Get(ctx, closed[0].ID)
	tk, err = e.Privacy.Anonymise(ctx, tk, func(t *model.Ticket) { t.EraseResident("r1") }, false)
	expectOK(t, err, "erase")
	if got, _ := e.Privacy.Expired(ctx, cutoff, 10); !slices.Contains(got, closed[0].ID) {
		t.Fatalf("an erasure took the ticket off the retention list: %v", got)
	}
	_, err = e.Privacy.Anonymise(ctx, tk, func(t *model.Ticket) { t.Anonymise() }, true)
	expectOK(t, err, "anonymise")
	if got, _ := e.Privacy.Expired(ctx, cutoff, 10); slices.Contains(got, closed[0].ID) || len(got) != 3 {
		t.Fatalf("Expired after an anonymisation = %v", got)
	}
}

func testDeleteResident(t *testing.T, e Engine) {
	u, err := e.Users.UpsertWeChat(ctx, "openid-of-a-leaver")
	expectOK(t, err, "login")
	expectOK(t, e.Subscriptions.Grant(ctx, u.ID, []string{"tmpl_a", "tmpl_b"}), "grant")
	neighbour, _ := e.Users.UpsertWeChat(ctx, "openid-of-a-neighbour")
	expectOK(t, e.Subscriptions.Grant(ctx, neighbour.ID, []string{"tmpl_a"}), "grant the neighbour")
	if _, err := e.Notifications.Begin(ctx, "k1", u.ID, "tmpl_a"); err != nil {
		t.Fatal(err)
	}

	expectOK(t, e.Privacy.DeleteResident(ctx, u.ID), "delete")
	_, err = e.Users.Get(ctx, u.ID)
	expectCode(t, err, model.CodeNotFound, "the deleted user")
	if n, err := e.Subscriptions.Remaining(ctx, u.ID, "tmpl_a"); err != nil || n != 0 {
		t.Fatalf("allowances left: %d, %v", n, err)
	}
	if n, _ := e.Subscriptions.Remaining(ctx, neighbour.ID, "tmpl_a"); n != 1 {
		t.Fatalf("the neighbour's allowance went too: %d", n)
	}
	if st, err := e.Notifications.Status(ctx, "k1"); err == nil && st != "" {
		t.Fatalf("the record of a message to the user stays: %q", st)
	}
	again, err := e.Users.UpsertWeChat(ctx, "openid-of-a-leaver")
	expectOK(t, err, "log in again")
	if again.ID == u.ID {
		t.Fatalf("a second login is the deleted account %s", u.ID)
	}
	expectCode(t, e.Privacy.DeleteResident(ctx, u.ID), model.CodeNotFound, "delete twice")

	// An Open311 submitter goes with DeleteSubmitter.
	expectOK(t, e.Submitters.Save(ctx, &model.Open311Submitter{TicketID: "t-o311", KeyID: "k", Email: "a@b.cn", Phone: "13812345678", CreatedAt: base}), "save submitter")
	expectOK(t, e.Privacy.DeleteSubmitter(ctx, "t-o311"), "delete submitter")
	_, err = e.Submitters.Get(ctx, "t-o311")
	expectCode(t, err, model.CodeNotFound, "the deleted submitter")
	expectOK(t, e.Privacy.DeleteSubmitter(ctx, "t-o311"), "delete a submitter twice")
}

func testErasures(t *testing.T, e Engine) {
	for i, x := range []model.Erasure{{TicketID: "t2", UserID: "u1", At: base.Add(time.Minute)}, {TicketID: "t1", UserID: "u1", At: base},
		{TicketID: "t1", UserID: "u1", At: base.Add(time.Hour)}, {TicketID: "t1", UserID: "u2", At: base.Add(2 * time.Minute)}} {
		expectOK(t, e.Privacy.QueueErasure(ctx, x), "queue %d", i)
	}
	got, err := e.Privacy.Erasures(ctx, 10)
	expectOK(t, err, "erasures")
	var keys []string
	for _, x := range got {
		keys = append(keys, x.TicketID+"/"+x.UserID)
	}
	if !slices.Equal(keys, []string{"t1/u1", "t2/u1", "t1/u2"}) {
		t.Fatalf("Erasures = %v, want each once, oldest first", keys)
	}
	expectOK(t, e.Privacy.ErasureDone(ctx, model.Erasure{TicketID: "t1", UserID: "u1"}), "done")
	expectOK(t, e.Privacy.ErasureDone(ctx, model.Erasure{TicketID: "t1", UserID: "u1"}), "done twice")
	if got, _ := e.Privacy.Erasures(ctx, 1); len(got) != 1 || got[0].TicketID != "t2" {
		t.Fatalf("Erasures(1) after one done = %+v", got)
	}
}

func testRedaction(t *testing.T, e Engine) {
	p, err := e.Photos.Create(ctx, model.Photo{OwnerID: "r1", ContentType: "image/png", Width: 40, Height: 30,
		TakenAt: &base, ExifLocation: &model.Point{Lat: 32, Lng: 118}}, photoFile([]byte("the original png")), photoFile([]byte("orig thumb")))
	expectOK(t, err, "create")
	other := mustPhoto(t, e, "r1")
	mustPhoto(t, e, "r2")

	owned, err := e.Redaction.Owned(ctx, "r1", 10)
	expectOK(t, err, "owned")
	slices.Sort(owned)
	want := []string{p.ID, other.ID}
	slices.Sort(want)
	if !slices.Equal(owned, want) {
		t.Fatalf("Owned = %v, want %v", owned, want)
	}

	blur := model.PhotoFile{Data: []byte("blurred jpeg"), ContentType: "image/jpeg", SHA256: "b1"}
	got, err := e.Redaction.Redact(ctx, p.ID, blur, photoFile([]byte("blurred thumb")), true)
	expectOK(t, err, "redact")
	if got.RedactedAt.IsZero() || !got.HasOriginal || got.ContentType != "image/jpeg" || got.SHA256 != "b1" || got.OriginalType != "image/png" {
		t.Fatalf("redacted = %+v", got)
	}
	for _, c := range []struct{ variant, want string }{
		{"full", "blurred jpeg"}, {"thumb", "blurred thumb"}, {model.VariantOriginal, "the original png"},
	} {
		b, _, err := readVariant(t, e, p.ID, c.variant)
		expectOK(t, err, "read %s", c.variant)
		if string(b) != c.want {
			t.Fatalf("%s = %q, want %q", c.variant, b, c.want)
		}
	}
	// A second redaction keeps the first original.
	_, err = e.Redaction.Redact(ctx, p.ID, model.PhotoFile{Data: []byte("blurred twice"), ContentType: "image/jpeg", SHA256: "b2"},
		photoFile([]byte("t2")), true)
	expectOK(t, err, "redact again")
	if b, _, _ := readVariant(t, e, p.ID, model.VariantOriginal); string(b) != "the original png" {
		t.Fatalf("original after a second redaction = %q", b)
	}
	expectOK(t, e.Redaction.DropOriginal(ctx, p.ID), "drop original")
	if b, _, _ := readVariant(t, e, p.ID, model.VariantOriginal); string(b) != "blurred twice" {
		t.Fatalf("original after it was dropped = %q, want the blurred rendition", b)
	}
	if g, _ := e.Photos.Get(ctx, p.ID); g.HasOriginal || g.RedactedAt.IsZero() {
		t.Fatalf("after DropOriginal: %+v", g)
	}
	// Redacted without keeping the original: it is gone at once.
	_, err = e.Redaction.Redact(ctx, other.ID, model.PhotoFile{Data: []byte("replaced"), ContentType: "image/jpeg", SHA256: "r"},
		photoFile([]byte("rt")), false)
	expectOK(t, err, "redact, replacing")
	if b, _, _ := readVariant(t, e, other.ID, model.VariantOriginal); !bytes.Equal(b, []byte("replaced")) {
		t.Fatalf("original of a replaced photo = %q", b)
	}

	expectOK(t, e.Redaction.Disown(ctx, p.ID), "disown")
	if g, _ := e.Photos.Get(ctx, p.ID); g.OwnerID != "" || g.TakenAt != nil || g.ExifLocation != nil {
		t.Fatalf("after Disown: %+v", g)
	}
	expectCode(t, e.Redaction.Disown(ctx, "000000000000000000000000"), model.CodeNotFound, "disown no photo")

	expectOK(t, e.Redaction.Remove(ctx, p.ID), "remove")
	_, err = e.Photos.Get(ctx, p.ID)
	expectCode(t, err, model.CodeNotFound, "get a removed photo")
	_, _, _, err = e.Photos.Open(ctx, p.ID, "full")
	expectCode(t, err, model.CodeNotFound, "open a removed photo")
	expectOK(t, e.Redaction.Remove(ctx, p.ID), "remove twice")
	if owned, _ := e.Redaction.Owned(ctx, "r1", 10); !slices.Equal(owned, []string{other.ID}) {
		t.Fatalf("Owned after removal and disowning = %v", owned)
	}
}
