package model

import (
	"strings"
	"testing"
	"time"
)

// closedByResident is a ticket reported by r1, followed by r2, resolved,
// rated unsatisfied once (返工) and then closed by its reporter.
func closedByResident() *Ticket {
	t := &Ticket{ID: "t9", ReporterID: "r1", Followers: []string{"r2", "r3"}, Category: "0101", Source: SourceWeChat,
		Description: "张三丰家门口井盖丢了，电话 138 1234 5678", Address: "幸福里3栋302室 张三丰", Reporters: 3,
		CreatedAt: t0, RegisteredAt: t0.Add(time.Minute), DueAt: t0.Add(8 * time.Hour), GridCode: "g1", Community: "c1",
		Status: StatusClosed, Version: 9, AssigneeID: worker.ID, AssigneeRole: RoleGridWorker,
		Resolution: &Resolution{Note: "已更换井盖，联系电话13987654321", PhotoIDs: []string{"after"}, ResolvedAt: t0.Add(3 * time.Hour), ResolverID: worker.ID},
		Feedback:   &Feedback{Satisfied: true, Rating: 5, Comment: "谢谢，我是张三丰", At: t0.Add(4 * time.Hour)},
		PhotoIDs:   []string{"p1", "p2"},
	}
	t.Timeline = []Event{
		{At: t0, Type: EventReported, Status: StatusSubmitted, ActorID: "r1", ActorRole: RoleResident},
		{At: t0.Add(time.Minute), Type: EventRegistered, Status: StatusPending},
		{At: t0.Add(2 * time.Minute), Type: EventDispatched, Status: StatusDispatched, AssigneeID: worker.ID},
		{At: t0.Add(3 * time.Hour), Type: EventResolved, Status: StatusResolved, ActorID: worker.ID, ActorRole: RoleGridWorker, ActorName: "张*", Note: "已更换"},
		{At: t0.Add(3 * time.Hour), Type: EventReopened, Status: StatusDispatched, ActorID: "r1", ActorRole: RoleResident, Note: "居民不满意，返工：张三丰说没修好", AssigneeID: worker.ID},
		{At: t0.Add(4 * time.Hour), Type: EventClosed, Status: StatusClosed, ActorID: "r1", ActorRole: RoleResident, AssigneeID: worker.ID},
	}
	return t
}

// TestEraseResident: the resident's links and words go, the counted facts
// stay, and other residents' following stays theirs.
func TestEraseResident(t *testing.T) {
	t.Parallel()
	before := closedByResident()
	after := before.Clone()
	if !after.EraseResident("r1") {
		t.Fatal("EraseResident reported no change")
	}
	if !CountedSame(before, after) {
		t.Errorf("the erasure changed what the statistics count")
	}
	dump := after.Description + after.Address + after.Feedback.Comment + after.ReporterID
	for _, e := range after.Timeline {
		dump += e.ActorID + e.Note
	}
	for _, v := range []string{"r1", "张三丰", "13812345678", "138 1234 5678", "302室"} {
		if strings.Contains(dump, v) {
			t.Errorf("%q left after the erasure: %q", v, dump)
		}
	}
	if len(after.Followers) != 2 || after.Feedback.Rating != 5 || before.ReporterID != "r1" {
		t.Errorf("followers %v, rating %d, original reporter %q: the erasure went too far", after.Followers, after.Feedback.Rating, before.ReporterID)
	}
	// As a follower only the link goes.
	f := before.Clone()
	if !f.EraseResident("r2") || len(f.Followers) != 1 || f.Followers[0] != "r3" || f.Description != before.Description {
		t.Errorf("erasing a follower: %+v", f.Followers)
	}
	if before.Clone().EraseResident("nobody") {
		t.Errorf("erasing a stranger changed the ticket")
	}
}

// TestAnonymise: after the retention period the ticket keeps only what the
// public reads, counts the same, and a second pass changes nothing.
func TestAnonymise(t *testing.T) {
	t.Parallel()
	before := closedByResident()
	before.CallerName, before.CallerPhone = "王五", "13700001111"
	after := before.Clone()
	after.Anonymise()
	if !CountedSame(before, after) {
		t.Errorf("anonymising changed what the statistics count")
	}
	if after.ReporterID != "" || len(after.Followers) != 0 || after.CallerName != "" || after.CallerPhone != "" || after.Feedback.Comment != "" {
		t.Errorf("links left: %+v", after)
	}
	if after.Description != ScrubPublic(before.Description) || after.Address != ScrubPublic(before.Address) {
		t.Errorf("texts %q / %q are not the public ones", after.Description, after.Address)
	}
	if strings.Contains(after.Resolution.Note, "13987654321") || after.Timeline[4].Note != "" || after.Timeline[3].Note != "已更换" {
		t.Errorf("notes: %+v", after.Timeline)
	}
	again := after.Clone()
	again.Anonymise()
	if again.Description != after.Description || again.Resolution.Note != after.Resolution.Note {
		t.Errorf("a second pass changed the ticket")
	}
	// A rewrite that changes a counted fact is not an anonymisation.
	bad := before.Clone()
	bad.Feedback.Rating = 1
	if CountedSame(before, bad) {
		t.Errorf("CountedSame accepted a changed rating")
	}
	bad = before.Clone()
	bad.Timeline[5].ActorRole = RoleStaff
	if CountedSame(before, bad) {
		t.Errorf("CountedSame accepted a closing by staff instead of the resident")
	}
}

// TestCheckPassword holds one message per rule.
func TestCheckPassword(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		pw, user string
		ok       bool
		msg      string
	}{
		{"Short1!", "li", false, "至少 10 个字符"},
		{"alllowercase", "li", false, "至少三类"},
		{"lower-case-only", "li", false, "至少三类"},
		{"Wangwu2026!", "wangwu", false, "不能包含用户名"},
		{strings.Repeat("密", 25), "li", false, "最多 72 字节"},
		{"Tiger-Lily-2026", "li", true, ""},
		{"城管局Secure9", "li", true, ""},
	} {
		err := CheckPassword("password", c.pw, c.user)
		if (err == nil) != c.ok {
			t.Errorf("CheckPassword(%q): %v", c.pw, err)
			continue
		}
		if err != nil && !strings.Contains(err.Error(), c.msg) {
			t.Errorf("CheckPassword(%q) = %v, want a message with %q", c.pw, err, c.msg)
		}
	}
}
