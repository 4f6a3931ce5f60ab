package sqlite

import (
	"encoding/binary"
	"errors"
	"math"
	"time"

	"github.com/citizen-city/chengguantong/model"
)

// A ticket is stored whole in ticket_docs.doc, in a compact binary form of
// its own: a format byte, then every field in a fixed order. Integers are
// varints; times are milliseconds (as MongoDB keeps them), written relative
// to CreatedAt so that a timeline's instants take three or four bytes;
// strings are written once per document and referred to by number after
// (a timeline repeats its actors and statuses), the numbers 0..len(dict)-1
// naming the words of dict, which every document knows.
//
// The encoding is the store's own and changes only by a new format byte
// (decode keeps reading the old ones).

// docFormat1 is the first (and current) format byte.
const docFormat1 = 1

// dict are the words every document refers to by number: statuses, event
// types, roles, sources, coordinate systems, extension states. Append
// only: a stored document's numbers must keep their meaning. (A word the
// model adds later is simply written out in full until it is appended.)
var dict = []string{
	"submitted", "pending", "dispatched", "in_progress", "deferred", "resolved", "closed", "rejected", "merged",
	"reported", "screened", "held", "registered", "rejected", "merged", "joined", "queued", "dispatched",
	"claimed", "accepted", "returned", "reassigned", "escalated", "extension_requested", "extension_approved",
	"extension_denied", "deferred", "resumed", "urged", "resolved", "self_handled", "reopened", "verified",
	"verify_failed", "closed",
	"resident", "grid_worker", "party_member", "staff",
	"wechat", "patrol", "hotline", "open311", "gcj02", "wgs84", "requested", "approved", "denied",
}

var dictIndex = func() map[string]int {
	m := make(map[string]int, len(dict))
	for i, s := range dict {
		if _, dup := m[s]; !dup {
			m[s] = i
		}
	}
	return m
}()

type encoder struct {
	b    []byte
	base int64 // CreatedAt in ms
	seen map[string]int
}

func (e *encoder) uint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) int(v int64)   { e.b = binary.AppendVarint(e.b, v) }
func (e *encoder) bool(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}
func (e *encoder) float(v float64) { e.b = binary.LittleEndian.AppendUint64(e.b, math.Float64bits(v)) }

// str writes s as a reference (n<<1|1) to a word of dict or an earlier
// string of the document, or as its length<<1 and bytes.
func (e *encoder) str(s string) {
	if i, ok := dictIndex[s]; ok {
		e.uint(uint64(i)<<1 | 1)
		return
	}
	if i, ok := e.seen[s]; ok {
		e.uint(uint64(i)<<1 | 1)
		return
	}
	if len(s) >= 4 { // shorter strings cost as much as their reference
		if e.seen == nil {
			e.seen = map[string]int{}
		}
		e.seen[s] = len(dict) + len(e.seen)
	}
	e.uint(uint64(len(s)) << 1)
	e.b = append(e.b, s...)
}

func (e *encoder) strs(ss []string) {
	e.uint(uint64(len(ss)))
	for _, s := range ss {
		e.str(s)
	}
}

// time writes 0 for the zero time, else 1 + zigzag(ms − base).
func (e *encoder) time(t time.Time) {
	if t.IsZero() {
		e.uint(0)
		return
	}
	d := t.UnixMilli() - e.base
	e.uint(uint64(d<<1^(d>>63)) + 1)
}

