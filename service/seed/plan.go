package seed

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service/people"
	"github.com/citizen-city/chengguantong/service/ticket"
)

// kind is a category of the default catalogue with how often residents
// report it and what they write.
type kind struct {
	code   string
	weight int
	texts  []string
}

var kinds = []kind{
	{"0101", 14, []string{"小区门口垃圾桶满了溢出来，好几天没人清运", "路边有人倒了一堆生活垃圾，气味很大", "绿化带里扔了很多塑料袋和饭盒"}},
	{"0102", 8, []string{"人行道上堆了很多建材，行人只能走机动车道", "楼道口堆放杂物和旧家具，影响通行", "店铺把货物堆到了人行道上"}},
	{"0103", 5, []string{"工地门口积了一大片渣土，车一过尘土飞扬", "路口有一堆装修垃圾好多天了"}},
	{"0201", 9, []string{"电线杆和墙上贴满了小广告", "单元门上被贴了开锁、疏通的小广告", "公交站牌上被喷了电话号码"}},
	{"0202", 3, []string{"沿街一块广告牌歪了，风大时晃得厉害", "店招灯箱破损，有掉落的危险"}},
	{"0301", 4, []string{"一楼住户在公共绿地上搭了个棚子", "楼顶有人在加盖彩钢房"}},
	{"0302", 5, []string{"晚上十一点了工地还在施工，噪音很大", "清早六点就开始切割，吵得没法休息"}},
	{"0501", 10, []string{"早市摊贩占了半条马路", "路口有流动摊点卖水果，堵住了盲道", "夜宵摊摆到了人行道上"}},
	{"0502", 9, []string{"共享单车堆在地铁口，挡住了出口", "电动车停满了盲道", "小区门口自行车乱停，消防通道被堵"}},
	{"0503", 8, []string{"有车长期停在消防通道上", "人行道上停了好几辆小汽车", "路口违停的车挡住了视线"}},
	{"1101", 6, []string{"人行道上的井盖缺了一块，晚上很危险", "雨水井盖松动，车压过去哐哐响"}},
	{"1102", 7, []string{"这一段路灯全都不亮，晚上漆黑一片", "路灯白天一直亮着", "路灯杆被撞歪了"}},
	{"1201", 6, []string{"路面有个大坑，电动车容易摔", "人行道地砖翘起好几块，老人差点绊倒"}},
	{"1301", 6, []string{"绿地被人踩出了一条路，草都死了", "行道树的树枝折断挂在半空", "花坛里的花被人拔了"}},
}

var volunteerKinds = map[string]bool{"0101": true, "0102": true, "0201": true, "0502": true, "1301": true}

var slaHours = map[string]float64{"0101": 4, "0102": 8, "0103": 8, "0201": 8, "0202": 40, "0301": 40, "0302": 8,
	"0501": 4, "0502": 4, "0503": 4, "1101": 2, "1102": 24, "1201": 24, "1301": 16}

var resolveNotes = []string{"已到场处理完毕，现场已恢复", "已联系责任单位整改到位", "已清理干净并告知周边商户", "已修复，现场拍照留存",
	"已劝离并做好宣传教育", "已协调物业共同处置"}

// plan is what is meant to happen to one report; what does happen depends
// on the ticket's state when each step comes.
type plan struct {
	id       string
	kind     kind
	resident *model.User
	// claim: a party member claims it from the pool; neverAccept: the first
	// assignee lets it time out; returnOnce: the first assignee returns it;
	// reject: staff reject it once registered; slow: handled after the
	// deadline; rated: the resident rates it; unhappy: the first rating is
	// 不满意 (返工).
	claim, neverAccept, returnOnce, reject, slow, rated, unhappy bool
	// lingering: reported in the last hour, nobody has got to it yet.
	lingering bool
	// The workflow's branches: urge (督办), deferral (挂账, resumed or
	// not), an extension request (延期), a failed verification (核查).
	urge, deferral, resume, extension, verifyFail bool
	// patrol: a grid worker's 巡查上报 (selfHandled: handled on the spot);
	// worker is the patrolling worker.
	patrol, selfHandled, hotline bool
	worker                       *model.User
	// Progress flags, so that each turn happens once.
	timedOut, returned, staffActed, reworked, verified bool
}

func (s *seeder) chance(p float64) bool { return s.rng.Float64() < p }

func (s *seeder) pickKind() kind {
	total := 0
	for _, k := range kinds {
		total += k.weight
	}
	n := s.rng.IntN(total)
	for _, k := range kinds {
		if n -= k.weight; n < 0 {
			return k
		}
	}
	return kinds[0]
}

