package main

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/citizen-city/chengguantong/internal/ferretdb"
	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/store/sqlite"
)

// params are the migration's inputs.
type params struct {
	dir      string // DATA_DIR, absolute
	database string // the old store's database
	batch    int    // records per transaction
	// tamper, when set, runs on the new store before the checks: tests use
	// it to make the checks fail.
	tamper func(ctx context.Context, db *sqlite.DB) error
}

// migration is one run: the old database, the new store being written,
// and what the checks compare.
type migration struct {
	opt   params
	old   *mongo.Database
	db    *sqlite.DB
	stage string
	out   io.Writer
	rep   *report

	// old holds what was read of each kind (the checks' left side).
	oldCounts sqlite.Counted
	// photoSums are the SHA-256 of the bytes read of each photo's files
	// ("" for a file that was missing), by photo id.
	photoSums map[string][2]string
	// expected is the statistics the old tickets make, as they were loaded.
	expected model.Contribution
}

// migrate runs the migration of opt.dir and returns its report; the new
// store is in place only when the error is nil.
func migrate(ctx context.Context, opt params, out io.Writer) (rep *report, err error) {
	began := time.Now()
	m := &migration{opt: opt, stage: filepath.Join(opt.dir, stageName), out: out, rep: &report{dir: opt.dir},
		photoSums: map[string][2]string{}, expected: model.Contribution{}}
	rep = m.rep
	if _, err := os.Stat(m.stage); err == nil {
		fmt.Fprintf(out, "清除上次未完成的迁移留下的 %s\n", m.stage)
	}
	if err := os.RemoveAll(m.stage); err != nil {
		return rep, err
	}
	fmt.Fprintf(out, "启动 FerretDB 读取旧数据：%s\n", filepath.Join(opt.dir, "ferretdb"))
	srv, err := ferretdb.Start(opt.dir, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	if err != nil {
		return rep, err
	}
	defer srv.Close()
	client, err := mongo.Connect(options.Client().ApplyURI(srv.URI).SetServerSelectionTimeout(30 * time.Second))
	if err != nil {
		return rep, fmt.Errorf("connect ferretdb: %w", err)
	}
	defer func() { _ = client.Disconnect(context.Background()) }()
	m.old = client.Database(opt.database)
	if err := m.checkOldDatabase(ctx, client); err != nil {
		return rep, err
	}
	// Every old lookup is by _id: give FerretDB the index it queries by
	// (the old server made the same on its own files).
	if err := srv.IndexIDs(ctx, opt.database); err != nil {
		return rep, fmt.Errorf("index old collections: %w", err)
	}

	m.db, err = sqlite.Open(ctx, m.stage, sqlite.Options{Instance: "migrate-embedded", SkipIntegrityCheck: true})
	if err != nil {
		return rep, err
	}
	defer func() {
		if m.db != nil {
			_ = m.db.Close()
		}
		if err != nil {
			_ = os.RemoveAll(m.stage)
		}
	}()
	if err := m.copyAll(ctx); err != nil {
		return rep, err
	}
	rep.wrote = time.Since(began)
	if opt.tamper != nil {
		if err := opt.tamper(ctx, m.db); err != nil {
			return rep, err
		}
	}
	checked := time.Now()
	if err := m.check(ctx); err != nil {
		return rep, err
	}
	rep.checked = time.Since(checked)
	if n := len(rep.mismatches); n > 0 {
		return rep, fmt.Errorf("核对发现 %d 处不一致", n)
	}
	if err := m.db.Sync(); err != nil {
		return rep, err
	}
	if err := m.db.Close(); err != nil {
		m.db = nil
		return rep, fmt.Errorf("close the new store: %w", err)
	}
	m.db = nil
	if err := m.putInPlace(); err != nil {
		return rep, err
	}
	rep.total = time.Since(began)
	rep.done = true
	return rep, nil
}

// checkOldDatabase refuses a database with no collections (a wrong name)
// and notes collections the migration does not know.
func (m *migration) checkOldDatabase(ctx context.Context, client *mongo.Client) error {
	names, err := m.old.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		return fmt.Errorf("list old collections: %w", err)
	}
	if len(names) == 0 {
		dbs, _ := client.ListDatabaseNames(ctx, bson.D{})
		return fmt.Errorf("旧数据中没有数据库 %s 的集合（现有数据库：%s）；请用 -database 指定旧服务的 MONGODB_DATABASE",
			m.opt.database, strings.Join(dbs, "、"))
	}
	known := append([]string{colUsers, colStaff, colInvites, colInviteRedemptions, colProfileLinks, colWorkers, colBranches,
		colPartyMembers, colPhoneClaims, colCategories, colGrids, colMeta, colPhotos, colPhotoClaims, colPhotoTraces,
		colMediaVerdicts, colPhotoFiles, colPhotoChunks, colActivities, colCheckins, colAPIKeys, colSubmitters,
		colSubscriptions, colNotifications, colTickets, colTicketLog}, derivedCollections...)
	for _, n := range names {
		if !slices.Contains(known, n) {
			m.rep.warn("旧数据中有本程序不认识的集合 %s，未迁移", n)
		}
	}
	return nil
}

