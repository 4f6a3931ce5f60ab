package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/citizen-city/chengguantong/geo"
	"github.com/citizen-city/chengguantong/model"
)

// The bulk path for records that already exist elsewhere and keep their
// ids, times and states: the migration from the FerretDB-based embedded
// mode (cmd/migrate-embedded) and the seeds. Each Import… call stores its
// batch in one transaction, all or nothing; a record whose key is already
// stored is a conflict and nothing of the batch is stored. Unlike the
// contract's methods they set nothing from the store's clock: what the
// record says is what is stored. Tickets take the contract's bulk path,
// Tickets.Load (counted by the statistics as of their version), and
// SetTicketRecords then keeps their submissions' idempotency keys and their
// history.

// StaffAccount is a staff account with its bcrypt password hash.
type StaffAccount struct {
	User         model.User // ID, Username, CreatedAt
	PasswordHash []byte
}

// InviteRecord is an invite code's record: its digest, the invite (used
// or not), whether it was revoked, and when it was made.
type InviteRecord struct {
	CodeHash  string
	Invite    model.Invite
	Revoked   bool
	CreatedAt time.Time
}

// PhoneClaim is a phone held by a profile of a role (see People.ClaimPhone).
type PhoneClaim struct {
	Role      model.Role
	Phone     string
	ProfileID string
	At        time.Time
}

// GridRecord is a grid with its outline and when it last changed.
type GridRecord struct {
	Grid      geo.Grid
	UpdatedAt time.Time
}

// PhotoRecord is a photo's row and its two files. Photo.Size and
// Photo.SHA256 describe the full image, ThumbSize and ThumbSHA256 the
// thumbnail; Full or Thumb nil means that file is missing (the row is
// stored, and Open answers not_found for that variant, as for a file lost).
// SentAt is when the photo was sent for content checking (zero if never).
type PhotoRecord struct {
	Photo       model.Photo
	ThumbSize   int64
	ThumbSHA256 string
	SentAt      time.Time
	Full, Thumb []byte
}

// PhotoTrace links a content check's trace id to its photo.
type PhotoTrace struct {
	TraceID, PhotoID string
	At               time.Time
}

// MediaVerdict is a content check's verdict that came before its trace id
// was recorded on a photo (Photos.SaveEarlyVerdict).
type MediaVerdict struct {
	TraceID, Suggest string
	At               time.Time
}

// Allowance is the subscribe-message allowances a user has left for a
// template.
type Allowance struct {
	UserID, TemplateID string
	Remaining          int
	UpdatedAt          time.Time
}

// NotificationRecord is the record that makes one subscribe message go
// out once (Notifications.Begin); FinishedAt is zero while it is sending.
type NotificationRecord struct {
	Key, Status, UserID, TemplateID string
	At, FinishedAt                  time.Time
}

// TicketRecord is what a ticket stored by Tickets.Load keeps beside
// itself: the idempotency key and body digest of the submission that
// created it (Tickets.Insert's idem and bodyHash; left as Load set them
// when Idem is ""), and its history — per committed version, the
// timeline's length and the assignee after it (Tickets.History), in
// version order; none when empty, as for transitions that left no record.
type TicketRecord struct {
	TicketID, Idem, BodyHash string
	History                  []model.TicketVersion
}

// importBatch stores xs in one write transaction, running row for each.
// Errors: conflict (a key already stored), unavailable.
func importBatch[T any](ctx context.Context, db *DB, what string, xs []T, row func(tx *sql.Tx, x *T) error) error {
	if len(xs) == 0 {
		return nil
	}
	err := db.write(ctx, func(tx *sql.Tx) error {
		for i := range xs {
			if err := row(tx, &xs[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("import %s: %w", what, err)
	}
	return nil
}

// ImportUsers stores WeChat users with their ids, roles, profiles, duty
// and creation times. Errors: conflict (an id or openid taken), unavailable.
func (db *DB) ImportUsers(ctx context.Context, users []model.User) error {
	return importBatch(ctx, db, "users", users, func(tx *sql.Tx, u *model.User) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO users ("+userColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
			u.ID, u.OpenID, jsonStrings(u.Roles), u.WorkerID, u.PartyMemberID, u.OnDuty, msOf(u.CreatedAt), u.Sessions)
		return err
	})
}

// ImportStaff stores staff accounts with their ids and password hashes.
// Errors: conflict (an id or username taken), unavailable.
func (db *DB) ImportStaff(ctx context.Context, staff []StaffAccount) error {
	return importBatch(ctx, db, "staff", staff, func(tx *sql.Tx, s *StaffAccount) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO staff (id, username, password_hash, created_at) VALUES (?, ?, ?, ?)",
			s.User.ID, s.User.Username, s.PasswordHash, msOf(s.User.CreatedAt))
		return err
	})
}

// ImportInvites stores invite records, used or not. Errors: conflict (a
// digest taken), unavailable.
func (db *DB) ImportInvites(ctx context.Context, invites []InviteRecord) error {
	return importBatch(ctx, db, "invites", invites, func(tx *sql.Tx, r *InviteRecord) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO invites (code_hash, role, profile_id, expires_at, used_by, used_at, revoked, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			r.CodeHash, string(r.Invite.Role), r.Invite.ProfileID, msOf(r.Invite.ExpiresAt), r.Invite.UsedBy, msOrNull(r.Invite.UsedAt),
			r.Revoked, msOf(r.CreatedAt))
		return err
	})
}

