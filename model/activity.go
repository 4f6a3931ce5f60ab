package model

import "time"

// ActivityKind is the kind of a party members' activity; the seed report
// counts all three together ("各类志愿服务、主题实践、联合执法服务近***次").
type ActivityKind string

// The kinds of activity.
const (
	ActivityVolunteer        ActivityKind = "volunteer"         // 志愿服务
	ActivityTheme            ActivityKind = "theme"             // 主题实践
	ActivityJointEnforcement ActivityKind = "joint_enforcement" // 联合执法
)

// ActivityKinds returns every kind, in the order the bureau's report and the
// Excel export list them.
func ActivityKinds() []ActivityKind {
	return []ActivityKind{ActivityVolunteer, ActivityTheme, ActivityJointEnforcement}
}

// Valid reports whether k is one of the known kinds.
func (k ActivityKind) Valid() bool {
	switch k {
	case ActivityVolunteer, ActivityTheme, ActivityJointEnforcement:
		return true
	}
	return false
}

// Label is the kind's Chinese term (志愿服务, 主题实践, 联合执法), or the raw
// kind when unknown.
func (k ActivityKind) Label() string {
	switch k {
	case ActivityVolunteer:
		return "志愿服务"
	case ActivityTheme:
		return "主题实践"
	case ActivityJointEnforcement:
		return "联合执法"
	}
	return string(k)
}

// Limits of an activity.
const (
	// MaxActivitySpan is the longest an activity may last.
	MaxActivitySpan = 7 * 24 * time.Hour
	// CheckinGrace is how long before the start and after the end party
	// members may still check in.
	CheckinGrace = time.Hour
)

// Activity is a volunteer activity of party members (志愿服务, 主题实践 or
// 联合执法) in a community, created by staff; party members check in to it
// (报到), and each member's check-in is one participation (人次).
type Activity struct {
	ID        string
	Title     string
	Kind      ActivityKind
	Community string
	StartsAt  time.Time
	EndsAt    time.Time
	CreatedBy string // the staff account
	CreatedAt time.Time
	// CancelledAt is when staff cancelled it (zero if not), with the
	// reason: a cancelled activity takes no check-ins and counts nothing.
	CancelledAt  time.Time
	CancelReason string
}

// Cancelled reports whether staff cancelled the activity.
func (a *Activity) Cancelled() bool { return !a.CancelledAt.IsZero() }

// ActivityFilter selects activities for a list; empty fields match all.
type ActivityFilter struct {
	// From and To bound starts_at: [From, To).
	From, To time.Time
	// Communities keeps the activities of these communities.
	Communities []string
	Kind        ActivityKind
	// EndsAfter keeps the activities that end after it (upcoming ones).
	EndsAfter time.Time
	// Live leaves the cancelled ones out.
	Live bool
	// Soonest lists by start, soonest first; else latest first.
	Soonest bool
}

// CheckinOpensAt is the first instant a check-in is accepted.
func (a *Activity) CheckinOpensAt() time.Time { return a.StartsAt.Add(-CheckinGrace) }

// CheckinClosesAt is the last instant a check-in is accepted.
func (a *Activity) CheckinClosesAt() time.Time { return a.EndsAt.Add(CheckinGrace) }

// Checkin is one party member's participation in an activity. A member
// checks in to an activity at most once: the pair (ActivityID, MemberID) is
// unique. Kind and StartsAt are the activity's (a store keeps them as the
// activity has them, an edit of its times included); the statistics count
// a check-in in the period its activity starts in, and never one of a
// cancelled activity.
type Checkin struct {
	ActivityID string
	Kind       ActivityKind
	StartsAt   time.Time
	MemberID   string // the party-member profile
	UserID     string // the WeChat user who checked in
	BranchID   string // the member's branch at check-in time
	At         time.Time
}
