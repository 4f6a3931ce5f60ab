package seed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/citizen-city/chengguantong/model"
)

// Workflow is the configuration a history's steps are taken under — the
// server's own (config: ACCEPT_TIMEOUT, FEEDBACK_WINDOW, MAX_RETURNS,
// WORK_CALENDAR), so that its deadlines are the ones the server would set.
type Workflow struct {
	// Calendar counts the handling limits in working time (nil: wall-clock).
	Calendar       model.Calendar
	AcceptTimeout  time.Duration
	FeedbackWindow time.Duration
	MaxReturns     int
}

// HistoryOptions say how much history to make, and how.
type HistoryOptions struct {
	// Tickets is how many tickets to make, duplicates merged into others
	// included; Days how many days before End they span.
	Tickets, Days int
	End           time.Time
	// Fresh of the tickets are reported in the last hour before End (the
	// newest are still on their way: being screened, dispatched …); a
	// third of them wait for the staff's review.
	Fresh int
	// Seed makes the same history again (but for the ids).
	Seed     uint64
	Workflow Workflow
	// Batch is how many tickets one Load stores (default 2,000); Parallel
	// how many goroutines make them (default GOMAXPROCS).
	Batch, Parallel int
	// Progress, when set, is told how far the loading is.
	Progress io.Writer
}

// DefaultBatch is how many tickets one Load stores by default.
const DefaultBatch = 2000

// Batch is a batch of made tickets, in creation order, with what the
// Open311 clients said about those they filed.
type Batch struct {
	Tickets    []*model.Ticket
	Submitters []*model.Open311Submitter
}

// HistoryResult counts what History made.
type HistoryResult struct {
	Tickets  int
	ByStatus map[model.Status]int
	BySource map[model.Source]int
	// Elapsed is how long making and loading the tickets took.
	Elapsed time.Duration
}

func (r *HistoryResult) add(ts []*model.Ticket) {
	for _, t := range ts {
		r.Tickets++
		r.ByStatus[t.Status]++
		r.BySource[t.Source]++
	}
}

// History makes a history of city as opt says and stores it through st:
// the tickets through Tickets.Load in batches, in creation order (so that
// their case numbers follow it), what Open311 clients said through
// Submitters, and the city's photos claimed by tickets that show them (so
// that the sweeper of unused photos leaves them). The statistics are the
// store's: Load counts each ticket as of its version. Errors: those of the
// store, and invalid_argument for options it cannot make.
func History(ctx context.Context, st Store, city *City, opt HistoryOptions) (*HistoryResult, error) {
	res := &HistoryResult{ByStatus: map[model.Status]int{}, BySource: map[model.Source]int{}}
	began := time.Now()
	lastSaid := began
	claimed := false
	err := Generate(ctx, city, opt, func(b Batch) error {
		if err := st.Tickets.Load(ctx, b.Tickets); err != nil {
			return fmt.Errorf("load tickets: %w", err)
		}
		for _, s := range b.Submitters {
			if err := st.Submitters.Save(ctx, s); err != nil {
				return fmt.Errorf("save open311 submitter: %w", err)
			}
		}
		if !claimed {
			claimed = true
			if err := claimPhotos(ctx, st, city, b.Tickets); err != nil {
				return err
			}
		}
		res.add(b.Tickets)
		if opt.Progress != nil && (time.Since(lastSaid) > 5*time.Second || res.Tickets == opt.Tickets) {
			lastSaid = time.Now()
			el := time.Since(began)
			fmt.Fprintf(opt.Progress, "seed-history: 已写入 %d/%d 个工单，用时 %s（每秒 %.0f 个）\n",
				res.Tickets, opt.Tickets, el.Round(time.Millisecond), float64(res.Tickets)/el.Seconds())
		}
		return nil
	})
	res.Elapsed = time.Since(began)
	return res, err
}

