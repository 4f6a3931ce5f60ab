package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/citizen-city/chengguantong/geo"
	"github.com/citizen-city/chengguantong/internal/ferretdb"
	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/store/sqlite"
)

// The old documents the fixture writes, and what the new store must hold.
var (
	day1     = time.Date(2026, 11, 3, 1, 0, 0, 0, time.UTC) // 09:00 China time
	day2     = day1.Add(24 * time.Hour)
	zeroBSON = time.Time{}
)

const (
	userA     = "6aaaaaaaaaaaaaaaaaaaaaa1"
	userB     = "6aaaaaaaaaaaaaaaaaaaaaa2"
	workerW   = "6bbbbbbbbbbbbbbbbbbbbbb1"
	memberM   = "6cccccccccccccccccccccc1"
	branchB   = "6dddddddddddddddddddddd1"
	ticket1   = "6eeeeeeeeeeeeeeeeeeeeee1" // created second, rolled forward to version 2
	ticket2   = "6eeeeeeeeeeeeeeeeeeeeee2" // created first, closed
	ticket3   = "6eeeeeeeeeeeeeeeeeeeeee3" // version 0, being screened
	photoUsed = "6fffffffffffffffffffff01"
	photoGone = "6fffffffffffffffffffff02" // being deleted
	photoHalf = "6fffffffffffffffffffff03" // its thumbnail file is missing
)

func event(at time.Time, typ, status, assignee string) bson.M {
	return bson.M{"at": at, "type": typ, "status": status, "assignee": assignee}
}

// fields are a ticket's changeable fields in the old shape.
func fields(status string, version int64, assignee string, timeline ...bson.M) bson.M {
	return bson.M{"status": status, "grid_code": "g1", "community": "龙江社区", "assignee_id": assignee, "assignee_role": "grid_worker",
		"duplicate_of": "", "reporters": 1, "followers": bson.A{}, "merged_ids": bson.A{}, "queue": "", "pool": false,
		"returned_by": bson.A{}, "escalated": false, "registered_at": timeline[0]["at"], "reject_reason": "", "held": false,
		"returns": 0, "reopens": 0, "overdue": false, "due_at": day2.Add(48 * time.Hour), "accept_by": zeroBSON,
		"resolution": nil, "feedback": nil, "timeline": bson.A(anySlice(timeline)), "updated_at": timeline[len(timeline)-1]["at"],
		"extension": nil, "deferred_from": "", "deferred_at": zeroBSON, "deferred_left_s": int64(0), "urges": 0, "verify_fails": 0,
		"self_handled": false, "photo_flags": nil}
}

func anySlice(ms []bson.M) []any {
	out := make([]any, len(ms))
	for i, m := range ms {
		out[i] = m
	}
	return out
}

func ticketDocOld(id string, created time.Time, version int64, f bson.M, source string) bson.M {
	d := bson.M{"_id": id, "idem": "t:" + id, "body_hash": "hash-" + id, "reporter_id": userA, "category": "0101",
		"description": "井盖缺失 " + id[len(id)-1:], "location": bson.M{"lat": 32.05, "lng": 118.78, "coord_type": "wgs84"},
		"point": bson.M{"lat": 32.05, "lng": 118.78}, "cells": bson.A{"wtsq"}, "address": "鼓楼区中山路", "photo_ids": bson.A{photoUsed},
		"version": version, "created_at": created}
	if source != "" {
		d["source"] = source
	}
	for k, v := range f {
		d[k] = v
	}
	return d
}

