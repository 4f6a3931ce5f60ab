package store

import (
	"context"
	"time"

	"github.com/citizen-city/chengguantong/model"
)

// The resources of the bureau's duty of care (docs/privacy.md): staff
// accounts under roles, the access trail, the rewriting of personal data
// (a resident's 注销, the retention period) and the redaction of photos.

// Staff keeps the staff's accounts: who they are, under which roles, and
// the version of their sessions. Users.GetStaff and
// Users.StaffCredentials read the same accounts (with these fields).
type Staff interface {
	// Create stores a new account: u.Username, u.Name and u.Roles (with
	// model.RoleStaff) and the bcrypt hash of its password. It returns the
	// account with its id. Errors: conflict (the username is taken).
	Create(ctx context.Context, u *model.User, hash []byte) (*model.User, error)
	// List returns every staff account, by username.
	List(ctx context.Context) ([]*model.User, error)
	// Update changes what is given (nil: as it is) and returns the account;
	// disabling it raises its session version, ending its sessions.
	// Errors: not_found.
	Update(ctx context.Context, id string, name *string, roles []model.Role, disabled *bool) (*model.User, error)
	// SetPassword sets the account's password hash and raises its session
	// version; seed, when not nil, records the hash of the configured
	// password (ADMIN_PASSWORD) it came from. Errors: not_found.
	SetPassword(ctx context.Context, id string, hash, seed []byte) (*model.User, error)
	// Seed returns the hash SetPassword last recorded as the configured
	// password's (nil if none). Errors: not_found.
	Seed(ctx context.Context, id string) ([]byte, error)
	// EndSessions raises the session version of the account of kind
	// (staff or WeChat) and returns the new version. Errors: not_found.
	EndSessions(ctx context.Context, kind model.UserKind, id string) (int64, error)
}

// Trail is the access trail: append-only (nothing changes an entry), kept
// for the retention period. Every query is served by an index: by actor,
// action or target, each newest first within a time range.
type Trail interface {
	// Append records e and sets its ID. Errors: unavailable.
	Append(ctx context.Context, e *model.AuditEntry) error
	// List returns the entries matching q, newest first, after cursor (the
	// previous page's), and the next cursor ("" at the end). Errors:
	// invalid_argument (a cursor this store did not give).
	List(ctx context.Context, q model.AuditQuery, cursor string, limit int) ([]model.AuditEntry, string, error)
	// Prune removes up to limit entries older than before and returns how
	// many.
	Prune(ctx context.Context, before time.Time, limit int) (int, error)
}

// Privacy rewrites personal data without changing what is counted: a
// ticket's anonymisation, a resident's account, the erasures still to do.
type Privacy interface {
	// Anonymise rewrites the personal fields of a ticket: scrub (which
	// changes personal fields only, model.CountedSame) applied to before
	// gives the new state, written as version before.Version+1 if the
	// stored ticket is still at before.Version — with no statistics delta
	// and no handoff, so the figures stay as they are, and any transition
	// decided on the old state conflicts. An engine that keeps earlier
	// states of the ticket (MongoDB's log of transitions) applies scrub to
	// each. complete marks the ticket anonymised for good (the retention
	// period's work: Expired lists it no more). It returns the new state.
	// Errors: invalid_argument (scrub changed a counted fact), conflict
	// (changed since, or at version 0: a report not yet screened counts
	// nothing yet, and is rewritten after its first transition),
	// not_found.
	Anonymise(ctx context.Context, before *model.Ticket, scrub func(*model.Ticket), complete bool) (*model.Ticket, error)
	// Expired returns the ids of final tickets (closed, rejected, merged)
	// unchanged since before and not anonymised yet, longest unchanged
	// first.
	Expired(ctx context.Context, before time.Time, limit int) ([]string, error)
	// DeleteResident removes a WeChat user's account and everything keyed
	// by it alone: the user and their openid, their subscribe-message
	// allowances and the records of messages sent to them. A second login
	// of the same WeChat user is a new account. Errors: not_found.
	DeleteResident(ctx context.Context, userID string) error
	// DeleteSubmitter removes what an Open311 client said about who filed
	// a ticket (nothing there is no error).
	DeleteSubmitter(ctx context.Context, ticketID string) error
	// QueueErasure records that a ticket still holds personal data of a
	// closed account (a ticket that could not be rewritten at once);
	// Erasures lists them, oldest first; ErasureDone removes one.
	QueueErasure(ctx context.Context, e model.Erasure) error
	Erasures(ctx context.Context, limit int) ([]model.Erasure, error)
	ErasureDone(ctx context.Context, e model.Erasure) error
}

// Redaction keeps the blurred renditions of photos and removes photos and
// originals that must go.
type Redaction interface {
	// Redact makes full and thumb the photo's renditions. The first time,
	// the original full rendition is kept as model.VariantOriginal if
	// keepOriginal, else removed; later redactions keep what there is.
	// Errors: not_found.
	Redact(ctx context.Context, id string, full, thumb model.PhotoFile, keepOriginal bool) (*model.Photo, error)
	// Remove deletes a photo: its row and every file (nothing there is no
	// error).
	Remove(ctx context.Context, id string) error
	// DropOriginal deletes the kept original of a redacted photo (nothing
	// there is no error).
	DropOriginal(ctx context.Context, id string) error
	// Disown clears what links a photo to the person who took it: its
	// owner, the EXIF time and position. Errors: not_found.
	Disown(ctx context.Context, id string) error
	// Owned returns up to limit ids of the photos ownerID uploaded.
	Owned(ctx context.Context, ownerID string, limit int) ([]string, error)
}
