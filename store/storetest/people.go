package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/model"
)

// runPeople: the people directory (grid workers, party branches and
// members), profile links and phone claims.
func runPeople(t *testing.T, open Open) {
	runCases(t, open, func(e Engine) bool { return e.People != nil }, []suiteCase{
		{"WorkerRoundTrip", testWorkerRoundTrip},
		{"UpdateKeepsTheBoundUser", testUpdateKeepsTheBoundUser},
		{"LinkUserRefusesASecondUser", testLinkUser},
		{"WorkerUsers", testWorkerUsers},
		{"WorkerDirectory", testWorkerDirectory},
		{"PartyMemberDirectoryAndBranches", testPartyMemberDirectory},
		{"PhoneClaims", testPhoneClaims},
		{"PhoneClaimRace", testPhoneClaimRace},
	})
}

func mustWorker(t *testing.T, e Engine, id, name, phone string, grids ...string) *model.Worker {
	t.Helper()
	w, err := e.People.CreateWorker(t.Context(), model.Worker{ID: id, Name: name, Phone: phone, GridCodes: grids})
	expectOK(t, err, "create worker %s", name)
	return w
}

func mustMember(t *testing.T, e Engine, id, name, phone, branch string, communities ...string) *model.PartyMember {
	t.Helper()
	m, err := e.People.CreatePartyMember(t.Context(), model.PartyMember{ID: id, Name: name, Phone: phone, BranchID: branch, Communities: communities})
	expectOK(t, err, "create party member %s", name)
	return m
}

func testWorkerRoundTrip(t *testing.T, e Engine) {
	ctx := t.Context()
	w := mustWorker(t, e, sortableID('a', 1), "张三", "13800138000", "g2", "g1")
	if w.ID != sortableID('a', 1) || !w.Active || w.UserID != "" || w.CreatedAt.IsZero() {
		t.Fatalf("created = %+v", w)
	}
	got, err := e.People.GetWorker(ctx, w.ID)
	expectOK(t, err, "get worker")
	if got.ID != w.ID || got.Name != "张三" || got.Phone != "13800138000" || !slices.Equal(got.GridCodes, []string{"g2", "g1"}) ||
		!got.Active || got.UserID != "" || !got.CreatedAt.Equal(w.CreatedAt) {
		t.Fatalf("GetWorker = %+v, want %+v", got, w)
	}
	_, err = e.People.CreateWorker(ctx, model.Worker{ID: w.ID, Name: "重复", Phone: "13800138001", GridCodes: []string{"g1"}})
	expectCode(t, err, model.CodeConflict, "a second worker with one id")
	fresh, err := e.People.CreateWorker(ctx, model.Worker{Name: "李四", Phone: "13800138002", GridCodes: []string{"g1"}})
	expectOK(t, err, "create without an id")
	if fresh.ID == "" || fresh.ID == w.ID {
		t.Fatalf("a worker without an id got %q", fresh.ID)
	}
	_, err = e.People.GetWorker(ctx, "nope")
	expectCode(t, err, model.CodeNotFound, "GetWorker(unknown)")

	b, err := e.People.CreateBranch(ctx, model.Branch{Name: "第一党支部"})
	expectOK(t, err, "create branch")
	m := mustMember(t, e, "", "党员甲", "13700000001", b.ID, "幸福里社区", "和平社区")
	gm, err := e.People.GetPartyMember(ctx, m.ID)
	expectOK(t, err, "get member")
	if gm.Name != "党员甲" || gm.Phone != "13700000001" || gm.BranchID != b.ID || !slices.Equal(gm.Communities, []string{"幸福里社区", "和平社区"}) ||
		!gm.Active || gm.UserID != "" || gm.CreatedAt.IsZero() {
		t.Fatalf("GetPartyMember = %+v", gm)
	}
	_, err = e.People.GetPartyMember(ctx, w.ID)
	expectCode(t, err, model.CodeNotFound, "a worker's id as a party member")
	gb, err := e.People.GetBranch(ctx, b.ID)
	expectOK(t, err, "get branch")
	if gb.Name != "第一党支部" || gb.CreatedAt.IsZero() {
		t.Fatalf("GetBranch = %+v", gb)
	}
	_, err = e.People.GetBranch(ctx, "nope")
	expectCode(t, err, model.CodeNotFound, "GetBranch(unknown)")
}