// ImportBranches stores party branches with their ids. Errors: conflict,
// unavailable.
func (db *DB) ImportBranches(ctx context.Context, branches []model.Branch) error {
	return importBatch(ctx, db, "branches", branches, func(tx *sql.Tx, b *model.Branch) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO branches (id, name, created_at) VALUES (?, ?, ?)", b.ID, b.Name, msOf(b.CreatedAt))
		return err
	})
}

// ImportWorkers stores grid worker profiles with their ids, bound users
// (the profile links), activity and creation times, and indexes them for
// the directory and routing. Errors: conflict, unavailable.
func (db *DB) ImportWorkers(ctx context.Context, workers []model.Worker) error {
	return importBatch(ctx, db, "workers", workers, func(tx *sql.Tx, w *model.Worker) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO workers (id, name, name_fold, phone, grid_codes, user_id, active, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			w.ID, w.Name, foldText(w.Name), w.Phone, jsonStrings(w.GridCodes), w.UserID, w.Active, msOf(w.CreatedAt)); err != nil {
			return err
		}
		return workerKind.index(ctx, tx, w.ID, msOf(w.CreatedAt), w.Name, w.Phone, w.GridCodes)
	})
}

// ImportPartyMembers stores party member profiles as ImportWorkers stores
// workers. Errors: conflict, unavailable.
func (db *DB) ImportPartyMembers(ctx context.Context, members []model.PartyMember) error {
	return importBatch(ctx, db, "party members", members, func(tx *sql.Tx, p *model.PartyMember) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO party_members (id, name, name_fold, phone, branch_id, communities, user_id, active, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.ID, p.Name, foldText(p.Name), p.Phone, p.BranchID, jsonStrings(p.Communities), p.UserID, p.Active, msOf(p.CreatedAt)); err != nil {
			return err
		}
		return memberKind.index(ctx, tx, p.ID, msOf(p.CreatedAt), p.Name, p.Phone, p.Communities)
	})
}

// ImportPhoneClaims stores phone claims. Errors: conflict (a role's phone
// claimed twice), unavailable.
func (db *DB) ImportPhoneClaims(ctx context.Context, claims []PhoneClaim) error {
	return importBatch(ctx, db, "phone claims", claims, func(tx *sql.Tx, c *PhoneClaim) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO phone_claims (role, phone, profile_id, at) VALUES (?, ?, ?, ?)",
			string(c.Role), c.Phone, c.ProfileID, msOf(c.At))
		return err
	})
}

// ImportCategories stores categories with their SLAs as given, changed at
// at. Errors: conflict (a code taken), unavailable.
func (db *DB) ImportCategories(ctx context.Context, cats []model.Category, at time.Time) error {
	return importBatch(ctx, db, "categories", cats, func(tx *sql.Tx, c *model.Category) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO categories (code, name, major, sla_hours, volunteer_suitable, duplicate_radius_m, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			c.Code, c.Name, c.Major, c.SLAHours, c.VolunteerSuitable, c.DuplicateRadiusM, msOf(at))
		return err
	})
}

// ImportGrids stores grids with their outlines and sets the grids'
// revision (a new one when revision is ""), in one transaction. Errors:
// conflict (a code taken), unavailable.
func (db *DB) ImportGrids(ctx context.Context, grids []GridRecord, revision string) error {
	if revision == "" {
		revision = model.NewID(db.now())
	}
	err := db.write(ctx, func(tx *sql.Tx) error {
		for _, g := range grids {
			if _, err := tx.ExecContext(ctx, "INSERT INTO grids (code, name, community, updated_at, shape) VALUES (?, ?, ?, ?, ?)",
				g.Grid.Code, g.Grid.Name, g.Grid.Community, msOf(g.UpdatedAt), geo.EncodeShape(g.Grid.Shape)); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
			metaGridsRevision, revision)
		return err
	})
	if err != nil {
		return fmt.Errorf("import grids: %w", err)
	}
	return nil
}

