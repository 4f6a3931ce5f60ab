package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service/seed"
	"github.com/citizen-city/chengguantong/store"
	"github.com/citizen-city/chengguantong/workcal"
)

// historyFlags are seed-history's flags.
type historyFlags struct {
	tickets, days, batch, residents int
	seed                            uint64
}

// seedHistory reads seed-history's flags: how many tickets over how many
// days back from now.
func seedHistory(args []string, out io.Writer) (options, error) {
	fs := flag.NewFlagSet("seed-history", flag.ContinueOnError)
	var f historyFlags
	fs.IntVar(&f.tickets, "tickets", 100000, "tickets to add")
	fs.IntVar(&f.days, "days", 365, "days the history reaches back from now")
	fs.IntVar(&f.batch, "batch", seed.DefaultBatch, "tickets stored in one bulk write")
	fs.IntVar(&f.residents, "residents", 0, "residents who report (default one for every 50 tickets, 20 to 5000)")
	fs.Uint64Var(&f.seed, "seed", 2026, "random seed (the same seed makes the same history, but for the ids)")
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	if f.tickets < 1 || f.days < 1 || f.batch < 1 || f.residents < 0 {
		return options{}, fmt.Errorf("seed-history: -tickets、-days 和 -batch 必须至少为 1，-residents 不能为负数")
	}
	if f.residents == 0 {
		f.residents = min(5000, max(20, f.tickets/50))
	}
	return options{command: func(ctx context.Context, a *app) error { return runSeedHistory(ctx, a, f, out) }}, nil
}

// runSeedHistory adds the history to the store: on a store without grids
// it first lays out the demo's city; then it makes the residents and the
// photos the tickets show, loads the tickets, and waits for the
// statistics to count them.
func runSeedHistory(ctx context.Context, a *app, f historyFlags, out io.Writer) error {
	began := time.Now()
	st := historyStore(a.stores.Engine)
	wf, err := workflowOf(a)
	if err != nil {
		return err
	}
	grids, err := st.Grids.All(ctx)
	if err != nil {
		return err
	}
	district := ""
	if len(grids) == 0 {
		res, err := seed.LayOut(ctx, a.seed, seed.Full, func(ctx context.Context, code string) (*model.User, error) {
			return st.Users.UpsertWeChat(ctx, openIDOf(a, code))
		})
		if err != nil {
			return fmt.Errorf("seed-history: lay out the city: %w", err)
		}
		district = seed.DemoDistrict
		fmt.Fprintf(out, "seed-history: 存储中没有网格，先建了演示城市：%d 个网格（%d 个社区）、%d 名网格员、%d 个党支部 %d 名在职党员\n",
			res.Grids, res.Communities, res.Workers, res.Branches, res.Members)
	}
	city, err := seed.ReadCity(ctx, st)
	if err != nil {
		return err
	}
	city.District = district
	if city.Staff, err = seed.StaffActor(ctx, st.Users, a.cfg.AdminUsername); err != nil {
		return err
	}
	if err := city.AddResidents(ctx, st.Users, f.residents, a.openID); err != nil {
		return err
	}
	if err := city.AddPhotos(ctx, 20, seed.StorePhoto(st.Photos, city.Residents[0])); err != nil {
		return err
	}
	fmt.Fprintf(out, "seed-history: %d 个网格、%d 位居民、20 张照片就绪，用时 %s\n", len(city.Grids), len(city.Residents),
		time.Since(began).Round(time.Millisecond))

	res, err := seed.History(ctx, st, city, seed.HistoryOptions{Tickets: f.tickets, Days: f.days, End: time.Now(), Seed: f.seed,
		Workflow: wf, Batch: f.batch, Progress: out})
	if err != nil {
		return err
	}
	settled := time.Now()
	if err := st.Stats.Settle(ctx); err != nil {
		return err
	}
	fmt.Fprintf(out, "seed-history: %d 个工单写入用时 %s（每秒 %.0f 个），统计就绪又用 %s\n", res.Tickets, res.Elapsed.Round(time.Millisecond),
		float64(res.Tickets)/res.Elapsed.Seconds(), time.Since(settled).Round(time.Millisecond))
	fmt.Fprintln(out, "seed-history: 工单状态"+byStatus(res.ByStatus))
	fmt.Fprint(out, "seed-history: 来源")
	for _, src := range []model.Source{model.SourceWeChat, model.SourcePatrol, model.SourceHotline, model.SourceOpen311} {
		fmt.Fprintf(out, " %s=%d", src, res.BySource[src])
	}
	fmt.Fprintf(out, "\nseed-history: 完成，共用时 %s\n", time.Since(began).Round(time.Millisecond))
	return nil
}

// openIDOf is the openid of a login code: the simulated WeChat's, or the
// code itself without the simulator.
func openIDOf(a *app, code string) string {
	if a.openID != nil {
		return a.openID(code)
	}
	return code
}

// workflowOf is the server's workflow configuration, for the history's
// deadlines. Errors: invalid_argument for a WORK_CALENDAR that does not
// make a calendar (config.Load has checked it).
func workflowOf(a *app) (seed.Workflow, error) {
	cal, err := workcal.New(a.cfg.WorkCalendar)
	if err != nil {
		return seed.Workflow{}, fmt.Errorf("WORK_CALENDAR: %w", err)
	}
	return seed.Workflow{Calendar: cal, AcceptTimeout: a.cfg.AcceptTimeout, FeedbackWindow: a.cfg.FeedbackWindow,
		MaxReturns: a.cfg.MaxReturns}, nil
}

// simulatorOpenID is the openid function of the simulated WeChat this
// process talks to (its own or a test's), nil with the real WeChat.
func simulatorOpenID(wx *weChat, opt options) func(code string) string {
	switch {
	case wx.sim != nil:
		return wx.sim.OpenIDFor
	case opt.simulator != nil:
		return opt.simulator.OpenIDFor
	}
	return nil
}

// historyStore is what seed-history and seed-demo write with: the
// engine's resources.
func historyStore(e store.Engine) seed.Store {
	return seed.Store{Tickets: e.Tickets, Users: e.Users, People: e.People, Grids: e.Grids, Categories: e.Categories,
		Photos: e.Photos, Submitters: e.Submitters, Stats: e.Stats}
}