func testUpdateKeepsTheBoundUser(t *testing.T, e Engine) {
	ctx := t.Context()
	w := mustWorker(t, e, "", "王一", "13900001001", "g1")
	expectOK(t, e.People.LinkUser(ctx, model.RoleGridWorker, w.ID, "u1"), "link")
	// An update read before the bind must not undo it.
	stale := *w
	stale.Name, stale.Phone, stale.GridCodes, stale.Active = "王一新", "13900001009", []string{"g2", "g3"}, false
	expectOK(t, e.People.UpdateWorker(ctx, &stale), "update worker")
	if stale.UserID != "u1" {
		t.Fatalf("UpdateWorker set UserID %q, want the bound u1", stale.UserID)
	}
	got, err := e.People.GetWorker(ctx, w.ID)
	expectOK(t, err, "get")
	if got.Name != "王一新" || got.Phone != "13900001009" || !slices.Equal(got.GridCodes, []string{"g2", "g3"}) || got.Active || got.UserID != "u1" ||
		!got.CreatedAt.Equal(w.CreatedAt) {
		t.Fatalf("updated worker = %+v", got)
	}
	err = e.People.UpdateWorker(ctx, &model.Worker{ID: "nope", Name: "x", Phone: "1", GridCodes: []string{"g1"}})
	expectCode(t, err, model.CodeNotFound, "UpdateWorker(unknown)")

	b1, err := e.People.CreateBranch(ctx, model.Branch{Name: "一支部"})
	expectOK(t, err, "branch")
	b2, err := e.People.CreateBranch(ctx, model.Branch{Name: "二支部"})
	expectOK(t, err, "branch")
	m := mustMember(t, e, "", "党员甲", "13700000001", b1.ID, "幸福里社区")
	expectOK(t, e.People.LinkUser(ctx, model.RolePartyMember, m.ID, "u2"), "link member")
	sm := *m
	sm.BranchID, sm.Communities, sm.Active = b2.ID, []string{"和平社区"}, false
	expectOK(t, e.People.UpdatePartyMember(ctx, &sm), "update member")
	if sm.UserID != "u2" {
		t.Fatalf("UpdatePartyMember set UserID %q, want u2", sm.UserID)
	}
	gm, err := e.People.GetPartyMember(ctx, m.ID)
	expectOK(t, err, "get member")
	if gm.BranchID != b2.ID || !slices.Equal(gm.Communities, []string{"和平社区"}) || gm.Active || gm.UserID != "u2" {
		t.Fatalf("updated member = %+v", gm)
	}
	err = e.People.UpdatePartyMember(ctx, &model.PartyMember{ID: "nope", Name: "x", BranchID: b1.ID})
	expectCode(t, err, model.CodeNotFound, "UpdatePartyMember(unknown)")
}

func testLinkUser(t *testing.T, e Engine) {
	ctx := t.Context()
	w := mustWorker(t, e, "", "张三", "13800138000", "g1")
	expectOK(t, e.People.LinkUser(ctx, model.RoleGridWorker, w.ID, "u1"), "link")
	expectOK(t, e.People.LinkUser(ctx, model.RoleGridWorker, w.ID, "u1"), "relink by the same user")
	err := e.People.LinkUser(ctx, model.RoleGridWorker, w.ID, "u2")
	expectCode(t, err, model.CodeConflict, "link by another user")
	got, err := e.People.GetWorker(ctx, w.ID)
	expectOK(t, err, "get")
	if got.UserID != "u1" {
		t.Fatalf("linked worker's user = %q, want u1", got.UserID)
	}

	b, err := e.People.CreateBranch(ctx, model.Branch{Name: "支部"})
	expectOK(t, err, "branch")
	m := mustMember(t, e, "", "党员", "13700000001", b.ID, "幸福里社区")
	// Concurrent binds of one profile: one user gets it.
	const n = 6
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = e.People.LinkUser(ctx, model.RolePartyMember, m.ID, fmt.Sprintf("m-u%d", i)) })
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		if err == nil {
			if winner >= 0 {
				t.Fatalf("LinkUser results %v: two users hold one profile", errs)
			}
			winner = i
			continue
		}
		expectCode(t, err, model.CodeConflict, "losing link %d", i)
	}
	gm, err := e.People.GetPartyMember(ctx, m.ID)
	expectOK(t, err, "get member")
	if winner < 0 || gm.UserID != fmt.Sprintf("m-u%d", winner) {
		t.Fatalf("member's user = %q, links %v", gm.UserID, errs)
	}
}