// putInPlace moves the checked store from the stage into DATA_DIR: the
// photos first, the database file last — its appearance is what the server
// starts on.
func (m *migration) putInPlace() error {
	dir := m.opt.dir
	photos := filepath.Join(m.stage, sqlite.PhotoDir)
	if _, err := os.Stat(photos); err == nil {
		if err := os.Rename(photos, filepath.Join(dir, sqlite.PhotoDir)); err != nil {
			return fmt.Errorf("move photos into place: %w", err)
		}
	}
	for _, suffix := range []string{"-wal", "-shm", ""} {
		from := filepath.Join(m.stage, sqlite.FileName+suffix)
		if _, err := os.Stat(from); errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err := os.Rename(from, filepath.Join(dir, sqlite.FileName+suffix)); err != nil {
			_ = os.RemoveAll(filepath.Join(dir, sqlite.PhotoDir))
			return fmt.Errorf("move the new store into place: %w", err)
		}
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return os.RemoveAll(m.stage)
}

// each decodes every document of an old collection in turn, in the order
// stored. It returns how many it read.
func each[D any](ctx context.Context, db *mongo.Database, coll string, fn func(*D) error, opts ...options.Lister[options.FindOptions]) (int64, error) {
	cur, err := db.Collection(coll).Find(ctx, bson.D{}, opts...)
	if err != nil {
		return 0, fmt.Errorf("read old %s: %w", coll, err)
	}
	defer cur.Close(ctx)
	var n int64
	for cur.Next(ctx) {
		var d D
		if err := cur.Decode(&d); err != nil {
			return n, fmt.Errorf("旧数据 %s 中 %v 无法按旧格式读取：%w", coll, cur.Current.Lookup("_id"), err)
		}
		n++
		if err := fn(&d); err != nil {
			return n, err
		}
	}
	if err := cur.Err(); err != nil {
		return n, fmt.Errorf("read old %s: %w", coll, err)
	}
	return n, nil
}

// copyKind reads an old collection, converts each document and writes the
// records in batches; it returns how many documents it read.
func copyKind[D, R any](ctx context.Context, m *migration, coll string, conv func(*D) (R, error), write func(context.Context, []R) error) (int64, error) {
	var batch []R
	n, err := each(ctx, m.old, coll, func(d *D) error {
		r, err := conv(d)
		if err != nil {
			return err
		}
		batch = append(batch, r)
		if len(batch) >= m.opt.batch {
			err, batch = write(ctx, batch), nil
		}
		return err
	})
	if err != nil {
		return n, err
	}
	return n, write(ctx, batch)
}

// copyAll reads every kind of the old store and writes it to the new one.
func (m *migration) copyAll(ctx context.Context) error {
	oc := &m.oldCounts
	step := func(what string, fn func() error) error {
		t := time.Now()
		if err := fn(); err != nil {
			return fmt.Errorf("%s：%w", what, err)
		}
		fmt.Fprintf(m.out, "  %s：%s\n", what, time.Since(t).Round(time.Millisecond))
		return nil
	}
	var err error
	if err := step("账号、档案与邀请码", func() error {
		if oc.Users, err = copyKind(ctx, m, colUsers, func(d *oldUser) (model.User, error) { return d.model(), nil }, m.db.ImportUsers); err != nil {
			return err
		}
		if oc.Staff, err = copyKind(ctx, m, colStaff, func(d *oldStaff) (sqlite.StaffAccount, error) {
			return sqlite.StaffAccount{User: model.User{ID: d.ID, Username: d.Username, CreatedAt: utc(d.CreatedAt)}, PasswordHash: d.PasswordHash}, nil
		}, m.db.ImportStaff); err != nil {
			return err
		}
		if oc.Branches, err = copyKind(ctx, m, colBranches, func(d *oldBranch) (model.Branch, error) {
			return model.Branch{ID: d.ID, Name: d.Name, CreatedAt: utc(d.CreatedAt)}, nil
		}, m.db.ImportBranches); err != nil {
			return err
		}
		return m.copyPeople(ctx)
	}); err != nil {
		return err
	}
	if err := step("类别与网格", func() error {
		if oc.Categories, err = copyKind(ctx, m, colCategories, func(d *oldCategory) (model.Category, error) {
			return model.Category{Code: d.Code, Name: d.Name, Major: d.Major, SLAHours: d.SLAHours,
				VolunteerSuitable: d.VolunteerSuitable, DuplicateRadiusM: d.DuplicateRadiusM}, nil
		}, func(ctx context.Context, cs []model.Category) error {
			return m.db.ImportCategories(ctx, cs, time.Now())
		}); err != nil {
			return err
		}
		var rev struct {
			Revision string `bson:"revision"`
		}
		if err := m.old.Collection(colMeta).FindOne(ctx, bson.M{"_id": "grids"}).Decode(&rev); err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
			return fmt.Errorf("read old grid revision: %w", err)
		}
		var grids []sqlite.GridRecord
		if oc.Grids, err = each(ctx, m.old, colGrids, func(d *oldGrid) error {
			g, err := d.record()
			if err != nil {
				return fmt.Errorf("网格 %s 的边界无法解码：%w", d.Code, err)
			}
			grids = append(grids, g)
			return nil
		}); err != nil {
			return err
		}
		if len(grids) == 0 {
			return nil
		}
		return m.db.ImportGrids(ctx, grids, rev.Revision)
	}); err != nil {
		return err
	}
	if err := step("活动、Open311 与订阅消息", func() error {
		if oc.Activities, err = copyKind(ctx, m, colActivities, func(d *oldActivity) (model.Activity, error) {
			return model.Activity{ID: d.ID, Title: d.Title, Kind: model.ActivityKind(d.Kind), Community: d.Community,
				StartsAt: utc(d.StartsAt), EndsAt: utc(d.EndsAt), CreatedBy: d.CreatedBy, CreatedAt: utc(d.CreatedAt)}, nil
		}, m.db.ImportActivities); err != nil {
			return err
		}
		if oc.Checkins, err = copyKind(ctx, m, colCheckins, func(d *oldCheckin) (model.Checkin, error) {
			return model.Checkin{ActivityID: d.ActivityID, Kind: model.ActivityKind(d.Kind), StartsAt: utc(d.StartsAt), MemberID: d.MemberID,
				UserID: d.UserID, BranchID: d.BranchID, At: utc(d.At)}, nil
		}, m.db.ImportCheckins); err != nil {
			return err
		}
		if oc.APIKeys, err = copyKind(ctx, m, colAPIKeys, func(d *oldAPIKey) (model.APIKey, error) {
			return model.APIKey{ID: d.ID, Name: d.Name, Hash: d.Hash, CreatedBy: d.CreatedBy, CreatedAt: utc(d.CreatedAt), RevokedAt: utc(d.RevokedAt)}, nil
		}, m.db.ImportAPIKeys); err != nil {
			return err
		}
		if oc.Submitters, err = copyKind(ctx, m, colSubmitters, func(d *oldSubmitter) (model.Open311Submitter, error) {
			return model.Open311Submitter{TicketID: d.TicketID, KeyID: d.KeyID, KeyName: d.KeyName, Email: d.Email, Phone: d.Phone,
				FirstName: d.FirstName, LastName: d.LastName, DeviceID: d.DeviceID, AccountID: d.AccountID, MediaURL: d.MediaURL,
				AddressID: d.AddressID, CreatedAt: utc(d.CreatedAt)}, nil
		}, m.db.ImportSubmitters); err != nil {
			return err
		}
		if oc.Allowances, err = copyKind(ctx, m, colSubscriptions, func(d *oldAllowance) (sqlite.Allowance, error) { return d.record(), nil },
			m.db.ImportAllowances); err != nil {
			return err
		}
		oc.Notifications, err = copyKind(ctx, m, colNotifications, func(d *oldNotification) (sqlite.NotificationRecord, error) {
			return sqlite.NotificationRecord{Key: d.Key, Status: d.Status, UserID: d.UserID, TemplateID: d.TemplateID,
				At: utc(d.At), FinishedAt: utc(d.FinishedAt)}, nil
		}, m.db.ImportNotifications)
		return err
	}); err != nil {
		return err
	}
	if err := step("照片", func() error { return m.copyPhotos(ctx) }); err != nil {
		return err
	}
	return step("工单", func() error { return m.copyTickets(ctx) })
}