// encodeTicket encodes t.
func encodeTicket(t *model.Ticket) []byte {
	e := encoder{b: make([]byte, 0, 512)}
	e.b = append(e.b, docFormat1)
	if !t.CreatedAt.IsZero() {
		e.base = t.CreatedAt.UnixMilli()
	}
	e.int(e.base)
	e.bool(t.CreatedAt.IsZero())
	e.str(t.ID)
	e.str(t.CaseNo)
	e.str(t.ReporterID)
	e.str(t.Category)
	e.str(t.Description)
	e.float(t.Location.Lat)
	e.float(t.Location.Lng)
	e.str(string(t.Location.CoordType))
	e.float(t.Point.Lat)
	e.float(t.Point.Lng)
	e.str(t.Address)
	e.strs(t.PhotoIDs)
	e.str(string(sourceOf(t.Source)))
	e.str(string(t.Status))
	e.int(t.Version)
	e.str(t.GridCode)
	e.str(t.Community)
	e.str(t.AssigneeID)
	e.str(string(t.AssigneeRole))
	e.str(t.DuplicateOf)
	e.int(int64(t.Reporters))
	e.strs(t.Followers)
	e.str(t.Queue)
	e.bool(t.Pool)
	e.strs(t.ReturnedBy)
	e.bool(t.Escalated)
	e.time(t.RegisteredAt)
	e.str(t.RejectReason)
	e.bool(t.Held)
	e.strs(t.MergedIDs)
	e.int(int64(t.Returns))
	e.int(int64(t.Reopens))
	e.bool(t.Overdue)
	e.time(t.DueAt)
	e.time(t.AcceptBy)
	if r := t.Resolution; r != nil {
		e.bool(true)
		e.str(r.Note)
		e.strs(r.PhotoIDs)
		e.time(r.ResolvedAt)
		e.str(r.ResolverID)
	} else {
		e.bool(false)
	}
	if f := t.Feedback; f != nil {
		e.bool(true)
		e.bool(f.Satisfied)
		e.int(int64(f.Rating))
		e.str(f.Comment)
		e.time(f.At)
	} else {
		e.bool(false)
	}
	e.uint(uint64(len(t.Timeline)))
	for i := range t.Timeline {
		ev := &t.Timeline[i]
		e.time(ev.At)
		e.str(string(ev.Type))
		e.str(string(ev.Status))
		e.str(ev.ActorID)
		e.str(string(ev.ActorRole))
		e.str(ev.ActorName)
		e.str(ev.Note)
		e.str(ev.AssigneeID)
	}
	if x := t.Extension; x != nil {
		e.bool(true)
		e.str(string(x.Status))
		e.int(int64(x.Hours))
		e.str(x.Reason)
		e.time(x.RequestedAt)
		e.str(x.RequestedBy)
		e.time(x.DecidedAt)
		e.str(x.DecidedBy)
		e.str(x.Note)
	} else {
		e.bool(false)
	}
	e.str(string(t.DeferredFrom))
	e.time(t.DeferredAt)
	e.int(int64(t.DeferredLeft))
	e.int(int64(t.Urges))
	e.int(int64(t.VerifyFails))
	e.bool(t.SelfHandled)
	e.strs(t.PhotoFlags)
	e.str(t.CallerName)
	e.str(t.CallerPhone)
	e.time(t.UpdatedAt)
	return e.b
}

var errBadDoc = errors.New("ticket document: damaged or of an unknown format")

type decoder struct {
	b    []byte
	err  error
	base int64
	seen []string
}

func (d *decoder) uint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) int() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errBadDoc
	}
	d.b = nil
}

func (d *decoder) bool() bool {
	if len(d.b) == 0 {
		d.fail()
		return false
	}
	v := d.b[0] != 0
	d.b = d.b[1:]
	return v
}

func (d *decoder) float() float64 {
	if len(d.b) < 8 {
		d.fail()
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(d.b))
	d.b = d.b[8:]
	return v
}

