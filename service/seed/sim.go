package seed

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"

	"github.com/citizen-city/chengguantong/geo"
	"github.com/citizen-city/chengguantong/model"
)

// The notes the services write into timelines, as they write them
// (service/ticket: screening.go, dispatch.go, tasks.go, feedback.go,
// hotline.go, staff.go; service/open311): a seeded timeline reads like a
// real one.
const (
	noteHeld              = "内容需人工审核"
	noteRegistered        = "已立案，等待派遣"
	noteDispatched        = "已派遣至网格员处置"
	noteNoGrid            = "所在位置不在任何网格内，等待人工派遣"
	noteNobodyOnDuty      = "网格内暂无在岗网格员，已推送社区在职党员，并等待人工派遣"
	notePooled            = "已同时推送社区在职党员认领"
	noteReassigned        = "超时未接单，重新派遣"
	noteEscalated         = "超过处置时限，已上报督办"
	noteAutoClosed        = "超过评价期限，自动结案"
	noteMerged            = "已有居民反映过此问题，已合并跟进"
	noteRiskyText         = "描述中含有不宜公开的内容，请修改后重新提交"
	noteOpen311Reported   = "经 Open311 接口提交（%s）"
	noteOpen311Registered = "已立案，等待派遣（文字由密钥持有单位负责，未经微信内容安全检测）"
	open311KeyName        = "区数字城管平台"
)

var (
	returnReasons = []string{"不在本人负责的片区，请重新派遣", "需要专业维修队伍处理", "现场找不到反映的位置", "属于其他部门职责"}
	deferReasons  = []string{"需燃气公司配合开挖，等待对方排期", "涉及产权争议，等待街道协调", "需等待天气转好后施工", "需专项资金审批"}
	extReasons    = []string{"需要协调产权单位", "配件需要采购", "需要夜间施工，等待交通部门审批", "工程量较大"}
	urgeNotes     = []string{"群众反映强烈，请尽快处置并反馈", "已超时，请今日内办结", "请加快进度，按时反馈处置结果"}
)

// dup is another resident's report of the same problem: it is created,
// then screened — joined to the ticket if that is open then, else a ticket
// of its own.
type dup struct {
	created, screened time.Time
}

// step is what someone does next to a ticket, and when; the zero step is
// nothing (the ticket waits for a timer, or for ever).
type step struct {
	at time.Time
	do func() error
}

// work is the plan of one round of handling (from accept or claim to
// resolve): when each thing is done, zero when it is not (or done).
type work struct {
	resolve, urge, extend, deferral, reject, decide time.Time
	hours                                           int
	approve                                         bool
}

// sim is one ticket's life, taken step by step with the model's step
// methods on its own clock: the steps people take (planned by plan), the
// timers the server fires (accept timeouts, escalation, automatic
// closing), and other residents' reports of the same problem.
type sim struct {
	g    *gen
	r    *rand.Rand
	t    *model.Ticket
	cat  *category
	grid *Grid // the grid its point lies in; nil outside every grid
	now  time.Time
	// lag is how late after their time the server's timers fire.
	lag time.Duration

	next   *step
	work   work
	dups   []dup
	rounds int // handling rounds so far
	// hold: screening holds it for review; holdFor: nobody has reviewed
	// it by the end.
	hold, holdFor bool
	// once-per-ticket turns already taken
	urged, extended, deferred bool

	out  []*model.Ticket
	subs []*model.Open311Submitter
}

func (s *sim) chance(p float64) bool { return s.r.Float64() < p }

func (s *sim) cal() model.Calendar { return s.g.opt.Workflow.Calendar }

// staffAt is when staff get to something: d of working time from now.
func (s *sim) staffAt(a, b time.Duration) time.Time {
	return addWork(s.cal(), s.now, between(s.r, a, b))
}

func addWork(cal model.Calendar, start time.Time, d time.Duration) time.Time {
	if cal == nil {
		return start.Add(d)
	}
	return cal.Add(start, d)
}

func workBetween(cal model.Calendar, from, to time.Time) time.Duration {
	if !to.After(from) {
		return 0
	}
	if cal == nil {
		return to.Sub(from)
	}
	return cal.Between(from, to)
}