// claimPhotos makes each of the city's photos used by the first ticket of
// ts that shows it (or the first ticket).
func claimPhotos(ctx context.Context, st Store, city *City, ts []*model.Ticket) error {
	if len(ts) == 0 {
		return nil
	}
	for _, p := range city.Photos {
		by := ts[0].ID
		for _, t := range ts {
			if slices.Contains(t.PhotoIDs, p.ID) || (t.Resolution != nil && slices.Contains(t.Resolution.PhotoIDs, p.ID)) {
				by = t.ID
				break
			}
		}
		if _, err := st.Photos.Claim(ctx, p.Owner, []string{p.ID}, by); err != nil {
			return fmt.Errorf("claim photo %s: %w", p.ID, err)
		}
	}
	return nil
}

// Generate makes a history of city as opt says, in batches handed to emit
// one at a time in creation order; the batches are made in parallel. It
// stops at emit's first error and returns it.
func Generate(ctx context.Context, city *City, opt HistoryOptions, emit func(Batch) error) error {
	g, err := newGen(city, opt)
	if err != nil {
		return err
	}
	plans := g.batches()
	par := opt.Parallel
	if par <= 0 {
		par = runtime.GOMAXPROCS(0)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type made struct {
		i   int
		b   Batch
		err error
	}
	// At most 2×par batches are made ahead of the one emit waits for.
	tokens := make(chan struct{}, 2*par)
	jobs := make(chan int)
	results := make(chan made, 2*par)
	go func() {
		defer close(jobs)
		for i := range plans {
			select {
			case tokens <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for range par {
		wg.Go(func() {
			for i := range jobs {
				b, err := g.batch(plans[i])
				select {
				case results <- made{i, b, err}:
				case <-ctx.Done():
					return
				}
			}
		})
	}
	go func() {
		wg.Wait()
		close(results)
	}()
	fail := func(err error) error {
		cancel()
		for range results {
		}
		return err
	}
	ready := map[int]Batch{}
	next := 0
	for m := range results {
		if m.err != nil {
			return fail(m.err)
		}
		ready[m.i] = m.b
		for b, ok := ready[next]; ok; b, ok = ready[next] {
			delete(ready, next)
			next++
			if err := emit(b); err != nil {
				return fail(err)
			}
			<-tokens
		}
	}
	if next < len(plans) {
		return ctx.Err()
	}
	return nil
}

// category is a category of the catalogue with how often it is reported
// and its handling limit.
type category struct {
	model.Category
	weight int
	sla    model.SLA
}

// gen is one history's shared, read-only state.
type gen struct {
	city       *City
	opt        HistoryOptions
	start, end time.Time

	cats   []category
	catCum []int
	grids  map[string]*Grid
	// gridCum weighs the grids (some are busier than others).
	gridCum []int
	// onDuty are the on-duty workers of each grid, members the on-duty
	// party members of each community, anyOnDuty every on-duty worker.
	onDuty      map[string][]Person
	members     map[string][]Person
	anyOnDuty   []Person
	patrolGrids []*Grid
	people      map[string]Person

	// hourCum is the cumulative intensity of reports by hour from start.
	hourCum []float64
}

// hourWeights is how many reports come in each hour of the day (China
// time), relative to one another.
var hourWeights = [24]float64{0.15, 0.08, 0.05, 0.04, 0.05, 0.12, 0.35, 0.8, 1.3, 1.6, 1.6, 1.4,
	1.0, 1.0, 1.4, 1.5, 1.5, 1.3, 1.1, 1.0, 0.9, 0.7, 0.45, 0.25}

func newGen(city *City, opt HistoryOptions) (*gen, error) {
	if opt.Tickets < 1 || opt.Days < 1 {
		return nil, model.Invalid("tickets", "工单数和天数都必须至少为 1，收到 %d 个工单、%d 天", opt.Tickets, opt.Days)
	}
	if opt.Fresh < 0 || opt.Fresh > opt.Tickets {
		return nil, model.Invalid("fresh", "最近一小时的工单数必须在 0 到 %d 之间，收到 %d", opt.Tickets, opt.Fresh)
	}
	if len(city.Categories) == 0 {
		return nil, errors.New("seed history: the city has no categories")
	}
	if opt.Batch <= 0 {
		opt.Batch = DefaultBatch
	}
	if opt.Workflow.AcceptTimeout <= 0 {
		opt.Workflow.AcceptTimeout = 30 * time.Minute
	}
	if opt.Workflow.FeedbackWindow <= 0 {
		opt.Workflow.FeedbackWindow = 72 * time.Hour
	}
	if opt.Workflow.MaxReturns <= 0 {
		opt.Workflow.MaxReturns = 2
	}
	g := &gen{city: city, opt: opt, end: opt.End, start: opt.End.Add(-time.Duration(opt.Days) * 24 * time.Hour),
		grids: map[string]*Grid{}, onDuty: map[string][]Person{}, members: map[string][]Person{}, people: map[string]Person{}}
	total := 0
	for _, c := range city.Categories {
		w := kindWeights[c.Code]
		if w == 0 {
			w = 3
		}
		total += w
		g.cats = append(g.cats, category{Category: c, weight: w, sla: model.SLA{Hours: c.SLAHours, Calendar: opt.Workflow.Calendar}})
		g.catCum = append(g.catCum, total)
	}
	total = 0
	for i := range city.Grids {
		gr := &city.Grids[i]
		g.grids[gr.Code] = gr
		total += 2 + i*7%5
		g.gridCum = append(g.gridCum, total)
		for _, p := range city.Workers[gr.Code] {
			g.people[p.UserID] = p
			if p.OnDuty {
				g.onDuty[gr.Code] = append(g.onDuty[gr.Code], p)
			}
		}
		if len(g.onDuty[gr.Code]) > 0 {
			g.patrolGrids = append(g.patrolGrids, gr)
		}
	}
	seen := map[string]bool{}
	for _, ps := range city.Workers {
		for _, p := range ps {
			g.people[p.UserID] = p
			if p.OnDuty && !seen[p.UserID] {
				seen[p.UserID] = true
				g.anyOnDuty = append(g.anyOnDuty, p)
			}
		}
	}
	slices.SortFunc(g.anyOnDuty, func(a, b Person) int { return compareStrings(a.UserID, b.UserID) })
	for community, ps := range city.Members {
		for _, p := range ps {
			g.people[p.UserID] = p
			if p.OnDuty {
				g.members[community] = append(g.members[community], p)
			}
		}
	}
	hours := opt.Days * 24
	g.hourCum = make([]float64, hours+1)
	for h := range hours {
		at := g.start.Add(time.Duration(h)*time.Hour + 30*time.Minute).In(model.ChinaTime())
		w := hourWeights[at.Hour()]
		if wd := at.Weekday(); wd == time.Saturday || wd == time.Sunday {
			w *= 0.8
		}
		w *= 0.85 + 0.3*float64(h)/float64(hours) // more residents use it as time goes on
		g.hourCum[h+1] = g.hourCum[h] + w
	}
	return g, nil
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// batchPlan is one batch to make: its index, how many tickets, and the
// share of the history's reports (as quantiles of their intensity) it
// covers; fresh batches cover the last hour instead.
type batchPlan struct {
	i, n   int
	q0, q1 float64
	fresh  bool
}

func (g *gen) batches() []batchPlan {
	var out []batchPlan
	regular := g.opt.Tickets - g.opt.Fresh
	for from := 0; from < regular; from += g.opt.Batch {
		to := min(from+g.opt.Batch, regular)
		out = append(out, batchPlan{i: len(out), n: to - from, q0: float64(from) / float64(regular), q1: float64(to) / float64(regular)})
	}
	if g.opt.Fresh > 0 {
		out = append(out, batchPlan{i: len(out), n: g.opt.Fresh, fresh: true})
	}
	return out
}

// at is the instant at quantile q of the reports' intensity.
func (g *gen) at(q float64) time.Time {
	target := q * g.hourCum[len(g.hourCum)-1]
	h := sort.Search(len(g.hourCum)-1, func(i int) bool { return g.hourCum[i+1] > target })
	h = min(h, len(g.hourCum)-2)
	w := g.hourCum[h+1] - g.hourCum[h]
	frac := 0.0
	if w > 0 {
		frac = min(1, max(0, (target-g.hourCum[h])/w))
	}
	return g.start.Add(time.Duration(h)*time.Hour + time.Duration(frac*float64(time.Hour)))
}

// batch makes one batch: its reports, each lived to the end, and the
// reports of the same problems by other residents.
func (g *gen) batch(p batchPlan) (Batch, error) {
	r := rand.New(rand.NewPCG(g.opt.Seed, uint64(p.i)*0x9e3779b97f4a7c15+1))
	// How many others report each problem too; they count in the batch.
	var others []int
	for left := p.n; left > 0; {
		k := 0
		if !p.fresh {
			switch x := r.Float64(); {
			case x < 0.006:
				k = 2
			case x < 0.045:
				k = 1
			}
		}
		k = min(k, left-1)
		others = append(others, k)
		left -= 1 + k
	}
	created := make([]time.Time, len(others))
	for i := range created {
		if p.fresh {
			created[i] = g.end.Add(-between(r, 20*time.Second, 50*time.Minute))
		} else {
			created[i] = g.at(p.q0 + (p.q1-p.q0)*r.Float64())
		}
	}
	slices.SortFunc(created, func(a, b time.Time) int { return a.Compare(b) })
	var b Batch
	for i, at := range created {
		s, err := g.newReport(r, at)
		if err != nil {
			return Batch{}, err
		}
		if p.fresh && i%3 == 1 {
			// Some of the newest wait for the staff's review: the
			// console's queue of held reports is not empty.
			s.hold, s.holdFor = true, true
		}
		for range others[i] {
			d := at.Add(between(r, 20*time.Minute, 6*time.Hour))
			if d.After(g.end) {
				d = at.Add(between(r, 0, g.end.Sub(at)))
			}
			s.dups = append(s.dups, dup{created: d, screened: d.Add(between(r, 5*time.Second, 90*time.Second))})
		}
		slices.SortFunc(s.dups, func(a, b dup) int { return a.screened.Compare(b.screened) })
		if err := s.run(); err != nil {
			return Batch{}, err
		}
		b.Tickets = append(b.Tickets, s.out...)
		b.Submitters = append(b.Submitters, s.subs...)
	}
	if len(b.Tickets) != p.n {
		return Batch{}, fmt.Errorf("seed history: batch %d made %d tickets, want %d", p.i, len(b.Tickets), p.n)
	}
	slices.SortStableFunc(b.Tickets, func(x, y *model.Ticket) int { return x.CreatedAt.Compare(y.CreatedAt) })
	return b, nil
}

// newReport draws a report made at at: its channel, category and place.
func (g *gen) newReport(r *rand.Rand, at time.Time) (*sim, error) {
	c := &g.cats[sort.SearchInts(g.catCum, 1+r.IntN(g.catCum[len(g.catCum)-1]))]
	working := g.opt.Workflow.Calendar == nil || g.opt.Workflow.Calendar.Add(at, 0).Equal(at)
	src := model.SourceWeChat
	switch x := r.Float64(); {
	case x < 0.07:
		src = model.SourceHotline
	case x < 0.10:
		src = model.SourceOpen311
	case x < 0.30 && working && len(g.patrolGrids) > 0:
		src = model.SourcePatrol
	}
	var grid *Grid
	switch {
	case src == model.SourcePatrol:
		grid = pick(r, g.patrolGrids)
	case len(g.city.Grids) > 0 && r.Float64() >= 0.04:
		grid = &g.city.Grids[sort.SearchInts(g.gridCum, 1+r.IntN(g.gridCum[len(g.gridCum)-1]))]
	}
	return g.report(r, at, c, grid, src, nil)
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