// ImportPhotos stores photos' rows (one transaction), then their files,
// each written to a temporary name and renamed into place but not synced
// one by one: call Sync once after the import. A crash before then may
// lose files; the importer starts again on an empty store. Errors:
// conflict (an id taken), invalid_argument (an id this store cannot hold
// files under), unavailable (a full disk), internal.
func (db *DB) ImportPhotos(ctx context.Context, photos []PhotoRecord) error {
	for i := range photos {
		if !isPhotoID(photos[i].Photo.ID) {
			return model.Errorf(model.CodeInvalidArgument, "照片编号 %q 不是 24 位十六进制数字", photos[i].Photo.ID)
		}
	}
	err := importBatch(ctx, db, "photos", photos, func(tx *sql.Tx, r *PhotoRecord) error {
		p := &r.Photo
		var taken sql.NullInt64
		if p.TakenAt != nil {
			taken = msOrNull(*p.TakenAt)
		}
		var lat, lng sql.NullFloat64
		if p.ExifLocation != nil {
			lat = sql.NullFloat64{Float64: p.ExifLocation.Lat, Valid: true}
			lng = sql.NullFloat64{Float64: p.ExifLocation.Lng, Valid: true}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO photos (id, owner_id, content_type, width, height, size, sha256, thumb_size, thumb_sha256,
			taken_at, exif_lat, exif_lng, used_by, trace_id, suggest, sent_at, checked_at, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.ID, p.OwnerID, p.ContentType, p.Width, p.Height, p.Size, p.SHA256, r.ThumbSize, r.ThumbSHA256,
			taken, lat, lng, p.UsedBy, p.Moderation.TraceID, p.Moderation.Suggest, msOrNull(r.SentAt), msOrNull(p.Moderation.CheckedAt),
			msOf(p.CreatedAt))
		return err
	})
	if err != nil {
		return err
	}
	ps := db.Photos()
	for i := range photos {
		r := &photos[i]
		if err := os.MkdirAll(ps.shardOf(r.Photo.ID), 0o700); err != nil {
			return photoFileError(err, "create photo directory")
		}
		for _, v := range []struct {
			name string
			data []byte
		}{{VariantFull, r.Full}, {VariantThumb, r.Thumb}} {
			if v.data == nil {
				continue
			}
			path := ps.pathOf(r.Photo.ID, v.name)
			if err := os.WriteFile(path+".tmp", v.data, 0o600); err != nil {
				return photoFileError(err, "write photo file")
			}
			if err := os.Rename(path+".tmp", path); err != nil {
				return photoFileError(err, "write photo file")
			}
		}
	}
	return nil
}

// Sync makes everything written under the store's directory durable (one
// syncfs of its file system): the end of an import's photo files.
// Errors: unavailable, internal.
func (db *DB) Sync() error {
	f, err := os.Open(db.dir)
	if err != nil {
		return photoFileError(err, "sync data directory")
	}
	defer f.Close()
	return photoFileError(unix.Syncfs(int(f.Fd())), "sync data directory")
}

// ImportPhotoTraces stores content checks' trace ids. Errors: conflict,
// unavailable.
func (db *DB) ImportPhotoTraces(ctx context.Context, traces []PhotoTrace) error {
	return importBatch(ctx, db, "photo traces", traces, func(tx *sql.Tx, t *PhotoTrace) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO photo_traces (trace_id, photo_id, at) VALUES (?, ?, ?)", t.TraceID, t.PhotoID, msOf(t.At))
		return err
	})
}

// ImportMediaVerdicts stores verdicts kept for a trace id not yet seen.
// Errors: conflict, unavailable.
func (db *DB) ImportMediaVerdicts(ctx context.Context, verdicts []MediaVerdict) error {
	return importBatch(ctx, db, "media verdicts", verdicts, func(tx *sql.Tx, v *MediaVerdict) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO media_verdicts (trace_id, suggest, at) VALUES (?, ?, ?)", v.TraceID, v.Suggest, msOf(v.At))
		return err
	})
}