// copyPeople copies workers, party members (bound to the user their
// profile link names), phone claims, invites (used as their redemption
// says).
func (m *migration) copyPeople(ctx context.Context) error {
	oc := &m.oldCounts
	links := map[string]string{} // "<role>/<profile>" → user
	if _, err := each(ctx, m.old, colProfileLinks, func(d *oldLink) error {
		links[d.ID] = d.UserID
		return nil
	}); err != nil {
		return err
	}
	bound := func(role model.Role, id, userID string) string {
		if u, ok := links[string(role)+"/"+id]; ok {
			userID = u
		}
		if userID != "" {
			oc.ProfileLinks++
		}
		return userID
	}
	var err error
	if oc.Workers, err = copyKind(ctx, m, colWorkers, func(d *oldWorker) (model.Worker, error) {
		return model.Worker{ID: d.ID, Name: d.Name, Phone: d.Phone, GridCodes: d.GridCodes, UserID: bound(model.RoleGridWorker, d.ID, d.UserID),
			Active: !d.Inactive, CreatedAt: utc(d.CreatedAt)}, nil
	}, m.db.ImportWorkers); err != nil {
		return err
	}
	if oc.PartyMembers, err = copyKind(ctx, m, colPartyMembers, func(d *oldMember) (model.PartyMember, error) {
		return model.PartyMember{ID: d.ID, Name: d.Name, Phone: d.Phone, BranchID: d.BranchID, Communities: d.Communities,
			UserID: bound(model.RolePartyMember, d.ID, d.UserID), Active: !d.Inactive, CreatedAt: utc(d.CreatedAt)}, nil
	}, m.db.ImportPartyMembers); err != nil {
		return err
	}
	if oc.PhoneClaims, err = copyKind(ctx, m, colPhoneClaims, func(d *oldPhoneClaim) (sqlite.PhoneClaim, error) { return d.claim(), nil },
		m.db.ImportPhoneClaims); err != nil {
		return err
	}
	redeemed := map[string]*oldRedemption{}
	if _, err := each(ctx, m.old, colInviteRedemptions, func(d *oldRedemption) error {
		redeemed[d.ID] = d
		return nil
	}); err != nil {
		return err
	}
	oc.Invites, err = copyKind(ctx, m, colInvites, func(d *oldInvite) (sqlite.InviteRecord, error) {
		r := d.record(redeemed[d.ID])
		if r.Invite.UsedBy != "" {
			oc.InvitesUsed++
		}
		return r, nil
	}, m.db.ImportInvites)
	return err
}