func testWorkerUsers(t *testing.T, e Engine) {
	ctx := t.Context()
	w0 := mustWorker(t, e, sortableID('b', 0), "甲", "13900000000", "g1")
	w1 := mustWorker(t, e, sortableID('b', 1), "乙", "13900000001", "g1", "g2")
	mustWorker(t, e, sortableID('b', 2), "丙", "13900000002", "g1") // not bound
	w3 := mustWorker(t, e, sortableID('b', 3), "丁", "13900000003", "g2")
	w4 := mustWorker(t, e, sortableID('b', 4), "戊", "13900000004", "g1")
	for _, w := range []*model.Worker{w0, w1, w3, w4} {
		expectOK(t, e.People.LinkUser(ctx, model.RoleGridWorker, w.ID, "u-"+w.Name), "link %s", w.Name)
	}
	off := *w4
	off.Active = false
	expectOK(t, e.People.UpdateWorker(ctx, &off), "deactivate")
	users := func(grid string) []string {
		t.Helper()
		got, err := e.People.WorkerUsers(ctx, grid)
		expectOK(t, err, "WorkerUsers(%s)", grid)
		slices.Sort(got)
		return got
	}
	if got, want := users("g1"), []string{"u-乙", "u-甲"}; !slices.Equal(got, want) {
		t.Fatalf("WorkerUsers(g1) = %v, want %v (active and bound)", got, want)
	}
	if got, want := users("g2"), []string{"u-丁", "u-乙"}; !slices.Equal(got, want) {
		t.Fatalf("WorkerUsers(g2) = %v, want %v", got, want)
	}
	if got := users("g9"); len(got) != 0 {
		t.Fatalf("WorkerUsers(g9) = %v, want none", got)
	}
	// Moving a worker off a grid takes them out of its routing.
	moved := *w1
	moved.GridCodes = []string{"g2"}
	expectOK(t, e.People.UpdateWorker(ctx, &moved), "move")
	if got, want := users("g1"), []string{"u-甲"}; !slices.Equal(got, want) {
		t.Fatalf("WorkerUsers(g1) after a move = %v, want %v", got, want)
	}
	if got, want := users("g2"), []string{"u-丁", "u-乙"}; !slices.Equal(got, want) {
		t.Fatalf("WorkerUsers(g2) after a move = %v, want %v", got, want)
	}
	// Reactivated, back in.
	off.Active = true
	expectOK(t, e.People.UpdateWorker(ctx, &off), "reactivate")
	if got, want := users("g1"), []string{"u-戊", "u-甲"}; !slices.Equal(got, want) {
		t.Fatalf("WorkerUsers(g1) after reactivation = %v, want %v", got, want)
	}
}

// dirPage is one directory page's ids, next cursor and total.
type dirPage struct {
	ids   []string
	next  string
	total int64
}

