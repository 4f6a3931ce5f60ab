package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service/seed"
)

// seedDemo reads seed-demo's flags: the city's size (the demo's by
// default) and the random seed.
func seedDemo(args []string, out io.Writer) (options, error) {
	fs := flag.NewFlagSet("seed-demo", flag.ContinueOnError)
	size := seed.Full
	fs.IntVar(&size.Grids, "grids", size.Grids, "grids (two per community)")
	fs.IntVar(&size.Workers, "workers", size.Workers, "grid workers")
	fs.IntVar(&size.Members, "members", size.Members, "party members")
	fs.IntVar(&size.Tickets, "tickets", size.Tickets, "residents' reports over the month")
	fs.IntVar(&size.Activities, "activities", size.Activities, "volunteer activities")
	fs.IntVar(&size.Days, "days", size.Days, "days the month reaches back from now")
	random := fs.Uint64("seed", 2026, "random seed (the same seed makes the same city)")
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	if size.Grids < 1 || size.Workers < 1 || size.Members < 1 || size.Tickets < 1 || size.Days < 1 || size.Activities < 0 {
		return options{}, fmt.Errorf("seed-demo: -grids, -workers, -members, -tickets and -days must be at least 1")
	}
	end := time.Now().UTC().Truncate(time.Minute)
	// The services' clock starts before the month; the seed moves it.
	clock := seed.NewClock(seed.Start(end, size))
	return options{now: clock.Now, command: func(ctx context.Context, a *app) error {
		return runSeed(ctx, a, clock, size, end, *random, out)
	}}, nil
}

// runSeed runs the seed as the configured staff account and prints what it
// made.
func runSeed(ctx context.Context, a *app, clock *seed.Clock, size seed.Size, end time.Time, random uint64, out io.Writer) error {
	if !a.cfg.WeChatSimulator {
		return fmt.Errorf("seed-demo 需要微信模拟器登录演示用户：请设置 WECHAT_SIMULATOR=true（嵌入模式默认开启）")
	}
	sess, err := a.seed.Auth.LoginStaff(ctx, a.cfg.AdminUsername, a.cfg.AdminPassword, "127.0.0.1")
	if err != nil {
		return fmt.Errorf("seed-demo: staff login as %s: %w", a.cfg.AdminUsername, err)
	}
	svc := a.seed
	svc.Staff = sess.User
	began := time.Now()
	wf, err := workflowOf(a)
	if err != nil {
		return err
	}
	res, err := seed.Run(ctx, seed.Demo{Services: svc, Store: historyStore(a.stores.Engine), Workflow: wf, Login: seed.Login(svc.Auth),
		OpenID: a.openID}, clock, size, end, random, out)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "seed-demo: %d 个网格（%d 个社区）、%d 名网格员、%d 个党支部 %d 名在职党员、%d 位居民、%d 个工单、%d 场活动 %d 人次签到，用时 %s\n",
		res.Grids, res.Communities, res.Workers, res.Branches, res.Members, res.Residents, res.Tickets, res.Activities, res.Checkins,
		time.Since(began).Round(time.Millisecond))
	fmt.Fprintln(out, "seed-demo: 工单状态"+byStatus(res.ByStatus))
	fmt.Fprintf(out, "seed-demo: 完成。启动服务（go run ./cmd/server），以 %s 登录 /admin/\n", a.cfg.AdminUsername)
	return nil
}

// byStatus lists counts by status, in status order.
func byStatus(n map[model.Status]int) string {
	var b strings.Builder
	for _, st := range model.Statuses {
		if n[st] > 0 {
			fmt.Fprintf(&b, " %s=%d", st, n[st])
		}
	}
	return b.String()
}
