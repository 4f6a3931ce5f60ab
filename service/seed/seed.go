// Package seed fills a store with history, for demos and benchmarks.
//
// History makes the tickets of a span of days — every channel, category,
// grid and status, with timelines taken by the model's own step methods on
// a moving clock (the server's deadlines in working time, its timers, the
// staff's and the workers' turns) — in parallel, and stores them through
// the store's bulk path (Tickets.Load), which counts each in the
// statistics as of its version. Run (server seed-demo) lays out a small
// city through the services — grids, grid workers and party members bound
// to WeChat users, photos, volunteer activities with check-ins on the
// services' clock — and then gives it a month of History.
package seed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service/catalogue"
	"github.com/citizen-city/chengguantong/service/people"
	"github.com/citizen-city/chengguantong/service/photos"
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

// Services are the use cases a city is laid out through: what a clerk and
// the people themselves do in the console and the mini-program.
type Services struct {
	Auth       *people.Auth
	People     *people.Directory
	Grids      *catalogue.Grids
	Photos     *photos.Uploads
	Activities *people.Activities
	// Staff is the staff account that creates activities and takes the
	// staff's steps in the history.
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
	// ByStatus counts the tickets by their status at the end.
	ByStatus map[model.Status]int
}

// Start is where the clock of a seed of size ending at end must stand
// when the services are built: before the month begins.
func Start(end time.Time, size Size) time.Time {
	return end.AddDate(0, 0, -size.Days).Add(-2 * time.Hour)
}

// ErrNotEmpty is returned when the store already holds data.
var ErrNotEmpty = errors.New("not empty")

// Demo is what a demo seed needs besides its size: the services, the
// store, the server's workflow configuration, and WeChat.
type Demo struct {
	Services Services
	Store    Store
	Workflow Workflow
	// Login logs a WeChat user in by login code, as the mini-program does
	// (through the simulated WeChat).
	Login func(ctx context.Context, code string) (*model.User, error)
	// OpenID is the openid WeChat gives a login code (the residents are
	// made with it directly, without a session each).
	OpenID func(code string) string
}

// Run seeds a city of size whose month ends at end, the same city for a
// given seed (but for the ids). The services' clock must stand at
// Start(end, size); Run moves it to end. It refuses a store that has
// grids, workers or tickets (ErrNotEmpty, with a message saying what is
// there).
func Run(ctx context.Context, d Demo, clock *Clock, size Size, end time.Time, seed uint64, progress io.Writer) (*Result, error) {
	svc := d.Services
	if err := checkEmpty(ctx, d); err != nil {
		return nil, err
	}
	if clock.Now().After(Start(end, size)) {
		return nil, fmt.Errorf("seed: the clock stands at %s, after the month's start; make it with NewClock(Start(end, size))", clock.Now())
	}
	res := &Result{}
	l := &layout{svc: svc, size: size, account: func(ctx context.Context, code string) (*model.User, error) { return d.Login(ctx, code) }}
	var city *City
	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"网格、网格员和在职党员", l.run},
		{"居民和照片", func(ctx context.Context) error {
			var err error
			if city, err = ReadCity(ctx, d.Store); err != nil {
				return err
			}
			city.Staff, city.District = model.Actor{ID: svc.Staff.ID, Role: model.RoleStaff}, district
			if err := city.AddResidents(ctx, d.Store.Users, max(3, size.Tickets/4), d.OpenID); err != nil {
				return err
			}
			return city.AddPhotos(ctx, min(20, len(city.Residents)), func(ctx context.Context, i int) (Photo, error) {
				owner := city.Residents[i]
				p, err := svc.Photos.Upload(ctx, &model.User{ID: owner}, readerOf(JPEG(i)))
				if err != nil {
					return Photo{}, err
				}
				return Photo{ID: p.ID, Owner: owner}, nil
			})
		}},
		{"活动和签到", func(ctx context.Context) error {
			n, c, err := l.activities(ctx, clock, end.AddDate(0, 0, -size.Days), end)
			res.Activities, res.Checkins = n, c
			return err
		}},
		{"工单", func(ctx context.Context) error {
			clock.Set(end)
			h, err := History(ctx, d.Store, city, HistoryOptions{Tickets: size.Tickets, Days: size.Days, End: end,
				Fresh: min(size.Tickets, max(3, size.Tickets/50)), Seed: seed, Workflow: d.Workflow, Batch: DefaultBatch})
			if err != nil {
				return err
			}
			res.Tickets, res.ByStatus = h.Tickets, h.ByStatus
			return nil
		}},
		{"统计", d.Store.Stats.Settle},
	}
	for _, st := range steps {
		began := time.Now()
		if err := st.fn(ctx); err != nil {
			return res, fmt.Errorf("seed %s: %w", st.name, err)
		}
		fmt.Fprintf(progress, "seed-demo: %s 完成，用时 %s\n", st.name, time.Since(began).Round(time.Millisecond))
	}
	res.Grids, res.Communities, res.Workers, res.Members, res.Branches = l.grids, len(l.communities), l.workers, l.members, l.branches
	res.Residents = len(city.Residents)
	return res, nil
}

func checkEmpty(ctx context.Context, d Demo) error {
	grids, err := d.Services.Grids.List(ctx)
	if err != nil {
		return err
	}
	_, _, workers, err := d.Services.People.ListWorkers(ctx, model.PeopleFilter{}, "", 1)
	if err != nil {
		return err
	}
	page, err := d.Store.Tickets.ListStaff(ctx, model.TicketQuery{}, "", 1)
	if err != nil {
		return err
	}
	if len(grids) > 0 || workers > 0 || page.Total > 0 {
		return fmt.Errorf("%w: 存储中已有 %d 个网格、%d 名网格员、%d 个工单；seed-demo 只填充空的存储，不会改动已有数据。"+
			"请换一个空的 DATA_DIR（嵌入模式）或 MONGODB_DATABASE 再运行", ErrNotEmpty, len(grids), workers, page.Total)
	}
	return nil
}