// writeOldDir makes a DATA_DIR of the old embedded mode: FerretDB's files
// with one or a few documents of every collection, in the shapes the old
// store wrote, including what its crashes could leave (a ticket behind its
// log, a redemption without its invite's used_by, a link without its
// profile's user_id, a verdict on the trace only, a photo being deleted).
func writeOldDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	srv, err := ferretdb.Start(dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx := t.Context()
	client, err := mongo.Connect(options.Client().ApplyURI(srv.URI))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Disconnect(context.Background())
	db := client.Database("chengguantong")
	insert := func(coll string, docs ...any) {
		t.Helper()
		if _, err := db.Collection(coll).InsertMany(ctx, docs); err != nil {
			t.Fatalf("insert %s: %v", coll, err)
		}
	}
	insert(colUsers,
		bson.M{"_id": userA, "openid": "o-a", "roles": bson.A{"resident"}, "on_duty": false, "created_at": day1},
		bson.M{"_id": userB, "openid": "o-b", "roles": bson.A{"resident", "grid_worker"}, "worker_id": workerW, "on_duty": true, "created_at": day1})
	insert(colStaff, bson.M{"_id": "s1", "username": "admin", "password_hash": []byte("$2a$10$hash"), "created_at": day1})
	insert(colBranches, bson.M{"_id": branchB, "name": "第一支部", "created_at": day1})
	// The worker's link says userB; the worker's own user_id was not
	// written yet.
	insert(colWorkers, bson.M{"_id": workerW, "name": "李四", "phone": "13800000001", "grid_codes": bson.A{"g1"}, "user_id": "", "created_at": day1})
	insert(colProfileLinks, bson.M{"_id": "grid_worker/" + workerW, "user_id": userB, "at": day1})
	insert(colPartyMembers, bson.M{"_id": memberM, "name": "赵六", "phone": "13900000001", "branch_id": branchB,
		"communities": bson.A{"龙江社区"}, "user_id": "", "inactive": true, "created_at": day1})
	insert(colPhoneClaims, bson.M{"_id": "grid_worker/13800000001", "profile": workerW, "at": day1})
	insert(colInvites,
		bson.M{"_id": "code-used", "role": "grid_worker", "profile_id": workerW, "expires_at": day2, "used_by": "", "created_at": day1},
		bson.M{"_id": "code-revoked", "role": "party_member", "profile_id": memberM, "expires_at": day1, "used_by": "", "revoked": true, "created_at": day1})
	insert(colInviteRedemptions, bson.M{"_id": "code-used", "user_id": userB, "at": day1.Add(time.Hour)})
	insert(colCategories, bson.M{"_id": "0101", "name": "井盖", "major": "市政设施", "sla_hours": 48, "volunteer_suitable": false,
		"duplicate_radius_m": 30, "updated_at": day1})
	shape := orb.MultiPolygon{{{{118.7, 32}, {118.9, 32}, {118.9, 32.1}, {118.7, 32}}}}
	insert(colGrids, bson.M{"_id": "g1", "name": "一网格", "community": "龙江社区", "shape": geo.EncodeShape(shape), "updated_at": day1})
	insert(colMeta, bson.M{"_id": "grids", "revision": "rev-old", "at": day1})
	insert(colActivities, bson.M{"_id": "a1", "title": "清扫", "kind": string(model.ActivityKinds()[0]), "community": "龙江社区",
		"starts_at": day1, "ends_at": day2, "created_by": "s1", "created_at": day1})
	insert(colCheckins, bson.M{"_id": "a1/" + memberM, "activity_id": "a1", "kind": string(model.ActivityKinds()[0]), "starts_at": day1,
		"member_id": memberM, "user_id": userA, "branch_id": branchB, "at": day1})
	insert(colAPIKeys, bson.M{"_id": "k1", "name": "热线", "hash": "digest", "created_by": "s1", "created_at": day1, "revoked_at": zeroBSON})
	insert(colSubmitters, bson.M{"_id": ticket2, "key_id": "k1", "key_name": "热线", "email": "a@example.com", "created_at": day1})
	insert(colSubscriptions, bson.M{"_id": userA + "|tmpl", "user_id": userA, "template_id": "tmpl", "remaining": 2, "updated_at": day1})
	insert(colNotifications, bson.M{"_id": "n1", "status": "sent", "user_id": userA, "template_id": "tmpl", "at": day1, "finished_at": day1})

	// Photos: one used (its claim names ticket2; used_by was not written),
	// one being deleted, one without its thumbnail. The used one's full
	// image is in two chunks; its verdict reached the trace only.
	full := bytes.Repeat([]byte("F"), 300)
	photo := func(id string) bson.M {
		return bson.M{"_id": id, "owner_id": userA, "content_type": "image/jpeg", "width": 10, "height": 10, "size": int64(300),
			"sha256": sum(full), "thumb_sha256": sum([]byte("thumb")), "thumb_size": int64(5), "used_by": "",
			"moderation": bson.M{"trace_id": "", "suggest": ""}, "created_at": day1}
	}
	used := photo(photoUsed)
	used["moderation"] = bson.M{"trace_id": "tr1", "suggest": "", "sent_at": day1}
	insert(colPhotos, used, photo(photoGone), photo(photoHalf))
	insert(colPhotoClaims, bson.M{"_id": photoUsed, "ticket": ticket2, "at": day1}, bson.M{"_id": photoGone, "ticket": claimDeleted, "at": day1})
	insert(colPhotoTraces, bson.M{"_id": "tr1", "photo": photoUsed, "at": day1, "suggest": "pass", "checked_at": day1.Add(time.Minute)})
	insert(colMediaVerdicts, bson.M{"_id": "tr-early", "suggest": "risky", "at": day1})
	file := func(id string, n int) bson.M {
		return bson.M{"_id": id, "length": int64(n), "chunkSize": int32(200), "filename": id}
	}
	chunk := func(fid string, n int, b []byte) bson.M {
		return bson.M{"_id": bson.NewObjectID(), "files_id": fid, "n": int32(n), "data": bson.Binary{Data: b}}
	}
	insert(colPhotoFiles, file(photoUsed+".full", 300), file(photoUsed+".thumb", 5), file(photoGone+".full", 300), file(photoHalf+".full", 300))
	insert(colPhotoChunks,
		chunk(photoGone+".full", 0, full),
		chunk(photoUsed+".full", 1, full[200:]), chunk(photoUsed+".thumb", 0, []byte("thumb")), chunk(photoUsed+".full", 0, full[:200]),
		chunk(photoHalf+".full", 0, full))

	// Tickets: ticket2 (created first) closed; ticket1 at version 1 whose
	// log holds version 2 (its writer died before the update); ticket3 at
	// version 0, stored before sources existed.
	reported := event(day1, "reported", "submitted", "")
	reg := event(day1.Add(time.Hour), "registered", "pending", "")
	disp := event(day1.Add(time.Hour), "dispatched", "dispatched", userB)
	closed := event(day1.Add(4*time.Hour), "closed", "closed", userB)
	closed["actor_id"], closed["actor_role"] = userA, "resident" // the resident accepted it
	t2 := fields("closed", 3, userB, reported, reg, disp, event(day1.Add(3*time.Hour), "resolved", "resolved", userB), closed)
	t2["resolution"] = bson.M{"note": "已修复", "photo_ids": bson.A{}, "resolved_at": day1.Add(3 * time.Hour), "resolver_id": userB}
	t2["feedback"] = bson.M{"satisfied": true, "rating": 5, "at": day1.Add(4 * time.Hour)}
	created1 := day1.Add(30 * time.Minute)
	reported1 := event(created1, "reported", "submitted", "")
	v1 := fields("pending", 1, "", reported1, event(created1.Add(time.Minute), "registered", "pending", ""))
	v2 := fields("dispatched", 2, userB, reported1, event(created1.Add(time.Minute), "registered", "pending", ""),
		event(created1.Add(2*time.Minute), "dispatched", "dispatched", userB))
	t3 := fields("submitted", 0, "", event(day2, "reported", "submitted", ""))
	t3["registered_at"] = zeroBSON
	insert(colTickets,
		ticketDocOld(ticket1, created1, 1, v1, "wechat"),
		ticketDocOld(ticket2, day1, 3, t2, "hotline"),
		ticketDocOld(ticket3, day2, 0, t3, ""))
	insert(colTicketLog,
		bson.M{"_id": ticket1 + "/1", "ticket": ticket1, "version": int64(1), "fields": v1, "at": created1, "seq": int64(1)},
		bson.M{"_id": ticket1 + "/2", "ticket": ticket1, "version": int64(2), "fields": v2, "at": created1, "seq": int64(0)})
	insert(colStatsVersion, bson.M{"_id": ticket2, "v": int64(3)}, bson.M{"_id": ticket1, "v": int64(1)})
	insert("rollups", bson.M{"_id": "y2026|all|0", "wm": int64(1), "k": []byte{1}})
	// The old server kept FerretDB's _id lookup index on its files (see
	// internal/ferretdb); so does the migration, and nothing else.
	if err := srv.IndexIDs(ctx, "chengguantong"); err != nil {
		t.Fatal(err)
	}
	return dir
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func fileSums(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = sum(b)
	}
	return out
}