// ImportActivities stores activities with their ids. Errors: conflict,
// unavailable.
func (db *DB) ImportActivities(ctx context.Context, acts []model.Activity) error {
	return importBatch(ctx, db, "activities", acts, func(tx *sql.Tx, a *model.Activity) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO activities (id, title, kind, community, starts_at, ends_at, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			a.ID, a.Title, string(a.Kind), a.Community, msOf(a.StartsAt), msOf(a.EndsAt), a.CreatedBy, msOf(a.CreatedAt))
		return err
	})
}

// ImportCheckins stores activity check-ins. Errors: conflict (a member
// checked in twice to one activity), unavailable.
func (db *DB) ImportCheckins(ctx context.Context, checkins []model.Checkin) error {
	return importBatch(ctx, db, "check-ins", checkins, func(tx *sql.Tx, c *model.Checkin) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO activity_checkins ("+checkinColumns+") VALUES (?, ?, ?, ?, ?, ?, ?)",
			c.ActivityID, c.MemberID, string(c.Kind), msOf(c.StartsAt), c.UserID, c.BranchID, msOf(c.At))
		return err
	})
}

// ImportAPIKeys stores Open311 keys (digests only). Errors: conflict,
// unavailable.
func (db *DB) ImportAPIKeys(ctx context.Context, keys []model.APIKey) error {
	return importBatch(ctx, db, "api keys", keys, func(tx *sql.Tx, k *model.APIKey) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO api_keys ("+apiKeyColumns+") VALUES (?, ?, ?, ?, ?, ?)",
			k.ID, k.Name, k.Hash, k.CreatedBy, msOf(k.CreatedAt), msOrNull(k.RevokedAt))
		return err
	})
}

// ImportSubmitters stores what Open311 clients said about who filed
// requests. Errors: conflict (a ticket's submitter twice), unavailable.
func (db *DB) ImportSubmitters(ctx context.Context, subs []model.Open311Submitter) error {
	return importBatch(ctx, db, "open311 submitters", subs, func(tx *sql.Tx, p *model.Open311Submitter) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO open311_submitters (ticket_id, key_id, key_name, email, phone, first_name,
			last_name, device_id, account_id, media_url, address_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.TicketID, p.KeyID, p.KeyName, p.Email, p.Phone, p.FirstName, p.LastName, p.DeviceID, p.AccountID,
			p.MediaURL, p.AddressID, msOf(p.CreatedAt))
		return err
	})
}

// ImportAllowances stores subscribe-message allowances. Errors: conflict,
// unavailable.
func (db *DB) ImportAllowances(ctx context.Context, allowances []Allowance) error {
	return importBatch(ctx, db, "subscriptions", allowances, func(tx *sql.Tx, a *Allowance) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO subscriptions (user_id, template_id, remaining, updated_at) VALUES (?, ?, ?, ?)",
			a.UserID, a.TemplateID, a.Remaining, msOf(a.UpdatedAt))
		return err
	})
}

// ImportNotifications stores the records of subscribe messages. Errors:
// conflict, unavailable.
func (db *DB) ImportNotifications(ctx context.Context, recs []NotificationRecord) error {
	return importBatch(ctx, db, "notifications", recs, func(tx *sql.Tx, n *NotificationRecord) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO notifications (key, status, user_id, template_id, at, finished_at) VALUES (?, ?, ?, ?, ?, ?)",
			n.Key, n.Status, n.UserID, n.TemplateID, msOf(n.At), msOrNull(n.FinishedAt))
		return err
	})
}

// SetTicketRecords gives tickets stored by Tickets.Load the submission
// that created them, so that a retried submission finds its ticket
// (Tickets.ByIdem), and replaces their history with the one given, so that
// the staff view names to whom each dispatch went. Errors: not_found (no
// such ticket), conflict (an idempotency key taken), unavailable.
func (db *DB) SetTicketRecords(ctx context.Context, recs []TicketRecord) error {
	return importBatch(ctx, db, "ticket records", recs, func(tx *sql.Tx, x *TicketRecord) error {
		var rid int64
		err := tx.QueryRowContext(ctx, "SELECT rid FROM tickets WHERE id = ?", x.TicketID).Scan(&rid)
		if errors.Is(err, sql.ErrNoRows) {
			return missing("工单 %s 不存在", x.TicketID)
		}
		if err != nil {
			return err
		}
		if x.Idem != "" {
			if _, err := tx.ExecContext(ctx, "UPDATE tickets SET idem = ? WHERE rid = ?", x.Idem, rid); err != nil {
				return insertConflict(err, nil)
			}
			if _, err := tx.ExecContext(ctx, "UPDATE ticket_docs SET body_hash = ? WHERE rid = ?", x.BodyHash, rid); err != nil {
				return err
			}
		}
		var hist strings.Builder
		for _, v := range x.History {
			hist.WriteString(strconv.FormatInt(v.Version, 10) + ":" + strconv.Itoa(v.Events) + ":" +
				histEscape(v.AssigneeID) + ":" + histEscape(string(v.AssigneeRole)) + ";")
		}
		_, err = tx.ExecContext(ctx, "UPDATE ticket_docs SET hist = ? WHERE rid = ?", hist.String(), rid)
		return err
	})
}