func testWorkerDirectory(t *testing.T, e Engine) {
	ctx := t.Context()
	id := func(n int) string { return sortableID('c', n) }
	mustWorker(t, e, id(0), "王一", "13900001001", "g1")
	mustWorker(t, e, id(1), "李二", "13900001002", "g1", "g2")
	mustWorker(t, e, id(2), "赵三", "13900001003", "g2")
	mustWorker(t, e, id(3), "Tom Lee", "13700002004", "g3")
	w4 := mustWorker(t, e, id(4), "王小二", "13900001005", "g1")
	w4.Active = false
	expectOK(t, e.People.UpdateWorker(ctx, w4), "deactivate")

	list := func(f model.PeopleFilter, cursor string, limit int) dirPage {
		t.Helper()
		ws, next, total, err := e.People.ListWorkers(ctx, f, cursor, limit)
		expectOK(t, err, "ListWorkers(%+v, %q, %d)", f, cursor, limit)
		p := dirPage{next: next, total: total}
		for _, w := range ws {
			p.ids = append(p.ids, w.ID)
		}
		return p
	}
	yes, no := true, false
	ids := func(ns ...int) []string {
		var out []string
		for _, n := range ns {
			out = append(out, id(n))
		}
		return out
	}
	for _, c := range []struct {
		name string
		f    model.PeopleFilter
		want []string
	}{
		{"all", model.PeopleFilter{}, ids(0, 1, 2, 3, 4)},
		{"grid", model.PeopleFilter{Grid: "g1"}, ids(0, 1, 4)},
		{"grid, active", model.PeopleFilter{Grid: "g1", Active: &yes}, ids(0, 1)},
		{"grid, words", model.PeopleFilter{Grid: "g2", Words: []string{"三"}}, ids(2)},
		{"active", model.PeopleFilter{Active: &yes}, ids(0, 1, 2, 3)},
		{"inactive", model.PeopleFilter{Active: &no}, ids(4)},
		{"a character of a name", model.PeopleFilter{Words: []string{"王"}}, ids(0, 4)},
		{"two words, name and phone", model.PeopleFilter{Words: []string{"王", "1001"}}, ids(0)},
		{"a name's last character", model.PeopleFilter{Words: []string{"二"}}, ids(1, 4)},
		{"a whole name", model.PeopleFilter{Words: []string{"王小二"}}, ids(4)},
		{"latin, any case", model.PeopleFilter{Words: []string{"tOM"}}, ids(3)},
		{"latin, upper case", model.PeopleFilter{Words: []string{"LEE"}}, ids(3)},
		{"part of a phone", model.PeopleFilter{Words: []string{"1002"}}, ids(1)},
		{"a phone's middle", model.PeopleFilter{Words: []string{"3900001"}}, ids(0, 1, 2, 4)},
		{"words, inactive", model.PeopleFilter{Words: []string{"3900001"}, Active: &no}, ids(4)},
		{"no such phone", model.PeopleFilter{Words: []string{"9999"}}, nil},
		{"no such name", model.PeopleFilter{Words: []string{"王", "赵"}}, nil},
		{"a pattern character is literal", model.PeopleFilter{Words: []string{"."}}, nil},
		{"a percent sign is literal", model.PeopleFilter{Words: []string{"%"}}, nil},
		{"no such grid", model.PeopleFilter{Grid: "g9"}, nil},
	} {
		p := list(c.f, "", 50)
		if !slices.Equal(p.ids, c.want) || p.next != "" || p.total != int64(len(c.want)) {
			t.Fatalf("%s: got %v (next %q, total %d), want %v", c.name, p.ids, p.next, p.total, c.want)
		}
	}

	// Paging: every match once, in creation order; total counts them all.
	for _, f := range []model.PeopleFilter{{}, {Grid: "g1"}, {Active: &yes}, {Words: []string{"1390000"}}} {
		all := list(f, "", 50)
		var got []string
		cursor := ""
		for range 10 {
			p := list(f, cursor, 2)
			if p.total != all.total {
				t.Fatalf("%+v: page total %d, want %d", f, p.total, all.total)
			}
			got = append(got, p.ids...)
			if p.next == "" {
				break
			}
			if p.next != p.ids[len(p.ids)-1] {
				t.Fatalf("%+v: next cursor %q is not the page's last id %v", f, p.next, p.ids)
			}
			cursor = p.next
		}
		if !slices.Equal(got, all.ids) {
			t.Fatalf("%+v: pages of 2 gave %v, want %v", f, got, all.ids)
		}
	}
	if p := list(model.PeopleFilter{}, id(4), 2); len(p.ids) != 0 || p.next != "" || p.total != 5 {
		t.Fatalf("after the last row: %+v", p)
	}
	_, _, _, err := e.People.ListWorkers(ctx, model.PeopleFilter{}, "forged", 2)
	expectCode(t, err, model.CodeInvalidArgument, "a forged cursor")
}