// reportTime returns a time of the month weighted to the day (07–21 CST).
func (s *seeder) reportTime(start time.Time) time.Time {
	span := s.end.Add(-50 * time.Minute).Sub(start)
	for {
		t := start.Add(time.Duration(s.rng.Int64N(int64(span))))
		h := t.In(model.ChinaTime()).Hour()
		if (h >= 7 && h < 21) || s.chance(0.15) {
			return t
		}
	}
}

// point returns a random WGS-84 point in grid g.
func (s *seeder) point(g cityGrid) (float64, float64) {
	return g.minLat + cellLat*(0.05+0.9*s.rng.Float64()), g.minLng + cellLng*(0.05+0.9*s.rng.Float64())
}

func (s *seeder) planTickets(start time.Time) {
	n := s.size.Tickets
	recent := max(3, n/50) // the last ones, still being dispatched and handled
	for i := range n {
		t := s.reportTime(start)
		if i >= n-recent {
			t = s.end.Add(-time.Duration(5+s.rng.IntN(40)) * time.Minute)
		}
		p := &plan{kind: s.pickKind(), resident: pick(s.rng, s.residentsU), lingering: i >= n-recent && i%2 == 0}
		p.claim = volunteerKinds[p.kind.code] && s.chance(0.4)
		p.neverAccept = s.chance(0.05)
		p.returnOnce = s.chance(0.04)
		p.reject = s.chance(0.02)
		p.slow = s.chance(0.15)
		p.rated = s.chance(0.75)
		p.unhappy = s.chance(0.1)
		p.urge = s.chance(0.05)
		// One in forty is put on hold (挂账) while in progress: half of
		// those are resumed a day or three later, half still wait.
		p.deferral, p.resume = i%40 == 7 || i%40 == 27, i%40 == 27
		p.extension = s.chance(0.03)
		p.verifyFail = s.chance(0.03)
		g := pick(s.rng, s.grid)
		lat, lng := s.point(g)
		text := pick(s.rng, p.kind.texts)
		addr := fmt.Sprintf("南京市鼓楼区%s%d号附近", pick(s.rng, streets), 1+s.rng.IntN(300))
		switch r := s.rng.Float64(); {
		case i == n-3:
			p.lingering, p.claim = true, false // dispatched, not yet accepted
		case i == n-1 || i == n-2:
			p.lingering = true // the newest are still on their way
			if i == n-1 {
				text += "（图片内容待审核）"
			} else {
				lat, lng = originLat-0.03, originLng-0.03
			}
		case r < 0.06:
			// A 12345 hotline call, entered by staff.
			caller := name(300 + i)
			s.at(t, func(ctx context.Context) error { return s.call(ctx, p, text, addr, caller, lat, lng) })
			continue
		case r < 0.12 && len(s.workersOf[g.code]) > 0:
			// A grid worker's patrol finds it; a third handled on the spot.
			p.patrol, p.selfHandled, p.worker = true, s.chance(0.35), pick(s.rng, s.workersOf[g.code])
		case r < 0.15:
			lat, lng = originLat-0.03, originLng-0.03 // outside every grid: the staff's queue
		case r < 0.17:
			text = "小区里有人聚众赌博，影响很坏" // screening rejects it (risky text)
		case r < 0.18:
			text += "（图片内容待审核）" // screening holds it for staff (review)
		case r < 0.23 && !t.After(s.end.Add(-3*time.Hour)):
			// Another resident reports the same problem a little later:
			// a duplicate that joins this ticket.
			p.slow = true
			dup := &plan{kind: p.kind, resident: pick(s.rng, s.residentsU)}
			at := t.Add(between(s.rng, 20*time.Minute, 2*time.Hour))
			dlat, dlng := lat+0.00002, lng-0.00002
			s.at(at, func(ctx context.Context) error { return s.submit(ctx, dup, text, addr, dlat, dlng) })
		}
		s.at(t, func(ctx context.Context) error { return s.submit(ctx, p, text, addr, lat, lng) })
	}
}

