// Package seed fills an empty store with a living demo: a month of a city —
// grids in communities, grid workers and party members in branches bound to
// WeChat users, residents' reports in every status, party members' claims
// and volunteer activities with check-ins. Everything goes through the
// services, in the order it would have happened, with the services' clock
// moved from event to event (the timers fire as the clock passes them), so
// every rule holds and the statistics are counted from the real
// transitions.
package seed

import (
	"bytes"
	"container/heap"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service/catalogue"
	"github.com/citizen-city/chengguantong/service/people"
	"github.com/citizen-city/chengguantong/service/photos"
	"github.com/citizen-city/chengguantong/service/ticket"
)

// Clock is the services' clock during a seed: the seed moves it.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock standing at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now is the clock's time; pass it to the services as their now.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t (never backwards).
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.t) {
		c.t = t
	}
}

// Services are the use cases the seed acts through.
type Services struct {
	Auth       *people.Auth
	People     *people.Directory
	Grids      *catalogue.Grids
	Photos     *photos.Uploads
	Reports    *ticket.Reports
	Screening  *ticket.Screening
	Dispatcher *ticket.Dispatcher
	Tasks      *ticket.Tasks
	Feedback   *ticket.Feedback
	Activities *people.Activities
	// Stats are the store's statistics, which the seed waits to have
	// counted everything it did.
	Stats interface {
		Settle(ctx context.Context) error
	}
	StaffTickets *ticket.StaffTickets
	// Staff is the staff account that dispatches, rejects and creates
	// activities.
	Staff  *model.User
	Logger *slog.Logger
}

// Size is how big a city to make.
type Size struct {
	Grids, Workers, Members, Tickets, Activities int
	// Days is how far back the month reaches from the end.
	Days int
}

// Full is the demo's size: a month of a district.
var Full = Size{Grids: 24, Workers: 36, Members: 18, Tickets: 520, Activities: 8, Days: 30}

// Result counts what the seed made.
type Result struct {
	Grids, Communities, Workers, Members, Branches, Residents, Tickets, Activities, Checkins int
	// ByStatus counts the tickets by their final status.
	ByStatus map[model.Status]int
	// Skipped counts planned steps the tickets' state no longer allowed
	// (a ticket reassigned meanwhile, a claim lost): the simulation does
	// what a real person would, and they sometimes find work gone.
	Skipped int
}

// Start is where the clock of a seed of size ending at end must stand
// when the services are built: before the month begins.
func Start(end time.Time, size Size) time.Time {
	return end.AddDate(0, 0, -size.Days).Add(-2 * time.Hour)
}

// ErrNotEmpty is returned when the store already holds data.
var ErrNotEmpty = errors.New("not empty")

// Run seeds a city of size whose month ends at end, deterministic for a
// given seed. It refuses a store that has grids, workers or tickets
// (ErrNotEmpty, with a message saying what is there).
func Run(ctx context.Context, svc Services, clock *Clock, size Size, end time.Time, seed uint64, progress io.Writer) (*Result, error) {
	if err := checkEmpty(ctx, svc); err != nil {
		return nil, err
	}
	s := &seeder{svc: svc, clock: clock, size: size, end: end, rng: rand.New(rand.NewPCG(seed, seed^0x5eed)), progress: progress,
		res: &Result{ByStatus: map[model.Status]int{}}, users: map[string]*model.User{}}
	if clock.Now().After(Start(end, size)) {
		return nil, fmt.Errorf("seed: the clock stands at %s, after the month's start; make it with NewClock(Start(end, size))", clock.Now())
	}
	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"网格", s.grids}, {"网格员", s.workers}, {"党支部和在职党员", s.members}, {"居民", s.residents},
		{"工单与活动", s.month}, {"统计", s.statistics},
	}
	for _, st := range steps {
		began := time.Now()
		if err := st.fn(ctx); err != nil {
			return s.res, fmt.Errorf("seed %s: %w", st.name, err)
		}
		fmt.Fprintf(progress, "seed-demo: %s 完成，用时 %s\n", st.name, time.Since(began).Round(time.Millisecond))
	}
	return s.res, nil
}