// photoBatchBytes bounds the photo bytes one ImportPhotos call holds.
const photoBatchBytes = 64 << 20

// copyPhotos copies the photos' records and their GridFS files. The chunks
// are read once, in the order stored (a photo's chunks were written
// together), and each photo is written once its files are whole, so memory
// holds a batch of photos, not all of them. A photo the sweeper was
// deleting (claimed "-deleted") is not copied.
func (m *migration) copyPhotos(ctx context.Context) error {
	oc := &m.oldCounts
	photos := map[string]*oldPhoto{}
	var order []string
	if _, err := each(ctx, m.old, colPhotos, func(d *oldPhoto) error {
		photos[d.ID] = d
		order = append(order, d.ID)
		return nil
	}); err != nil {
		return err
	}
	claims := map[string]string{}
	if _, err := each(ctx, m.old, colPhotoClaims, func(d *oldPhotoClaim) error {
		claims[d.ID] = d.Ticket
		return nil
	}); err != nil {
		return err
	}
	for id, ticket := range claims {
		if ticket == claimDeleted && photos[id] != nil {
			delete(photos, id)
			m.rep.deletingPhotos++
		}
	}
	traces := map[string]*oldTrace{}
	var traceRecs []sqlite.PhotoTrace
	var err error
	if oc.PhotoTraces, err = each(ctx, m.old, colPhotoTraces, func(d *oldTrace) error {
		traces[d.ID] = d
		traceRecs = append(traceRecs, sqlite.PhotoTrace{TraceID: d.ID, PhotoID: d.Photo, At: utc(d.At)})
		return nil
	}); err != nil {
		return err
	}
	if err := m.db.ImportPhotoTraces(ctx, traceRecs); err != nil {
		return err
	}
	if oc.MediaVerdicts, err = copyKind(ctx, m, colMediaVerdicts, func(d *oldVerdict) (sqlite.MediaVerdict, error) {
		return sqlite.MediaVerdict{TraceID: d.ID, Suggest: d.Suggest, At: utc(d.At)}, nil
	}, m.db.ImportMediaVerdicts); err != nil {
		return err
	}
	lengths := map[string]int64{} // GridFS file id → length
	if _, err := each(ctx, m.old, colPhotoFiles, func(d *oldFile) error {
		lengths[d.ID] = d.Length
		return nil
	}); err != nil {
		return err
	}

	// pending are the photos not yet written, with the files read so far.
	type pendingPhoto struct {
		rec   sqlite.PhotoRecord
		files int // how many of its files exist in GridFS
		whole int // how many of them are read whole
	}
	pending := map[string]*pendingPhoto{}
	for _, id := range order {
		d := photos[id]
		if d == nil {
			continue
		}
		used := d.UsedBy
		if c, ok := claims[id]; ok && c != claimDeleted {
			used = c // the claim decides; the photo's used_by follows it
		}
		var tr *oldTrace
		if d.Moderation.TraceID != "" {
			tr = traces[d.Moderation.TraceID]
		}
		p := &pendingPhoto{rec: d.record(used, tr)}
		for _, v := range []string{sqlite.VariantFull, sqlite.VariantThumb} {
			length, ok := lengths[id+"."+v]
			if !ok {
				m.rep.warn("照片 %s 的%s在旧数据中没有文件，迁移时也没有", id, variantName(v))
				continue
			}
			p.files++
			if length == 0 { // an empty file has no chunks
				p.whole++
				if v == sqlite.VariantFull {
					p.rec.Full = []byte{}
				} else {
					p.rec.Thumb = []byte{}
				}
			}
		}
		pending[id] = p
	}
	oc.Photos = int64(len(pending))

	var batch []sqlite.PhotoRecord
	var batchBytes int
	flush := func() error {
		err := m.db.ImportPhotos(ctx, batch)
		batch, batchBytes = nil, 0
		return err
	}
	emit := func(id string, p *pendingPhoto) error {
		delete(pending, id)
		var sums [2]string
		for i, b := range [][]byte{p.rec.Full, p.rec.Thumb} {
			if b != nil {
				s := sha256.Sum256(b)
				sums[i] = hex.EncodeToString(s[:])
				oc.PhotoFiles++
			}
		}
		m.photoSums[id] = sums
		batch = append(batch, p.rec)
		batchBytes += len(p.rec.Full) + len(p.rec.Thumb)
		if len(batch) >= m.opt.batch || batchBytes >= photoBatchBytes {
			return flush()
		}
		return nil
	}
	// Photos without a file to read go first; the others as their files
	// complete.
	for _, id := range order {
		if p := pending[id]; p != nil && p.whole == p.files {
			if err := emit(id, p); err != nil {
				return err
			}
		}
	}
	type fileBuf struct {
		chunks map[int][]byte
		got    int64
	}
	bufs := map[string]*fileBuf{}
	if _, err := each(ctx, m.old, colPhotoChunks, func(c *oldChunk) error {
		id, variant, _ := strings.Cut(c.FileID, ".")
		p := pending[id]
		length, known := lengths[c.FileID]
		if p == nil || !known {
			return nil // a file of a photo gone or being deleted
		}
		b := bufs[c.FileID]
		if b == nil {
			b = &fileBuf{chunks: map[int][]byte{}}
			bufs[c.FileID] = b
		}
		if _, dup := b.chunks[c.N]; !dup {
			b.chunks[c.N] = c.Data
			b.got += int64(len(c.Data))
		}
		if b.got < length {
			return nil
		}
		delete(bufs, c.FileID)
		data := make([]byte, 0, length)
		for n := 0; n < len(b.chunks); n++ {
			part, ok := b.chunks[n]
			if !ok {
				m.rep.warn("照片文件 %s 的分块不连续（缺第 %d 块），该文件未迁移", c.FileID, n)
				return nil
			}
			data = append(data, part...)
		}
		if int64(len(data)) != length {
			m.rep.warn("照片文件 %s 长 %d 字节，记录为 %d 字节，该文件未迁移", c.FileID, len(data), length)
			return nil
		}
		switch variant {
		case sqlite.VariantFull:
			p.rec.Full = data
		case sqlite.VariantThumb:
			p.rec.Thumb = data
		default:
			return nil
		}
		if p.whole++; p.whole == p.files {
			return emit(id, p)
		}
		return nil
	}); err != nil {
		return err
	}
	// What is left lacks a file, or part of one.
	for _, id := range order {
		if p := pending[id]; p != nil {
			m.rep.warn("照片 %s 的文件在旧数据中不完整（%d 个文件中 %d 个完整），只迁移完整的部分", id, p.files, p.whole)
			if err := emit(id, p); err != nil {
				return err
			}
		}
	}
	return flush()
}