// The migration of a hand-made old DATA_DIR keeps every id and record, as
// the old store would have read them (rolled forward, with redemptions,
// links, claims and verdicts that a crash left half-written), gives case
// numbers in creation order, counts the tickets as of their versions, and
// leaves the old files as they were.
func TestMigrateOldShapes(t *testing.T) {
	dir := writeOldDir(t)
	before := fileSums(t, filepath.Join(dir, "ferretdb"))
	var out, errOut bytes.Buffer
	if code := run(t.Context(), []string{"-data-dir", dir, "-batch", "2"}, &out, &errOut); code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errOut.String())
	}
	t.Log(out.String())
	for _, want := range []string{"工单：3 → 3，一致", "照片：2 → 2，一致", "照片文件：3 → 3，一致", "迁移完成", "1 件工单的日志中有已提交",
		"旧统计尚未计入 1 件", "1 张照片在旧服务中正被删除", "照片 " + photoHalf + " 的缩略图在旧数据中没有文件"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the summary lacks %q", want)
		}
	}
	if after := fileSums(t, filepath.Join(dir, "ferretdb")); len(after) != len(before) || after["chengguantong.sqlite"] != before["chengguantong.sqlite"] {
		t.Errorf("the old files changed: %v → %v", before, after)
	}
	if _, err := os.Stat(filepath.Join(dir, stageName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the stage is left: %v", err)
	}

	ctx := t.Context()
	db, err := sqlite.Open(ctx, dir, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	e := db.Engine()
	// Tickets: case numbers in creation order, the roll-forward, the
	// idempotency keys, the source of a ticket from before sources.
	t1, err := e.Tickets.Get(ctx, ticket1)
	if err != nil {
		t.Fatal(err)
	}
	if t1.Version != 2 || t1.Status != model.StatusDispatched || t1.AssigneeID != userB || t1.CaseNo != "20261103-0002" {
		t.Errorf("ticket1 = v%d %s %s %s, want v2 dispatched to userB, 20261103-0002", t1.Version, t1.Status, t1.AssigneeID, t1.CaseNo)
	}
	// Its history is its log's: to whom each version went.
	wantHist := []model.TicketVersion{{Version: 1, Events: 2, AssigneeRole: model.RoleGridWorker}, {Version: 2, Events: 3, AssigneeID: userB, AssigneeRole: model.RoleGridWorker}}
	if h, err := e.Tickets.History(ctx, ticket1, 2); err != nil || !reflect.DeepEqual(h, wantHist) {
		t.Errorf("ticket1's history = %+v, %v; want %+v", h, err, wantHist)
	}
	if h, err := e.Tickets.History(ctx, ticket2, 3); err != nil || len(h) != 0 {
		t.Errorf("ticket2's history = %+v, %v; want none (no log entries)", h, err)
	}
	if t2, err := e.Tickets.GetByCaseNo(ctx, "20261103-0001"); err != nil || t2.ID != ticket2 || t2.Source != "hotline" || t2.Feedback == nil {
		t.Errorf("20261103-0001 = %+v, %v; want ticket2 (hotline, rated)", t2, err)
	}
	if t3, hash, err := e.Tickets.ByIdem(ctx, "t:"+ticket3); err != nil || t3.ID != ticket3 || hash != "hash-"+ticket3 ||
		t3.CaseNo != "20261104-0001" || t3.Source != model.SourceWeChat {
		t.Errorf("ByIdem(ticket3) = %+v %q %v", t3, hash, err)
	}
	// The statistics count ticket1 at version 2 and ticket2 closed, not
	// ticket3 (version 0).
	rows, err := e.Stats.Read(ctx, model.DimAll, []string{"y2026"})
	if err != nil || len(rows) != 1 {
		t.Fatalf("statistics = %v, %v", rows, err)
	}
	v := rows[0].Values
	if v[model.CounterReported] != 2 || v[model.CounterDispatched] != 2 || v[model.CounterClosed] != 1 || v[model.CounterSatisfied] != 1 {
		t.Errorf("y2026 all = reported %v dispatched %v closed %v satisfied %v; want 2, 2, 1, 1",
			v[model.CounterReported], v[model.CounterDispatched], v[model.CounterClosed], v[model.CounterSatisfied])
	}
	// People: the link decides the worker's user; the redemption the
	// invite's.
	if w, err := e.People.GetWorker(ctx, workerW); err != nil || w.UserID != userB || !w.Active {
		t.Errorf("worker = %+v, %v", w, err)
	}
	if users, err := e.People.WorkerUsers(ctx, "g1"); err != nil || len(users) != 1 || users[0] != userB {
		t.Errorf("grid g1's workers = %v, %v", users, err)
	}
	if m, err := e.People.GetPartyMember(ctx, memberM); err != nil || m.Active {
		t.Errorf("member = %+v, %v; want inactive", m, err)
	}
	if inv, err := e.Invites.Redeem(ctx, "code-used", userB); err != nil || !inv.UsedAt.Equal(day1.Add(time.Hour)) {
		t.Errorf("the redeemed invite = %+v, %v", inv, err)
	}
	if _, err := e.Invites.Redeem(ctx, "code-used", userA); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("someone else redeeming a used invite = %v, want not_found", err)
	}
	if u, hash, err := e.Users.StaffCredentials(ctx, "admin"); err != nil || u.ID != "s1" || string(hash) != "$2a$10$hash" {
		t.Errorf("staff = %+v %q %v", u, hash, err)
	}
	if u, err := e.Users.Get(ctx, userB); err != nil || !u.OnDuty || u.WorkerID != workerW || !u.Has(model.RoleGridWorker) {
		t.Errorf("userB = %+v, %v", u, err)
	}
	// Photos: the claim decides use; the verdict on the trace reaches the
	// photo; the bytes (two chunks) are whole; the one being deleted is
	// gone; the missing thumbnail is missing.
	p, err := e.Photos.Get(ctx, photoUsed)
	if err != nil || p.UsedBy != ticket2 || p.Moderation.Suggest != "pass" {
		t.Errorf("photo = %+v, %v; want used by ticket2, verdict pass", p, err)
	}
	r, n, digest, err := e.Photos.Open(ctx, photoUsed, sqlite.VariantFull)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r)
	r.Close()
	if n != 300 || sum(b) != digest || !bytes.Equal(b, bytes.Repeat([]byte("F"), 300)) {
		t.Errorf("full image = %d bytes, sha %s (recorded %s)", n, sum(b), digest)
	}
	if _, err := e.Photos.Get(ctx, photoGone); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("the photo being deleted = %v, want not_found", err)
	}
	if _, _, _, err := e.Photos.Open(ctx, photoHalf, sqlite.VariantThumb); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("the missing thumbnail = %v, want not_found", err)
	}
	if s, ok, err := e.Photos.TakeEarlyVerdict(ctx, "tr-early"); err != nil || !ok || s != "risky" {
		t.Errorf("early verdict = %q %v %v", s, ok, err)
	}
	// The rest.
	if g, err := e.Grids.All(ctx); err != nil || len(g) != 1 || g[0].Code != "g1" || len(g[0].Shape) != 1 {
		t.Errorf("grids = %+v, %v", g, err)
	}
	if rev, _ := e.Grids.Revision(ctx); rev != "rev-old" {
		t.Errorf("grid revision = %q", rev)
	}
	if cs, err := e.Categories.List(ctx); err != nil || len(cs) != 1 || cs[0].SLAHours != 48 {
		t.Errorf("categories = %+v, %v", cs, err)
	}
	if k, err := e.APIKeys.Get(ctx, "k1"); err != nil || k.Revoked() {
		t.Errorf("api key = %+v, %v", k, err)
	}
	if s, err := e.Submitters.Get(ctx, ticket2); err != nil || s.Email != "a@example.com" {
		t.Errorf("submitter = %+v, %v", s, err)
	}
	if n, err := e.Subscriptions.Remaining(ctx, userA, "tmpl"); err != nil || n != 2 {
		t.Errorf("allowances = %d, %v", n, err)
	}
	if st, err := e.Notifications.Status(ctx, "n1"); err != nil || st != "sent" {
		t.Errorf("notification = %q, %v", st, err)
	}
	if cs, err := e.Activities.CheckinsBetween(ctx, day1, day2); err != nil || len(cs) != 1 || cs[0].UserID != userA {
		t.Errorf("check-ins = %+v, %v", cs, err)
	}
	if holder, err := e.People.ClaimPhone(ctx, model.RoleGridWorker, "13800000001", "other"); err != nil || holder != workerW {
		t.Errorf("the worker's phone holder = %q, %v", holder, err)
	}
	db.Close()

	// A second run finds the directory migrated.
	out.Reset()
	errOut.Reset()
	if code := run(t.Context(), []string{"-data-dir", dir}, &out, &errOut); code != exitRefused || !strings.Contains(errOut.String(), "已经迁移过") {
		t.Errorf("a second run: exit %d, %s", code, errOut.String())
	}
}

