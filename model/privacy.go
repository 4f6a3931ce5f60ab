package model

import (
	"slices"
	"time"
)

// A ticket's personal data, and what becomes of it (docs/privacy.md):
//
//   - who reported and who follows it: ReporterID, Followers, and the
//     account id of each resident's step in the Timeline;
//   - what the resident wrote: Description, Address, the Feedback's
//     Comment, and the Note of each resident's step (a 返工's note quotes the
//     comment);
//   - a hotline caller's CallerName and CallerPhone;
//   - the resident's photos (PhotoIDs), which the services remove or keep
//     redacted, as the settings say.
//
// Everything the statistics count — status, times, category, grid,
// community, the workflow's steps and who handled them, the rating — stays
// as it is: EraseResident and Anonymise change personal fields only, so
// model.Contribute gives the same before and after (CountedSame), and the
// stores write them without a statistics delta (Tickets' Anonymise).

// ErasedText replaces a description whose author closed their account.
const ErasedText = "（反映人已注销账号，原描述已删除）"

// EraseResident removes from t what the resident userID left in it, for the
// closing of their account (注销): as its reporter, the link, the
// description and the address (the resident's own words go whole; the
// point, category, grid and the city's handling stay), the rating's
// comment, and the account and notes of their steps; as a follower, the
// link. Other residents' following stays theirs. It reports whether t
// changed. The photos are the caller's business (RemovePhotos).
func (t *Ticket) EraseResident(userID string) bool {
	if userID == "" {
		return false
	}
	changed := false
	if t.ReporterID == userID {
		t.ReporterID = ""
		if t.Source == "" || t.Source == SourceWeChat {
			t.Description, t.Address = ErasedText, ""
		}
		if t.Feedback != nil && t.Feedback.Comment != "" {
			t.Feedback.Comment = ""
		}
		changed = true
	}
	if i := slices.Index(t.Followers, userID); i >= 0 {
		t.Followers = slices.Delete(slices.Clone(t.Followers), i, i+1)
		changed = true
	}
	for i := range t.Timeline {
		e := &t.Timeline[i]
		if e.ActorID == userID && e.ActorRole == RoleResident {
			e.ActorID, e.ActorName, e.Note = "", "", ""
			changed = true
		}
	}
	return changed
}

// Anonymise reduces t to what stays after the retention period: no
// reporter, no follower, no caller, no rating comment, no resident's
// notes; the description, the address and every note as the public already
// reads them (ScrubPublic: phone, e-mail and identity numbers masked), so
// that Open311's anonymous view stays the same. The photos are the
// caller's business (RemovePhotos). Applying it twice changes nothing the
// second time.
func (t *Ticket) Anonymise() {
	t.ReporterID = ""
	t.Followers = nil
	t.CallerName, t.CallerPhone = "", ""
	t.Description = ScrubPublic(t.Description)
	t.Address = ScrubPublic(t.Address)
	t.RejectReason = ScrubPublic(t.RejectReason)
	if t.Feedback != nil {
		t.Feedback.Comment = ""
	}
	if r := t.Resolution; r != nil {
		r.Note = ScrubPublic(r.Note)
	}
	if x := t.Extension; x != nil {
		x.Reason, x.Note = ScrubPublic(x.Reason), ScrubPublic(x.Note)
	}
	for i := range t.Timeline {
		e := &t.Timeline[i]
		if e.ActorRole == RoleResident {
			e.ActorID, e.ActorName, e.Note = "", "", ""
			continue
		}
		e.Note = ScrubPublic(e.Note)
	}
}

// RemovePhotos takes the photos of gone out of the ticket's report photos.
func (t *Ticket) RemovePhotos(gone []string) {
	if len(gone) == 0 {
		return
	}
	t.PhotoIDs = slices.DeleteFunc(slices.Clone(t.PhotoIDs), func(id string) bool { return slices.Contains(gone, id) })
}

// CountedSame reports whether after counts in the statistics exactly as
// before does, and is the same ticket in the same state of the workflow:
// what an anonymisation may change. The stores refuse any other rewrite
// without a transition.
func CountedSame(before, after *Ticket) bool {
	if before.ID != after.ID || before.Status != after.Status || before.Version != after.Version ||
		before.AssigneeID != after.AssigneeID || before.GridCode != after.GridCode || before.Category != after.Category ||
		len(before.Timeline) != len(after.Timeline) || !before.CreatedAt.Equal(after.CreatedAt) {
		return false
	}
	if (before.Feedback == nil) != (after.Feedback == nil) ||
		(before.Feedback != nil && (before.Feedback.Rating != after.Feedback.Rating || before.Feedback.Satisfied != after.Feedback.Satisfied)) {
		return false
	}
	return len(Delta(Contribute(before), Contribute(after))) == 0
}

// Clone returns a deep copy of t, so that a rewrite of its personal fields
// leaves the original as it was.
func (t *Ticket) Clone() *Ticket {
	c := *t
	c.PhotoIDs = slices.Clone(t.PhotoIDs)
	c.Followers = slices.Clone(t.Followers)
	c.ReturnedBy = slices.Clone(t.ReturnedBy)
	c.MergedIDs = slices.Clone(t.MergedIDs)
	c.PhotoFlags = slices.Clone(t.PhotoFlags)
	c.Timeline = slices.Clone(t.Timeline)
	if t.Resolution != nil {
		r := *t.Resolution
		r.PhotoIDs = slices.Clone(r.PhotoIDs)
		c.Resolution = &r
	}
	if t.Feedback != nil {
		f := *t.Feedback
		c.Feedback = &f
	}
	if t.Extension != nil {
		x := *t.Extension
		c.Extension = &x
	}
	return &c
}

// Erasure is a ticket that still holds personal data of a closed account:
// its rewrite could not be done at once (the report was still being
// screened, or changed meanwhile), and the privacy job does it later.
type Erasure struct {
	TicketID string
	UserID   string
	At       time.Time
}