func checkEmpty(ctx context.Context, svc Services) error {
	grids, err := svc.Grids.List(ctx)
	if err != nil {
		return err
	}
	_, _, workers, err := svc.People.ListWorkers(ctx, model.PeopleFilter{}, "", 1)
	if err != nil {
		return err
	}
	tickets, _, err := svc.StaffTickets.Count(ctx, model.TicketQuery{})
	if err != nil {
		return err
	}
	if len(grids) > 0 || workers > 0 || tickets > 0 {
		return fmt.Errorf("%w: 存储中已有 %d 个网格、%d 名网格员、%d 个工单；seed-demo 只填充空的存储，不会改动已有数据。"+
			"请换一个空的 DATA_DIR（嵌入模式）或 MONGODB_DATABASE 再运行", ErrNotEmpty, len(grids), workers, tickets)
	}
	return nil
}

// seeder is one seed's state.
type seeder struct {
	svc      Services
	clock    *Clock
	size     Size
	end      time.Time
	rng      *rand.Rand
	progress io.Writer
	res      *Result

	grid        []cityGrid
	communities []string
	workersOf   map[string][]*model.User // grid code → bound workers
	membersOf   map[string][]*model.User // community → bound members
	allWorkers  []*model.User
	allMembers  []*model.User
	residentsU  []*model.User
	users       map[string]*model.User // by id, the latest state
	photoN      int
	queue       actions
	seq         int
}

// cityGrid is one grid of the lattice.
type cityGrid struct {
	code, name, community string
	minLat, minLng        float64
}

const (
	originLat, originLng = 32.030, 118.760 // south-west corner, WGS-84 (Nanjing, 鼓楼区)
	cellLat, cellLng     = 0.0060, 0.0070  // about 670 m square
)

var communityNames = []string{"幸福里社区", "龙江社区", "凤凰社区", "清凉门社区", "虎踞社区", "宁海路社区", "湖南路社区", "中央门社区",
	"挹江门社区", "热河南路社区", "小市社区", "建宁路社区", "江东社区", "草场门社区", "华侨路社区", "山西路社区"}

var streets = []string{"幸福路", "龙江路", "凤凰西街", "清凉门大街", "虎踞路", "宁海路", "湖南路", "中央路", "挹江门街", "热河南路",
	"小市街", "建宁路", "江东北路", "草场门大街", "华侨路", "山西路"}

var ordinals = []string{"一", "二", "三", "四", "五", "六"}

func (s *seeder) grids(ctx context.Context) error {
	cols := int(math.Ceil(math.Sqrt(float64(s.size.Grids) * 1.5)))
	var features []string
	for i := range s.size.Grids {
		row, col := i/cols, i%cols
		community := communityNames[(i/2)%len(communityNames)]
		if i/2 >= len(communityNames) {
			community = fmt.Sprintf("%s%d", community, i/2/len(communityNames)+1)
		}
		g := cityGrid{
			code: fmt.Sprintf("320106%03d%03d%03d", 1+i/8, 1+i/2, 1+i%2), community: community,
			name:   fmt.Sprintf("%s第%s网格", strings.TrimSuffix(community, "社区"), ordinals[i%2]),
			minLat: originLat + float64(row)*cellLat, minLng: originLng + float64(col)*cellLng,
		}
		s.grid = append(s.grid, g)
		if len(s.communities) == 0 || s.communities[len(s.communities)-1] != community {
			s.communities = append(s.communities, community)
		}
		a, b := g.minLng, g.minLat
		c, d := a+cellLng, b+cellLat
		features = append(features, fmt.Sprintf(`{"type":"Feature","properties":{"code":%q,"name":%q,"community":%q},`+
			`"geometry":{"type":"Polygon","coordinates":[[[%f,%f],[%f,%f],[%f,%f],[%f,%f],[%f,%f]]]}}`,
			g.code, g.name, g.community, a, b, c, b, c, d, a, d, a, b))
	}
	body := `{"type":"FeatureCollection","features":[` + strings.Join(features, ",") + `]}`
	if _, err := s.svc.Grids.Upload(ctx, []byte(body)); err != nil {
		return err
	}
	s.res.Grids, s.res.Communities = len(s.grid), len(s.communities)
	return nil
}

var surnames = []rune("张王李赵刘陈杨黄吴周徐孙马朱胡郭何高林罗郑梁谢宋唐韩冯邓曹彭曾")
var givenNames = []string{"伟", "芳", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超",
	"秀英", "建华", "建国", "志强", "海燕", "晓东", "桂英", "玉兰", "文博", "子涵", "思远", "雨欣", "国庆", "红梅"}

// name returns the i-th name of a deterministic roster.
func name(i int) string {
	return string(surnames[i%len(surnames)]) + givenNames[(i*7+i/len(surnames))%len(givenNames)]
}