func testPartyMemberDirectory(t *testing.T, e Engine) {
	ctx := t.Context()
	b1, err := e.People.CreateBranch(ctx, model.Branch{Name: "第一党支部"})
	expectOK(t, err, "branch")
	// Branches list in creation order, and the store gives their ids: a
	// later millisecond makes the order certain.
	time.Sleep(2 * time.Millisecond)
	b2, err := e.People.CreateBranch(ctx, model.Branch{Name: "第二党支部"})
	expectOK(t, err, "branch")
	id := func(n int) string { return sortableID('d', n) }
	m0 := mustMember(t, e, id(0), "党员甲", "13700000001", b1.ID, "幸福里社区")
	m1 := mustMember(t, e, id(1), "党员乙", "13700000002", b1.ID, "幸福里社区", "和平社区")
	mustMember(t, e, id(2), "党员丙", "13700000003", b2.ID, "和平社区")

	list := func(f model.PeopleFilter) dirPage {
		t.Helper()
		ms, next, total, err := e.People.ListPartyMembers(ctx, f, "", 50)
		expectOK(t, err, "ListPartyMembers(%+v)", f)
		p := dirPage{next: next, total: total}
		for _, m := range ms {
			p.ids = append(p.ids, m.ID)
		}
		return p
	}
	counts := func() ([]string, map[string]int) {
		t.Helper()
		bs, n, err := e.People.ListBranches(ctx)
		expectOK(t, err, "ListBranches")
		var names []string
		for _, b := range bs {
			names = append(names, b.ID+" "+b.Name)
		}
		return names, n
	}
	yes, no := true, false
	check := func(when string, cases []struct {
		f    model.PeopleFilter
		want []string
	}) {
		t.Helper()
		for _, c := range cases {
			if p := list(c.f); !slices.Equal(p.ids, c.want) || p.total != int64(len(c.want)) {
				t.Fatalf("%s, %+v: got %v (total %d), want %v", when, c.f, p.ids, p.total, c.want)
			}
		}
	}
	type q = struct {
		f    model.PeopleFilter
		want []string
	}
	check("at first", []q{
		{model.PeopleFilter{}, []string{id(0), id(1), id(2)}},
		{model.PeopleFilter{Community: "幸福里社区"}, []string{id(0), id(1)}},
		{model.PeopleFilter{Community: "和平社区"}, []string{id(1), id(2)}},
		{model.PeopleFilter{BranchID: b1.ID}, []string{id(0), id(1)}},
		{model.PeopleFilter{BranchID: b1.ID, Community: "和平社区"}, []string{id(1)}},
		{model.PeopleFilter{Words: []string{"丙"}}, []string{id(2)}},
		{model.PeopleFilter{Words: []string{"党员", "0002"}}, []string{id(1)}},
		{model.PeopleFilter{BranchID: b2.ID, Words: []string{"党员"}}, []string{id(2)}},
		{model.PeopleFilter{Community: "无此社区"}, nil},
	})
	names, n := counts()
	if want := []string{b1.ID + " 第一党支部", b2.ID + " 第二党支部"}; !slices.Equal(names, want) || n[b1.ID] != 2 || n[b2.ID] != 1 {
		t.Fatalf("branches = %v %v, want %v with 2 and 1 members", names, n, want)
	}

	// Deactivating one and moving another.
	m0.Active = false
	expectOK(t, e.People.UpdatePartyMember(ctx, m0), "deactivate")
	m1.BranchID, m1.Communities = b2.ID, []string{"和平社区"}
	expectOK(t, e.People.UpdatePartyMember(ctx, m1), "move")
	check("after changes", []q{
		{model.PeopleFilter{Active: &no}, []string{id(0)}},
		{model.PeopleFilter{Active: &yes}, []string{id(1), id(2)}},
		{model.PeopleFilter{BranchID: b2.ID}, []string{id(1), id(2)}},
		{model.PeopleFilter{BranchID: b2.ID, Active: &yes}, []string{id(1), id(2)}},
		{model.PeopleFilter{Community: "幸福里社区"}, []string{id(0)}},
		{model.PeopleFilter{Community: "幸福里社区", Active: &yes}, nil},
	})
	if _, n = counts(); n[b1.ID] != 0 || n[b2.ID] != 2 {
		t.Fatalf("active members per branch = %v, want %s: 0, %s: 2", n, b1.ID, b2.ID)
	}

	r, err := e.People.RenameBranch(ctx, b1.ID, "幸福里第一党支部")
	expectOK(t, err, "rename")
	if r.ID != b1.ID || r.Name != "幸福里第一党支部" || !r.CreatedAt.Equal(b1.CreatedAt) {
		t.Fatalf("renamed = %+v", r)
	}
	if names, _ = counts(); names[0] != b1.ID+" 幸福里第一党支部" {
		t.Fatalf("branches after a rename = %v", names)
	}
	_, err = e.People.RenameBranch(ctx, "nope", "x")
	expectCode(t, err, model.CodeNotFound, "RenameBranch(unknown)")
	_, _, _, err = e.People.ListPartyMembers(ctx, model.PeopleFilter{}, "forged", 2)
	expectCode(t, err, model.CodeInvalidArgument, "a forged cursor")
}