// Counted is what a store holds, by kind: what an import is checked
// against.
type Counted struct {
	Users, Staff, Invites, InvitesUsed, Branches, Workers, PartyMembers, ProfileLinks, PhoneClaims int64
	Categories, Grids, Photos, PhotoFiles, PhotoTraces, MediaVerdicts, Activities, Checkins        int64
	APIKeys, Submitters, Allowances, Notifications, Tickets                                        int64
}

// Count counts what the store holds: rows of each kind, the profiles bound
// to a user (ProfileLinks), the used invites, and the photos' files present
// on disk (PhotoFiles, both variants counted). It reads every table and the
// photo directory: a check after an import, not a request's work. Errors:
// unavailable, internal.
func (db *DB) Count(ctx context.Context) (Counted, error) {
	var c Counted
	for _, q := range []struct {
		n   *int64
		sql string
	}{
		{&c.Users, "SELECT count(*) FROM users"},
		{&c.Staff, "SELECT count(*) FROM staff"},
		{&c.Invites, "SELECT count(*) FROM invites"},
		{&c.InvitesUsed, "SELECT count(*) FROM invites WHERE used_by <> ''"},
		{&c.Branches, "SELECT count(*) FROM branches"},
		{&c.Workers, "SELECT count(*) FROM workers"},
		{&c.PartyMembers, "SELECT count(*) FROM party_members"},
		{&c.ProfileLinks, "SELECT (SELECT count(*) FROM workers WHERE user_id <> '') + (SELECT count(*) FROM party_members WHERE user_id <> '')"},
		{&c.PhoneClaims, "SELECT count(*) FROM phone_claims"},
		{&c.Categories, "SELECT count(*) FROM categories"},
		{&c.Grids, "SELECT count(*) FROM grids"},
		{&c.Photos, "SELECT count(*) FROM photos WHERE gone = 0"},
		{&c.PhotoTraces, "SELECT count(*) FROM photo_traces"},
		{&c.MediaVerdicts, "SELECT count(*) FROM media_verdicts"},
		{&c.Activities, "SELECT count(*) FROM activities"},
		{&c.Checkins, "SELECT count(*) FROM activity_checkins"},
		{&c.APIKeys, "SELECT count(*) FROM api_keys"},
		{&c.Submitters, "SELECT count(*) FROM open311_submitters"},
		{&c.Allowances, "SELECT count(*) FROM subscriptions"},
		{&c.Notifications, "SELECT count(*) FROM notifications"},
		{&c.Tickets, "SELECT count(*) FROM tickets"},
	} {
		if err := db.r.QueryRowContext(ctx, q.sql).Scan(q.n); err != nil {
			return Counted{}, fmt.Errorf("count: %w", translate(err))
		}
	}
	dir := filepath.Join(db.dir, PhotoDir)
	shards, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return Counted{}, photoFileError(err, "count photo files")
	}
	for _, s := range shards {
		files, err := os.ReadDir(filepath.Join(dir, s.Name()))
		if err != nil {
			return Counted{}, photoFileError(err, "count photo files")
		}
		for _, f := range files {
			if ext := filepath.Ext(f.Name()); ext == "."+VariantFull || ext == "."+VariantThumb {
				c.PhotoFiles++
			}
		}
	}
	return c, nil
}

// RollupPeriods returns every period bucket the statistics hold a row of,
// in order: with Stats.Read, all of the figures. Errors: unavailable.
func (db *DB) RollupPeriods(ctx context.Context) ([]string, error) {
	rows, err := db.r.QueryContext(ctx, "SELECT DISTINCT period FROM rollups ORDER BY period")
	if err != nil {
		return nil, fmt.Errorf("rollup periods: %w", translate(err))
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, fmt.Errorf("rollup periods: %w", translate(err))
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("rollup periods: %w", translate(err))
	}
	return out, nil
}
