package model

import (
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The staff's roles. Every staff account holds RoleStaff and one or more of
// these; each route says which it needs (least privilege):
//
//   - admin (管理员): staff accounts, the people directory, grids,
//     categories, Open311 keys and the other settings;
//   - dispatcher (派遣员): tickets and every workflow step, hotline intake;
//     no people or keys;
//   - leader (领导): the figures, the ticket lists and maps, read only, with
//     names masked and no phone numbers;
//   - auditor (审计员): the access trail, nothing else.
const (
	RoleAdmin      Role = "admin"
	RoleDispatcher Role = "dispatcher"
	RoleLeader     Role = "leader"
	RoleAuditor    Role = "auditor"
)

// StaffRoles are the roles a staff account may be given, in the console's
// order.
var StaffRoles = []Role{RoleAdmin, RoleDispatcher, RoleLeader, RoleAuditor}

// StaffRole reports whether r is one of StaffRoles.
func (r Role) StaffRole() bool { return slices.Contains(StaffRoles, r) }

func staffRoleLabel(r Role) string {
	switch r {
	case RoleAdmin:
		return "管理员"
	case RoleDispatcher:
		return "派遣员"
	case RoleLeader:
		return "领导"
	case RoleAuditor:
		return "审计员"
	}
	return ""
}

// NormalizeStaffRoles checks the roles an admin gives a staff account and
// returns them in StaffRoles' order, each once, with RoleStaff first (every
// staff account holds it). Errors: invalid_argument naming field (or
// field[i]) for none, or a role that is not a staff role.
func NormalizeStaffRoles(field string, roles []Role) ([]Role, error) {
	if len(roles) == 0 {
		return nil, Invalid(field, "至少选择一个角色：admin（管理员）、dispatcher（派遣员）、leader（领导）、auditor（审计员）")
	}
	for i, r := range roles {
		if r == RoleStaff {
			continue // always held; naming it changes nothing
		}
		if !r.StaffRole() {
			return nil, Invalid(fieldIndex(field, i), "%q 不是工作人员角色；可选 admin、dispatcher、leader、auditor", r)
		}
	}
	out := []Role{RoleStaff}
	for _, r := range StaffRoles {
		if slices.Contains(roles, r) {
			out = append(out, r)
		}
	}
	if len(out) == 1 {
		return nil, Invalid(field, "至少选择一个角色：admin（管理员）、dispatcher（派遣员）、leader（领导）、auditor（审计员）")
	}
	return out, nil
}

func fieldIndex(field string, i int) string { return field + "[" + strconv.Itoa(i) + "]" }

// Password strength: at least MinPasswordRunes characters, at most
// MaxPasswordBytes bytes (what bcrypt reads), of at least three of the four
// kinds (lower-case and upper-case letters, digits, other characters; a
// Chinese character counts as "other").
const (
	MinPasswordRunes = 10
	MaxPasswordBytes = 72
)

// CheckPassword checks a new staff password. Errors: invalid_argument
// naming field, saying what is missing.
func CheckPassword(field, password, username string) error {
	if n := utf8.RuneCountInString(password); n < MinPasswordRunes {
		return Invalid(field, "密码至少 %d 个字符，现在只有 %d 个", MinPasswordRunes, n)
	}
	if len(password) > MaxPasswordBytes {
		return Invalid(field, "密码最多 %d 字节（约 24 个汉字），现在有 %d 字节", MaxPasswordBytes, len(password))
	}
	if !utf8.ValidString(password) {
		return Invalid(field, "密码含有无效的 UTF-8 字节")
	}
	var lower, upper, digit, other bool
	for _, r := range password {
		switch {
		case unicode.IsControl(r):
			return Invalid(field, "密码不能含有控制字符")
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= '0' && r <= '9':
			digit = true
		default:
			other = true
		}
	}
	kinds := 0
	for _, k := range []bool{lower, upper, digit, other} {
		if k {
			kinds++
		}
	}
	if kinds < 3 {
		return Invalid(field, "密码须包含小写字母、大写字母、数字、符号中的至少三类，现在只有 %d 类", kinds)
	}
	if u := strings.ToLower(strings.TrimSpace(username)); len(u) >= 3 && strings.Contains(strings.ToLower(password), u) {
		return Invalid(field, "密码不能包含用户名 %s", username)
	}
	first, _ := utf8.DecodeRuneInString(password)
	if strings.Count(password, string(first)) == utf8.RuneCountInString(password) {
		return Invalid(field, "密码不能由同一个字符重复组成")
	}
	return nil
}

// StaffName checks a staff member's real name (1 to 32 characters).
// Errors: invalid_argument naming field.
func StaffName(field, name string) (string, error) {
	return TrimText(field, name, 32, false, "工作人员的姓名")
}

// ValidUsername reports whether s is a staff username: 3 to 32 letters,
// digits, '.', '_' or '-', starting with a letter.
func ValidUsername(s string) bool {
	if len(s) < 3 || len(s) > 32 {
		return false
	}
	for i, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'):
		default:
			return false
		}
	}
	return true
}