// login logs a WeChat user in through the simulator, one address each (the
// per-address login limit is for the public).
func (s *seeder) login(ctx context.Context, code string) (*model.User, error) {
	sess, err := s.svc.Auth.LoginWeChat(ctx, code, "10.77."+code)
	if err != nil {
		return nil, fmt.Errorf("login %s: %w", code, err)
	}
	s.users[sess.User.ID] = sess.User
	return sess.User, nil
}

// bind redeems an invite and goes on duty (or not).
func (s *seeder) bind(ctx context.Context, code, invite string, onDuty bool) (*model.User, error) {
	u, err := s.login(ctx, code)
	if err != nil {
		return nil, err
	}
	if u, err = s.svc.Auth.Bind(ctx, u, invite); err != nil {
		return nil, fmt.Errorf("bind %s: %w", code, err)
	}
	if u, err = s.svc.Auth.SetDuty(ctx, u, onDuty); err != nil {
		return nil, fmt.Errorf("duty %s: %w", code, err)
	}
	s.users[u.ID] = u
	return u, nil
}

func (s *seeder) workers(ctx context.Context) error {
	s.workersOf = map[string][]*model.User{}
	for i := range s.size.Workers {
		g := s.grid[i%len(s.grid)]
		codes := []string{g.code}
		if i >= len(s.grid) && i%3 == 0 && len(s.grid) > 1 {
			codes = append(codes, s.grid[(i+1)%len(s.grid)].code) // some cover a neighbour too
		}
		inv, err := s.svc.People.CreateWorker(ctx, model.Worker{Name: name(i), Phone: fmt.Sprintf("139%08d", 10000+i), GridCodes: codes})
		if err != nil {
			return err
		}
		// A few are off duty; the last grid's only worker is, so that its
		// reports wait for staff and the party members.
		onDuty := i%11 != 5 && !(i == len(s.grid)-1 && s.size.Workers <= len(s.grid)+1)
		u, err := s.bind(ctx, fmt.Sprintf("seed-worker-%d", i), inv.InviteCode, onDuty)
		if err != nil {
			return err
		}
		s.allWorkers = append(s.allWorkers, u)
		for _, c := range codes {
			s.workersOf[c] = append(s.workersOf[c], u)
		}
	}
	// One more, invited but not yet bound: the directory shows it.
	if _, err := s.svc.People.CreateWorker(ctx, model.Worker{Name: "新入职" + name(s.size.Workers), Phone: fmt.Sprintf("139%08d", 10000+s.size.Workers),
		GridCodes: []string{s.grid[0].code}}); err != nil {
		return err
	}
	s.res.Workers = s.size.Workers + 1
	return nil
}

var branchNames = []string{"城管局机关第一党支部", "城管局机关第二党支部", "综合执法大队党支部", "环境卫生管理所党支部", "市政设施管理所党支部"}

func (s *seeder) members(ctx context.Context) error {
	s.membersOf = map[string][]*model.User{}
	nb := min(len(branchNames), max(1, s.size.Members/4))
	var branches []string
	for i := range nb {
		b, err := s.svc.People.CreateBranch(ctx, branchNames[i])
		if err != nil {
			return err
		}
		branches = append(branches, b.ID)
	}
	for i := range s.size.Members {
		communities := []string{s.communities[i%len(s.communities)]}
		if i%2 == 1 && len(s.communities) > 1 {
			communities = append(communities, s.communities[(i+1)%len(s.communities)])
		}
		inv, err := s.svc.People.CreatePartyMember(ctx, model.PartyMember{Name: name(100 + i), Phone: fmt.Sprintf("137%08d", 20000+i),
			BranchID: branches[i%len(branches)], Communities: communities})
		if err != nil {
			return err
		}
		u, err := s.bind(ctx, fmt.Sprintf("seed-member-%d", i), inv.InviteCode, i%5 != 4)
		if err != nil {
			return err
		}
		s.allMembers = append(s.allMembers, u)
		for _, c := range communities {
			s.membersOf[c] = append(s.membersOf[c], u)
		}
	}
	s.res.Members, s.res.Branches = s.size.Members, nb
	return nil
}

func (s *seeder) residents(ctx context.Context) error {
	n := max(3, s.size.Tickets/4)
	for i := range n {
		u, err := s.login(ctx, fmt.Sprintf("seed-resident-%d", i))
		if err != nil {
			return err
		}
		s.residentsU = append(s.residentsU, u)
	}
	s.res.Residents = n
	return nil
}