// submit files a report as its resident would: a photo, then the report.
func (s *seeder) submit(ctx context.Context, p *plan, text, addr string, lat, lng float64) error {
	reporter := p.resident
	in := ticket.ReportInput{Category: p.kind.code, Description: text, Address: addr,
		Location: model.Location{Lat: lat, Lng: lng, CoordType: model.CoordWGS84}}
	if p.patrol {
		reporter, in.Source, p.rated = p.worker, model.SourcePatrol, false
		if p.selfHandled {
			after, err := s.photo(ctx, reporter)
			if err != nil {
				return err
			}
			in.SelfHandled, in.Resolution = true, &ticket.ResolutionInput{Note: pick(s.rng, resolveNotes), PhotoIDs: []string{after}}
		}
	}
	photo, err := s.photo(ctx, reporter)
	if err != nil {
		return err
	}
	in.PhotoIDs = []string{photo}
	t, err := s.svc.Reports.Submit(ctx, reporter, in)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	p.id = t.ID
	s.res.Tickets++
	s.at(s.clock.Now().Add(between(s.rng, 20*time.Second, 3*time.Minute)), func(ctx context.Context) error {
		if err := s.svc.Screening.Handle(ctx, p.id); err != nil {
			return err
		}
		return s.advance(ctx, p)
	})
	return nil
}

// call records a hotline case as the clerk who took the call does.
func (s *seeder) call(ctx context.Context, p *plan, text, addr, caller string, lat, lng float64) error {
	t, err := s.svc.Tasks.TakeCall(ctx, s.svc.Staff, ticket.HotlineInput{
		Category: p.kind.code, Description: "市民来电反映：" + text, Address: addr, Source: model.SourceHotline,
		Location: model.Location{Lat: lat, Lng: lng, CoordType: model.CoordWGS84}, CallerName: caller,
		CallerPhone: fmt.Sprintf("138%08d", 30000000+s.rng.IntN(60000000)),
	})
	if err != nil {
		return fmt.Errorf("hotline: %w", err)
	}
	p.id, p.rated, p.hotline = t.ID, false, true // the caller is not in the mini-program to rate it
	s.res.Tickets++
	return s.advance(ctx, p)
}

// then schedules the next step of p after d, and advances after it.
func (s *seeder) then(p *plan, d time.Duration, step func(ctx context.Context, t *model.Ticket) error) {
	s.at(s.clock.Now().Add(d), func(ctx context.Context) error {
		t, err := s.svc.Reports.Get(ctx, s.svc.Staff, p.id)
		if err != nil {
			return err
		}
		if err := step(ctx, t); err != nil {
			if !skippable(err) {
				return err
			}
			s.res.Skipped++
		}
		return s.advance(ctx, p)
	})
}

