package model

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// Category is a kind of problem residents report, coded in the GB/T 30428
// style: two digits of 大类 (major class) and two of 小类 (minor class).
type Category struct {
	Code  string
	Name  string
	Major string // the 大类's name, e.g. 市容环境
	// SLAHours is the handling time limit (处置时限) in working hours.
	SLAHours int
	// VolunteerSuitable tickets are also offered to on-duty party members.
	VolunteerSuitable bool
	// DuplicateRadiusM is how close a report of the same category must be to
	// an open ticket to be merged into it as a duplicate.
	DuplicateRadiusM int
}

var categoryCode = regexp.MustCompile(`^[0-9]{4}$`)

// Validate checks a category's fields; errors are invalid_argument naming
// the field.
func (c *Category) Validate() error {
	if !categoryCode.MatchString(c.Code) {
		return Invalid("code", "必须是四位数字：两位大类加两位小类，如 0101")
	}
	c.Name = strings.TrimSpace(c.Name)
	if c.Name == "" || utf8.RuneCountInString(c.Name) > 20 {
		return Invalid("name", "必须是 1 到 20 个字")
	}
	if utf8.RuneCountInString(c.Major) > 20 {
		return Invalid("major", "最多 20 个字")
	}
	if c.SLAHours < 1 || c.SLAHours > 2000 {
		return Invalid("sla_hours", "必须在 1 到 2000 个工作小时之间")
	}
	if c.DuplicateRadiusM < 0 || c.DuplicateRadiusM > 500 {
		return Invalid("duplicate_radius_m", "必须在 0 到 500 米之间")
	}
	return nil
}