// photo uploads a small JPEG of u's through the photo service.
func (s *seeder) photo(ctx context.Context, u *model.User) (string, error) {
	s.photoN++
	img := image.NewRGBA(image.Rect(0, 0, 96, 72))
	base := color.RGBA{uint8(60 + s.photoN*37%160), uint8(80 + s.photoN*53%140), uint8(70 + s.photoN*29%150), 255}
	for y := range 72 {
		for x := range 96 {
			img.Set(x, y, color.RGBA{base.R + uint8(x/8), base.G + uint8(y/8), base.B, 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80}); err != nil {
		return "", err
	}
	p, err := s.svc.Photos.Upload(ctx, u, &buf)
	if err != nil {
		return "", fmt.Errorf("photo: %w", err)
	}
	return p.ID, nil
}

// action is one thing that happens at a time.
type action struct {
	at  time.Time
	seq int
	fn  func(ctx context.Context) error
}

type actions []action

func (a actions) Len() int { return len(a) }
func (a actions) Less(i, j int) bool {
	if !a[i].at.Equal(a[j].at) {
		return a[i].at.Before(a[j].at)
	}
	return a[i].seq < a[j].seq
}
func (a actions) Swap(i, j int) { a[i], a[j] = a[j], a[i] }
func (a *actions) Push(x any)   { *a = append(*a, x.(action)) }
func (a *actions) Pop() any {
	old := *a
	x := old[len(old)-1]
	*a = old[:len(old)-1]
	return x
}

// at schedules fn at t; what falls after the month's end does not happen.
func (s *seeder) at(t time.Time, fn func(ctx context.Context) error) {
	if t.After(s.end) {
		return
	}
	s.seq++
	heap.Push(&s.queue, action{at: t, seq: s.seq, fn: fn})
}

// skippable reports whether a step failed because the ticket moved on (it
// was reassigned, claimed, closed) rather than because something broke.
func skippable(err error) bool {
	return errors.Is(err, model.ErrConflict) || errors.Is(err, model.ErrNotFound) || errors.Is(err, model.ErrPermissionDenied)
}

// month plans the month's reports and activities, then lets it happen in
// time order: before each step the clock moves to its time and every timer
// that came due fires (re-assignments, escalations, automatic closing).
func (s *seeder) month(ctx context.Context) error {
	start := s.end.AddDate(0, 0, -s.size.Days)
	// Schedule what is open, as the server does at start-up.
	if _, err := s.svc.Dispatcher.Reconcile(ctx, 0); err != nil {
		return err
	}
	s.planActivities(ctx, start)
	s.planTickets(start)
	done, total := 0, s.queue.Len()
	for s.queue.Len() > 0 {
		a := heap.Pop(&s.queue).(action)
		s.clock.Set(a.at)
		if err := s.fireTimers(ctx); err != nil {
			return err
		}
		if err := a.fn(ctx); err != nil {
			if !skippable(err) {
				return err
			}
			s.res.Skipped++
		}
		if done++; done%500 == 0 {
			fmt.Fprintf(s.progress, "seed-demo: 已模拟 %d 步（共约 %d 步）\n", done, max(total, done))
		}
	}
	s.clock.Set(s.end)
	if err := s.fireTimers(ctx); err != nil {
		return err
	}
	// Photo checks whose verdict never came count as passed, as the
	// server's sweeper does after 30 minutes.
	if _, err := s.svc.Screening.ExpireModeration(ctx, 30*time.Minute); err != nil {
		return err
	}
	return nil
}

func (s *seeder) fireTimers(ctx context.Context) error {
	for {
		n, err := s.svc.Dispatcher.FireDue(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
	}
}

func (s *seeder) statistics(ctx context.Context) error {
	if err := s.svc.Stats.Settle(ctx); err != nil {
		return err
	}
	for _, st := range []model.Status{model.StatusSubmitted, model.StatusRejected, model.StatusPending, model.StatusDispatched,
		model.StatusInProgress, model.StatusDeferred, model.StatusResolved, model.StatusClosed, model.StatusMerged} {
		n, _, err := s.svc.StaffTickets.Count(ctx, model.TicketQuery{Statuses: []model.Status{st}})
		if err != nil {
			return err
		}
		s.res.ByStatus[st] = int(n)
	}
	return nil
}

// pick returns a random element.
func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// between returns a random duration in [a, b).
func between(r *rand.Rand, a, b time.Duration) time.Duration {
	if b <= a {
		return a
	}
	return a + time.Duration(r.Int64N(int64(b-a)))
}