// advance looks at the ticket and schedules what its people do next.
func (s *seeder) advance(ctx context.Context, p *plan) error {
	t, err := s.svc.Reports.Get(ctx, s.svc.Staff, p.id)
	if err != nil {
		return err
	}
	switch {
	case t.Status.Final():
		return nil
	case p.lingering && t.Status != model.StatusSubmitted:
		return nil
	case t.Status == model.StatusSubmitted && t.Held && !p.staffActed:
		// Staff review what screening held: most are fine.
		p.staffActed = true
		if s.chance(0.25) {
			return nil // still waiting for review at the month's end
		}
		s.then(p, between(s.rng, 30*time.Minute, 4*time.Hour), func(ctx context.Context, t *model.Ticket) error {
			if s.chance(0.25) {
				_, err := s.svc.Tasks.Reject(ctx, s.svc.Staff, t.ID, "经人工审核，反映内容与城市管理无关")
				return err
			}
			return s.staffDispatch(ctx, t)
		})
	case t.Status == model.StatusPending && p.claim && t.Pool && s.onDutyMember(t.Community) != nil:
		p.claim = false
		s.then(p, between(s.rng, 3*time.Minute, 40*time.Minute), s.memberClaim)
	case t.Status == model.StatusPending && t.Queue == model.QueueStaff && !p.staffActed:
		p.staffActed = true
		if s.chance(0.2) {
			return nil // left for the clerk on duty now
		}
		s.then(p, between(s.rng, 20*time.Minute, 3*time.Hour), s.staffDispatch)
	case t.Status == model.StatusDeferred && p.resume:
		p.resume = false
		s.then(p, between(s.rng, 20*time.Hour, 72*time.Hour), func(ctx context.Context, t *model.Ticket) error {
			_, err := s.svc.Tasks.Resume(ctx, s.svc.Staff, t.ID)
			return err
		})
	case t.Status == model.StatusDeferred:
		return nil // still 挂账 at the month's end
	case t.Status == model.StatusInProgress && p.deferral:
		p.deferral = false
		s.then(p, between(s.rng, 30*time.Minute, 3*time.Hour), func(ctx context.Context, t *model.Ticket) error {
			_, err := s.svc.Tasks.Defer(ctx, s.svc.Staff, t.ID, "需燃气公司配合开挖，等待对方排期")
			return err
		})
	case t.Status == model.StatusInProgress && p.extension:
		p.extension = false
		s.then(p, between(s.rng, 20*time.Minute, 2*time.Hour), func(ctx context.Context, t *model.Ticket) error {
			if _, err := s.svc.Tasks.RequestExtension(ctx, s.user(t.AssigneeID), t.ID, 24, "需要协调产权单位，申请延期一天"); err != nil {
				return err
			}
			approve := s.chance(0.8)
			s.at(s.clock.Now().Add(between(s.rng, 30*time.Minute, 4*time.Hour)), func(ctx context.Context) error {
				_, err := s.svc.Tasks.DecideExtension(ctx, s.svc.Staff, t.ID, approve, "同意延期，请抓紧办理")
				if err != nil && skippable(err) {
					s.res.Skipped++
					return nil
				}
				return err
			})
			return nil
		})
	case (t.Status == model.StatusDispatched || t.Status == model.StatusInProgress) && p.urge:
		p.urge = false
		s.then(p, between(s.rng, time.Hour, 6*time.Hour), func(ctx context.Context, t *model.Ticket) error {
			_, err := s.svc.Tasks.Urge(ctx, s.svc.Staff, t.ID, "群众反映强烈，请尽快处置并反馈")
			return err
		})
	case t.Status == model.StatusResolved && (p.patrol || p.hotline || p.verifyFail) && !p.verified:
		// Staff verify (核查) patrol cases, hotline cases and some others.
		p.verified = true
		s.then(p, between(s.rng, time.Hour, 8*time.Hour), func(ctx context.Context, t *model.Ticket) error {
			passed := !p.verifyFail
			note := "现场核查，已整改到位"
			if !passed {
				note = "现场核查发现仍有残留，请返工"
			}
			_, err := s.svc.Tasks.Verify(ctx, s.svc.Staff, t.ID, &passed, note)
			if !passed {
				p.verifyFail, p.verified = false, false
			}
			return err
		})
	case t.Status == model.StatusDispatched && p.reject:
		p.reject = false
		s.then(p, between(s.rng, 30*time.Minute, 2*time.Hour), func(ctx context.Context, t *model.Ticket) error {
			_, err := s.svc.Tasks.Reject(ctx, s.svc.Staff, t.ID, "经核实属于物业管理范围，已告知居民联系物业处理")
			return err
		})
	case t.Status == model.StatusDispatched && p.claim && t.Pool && s.onDutyMember(t.Community) != nil:
		p.claim = false
		s.then(p, between(s.rng, 2*time.Minute, 10*time.Minute), s.memberClaim)
	case t.Status == model.StatusDispatched && p.neverAccept && !p.timedOut:
		// Nobody answers: the accept timer re-assigns it.
		p.timedOut = true
		s.then(p, t.AcceptBy.Sub(s.clock.Now())+time.Minute, func(context.Context, *model.Ticket) error { return nil })
	case t.Status == model.StatusDispatched && p.returnOnce && !p.returned:
		p.returned = true
		s.then(p, between(s.rng, 4*time.Minute, 20*time.Minute), func(ctx context.Context, t *model.Ticket) error {
			_, err := s.svc.Tasks.Return(ctx, s.user(t.AssigneeID), t.ID, "不在本人负责的片区，请重新派遣")
			return err
		})
	case t.Status == model.StatusDispatched:
		s.then(p, between(s.rng, 3*time.Minute, 25*time.Minute), func(ctx context.Context, t *model.Ticket) error {
			_, err := s.svc.Tasks.Accept(ctx, s.user(t.AssigneeID), t.ID)
			return err
		})
	case t.Status == model.StatusInProgress:
		s.then(p, s.handlingTime(p), func(ctx context.Context, t *model.Ticket) error {
			u := s.user(t.AssigneeID)
			photo, err := s.photo(ctx, u)
			if err != nil {
				return err
			}
			_, err = s.svc.Tasks.Resolve(ctx, u, t.ID, pick(s.rng, resolveNotes), []string{photo})
			return err
		})
	case t.Status == model.StatusResolved && p.rated:
		p.rated = p.unhappy && !p.reworked // a reworked ticket is rated again
		s.then(p, between(s.rng, time.Hour, 48*time.Hour), func(ctx context.Context, t *model.Ticket) error {
			happy := !p.unhappy || p.reworked
			p.reworked = true
			in := ticket.FeedbackInput{Satisfied: &happy, Rating: 4 + s.rng.IntN(2), Comment: "处理很及时，谢谢"}
			if !happy {
				in.Rating, in.Comment = 1+s.rng.IntN(2), "问题没有解决，还是老样子"
			}
			_, err := s.svc.Feedback.Give(ctx, p.resident, t.ID, in)
			return err
		})
	}
	return nil
}