func (d *decoder) str() string {
	v := d.uint()
	if v&1 == 1 {
		i := int(v >> 1)
		switch {
		case i < len(dict):
			return dict[i]
		case i-len(dict) < len(d.seen):
			return d.seen[i-len(dict)]
		}
		d.fail()
		return ""
	}
	n := int(v >> 1)
	if n > len(d.b) {
		d.fail()
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	if n >= 4 {
		d.seen = append(d.seen, s)
	}
	return s
}

func (d *decoder) strs() []string {
	n := int(d.uint())
	if n == 0 || n > len(d.b) {
		if n > 0 {
			d.fail()
		}
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = d.str()
	}
	return out
}

func (d *decoder) time() time.Time {
	v := d.uint()
	if v == 0 {
		return time.Time{}
	}
	z := v - 1
	delta := int64(z>>1) ^ -int64(z&1)
	return time.UnixMilli(d.base + delta).UTC()
}

// decodeTicket decodes a document encodeTicket wrote.
func decodeTicket(b []byte) (*model.Ticket, error) {
	if len(b) == 0 || b[0] != docFormat1 {
		return nil, errBadDoc
	}
	d := decoder{b: b[1:]}
	t := &model.Ticket{}
	created := d.int()
	d.base = created
	if zero := d.bool(); !zero {
		t.CreatedAt = time.UnixMilli(created).UTC()
	}
	t.ID = d.str()
	t.CaseNo = d.str()
	t.ReporterID = d.str()
	t.Category = d.str()
	t.Description = d.str()
	t.Location.Lat = d.float()
	t.Location.Lng = d.float()
	t.Location.CoordType = model.CoordType(d.str())
	t.Point.Lat = d.float()
	t.Point.Lng = d.float()
	t.Address = d.str()
	t.PhotoIDs = d.strs()
	t.Source = model.Source(d.str())
	t.Status = model.Status(d.str())
	t.Version = d.int()
	t.GridCode = d.str()
	t.Community = d.str()
	t.AssigneeID = d.str()
	t.AssigneeRole = model.Role(d.str())
	t.DuplicateOf = d.str()
	t.Reporters = int(d.int())
	t.Followers = d.strs()
	t.Queue = d.str()
	t.Pool = d.bool()
	t.ReturnedBy = d.strs()
	t.Escalated = d.bool()
	t.RegisteredAt = d.time()
	t.RejectReason = d.str()
	t.Held = d.bool()
	t.MergedIDs = d.strs()
	t.Returns = int(d.int())
	t.Reopens = int(d.int())
	t.Overdue = d.bool()
	t.DueAt = d.time()
	t.AcceptBy = d.time()
	if d.bool() {
		t.Resolution = &model.Resolution{Note: d.str(), PhotoIDs: d.strs(), ResolvedAt: d.time(), ResolverID: d.str()}
	}
	if d.bool() {
		f := &model.Feedback{Satisfied: d.bool()}
		f.Rating = int(d.int())
		f.Comment = d.str()
		f.At = d.time()
		t.Feedback = f
	}
	if n := int(d.uint()); n > 0 {
		if n > len(d.b) {
			return nil, errBadDoc
		}
		t.Timeline = make([]model.Event, n)
		for i := range t.Timeline {
			ev := &t.Timeline[i]
			ev.At = d.time()
			ev.Type = model.EventType(d.str())
			ev.Status = model.Status(d.str())
			ev.ActorID = d.str()
			ev.ActorRole = model.Role(d.str())
			ev.ActorName = d.str()
			ev.Note = d.str()
			ev.AssigneeID = d.str()
		}
	}
	if d.bool() {
		x := &model.Extension{Status: model.ExtensionStatus(d.str())}
		x.Hours = int(d.int())
		x.Reason = d.str()
		x.RequestedAt = d.time()
		x.RequestedBy = d.str()
		x.DecidedAt = d.time()
		x.DecidedBy = d.str()
		x.Note = d.str()
		t.Extension = x
	}
	t.DeferredFrom = model.Status(d.str())
	t.DeferredAt = d.time()
	t.DeferredLeft = time.Duration(d.int())
	t.Urges = int(d.int())
	t.VerifyFails = int(d.int())
	t.SelfHandled = d.bool()
	t.PhotoFlags = d.strs()
	t.CallerName = d.str()
	t.CallerPhone = d.str()
	t.UpdatedAt = d.time()
	if d.err != nil {
		return nil, d.err
	}
	return t, nil
}

// sourceOf is a ticket's source; tickets stored before sources existed are
// residents' WeChat reports.
func sourceOf(s model.Source) model.Source {
	if s == "" {
		return model.SourceWeChat
	}
	return s
}