// A mismatch found by the checks fails the migration: the new store is
// removed, the old files stay as they were, and a retry starts clean and
// succeeds.
func TestMigrateMismatchKeepsNothing(t *testing.T) {
	dir := writeOldDir(t)
	before := fileSums(t, filepath.Join(dir, "ferretdb"))
	var out bytes.Buffer
	for _, tc := range []struct {
		name   string
		tamper func(ctx context.Context, db *sqlite.DB) error
		want   string
	}{
		{"a count off", func(ctx context.Context, db *sqlite.DB) error {
			// A branch too many is a count that differs.
			return db.ImportBranches(ctx, []model.Branch{{ID: "extra", Name: "多出来的", CreatedAt: day1}})
		}, "党支部：旧数据 1，新存储 2"},
		{"the statistics off", func(ctx context.Context, db *sqlite.DB) error {
			// A ticket loaded twice over counts twice.
			tk := &model.Ticket{ID: "6eeeeeeeeeeeeeeeeeeeeee9", ReporterID: userA, Category: "0101", Status: model.StatusPending, Version: 1,
				CreatedAt: day1, UpdatedAt: day1, RegisteredAt: day1}
			return db.Tickets().Load(ctx, []*model.Ticket{tk})
		}, "统计 d20261103/all/：reported 应为 2，新存储为 3"},
	} {
		out.Reset()
		rep, err := migrate(t.Context(), params{dir: dir, database: "chengguantong", batch: 100, tamper: tc.tamper}, &out)
		if err == nil {
			t.Fatalf("%s: the migration succeeded", tc.name)
		}
		rep.print(&out)
		if !strings.Contains(out.String(), tc.want) {
			t.Errorf("%s: the report lacks %q:\n%s", tc.name, tc.want, out.String())
		}
		for _, name := range []string{sqlite.FileName, sqlite.PhotoDir, stageName} {
			if _, err := os.Stat(filepath.Join(dir, name)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s: %s is left after a failed migration", tc.name, name)
			}
		}
	}
	if after := fileSums(t, filepath.Join(dir, "ferretdb")); after["chengguantong.sqlite"] != before["chengguantong.sqlite"] {
		t.Error("the old files changed")
	}
	var errOut bytes.Buffer
	if code := run(t.Context(), []string{"-data-dir", dir}, &out, &errOut); code != exitOK {
		t.Fatalf("the retry: exit %d\n%s", code, errOut.String())
	}
}

// What cannot be migrated as it is is refused, saying why.
func TestMigrateRefuses(t *testing.T) {
	empty := t.TempDir()
	var out, errOut bytes.Buffer
	if code := run(t.Context(), []string{"-data-dir", empty}, &out, &errOut); code != exitRefused || !strings.Contains(errOut.String(), "无需迁移") {
		t.Errorf("a directory without ferretdb/: exit %d, %s", code, errOut.String())
	}
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "ferretdb"), 0o700); err != nil {
		t.Fatal(err)
	}
	// A server holding the directory.
	held, err := sqlite.Open(t.Context(), dir, sqlite.Options{SkipIntegrityCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	errOut.Reset()
	if code := run(t.Context(), []string{"-data-dir", dir}, &out, &errOut); code != exitRefused || !strings.Contains(errOut.String(), "正被服务进程") {
		t.Errorf("a held directory: exit %d, %s", code, errOut.String())
	}
	held.Close()
	// The new store already there (the server started on it).
	errOut.Reset()
	if code := run(t.Context(), []string{"-data-dir", dir}, &out, &errOut); code != exitRefused || !strings.Contains(errOut.String(), "已经迁移过") {
		t.Errorf("a directory with the new store: exit %d, %s", code, errOut.String())
	}
}