func (s *sim) staff() model.Actor { return s.g.city.Staff }

func (s *sim) sla() model.SLA { return s.cat.sla }

// person is the worker or party member of user id (a bare actor if the
// city does not know them).
func (s *sim) person(id string) model.Actor {
	if p, ok := s.g.people[id]; ok {
		return p.actor()
	}
	return model.Actor{ID: id, Role: s.t.AssigneeRole}
}

func (s *sim) photos(n int) []string {
	ps := s.g.city.Photos
	if len(ps) == 0 {
		return nil
	}
	out := make([]string, 0, n)
	for range n {
		id := ps[s.r.IntN(len(ps))].ID
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// commit takes a transition at at: f's steps, committed as one version.
func (s *sim) commit(at time.Time, f func() error) error {
	s.now = at
	was := s.t.Status
	if err := f(); err != nil {
		return fmt.Errorf("seed ticket %s at %s (%s): %w", s.t.ID, at.Format(time.RFC3339), was, err)
	}
	s.t.Version++
	if s.t.Status == model.StatusInProgress && was != model.StatusInProgress {
		s.newWork()
	}
	return nil
}

// report starts the ticket: created at created, of category c, at a point
// of grid (nil: outside every grid), by the source drawn for it.
func (g *gen) report(r *rand.Rand, created time.Time, c *category, grid *Grid, src model.Source, near *model.Ticket) (*sim, error) {
	s := &sim{g: g, r: r, cat: c, grid: grid, now: created, lag: between(r, time.Second, 40*time.Second)}
	pt := g.point(r, grid)
	if near != nil {
		// A few metres away: screening merges it, or — the first one
		// closed meanwhile — it is routed by where it lies.
		pt = geo.Point{Lat: near.Point.Lat + (r.Float64()-0.5)*0.0002, Lng: near.Point.Lng + (r.Float64()-0.5)*0.0002}
		s.grid = g.locate(pt)
	}
	streets := streetNames[:3]
	if grid != nil {
		streets = grid.streets
	}
	desc, addr := text(r, c.Code, c.Name, streets, g.city.District)
	if near != nil {
		addr = near.Address
	}
	t := &model.Ticket{ID: model.NewID(created), Category: c.Code, Description: desc, Address: addr, Source: src,
		Point: model.Point{Lat: pt.Lat, Lng: pt.Lng}, CreatedAt: created}
	s.t = t
	switch src {
	case model.SourceWeChat, model.SourcePatrol:
		gcj := geo.WGS84ToGCJ02(pt)
		t.Location = model.Location{Lat: gcj.Lat, Lng: gcj.Lng, CoordType: model.CoordGCJ02}
	default:
		t.Location = model.Location{Lat: pt.Lat, Lng: pt.Lng, CoordType: model.CoordWGS84}
	}
	var err error
	switch src {
	case model.SourceWeChat:
		t.ReporterID = g.resident(r, "")
		if near != nil {
			t.ReporterID = g.resident(r, near.ReporterID)
		}
		t.PhotoIDs = s.photos(1 + r.IntN(3))
		err = t.Report(model.Act{At: created, By: model.Actor{ID: t.ReporterID, Role: model.RoleResident}})
	case model.SourcePatrol:
		w := pick(r, g.onDuty[grid.Code])
		t.ReporterID = w.UserID
		t.PhotoIDs = s.photos(1)
		by := model.Actor{ID: w.UserID, Role: model.RoleGridWorker}
		if r.Float64() < 0.35 {
			err = t.ReportHandledOnSite(model.Act{At: created, By: by}, pick(r, resolveNotes), s.photos(1))
		} else {
			err = t.Report(model.Act{At: created, By: by})
		}
	case model.SourceHotline:
		t.Description = "市民来电反映：" + desc
		t.CallerName, t.CallerPhone = name(r.IntN(5000)), fmt.Sprintf("1%d%09d", 3+r.IntN(6), r.IntN(1e9))
		// Reported and registered by the clerk who takes the call, then
		// routed as it is stored.
		if err = t.Report(model.Act{At: created, By: s.staff(), Note: "12345 热线来电"}); err == nil {
			err = t.Register(model.Act{At: created, By: s.staff(), Note: "热线受理，人工立案"}, s.sla())
		}
	case model.SourceOpen311:
		i := r.IntN(5000)
		t.CallerName, t.CallerPhone = name(i), fmt.Sprintf("1%d%09d", 3+r.IntN(6), r.IntN(1e9))
		if err = t.Report(model.Act{At: created, Note: fmt.Sprintf(noteOpen311Reported, open311KeyName)}); err == nil {
			err = t.Register(model.Act{At: created, Note: noteOpen311Registered}, s.sla())
		}
		surname, given := splitName(t.CallerName)
		s.subs = append(s.subs, &model.Open311Submitter{TicketID: t.ID, KeyID: "seed-open311", KeyName: open311KeyName,
			Phone: t.CallerPhone, FirstName: given, LastName: surname, CreatedAt: created})
	}
	if err != nil {
		return nil, fmt.Errorf("seed ticket %s: %w", t.ID, err)
	}
	// Screening: mostly right away, a few still waiting for the staff's
	// review at the end of the history.
	s.holdFor = r.Float64() < 0.05
	return s, nil
}

// splitName splits a roster name into surname and given name.
func splitName(n string) (string, string) {
	r := []rune(n)
	return string(r[:1]), string(r[1:])
}

// run lives the ticket's life up to the end of the history and returns the
// tickets it made (itself, and its duplicates).
func (s *sim) run() error {
	end := s.g.end
	for {
		if s.next == nil {
			st := s.plan()
			s.next = &st
		}
		at, kind := s.next.at, 0
		tAt, fire := s.timer()
		if !tAt.IsZero() && (at.IsZero() || !tAt.After(at)) {
			at, kind = tAt, 1
		}
		if len(s.dups) > 0 && (at.IsZero() || s.dups[0].screened.Before(at)) {
			at, kind = s.dups[0].screened, 2
		}
		if at.IsZero() || at.After(end) {
			break
		}
		switch kind {
		case 0:
			st := s.next
			s.next = nil
			s.now = at
			if err := st.do(); err != nil {
				return err
			}
		case 1:
			status, assignee := s.t.Status, s.t.AssigneeID
			if err := fire(at); err != nil {
				return err
			}
			if s.t.Status != status || s.t.AssigneeID != assignee {
				s.next = nil
			}
		case 2:
			d := s.dups[0]
			s.dups = s.dups[1:]
			if err := s.duplicate(d); err != nil {
				return err
			}
		}
	}
	// Reports of the same problem the ticket was not open for (or that
	// come after it): tickets of their own.
	for _, d := range s.dups {
		if err := s.separate(d); err != nil {
			return err
		}
	}
	s.out = append(s.out, s.t)
	return nil
}

// duplicate joins another resident's report to the ticket if it is open
// and registered when that report is screened, as screening does;
// otherwise the report becomes a ticket of its own.
func (s *sim) duplicate(d dup) error {
	switch s.t.Status {
	case model.StatusPending, model.StatusDispatched, model.StatusInProgress:
	default:
		return s.separate(d)
	}
	o, err := s.g.report(s.r, d.created, s.cat, s.grid, model.SourceWeChat, s.t)
	if err != nil {
		return err
	}
	m := o.t
	if err := m.Merge(model.Act{At: d.screened, Note: noteMerged}, s.t.ID); err != nil {
		return fmt.Errorf("seed ticket %s: %w", m.ID, err)
	}
	m.Version = 1
	s.out = append(s.out, m)
	return s.commit(d.screened, func() error {
		return s.t.Join(model.Act{At: d.screened}, m.ID, m.ReporterID)
	})
}

// separate lives another resident's report as a ticket of its own.
func (s *sim) separate(d dup) error {
	o, err := s.g.report(s.r, d.created, s.cat, s.grid, model.SourceWeChat, s.t)
	if err != nil {
		return err
	}
	o.holdFor = false
	if err := o.run(); err != nil {
		return err
	}
	s.out = append(s.out, o.out...)
	return nil
}

// timer returns the first of the server's timers the ticket has, and how
// to fire it (as ticket.Dispatcher does).
func (s *sim) timer() (time.Time, func(at time.Time) error) {
	t := s.t
	var at time.Time
	var fire func(at time.Time) error
	consider := func(when time.Time, f func(at time.Time) error) {
		if at.IsZero() || when.Before(at) {
			at, fire = when, f
		}
	}
	if t.Status == model.StatusDispatched && !t.AcceptBy.IsZero() && t.AssigneeID != "" {
		consider(t.AcceptBy.Add(s.lag), func(at time.Time) error {
			return s.commit(at, func() error {
				if err := t.Reassign(model.Act{At: at, Note: noteReassigned}, t.AssigneeID); err != nil {
					return err
				}
				return s.route(t.ReturnedBy)
			})
		})
	}
	if model.CanApply(model.EventEscalated, t.Status) && !t.Escalated && !t.DueAt.IsZero() {
		consider(t.DueAt.Add(s.lag), func(at time.Time) error {
			return s.commit(at, func() error { return t.Escalate(model.Act{At: at, Note: noteEscalated}) })
		})
	}
	if w := s.g.opt.Workflow.FeedbackWindow; t.Status == model.StatusResolved && t.Resolution != nil && w > 0 {
		consider(t.Resolution.ResolvedAt.Add(w+s.lag), func(at time.Time) error {
			return s.commit(at, func() error { return t.Close(model.Act{At: at, Note: noteAutoClosed}, w) })
		})
	}
	return at, fire
}

// route is the router's decision for an unrouted ticket (ticket.Router):
// an on-duty worker of its grid other than those in exclude, offered to
// the community's party members too when the category suits volunteers
// or nobody is on duty; the staff's queue outside every grid.
func (s *sim) route(exclude []string) error {
	t := s.t
	if !t.Unrouted() {
		return nil
	}
	if s.grid == nil {
		return t.Route(model.Act{At: s.now, Note: noteNoGrid}, model.Routing{})
	}
	var cands []Person
	for _, p := range s.g.onDuty[s.grid.Code] {
		if !slices.Contains(exclude, p.UserID) {
			cands = append(cands, p)
		}
	}
	to := model.Routing{GridCode: s.grid.Code, Community: s.grid.Community, Pool: s.cat.VolunteerSuitable || len(cands) == 0}
	if len(cands) == 0 {
		return t.Route(model.Act{At: s.now, Note: noteNobodyOnDuty}, to)
	}
	w := pick(s.r, cands)
	to.Assignee, to.AcceptBy = w.actor(), s.now.Add(s.g.opt.Workflow.AcceptTimeout)
	note := noteDispatched
	if to.Assignee.Name != "" {
		note = "已派遣至网格员" + to.Assignee.Name + "处置"
	}
	if to.Pool {
		note += "；" + notePooled
	}
	return t.Route(model.Act{At: s.now, Note: note}, to)
}

// candidate is who staff dispatch a ticket to by hand: an on-duty worker
// of its grid (or of the nearest grid), else a party member of its
// community, else any worker on duty — someone who has not returned it
// if possible.
func (s *sim) candidate() (Person, bool) {
	t := s.t
	free := func(ps []Person) []Person {
		var out []Person
		for _, p := range ps {
			if !slices.Contains(t.ReturnedBy, p.UserID) {
				out = append(out, p)
			}
		}
		return out
	}
	grid := s.grid
	if grid == nil {
		grid = s.g.nearest(t.Point)
	}
	var lists [][]Person
	if grid != nil {
		lists = append(lists, s.g.onDuty[grid.Code], s.g.members[grid.Community])
	}
	lists = append(lists, s.g.anyOnDuty)
	for _, l := range lists {
		if f := free(l); len(f) > 0 {
			return pick(s.r, f), true
		}
	}
	for _, l := range lists {
		if len(l) > 0 {
			return pick(s.r, l), true
		}
	}
	return Person{}, false
}

// claimer is an on-duty party member of the ticket's community.
func (s *sim) claimer() (Person, bool) {
	ms := s.g.members[s.t.Community]
	if len(ms) == 0 {
		return Person{}, false
	}
	return pick(s.r, ms), true
}

// plan decides what people do next to the ticket in its state, and when.
func (s *sim) plan() step {
	t := s.t
	switch t.Status {
	case model.StatusSubmitted:
		return s.planIntake()
	case model.StatusPending:
		if t.Unrouted() {
			return step{s.now.Add(between(s.r, 50*time.Millisecond, time.Second)), func() error {
				return s.commit(s.now, func() error { return s.route(nil) })
			}}
		}
		return s.planQueued()
	case model.StatusDispatched:
		return s.planDispatched()
	case model.StatusInProgress:
		return s.planWork()
	case model.StatusDeferred:
		if !s.chance(0.75) {
			return step{} // still 挂账
		}
		return step{s.now.Add(between(s.r, 20*time.Hour, 20*24*time.Hour)), func() error {
			return s.commit(s.now, func() error {
				return t.Resume(model.Act{At: s.now, By: s.staff(), Note: "恢复办理"}, s.cal())
			})
		}}
	case model.StatusResolved:
		return s.planResolved()
	case model.StatusClosed:
		return s.planRatingChange()
	}
	return step{}
}

// planRatingChange: now and then (one ticket in 25) a resident who rated
// a closed ticket satisfied changes the rating within the day (once, on the
// same side). Decided from the ticket's times, not the shared random source,
// so that the rest of the history is what it would be without it.
func (s *sim) planRatingChange() step {
	t := s.t
	fb := t.Feedback
	if fb == nil || !fb.Satisfied || t.Timeline[len(t.Timeline)-1].Type == model.EventRatingChanged {
		return step{}
	}
	h := fnv.New64a()
	fmt.Fprint(h, t.CreatedAt.UnixNano(), fb.At.UnixNano(), t.Description)
	n := h.Sum64()
	if n%25 != 0 {
		return step{}
	}
	rating := model.SatisfiedRating + int(n/25%uint64(6-model.SatisfiedRating))
	at := fb.At.Add(10*time.Minute + time.Duration(n/100%uint64(20*time.Hour/time.Minute))*time.Minute)
	return step{at, func() error {
		return s.commit(s.now, func() error {
			return t.ChangeRating(model.Act{At: s.now, By: model.Actor{ID: t.ReporterID, Role: model.RoleResident}}, rating, fb.Comment)
		})
	}}
}

// planIntake: screening of a report (立案 and routing, or a hold for
// review, or a rejection), or the staff's review of a held report.
func (s *sim) planIntake() step {
	t := s.t
	if t.Held {
		if s.holdFor {
			return step{} // not reviewed yet
		}
		return step{s.staffAt(10*time.Minute, 4*time.Hour), func() error {
			return s.commit(s.now, func() error {
				if s.chance(0.3) {
					return t.Reject(model.Act{At: s.now, By: s.staff(), Note: "经人工审核，反映内容与城市管理无关"})
				}
				return s.dispatchByHand()
			})
		}}
	}
	return step{t.CreatedAt.Add(between(s.r, 5*time.Second, 90*time.Second)), func() error {
		return s.commit(s.now, func() error {
			if t.Source == model.SourceWeChat {
				switch r := s.r.Float64(); {
				case s.hold:
					return t.Hold(model.Act{At: s.now, Note: noteHeld})
				case r < 0.02:
					return t.Reject(model.Act{At: s.now, Note: noteRiskyText})
				case r < 0.04:
					return t.Hold(model.Act{At: s.now, Note: noteHeld})
				}
			}
			if err := t.Register(model.Act{At: s.now, Note: noteRegistered}, s.sla()); err != nil {
				return err
			}
			if t.SelfHandled && t.Resolution != nil && s.grid != nil {
				by := s.person(t.ReporterID)
				return t.SelfHandle(model.Act{At: s.now, By: by, Note: t.Resolution.Note}, s.grid.Code, s.grid.Community,
					t.Resolution.PhotoIDs, nil)
			}
			return s.route(nil)
		})
	}}
}

// dispatchByHand is the staff's manual dispatch (it registers a held
// report); nobody to dispatch to leaves it as it is.
func (s *sim) dispatchByHand() error {
	p, ok := s.candidate()
	if !ok {
		return nil
	}
	return s.t.Dispatch(model.Act{At: s.now, By: s.staff(), Note: "人工派遣"}, p.actor(), s.now.Add(s.g.opt.Workflow.AcceptTimeout), s.sla())
}

// planQueued: a ticket in the staff's queue is claimed by a party member
// from the pool, dispatched or rejected by staff, or forgotten.
func (s *sim) planQueued() step {
	t := s.t
	if m, ok := s.claimer(); ok && t.Pool && s.chance(0.6) {
		return step{s.now.Add(between(s.r, 5*time.Minute, 90*time.Minute)), func() error {
			return s.commit(s.now, func() error { return t.Claim(model.Act{At: s.now, By: m.actor(), Note: "在职党员认领处置"}) })
		}}
	}
	if s.chance(0.03) {
		return step{} // left in the queue
	}
	reject := 0.04
	if t.GridCode == "" {
		reject = 0.25
	}
	if s.chance(reject) {
		return step{s.staffAt(10*time.Minute, 3*time.Hour), func() error {
			return s.commit(s.now, func() error { return t.Reject(model.Act{At: s.now, By: s.staff(), Note: pick(s.r, staffRejects)}) })
		}}
	}
	return step{s.staffAt(10*time.Minute, 3*time.Hour), func() error { return s.commit(s.now, s.dispatchByHand) }}
}

// planDispatched: a party member claims it from the pool first, or the
// assignee accepts it, returns it, or lets the accept deadline pass.
func (s *sim) planDispatched() step {
	t := s.t
	by := s.person(t.AssigneeID)
	latest := t.AcceptBy.Add(-time.Second)
	before := func(at time.Time) time.Time {
		if !t.AcceptBy.IsZero() && at.After(latest) {
			return latest
		}
		return at
	}
	if m, ok := s.claimer(); ok && t.Pool && s.chance(0.3) {
		return step{before(s.now.Add(between(s.r, 2*time.Minute, 20*time.Minute))), func() error {
			return s.commit(s.now, func() error { return t.Claim(model.Act{At: s.now, By: m.actor(), Note: "在职党员认领处置"}) })
		}}
	}
	switch r := s.r.Float64(); {
	case r < 0.04:
		return step{} // not accepted in time: the timer re-assigns it
	case r < 0.07:
		return step{before(s.now.Add(between(s.r, 4*time.Minute, 20*time.Minute))), func() error {
			return s.commit(s.now, func() error {
				by.Name = "" // the resident sees that it was returned, not by whom
				if err := t.Return(model.Act{At: s.now, By: by, Note: "退回：" + pick(s.r, returnReasons)}, s.g.opt.Workflow.MaxReturns); err != nil {
					return err
				}
				return s.route(t.ReturnedBy)
			})
		}}
	}
	return step{before(s.now.Add(between(s.r, time.Minute, 25*time.Minute))), func() error {
		return s.commit(s.now, func() error { return t.Accept(model.Act{At: s.now, By: by, Note: "已接单，正在处置"}) })
	}}
}

// newWork plans a round of handling as it starts: mostly done within the
// working time left, some late (with a 延期 request now and then), a few
// never; some urged (督办), deferred (挂账) or rejected on the way.
func (s *sim) newWork() {
	t := s.t
	cal := s.cal()
	a := s.now
	sla := time.Duration(s.cat.SLAHours) * time.Hour
	left := workBetween(cal, a, t.DueAt)
	var w work
	late, stuck := false, false
	switch r := s.r.Float64(); {
	case r < 0.07 && s.rounds == 0:
		stuck = true
	case r < 0.20 || left <= 0:
		late = true
		base := t.DueAt
		if base.Before(a) {
			base = a
		}
		w.resolve = addWork(cal, base, between(s.r, sla/10, 2*sla))
	case s.chance(0.35) && a.Add(2*time.Hour).Before(t.DueAt):
		w.resolve = a.Add(between(s.r, 15*time.Minute, 2*time.Hour)) // done on the spot
	default:
		w.resolve = addWork(cal, a, time.Duration(float64(left)*(0.1+0.8*s.r.Float64())))
	}
	if !w.resolve.IsZero() && w.resolve.Before(a.Add(5*time.Minute)) {
		w.resolve = a.Add(between(s.r, 5*time.Minute, 30*time.Minute))
	}
	if late && !s.extended && s.chance(0.3) {
		s.extended = true
		w.extend = a.Add(between(s.r, 10*time.Minute, 90*time.Minute))
		w.hours = min(model.MaxExtensionHours, int(workBetween(cal, t.DueAt, w.resolve)/time.Hour)+1+s.r.IntN(8))
		w.approve = s.chance(0.8)
	}
	urge := 0.03
	if late || stuck {
		urge = 0.35
	}
	if !s.urged && s.chance(urge) {
		s.urged = true
		w.urge = addWork(cal, a, between(s.r, time.Hour, 6*time.Hour))
	}
	if !s.deferred && s.chance(0.025) {
		s.deferred = true
		w.deferral = addWork(cal, a, between(s.r, 30*time.Minute, 4*time.Hour))
	}
	if s.rounds == 0 && s.chance(0.04) {
		// On the spot it is not the bureau's: staff reject it.
		w.reject = addWork(cal, a, between(s.r, time.Hour, 4*time.Hour))
	}
	s.work = w
	s.rounds++
}

// planWork takes the round's next thing to do.
func (s *sim) planWork() step {
	t := s.t
	w := &s.work
	first := func(ts ...*time.Time) *time.Time {
		var best *time.Time
		for _, x := range ts {
			if !x.IsZero() && (best == nil || x.Before(*best)) {
				best = x
			}
		}
		return best
	}
	next := first(&w.resolve, &w.urge, &w.extend, &w.deferral, &w.reject, &w.decide)
	if next == nil {
		return step{}
	}
	at := *next
	*next = time.Time{}
	by := s.person(t.AssigneeID)
	var do func() error
	switch next {
	case &w.resolve:
		do = func() error {
			photos := s.photos(1 + s.r.IntN(2))
			var flags []string
			if len(photos) > 0 && s.chance(0.02) {
				flags = []string{fmt.Sprintf("照片 %s 的拍摄位置距工单位置 %.0f 米，超过 300 米", photos[0], 300+900*s.r.Float64())}
			}
			return t.Resolve(model.Act{At: s.now, By: by, Note: pick(s.r, resolveNotes)}, photos, flags)
		}
	case &w.urge:
		do = func() error { return t.Urge(model.Act{At: s.now, By: s.staff(), Note: pick(s.r, urgeNotes)}) }
	case &w.extend:
		do = func() error {
			if err := t.RequestExtension(model.Act{At: s.now, By: by}, max(1, w.hours), pick(s.r, extReasons)); err != nil {
				return err
			}
			// Staff decide before the work is done (a decision on a
			// resolved ticket is allowed, but not what happens).
			w.decide = s.staffAt(30*time.Minute, 4*time.Hour)
			if !w.resolve.IsZero() && w.decide.After(w.resolve.Add(-time.Minute)) {
				w.decide = maxTime(s.now.Add(time.Minute), w.resolve.Add(-time.Minute))
			}
			return nil
		}
	case &w.decide:
		do = func() error {
			note := "同意延期，请抓紧办理"
			if !w.approve {
				note = "理由不充分，请按原时限办结"
			}
			return t.DecideExtension(model.Act{At: s.now, By: s.staff(), Note: note}, w.approve, s.cal())
		}
	case &w.deferral:
		do = func() error {
			return t.Defer(model.Act{At: s.now, By: s.staff(), Note: "挂账：" + pick(s.r, deferReasons)}, s.cal())
		}
	case &w.reject:
		do = func() error { return t.Reject(model.Act{At: s.now, By: s.staff(), Note: pick(s.r, staffRejects)}) }
	}
	return step{at, func() error { return s.commit(s.now, do) }}
}

// planResolved: the reporter rates the handling (结案, or 返工), or staff
// verify it (核查), or nobody does and the feedback window closes it.
func (s *sim) planResolved() step {
	t := s.t
	window := s.g.opt.Workflow.FeedbackWindow
	switch {
	case t.Source == model.SourceWeChat && t.ReporterID != "" && s.chance(0.7):
		latest := min(48*time.Hour, window-5*time.Minute)
		satisfied := s.chance(0.92)
		if t.Reopens > 0 {
			satisfied = s.chance(0.8)
		}
		return step{s.now.Add(between(s.r, 20*time.Minute, latest)), func() error {
			return s.commit(s.now, func() error {
				act := model.Act{At: s.now, By: model.Actor{ID: t.ReporterID, Role: model.RoleResident}}
				if satisfied {
					act.Note = "居民确认满意，结案"
					return t.Confirm(act, model.Feedback{Satisfied: true, Rating: 4 + s.r.IntN(2), Comment: pick(s.r, happyComments)})
				}
				comment := pick(s.r, unhappyComments)
				act.Note = "居民不满意，返工：" + comment
				if err := t.Reopen(act, model.Feedback{Rating: 1 + s.r.IntN(2), Comment: comment}, s.sla()); err != nil {
					return err
				}
				return s.route(nil)
			})
		}}
	case len(t.PhotoFlags) > 0 || (t.Source != model.SourceWeChat && s.chance(0.6)) || s.chance(0.03):
		fail := 0.06
		if len(t.PhotoFlags) > 0 {
			fail = 0.3
		}
		passed := !s.chance(fail)
		return step{s.staffAt(30*time.Minute, 8*time.Hour), func() error {
			return s.commit(s.now, func() error {
				act := model.Act{At: s.now, By: s.staff(), Note: "核查通过，结案 现场核查，已整改到位"}
				if !passed {
					act.Note = "核查不通过，返工：现场核查发现仍有残留，请返工"
				}
				return t.Verify(act, passed, s.sla())
			})
		}}
	}
	return step{}
}

// point returns a random point inside grid, or outside every grid when
// grid is nil.
func (g *gen) point(r *rand.Rand, grid *Grid) geo.Point {
	if grid != nil {
		b := grid.bound
		for range 100 {
			p := orb.Point{b.Min[0] + r.Float64()*(b.Max[0]-b.Min[0]), b.Min[1] + r.Float64()*(b.Max[1]-b.Min[1])}
			if planar.MultiPolygonContains(grid.Shape, p) {
				return geo.Point{Lat: p[1], Lng: p[0]}
			}
		}
		c := b.Center()
		return geo.Point{Lat: c[1], Lng: c[0]}
	}
	if len(g.city.Grids) == 0 {
		return geo.Point{Lat: originLat + 0.03*r.Float64(), Lng: originLng + 0.03*r.Float64()}
	}
	b := g.city.bound
	dx, dy := (b.Max[0]-b.Min[0])*0.3+0.002, (b.Max[1]-b.Min[1])*0.3+0.002
	for range 100 {
		p := geo.Point{Lat: b.Min[1] - dy + r.Float64()*(b.Max[1]-b.Min[1]+2*dy), Lng: b.Min[0] - dx + r.Float64()*(b.Max[0]-b.Min[0]+2*dx)}
		if _, in := g.city.index.Locate(p); !in {
			return p
		}
	}
	return geo.Point{Lat: b.Min[1] - dy, Lng: b.Min[0] - dx}
}

// locate is the grid p lies in, or nil.
func (g *gen) locate(p geo.Point) *Grid {
	if g.city.index == nil {
		return nil
	}
	code, ok := g.city.index.Locate(p)
	if !ok {
		return nil
	}
	return g.grids[code]
}

// nearest is the grid nearest p within 5 km, or nil.
func (g *gen) nearest(p model.Point) *Grid {
	if g.city.index == nil {
		return nil
	}
	code, _, ok := g.city.index.Nearest(geo.Point{Lat: p.Lat, Lng: p.Lng}, 5000)
	if !ok {
		return nil
	}
	return g.grids[code]
}

// resident picks a reporter other than not: some residents report often,
// most now and then.
func (g *gen) resident(r *rand.Rand, not string) string {
	rs := g.city.Residents
	if len(rs) == 0 {
		return ""
	}
	for range 5 {
		u := r.Float64()
		id := rs[int(float64(len(rs))*math.Pow(u, 2.2))%len(rs)]
		if id != not || len(rs) == 1 {
			return id
		}
	}
	return rs[r.IntN(len(rs))]
}
