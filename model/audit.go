package model

import "time"

// AuditAction names what an access-trail entry records.
type AuditAction string

// The access trail's actions (docs/privacy.md, "The access trail").
const (
	// ActionIdentityReveal: a reporter's or caller's identity or phone was
	// shown in full to a staff member.
	ActionIdentityReveal AuditAction = "identity.reveal"
	// ActionExport: a workbook was exported (which filter, how many rows).
	ActionExport AuditAction = "export"
	// ActionPeopleChange: a grid worker, party member, branch or invite was
	// created or changed.
	ActionPeopleChange AuditAction = "people.change"
	// ActionStaffChange: a staff account was created, changed, disabled or
	// had its password set.
	ActionStaffChange AuditAction = "staff.change"
	// ActionKeyIssue and ActionKeyRevoke: an Open311 key was issued or
	// revoked.
	ActionKeyIssue  AuditAction = "key.issue"
	ActionKeyRevoke AuditAction = "key.revoke"
	// ActionPhotoRedact: regions of a photo were blurred.
	ActionPhotoRedact AuditAction = "photo.redact"
	// ActionSettingsChange: a category, the grids or another setting was
	// changed.
	ActionSettingsChange AuditAction = "settings.change"
	// ActionLoginFailed and ActionLoginLocked: a staff login failed; the
	// failures locked the account for the address they came from.
	ActionLoginFailed AuditAction = "login.failed"
	ActionLoginLocked AuditAction = "login.locked"
	// ActionAccountDelete: a resident closed their account (注销); the entry
	// names no one.
	ActionAccountDelete AuditAction = "account.delete"
)

// AuditActions are every action, in the console's order.
var AuditActions = []AuditAction{ActionIdentityReveal, ActionExport, ActionPeopleChange, ActionStaffChange,
	ActionKeyIssue, ActionKeyRevoke, ActionPhotoRedact, ActionSettingsChange, ActionLoginFailed, ActionLoginLocked,
	ActionAccountDelete}

// Valid reports whether a is one of AuditActions.
func (a AuditAction) Valid() bool {
	for _, x := range AuditActions {
		if x == a {
			return true
		}
	}
	return false
}

// Label is the action in Chinese, for the console and the export.
func (a AuditAction) Label() string {
	switch a {
	case ActionIdentityReveal:
		return "查看身份信息"
	case ActionExport:
		return "导出"
	case ActionPeopleChange:
		return "人员变更"
	case ActionStaffChange:
		return "工作人员账号变更"
	case ActionKeyIssue:
		return "签发 Open311 密钥"
	case ActionKeyRevoke:
		return "吊销 Open311 密钥"
	case ActionPhotoRedact:
		return "照片打码"
	case ActionSettingsChange:
		return "设置变更"
	case ActionLoginFailed:
		return "登录失败"
	case ActionLoginLocked:
		return "登录锁定"
	case ActionAccountDelete:
		return "居民注销账号"
	}
	return string(a)
}

// AuditEntry is one record of the access trail: who did what to what, when
// and from which address. Entries are appended, never changed; they go only
// when older than the trail's retention period.
type AuditEntry struct {
	ID string
	At time.Time
	// ActorID and ActorName are the staff account (id, and name or
	// username as it was then); empty for no one (a failed login names the
	// username tried in Target).
	ActorID   string
	ActorName string
	Action    AuditAction
	// Target is what was acted on: a ticket's case number, a person's,
	// account's, key's or photo's id, a username.
	Target string
	// Detail says what in Chinese: the fields revealed, the export's filter
	// and row count, what changed.
	Detail string
	// IP is the client's address as the HTTP edge resolved it
	// (TRUSTED_PROXIES respected).
	IP string
}

// AuditQuery narrows the access trail; empty fields match all. From is
// inclusive, To exclusive.
type AuditQuery struct {
	ActorID  string
	Action   AuditAction
	Target   string
	From, To time.Time
}