// copyTickets copies the tickets through the bulk path. A first pass reads
// every ticket's id, creation time and version and gives the case numbers
// in creation order (the old tickets have none). One pass over the log then
// gathers each ticket's history (what the old staff view read: per version,
// the timeline's length and the assignee) and the transitions committed
// beyond a ticket's own version. The last pass reads the tickets whole,
// rolls each forward through those, and loads them in batches, each
// counted by the statistics as of its version, then compares each with
// what the new store returns.
func (m *migration) copyTickets(ctx context.Context) error {
	type idTime struct {
		ID        string    `bson:"_id"`
		CreatedAt time.Time `bson:"created_at"`
		Version   int64     `bson:"version"`
	}
	var all []idTime
	if _, err := each(ctx, m.old, colTickets, func(d *idTime) error {
		all = append(all, *d)
		return nil
	}, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}, {Key: "created_at", Value: 1}, {Key: "version", Value: 1}})); err != nil {
		return err
	}
	slices.SortFunc(all, func(a, b idTime) int { return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID)) })
	caseNo := make(map[string]string, len(all))
	version := make(map[string]int64, len(all))
	perDay := map[string]int{}
	for _, t := range all {
		day := t.CreatedAt.In(model.ChinaTime()).Format("20060102")
		perDay[day]++
		caseNo[t.ID] = fmt.Sprintf("%s-%04d", day, perDay[day])
		version[t.ID] = t.Version
	}
	all = nil
	history := map[string][]model.TicketVersion{}
	ahead := map[string][]oldLogEntry{} // entries beyond the ticket's version
	if _, err := each(ctx, m.old, colTicketLog, func(e *oldLogEntry) error {
		v, ok := version[e.Ticket]
		if !ok || e.Version < 1 {
			return nil // not a ticket's entry (the old store kept other records there too)
		}
		history[e.Ticket] = append(history[e.Ticket], model.TicketVersion{Version: e.Version, Events: len(e.Fields.Timeline),
			AssigneeID: e.Fields.AssigneeID, AssigneeRole: model.Role(e.Fields.AssigneeRole)})
		if e.Version > v {
			ahead[e.Ticket] = append(ahead[e.Ticket], *e)
		}
		return nil
	}); err != nil {
		return err
	}
	counted := map[string]int64{}
	if _, err := each(ctx, m.old, colStatsVersion, func(d *oldStatsVersion) error {
		counted[d.ID] = d.V
		return nil
	}); err != nil {
		return err
	}

	var batch []*oldTicket
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		ts := make([]*model.Ticket, len(batch))
		recs := make([]sqlite.TicketRecord, len(batch))
		for i, d := range batch {
			m.rollForward(d, ahead[d.ID])
			t := d.ticket()
			t.CaseNo = caseNo[d.ID]
			ts[i] = t
			var hist []model.TicketVersion
			for _, v := range history[d.ID] {
				if v.Version <= t.Version {
					hist = append(hist, v)
				}
			}
			slices.SortFunc(hist, func(a, b model.TicketVersion) int { return cmp.Compare(a.Version, b.Version) })
			hist = slices.CompactFunc(hist, func(a, b model.TicketVersion) bool { return a.Version == b.Version })
			recs[i] = sqlite.TicketRecord{TicketID: d.ID, Idem: d.Idem, BodyHash: d.BodyHash, History: hist}
			if t.Version > 0 {
				m.expected.Add(model.Contribute(t))
				if t.Version > counted[d.ID] {
					m.rep.uncounted++
				}
			}
		}
		// What the new store must return: copies, as Load may set fields
		// of what it is given.
		want := make([]model.Ticket, len(ts))
		for i, t := range ts {
			want[i] = *t
		}
		if err := m.db.Tickets().Load(ctx, ts); err != nil {
			return err
		}
		if err := m.db.SetTicketRecords(ctx, recs); err != nil {
			return err
		}
		for i := range want {
			if err := m.compareTicket(ctx, &want[i], recs[i].History); err != nil {
				return err
			}
		}
		batch = batch[:0]
		return nil
	}
	n, err := each(ctx, m.old, colTickets, func(d *oldTicket) error {
		if caseNo[d.ID] == "" {
			return fmt.Errorf("工单 %s 在第二次读取时才出现：旧服务是否仍在运行？请先停止它", d.ID)
		}
		batch = append(batch, d)
		if len(batch) >= m.opt.batch {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	m.oldCounts.Tickets = n
	return flush()
}

// rollForward applies to a ticket the log entries of the versions after
// its own, in order (transitions committed by their log entry whose writer
// died before updating the ticket), as the old store did at the next
// change.
func (m *migration) rollForward(d *oldTicket, ahead []oldLogEntry) {
	slices.SortFunc(ahead, func(a, b oldLogEntry) int { return cmp.Compare(a.Version, b.Version) })
	rolled := false
	for _, e := range ahead {
		if e.Version != d.Version+1 {
			continue
		}
		d.Fields, d.Version = e.Fields, e.Version
		rolled = true
	}
	if rolled {
		m.rep.rolledForward++
	}
}