func testPhoneClaims(t *testing.T, e Engine) {
	ctx := t.Context()
	const p = "13900009999"
	claim := func(role model.Role, phone, profile, want string) {
		t.Helper()
		holder, err := e.People.ClaimPhone(ctx, role, phone, profile)
		expectOK(t, err, "ClaimPhone(%s, %s, %s)", role, phone, profile)
		if holder != want {
			t.Fatalf("ClaimPhone(%s, %s, %s) = %q, want %q", role, phone, profile, holder, want)
		}
	}
	w1 := sortableID('e', 1)
	claim(model.RoleGridWorker, p, w1, "")
	mustWorker(t, e, w1, "王一", p, "g1")
	claim(model.RoleGridWorker, p, sortableID('e', 2), w1)
	claim(model.RoleGridWorker, p, w1, "")    // its own
	claim(model.RolePartyMember, p, "m1", "") // another role's phones are apart
	// A release by another profile changes nothing.
	expectOK(t, e.People.ReleasePhone(ctx, model.RoleGridWorker, p, sortableID('e', 2)), "release by another")
	claim(model.RoleGridWorker, p, sortableID('e', 2), w1)

	// Deactivated, the holder no longer holds it (even unreleased).
	off, err := e.People.GetWorker(ctx, w1)
	expectOK(t, err, "get")
	off.Active = false
	expectOK(t, e.People.UpdateWorker(ctx, off), "deactivate")
	w3 := sortableID('e', 3)
	claim(model.RoleGridWorker, p, w3, "")
	mustWorker(t, e, w3, "王一接任", p, "g1")
	// Taking it back while someone has it is not possible.
	claim(model.RoleGridWorker, p, w1, w3)
	// The holder moves to another phone: the old one is free.
	moved, err := e.People.GetWorker(ctx, w3)
	expectOK(t, err, "get")
	claim(model.RoleGridWorker, "13900008888", w3, "")
	moved.Phone = "13900008888"
	expectOK(t, e.People.UpdateWorker(ctx, moved), "move phone")
	expectOK(t, e.People.ReleasePhone(ctx, model.RoleGridWorker, p, w3), "release")
	claim(model.RoleGridWorker, p, w1, "")
	claim(model.RoleGridWorker, "13900008888", w1, w3)

	// A profile stored without a claim holds its phone too.
	legacy := mustWorker(t, e, sortableID('e', 5), "旧档案", "13900007777", "g1")
	claim(model.RoleGridWorker, "13900007777", sortableID('e', 6), legacy.ID)
	// Party members likewise.
	b, err := e.People.CreateBranch(ctx, model.Branch{Name: "支部"})
	expectOK(t, err, "branch")
	claim(model.RolePartyMember, "13700001111", sortableID('e', 7), "")
	mustMember(t, e, sortableID('e', 7), "党员", "13700001111", b.ID, "幸福里社区")
	claim(model.RolePartyMember, "13700001111", sortableID('e', 8), sortableID('e', 7))
	claim(model.RoleGridWorker, "13700001111", sortableID('e', 9), "")
}

// testPhoneClaimRace: staff create profiles with one phone at once, each
// claiming before creating (as the service does): exactly one is created.
func testPhoneClaimRace(t *testing.T, e Engine) {
	ctx := t.Context()
	const n = 8
	holders := make([]string, n)
	created := make([]bool, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			id := sortableID('f', i)
			holder, err := e.People.ClaimPhone(ctx, model.RoleGridWorker, "13900005555", id)
			if err != nil {
				t.Errorf("claim %d: %v", i, err)
				return
			}
			if holders[i] = holder; holder != "" {
				return
			}
			if _, err := e.People.CreateWorker(ctx, model.Worker{ID: id, Name: fmt.Sprint("员", i), Phone: "13900005555", GridCodes: []string{"g1"}}); err != nil {
				t.Errorf("create %d: %v", i, err)
				return
			}
			created[i] = true
		})
	}
	wg.Wait()
	winner := slices.Index(created, true)
	if winner < 0 || slices.Index(created[winner+1:], true) >= 0 {
		t.Fatalf("created %v (holders %v): want exactly one worker with the phone", created, holders)
	}
	for i, h := range holders {
		if i != winner && h != sortableID('f', winner) {
			t.Fatalf("claim %d answered holder %q, want the winner %s", i, h, sortableID('f', winner))
		}
	}
}
