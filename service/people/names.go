package people

import (
	"context"
	"sync"
	"time"

	"github.com/citizen-city/chengguantong/model"
)

// UserGetter loads an account.
type UserGetter interface {
	Get(ctx context.Context, id string) (*model.User, error)
}

// MemberGetter loads a party member's profile.
type MemberGetter interface {
	GetPartyMember(ctx context.Context, id string) (*model.PartyMember, error)
}

// WorkerGetter loads grid-worker profiles.
type WorkerGetter interface {
	GetWorker(ctx context.Context, id string) (*model.Worker, error)
}

// Names gives the masked name (张**) a resident may see of the worker or
// party member handling their report.
//
// With Now set, the names it found are kept for NameCacheTTL in this
// instance, so that the steps of one ticket read a worker's user and
// profile once, not at every step: a renamed or unbound worker shows up in
// names at most NameCacheTTL later (names written into a timeline before
// then keep the old one, as they would have a moment earlier). A lookup
// that found no name is not kept.
type Names struct {
	Users   UserGetter
	Workers WorkerGetter
	Members MemberGetter
	// Now, when set, turns on the cache of names.
	Now func() time.Time

	mu    sync.Mutex
	cache map[nameKey]nameEntry
}

// NameCacheTTL is how long Names keeps a name it found.
const NameCacheTTL = time.Minute

// nameCacheMax bounds the cache of names.
const nameCacheMax = 10_000

type nameKey struct {
	user string
	role model.Role
	full bool
}

type nameEntry struct {
	name string
	at   time.Time
}

func (n *Names) cached(k nameKey) (string, bool) {
	if n.Now == nil {
		return "", false
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	e, ok := n.cache[k]
	now := n.Now()
	if !ok || now.Sub(e.at) >= NameCacheTTL || now.Before(e.at) {
		return "", false
	}
	return e.name, true
}

func (n *Names) keep(k nameKey, name string) {
	if n.Now == nil {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cache == nil || len(n.cache) >= nameCacheMax {
		n.cache = map[nameKey]nameEntry{}
	}
	n.cache[k] = nameEntry{name: name, at: n.Now()}
}

// Masked returns the masked name of a user acting in role, or "" when
// unknown; a lookup failure never stops the work.
func (n *Names) Masked(ctx context.Context, userID string, role model.Role) string {
	if n == nil || userID == "" {
		return ""
	}
	k := nameKey{user: userID, role: role}
	if name, ok := n.cached(k); ok {
		return name
	}
	u, err := n.Users.Get(ctx, userID)
	if err != nil {
		return ""
	}
	switch {
	case role == model.RoleGridWorker && u.WorkerID != "":
		if w, err := n.Workers.GetWorker(ctx, u.WorkerID); err == nil {
			name := model.MaskName(w.Name)
			n.keep(k, name)
			return name
		}
	case role == model.RolePartyMember && u.PartyMemberID != "":
		if m, err := n.Members.GetPartyMember(ctx, u.PartyMemberID); err == nil {
			name := model.MaskName(m.Name)
			n.keep(k, name)
			return name
		}
	}
	return ""
}

// Full returns the full name of a worker or party member for staff's
// statistics, or the user id when unknown.
func (n *Names) Full(ctx context.Context, userID string) string {
	if n == nil {
		return userID
	}
	k := nameKey{user: userID, full: true}
	if name, ok := n.cached(k); ok {
		return name
	}
	u, err := n.Users.Get(ctx, userID)
	if err != nil {
		return userID
	}
	if u.WorkerID != "" {
		if w, err := n.Workers.GetWorker(ctx, u.WorkerID); err == nil {
			n.keep(k, w.Name)
			return w.Name
		}
	}
	if u.PartyMemberID != "" {
		if m, err := n.Members.GetPartyMember(ctx, u.PartyMemberID); err == nil {
			n.keep(k, m.Name)
			return m.Name
		}
	}
	return userID
}