// handlingTime is how long the assignee takes: mostly within the
// category's limit, sometimes well past it.
func (s *seeder) handlingTime(p *plan) time.Duration {
	h := time.Duration(slaHours[p.kind.code] * float64(time.Hour))
	if p.slow {
		return between(s.rng, h, 3*h+6*time.Hour)
	}
	return between(s.rng, 20*time.Minute, max(h*8/10, 30*time.Minute))
}

func (s *seeder) user(id string) *model.User {
	if u := s.users[id]; u != nil {
		return u
	}
	return &model.User{ID: id}
}

// onDutyMember returns an on-duty party member serving community, or nil.
func (s *seeder) onDutyMember(community string) *model.User {
	var on []*model.User
	for _, u := range s.membersOf[community] {
		if u.OnDuty {
			on = append(on, u)
		}
	}
	if len(on) == 0 {
		return nil
	}
	return pick(s.rng, on)
}

func (s *seeder) memberClaim(ctx context.Context, t *model.Ticket) error {
	u := s.onDutyMember(t.Community)
	if u == nil {
		return nil
	}
	_, err := s.svc.Tasks.Claim(ctx, u, t.ID)
	return err
}

// staffDispatch dispatches by hand to the best candidate on duty, by the
// people directory's id, as a clerk does in the console.
func (s *seeder) staffDispatch(ctx context.Context, t *model.Ticket) error {
	cands, err := s.svc.StaffTickets.Candidates(ctx, t.ID)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(cands, func(c ticket.Candidate) bool { return c.OnDuty })
	if i < 0 {
		return nil
	}
	_, err = s.svc.StaffTickets.Dispatch(ctx, s.svc.Staff, t.ID, ticket.DispatchInput{AssigneeID: cands[i].ID})
	return err
}

var activityKinds = []struct{ kind, title string }{
	{"volunteer", "环境整治志愿服务"}, {"theme", "“党建引领·美丽家园”主题实践"}, {"joint_enforcement", "占道经营联合执法"},
	{"volunteer", "文明养犬宣传志愿服务"}, {"theme", "垃圾分类主题宣传"}, {"joint_enforcement", "违停整治联合行动"},
}

// planActivities schedules the month's activities and their check-ins.
func (s *seeder) planActivities(ctx context.Context, start time.Time) {
	for i := range s.size.Activities {
		k := activityKinds[i%len(activityKinds)]
		community := s.communities[(i*3)%len(s.communities)]
		day := start.Add(time.Duration(1+i*(s.size.Days-1)/max(1, s.size.Activities)) * 24 * time.Hour).In(model.ChinaTime())
		begins := time.Date(day.Year(), day.Month(), day.Day(), 9+5*(i%2), 30, 0, 0, model.ChinaTime())
		ends := begins.Add(time.Duration(2+i%2) * time.Hour)
		if ends.After(s.end) {
			continue
		}
		in := people.ActivityInput{Title: trimTitle(communityShort(community) + k.title), Kind: k.kind, Community: community,
			StartsAt: begins.Format(time.RFC3339), EndsAt: ends.Format(time.RFC3339)}
		s.at(maxTime(start, begins.Add(-48*time.Hour)), func(ctx context.Context) error {
			a, err := s.svc.Activities.Create(ctx, s.svc.Staff, in)
			if err != nil {
				return err
			}
			s.res.Activities++
			attendees := append(slices.Clone(s.membersOf[community]), s.allMembers...)
			n := min(len(attendees), 3+s.rng.IntN(6))
			seen := map[string]bool{}
			for _, u := range attendees {
				if n == 0 {
					break
				}
				if seen[u.ID] {
					continue
				}
				seen[u.ID] = true
				n--
				s.at(begins.Add(between(s.rng, -20*time.Minute, 40*time.Minute)), func(ctx context.Context) error {
					if _, first, err := s.svc.Activities.CheckIn(ctx, u, a.ID); err != nil {
						return err
					} else if first {
						s.res.Checkins++
					}
					return nil
				})
			}
			return nil
		})
	}
}

func communityShort(c string) string {
	r := []rune(c)
	if len(r) > 2 && string(r[len(r)-2:]) == "社区" {
		return string(r[:len(r)-2])
	}
	return c
}

func trimTitle(s string) string {
	r := []rune(s)
	if len(r) > 50 {
		return string(r[:50])
	}
	return s
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
