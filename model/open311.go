package model

import "time"

// APIKey lets a GeoReport v2 (Open311) client file service requests. Staff
// issue it; the secret is shown once and only its SHA-256 digest is kept.
type APIKey struct {
	ID   string
	Name string // who holds it, as staff wrote it (e.g. 玄武区12345热线)
	// Hash is the hex SHA-256 of the key's secret part.
	Hash      string
	CreatedBy string // the staff user who issued it
	CreatedAt time.Time
	// RevokedAt is set once staff revoke the key; a revoked key is refused.
	RevokedAt time.Time
}

// Revoked reports whether staff have revoked the key.
func (k *APIKey) Revoked() bool { return !k.RevokedAt.IsZero() }

// Open311Submitter is what a GeoReport v2 client sent about the person
// behind a service request and the request's references. It is kept apart
// from the ticket, for staff only, and never published.
type Open311Submitter struct {
	TicketID  string
	KeyID     string
	KeyName   string
	Email     string
	Phone     string
	FirstName string
	LastName  string
	DeviceID  string
	AccountID string
	// MediaURL is the client's reference to a photo elsewhere; stored as
	// given, never fetched.
	MediaURL  string
	AddressID string
	CreatedAt time.Time
}

// PublicQuery selects the tickets a public listing (GeoReport v2 GET
// requests) shows: either by id, or by creation time, category and status.
type PublicQuery struct {
	// IDs, when set, overrides every other filter.
	IDs        []string
	Categories []string
	Statuses   []Status
	// From and To bound created_at, both included.
	From, To time.Time
	Offset   int
	Limit    int
}

// PublicStatuses are the statuses whose tickets may be published: screened
// and registered (or merged into one that was). Submitted tickets are still
// being screened and rejected ones may hold what screening refused.
var PublicStatuses = []Status{StatusPending, StatusDispatched, StatusInProgress, StatusDeferred, StatusResolved, StatusClosed, StatusMerged}
