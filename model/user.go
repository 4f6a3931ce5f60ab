package model

import (
	"slices"
	"time"
)

// Role is what a user may do. Every WeChat user is a resident; a bound one is
// also a grid worker and/or a party member. Staff log in with a password.
type Role string

// The roles of the product.
const (
	RoleResident    Role = "resident"
	RoleGridWorker  Role = "grid_worker"
	RolePartyMember Role = "party_member"
	RoleStaff       Role = "staff"
)

// Valid reports whether r is one of the known roles (the staff roles of
// staff.go among them).
func (r Role) Valid() bool {
	switch r {
	case RoleResident, RoleGridWorker, RolePartyMember, RoleStaff:
		return true
	}
	return r.StaffRole()
}

// Label is the role in Chinese, as the console and exports name it.
func (r Role) Label() string {
	switch r {
	case RoleResident:
		return "居民"
	case RoleGridWorker:
		return "网格员"
	case RolePartyMember:
		return "在职党员"
	case RoleStaff:
		return "工作人员"
	}
	if l := staffRoleLabel(r); l != "" {
		return l
	}
	return string(r)
}

// UserKind tells the two kinds of account apart: WeChat users log in with a
// wx.login code, staff with a username and password.
type UserKind string

// The account kinds.
const (
	KindWeChat UserKind = "wechat"
	KindStaff  UserKind = "staff"
)

// User is an account as the rest of the system sees it. A WeChat user's
// OpenID identifies them to WeChat (for subscribe messages and content
// checks); it is never shown to other users. The session_key is not part of
// the model at all: it never leaves the login call.
type User struct {
	ID     string
	Kind   UserKind
	OpenID string // WeChat users only
	// Username is set for staff; Name is a staff member's real name, as
	// the console and the access trail show it.
	Username string
	Name     string
	Roles    []Role
	// Disabled is set on a staff account an admin disabled: it can
	// neither log in nor use a token it holds.
	Disabled bool
	// Sessions is the account's session version: every token carries the
	// version it was issued at, and one of an older version is refused.
	// Signing out, a new password and disabling an account raise it.
	Sessions int64
	// WorkerID and PartyMemberID link a bound WeChat user to the staff-created
	// profile an invite granted.
	WorkerID      string
	PartyMemberID string
	OnDuty        bool
	CreatedAt     time.Time
}

// Has reports whether the user has role r.
func (u *User) Has(r Role) bool { return slices.Contains(u.Roles, r) }

// HasAny reports whether the user has at least one of roles.
func (u *User) HasAny(roles ...Role) bool {
	for _, r := range roles {
		if u.Has(r) {
			return true
		}
	}
	return false
}

// Principal is who is calling, as proven by a verified token.
type Principal struct {
	UserID string
	Kind   UserKind
	// Sessions is the account's session version the token was issued at
	// (see User.Sessions).
	Sessions int64
}

// Session is what a successful login returns to the client.
type Session struct {
	Token     string
	ExpiresAt time.Time
	User      *User
}

// Invite is a single-use, expiring code that binds a WeChat user to a worker
// or party-member profile. Only a hash of the code is stored.
type Invite struct {
	Role      Role
	ProfileID string // the worker or party member the invite is for
	ExpiresAt time.Time
	UsedBy    string
	UsedAt    time.Time
}

// Worker is a grid worker (网格员) profile created by staff. It becomes usable
// when a WeChat user binds to it with the invite code.
type Worker struct {
	ID        string
	Name      string
	Phone     string
	GridCodes []string
	UserID    string
	// Active is false once staff deactivated the profile: out of routing,
	// off duty, its phone free for another worker.
	Active    bool
	CreatedAt time.Time
}

// Branch is a party branch (党支部).
type Branch struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

// PartyMember is an on-duty party member (在职党员) profile, registered (报到)
// to serve one or more residential communities.
type PartyMember struct {
	ID          string
	Name        string
	Phone       string
	BranchID    string
	Communities []string
	UserID      string
	// Active is false once staff deactivated the profile.
	Active    bool
	CreatedAt time.Time
}

// Grid is a 网格: a polygon of the city that one or more grid workers are
// responsible for, within a community. Its geometry lives in the geo
// package's index; Area carries a copy for drawing (the console's map).
type Grid struct {
	Code      string
	Name      string
	Community string
	UpdatedAt time.Time
	// Area is the grid's outline in WGS-84: polygons, each a list of rings
	// (the first the outer boundary, the rest holes), each a closed list of
	// points. Empty when the grid was read without its geometry.
	Area [][][]Point
}

// PeopleFilter narrows staff's people directory; empty fields match all.
type PeopleFilter struct {
	// Grid keeps workers serving this grid code.
	Grid string
	// Community keeps party members serving this community.
	Community string
	// BranchID keeps party members of this branch.
	BranchID string
	// Words must each appear in the name or the phone.
	Words []string
	// Active, when set, keeps active (true) or deactivated (false) profiles.
	Active *bool
}
