package main

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/citizen-city/chengguantong/config"
	"github.com/citizen-city/chengguantong/docs"
	"github.com/citizen-city/chengguantong/handler"
	"github.com/citizen-city/chengguantong/service/queue"
	"github.com/citizen-city/chengguantong/service/seed"
	"github.com/citizen-city/chengguantong/service/ticket"
	"github.com/citizen-city/chengguantong/store/redis"
	"github.com/citizen-city/chengguantong/wechat"
	"github.com/citizen-city/chengguantong/wechat/wechatsim"
)

// weChat is the WeChat API this process talks to: the real one, or the
// simulator (staging, tests, the embedded mode).
type weChat struct {
	client *wechat.Client
	cfg    wechat.Config
	// sim is the simulator this process started (nil: real WeChat, or one
	// a test shares between instances).
	sim *wechatsim.Simulator
}

// openWeChat connects the WeChat client, starting the simulator when
// configured; the access token is shared through Redis.
func openWeChat(cfg *config.Config, opt options, rdb *redis.Redis, logger *slog.Logger) (*weChat, func()) {
	wcfg := wechat.Config{AppID: cfg.WeChatAppID, Secret: cfg.WeChatSecret, PushToken: cfg.WeChatPushToken, PushAESKey: cfg.WeChatPushAESKey}
	w := &weChat{cfg: wcfg, client: wechat.New(wcfg, redis.NewWeChatCache(rdb))}
	if !cfg.WeChatPush {
		logger.Warn("WECHAT_PUSH=off: no message push is configured, so WeChat's photo verdicts never arrive; every photo check is taken as passed after 30 minutes")
	}
	if !cfg.WeChatSimulator || opt.simulator != nil {
		if cfg.WeChatSimulator && cfg.Mode == config.ModeProduction {
			logger.Warn("WECHAT_SIMULATOR=true: WeChat is simulated in-process; no real WeChat user can log in")
		}
		return w, func() {}
	}
	if cfg.Mode == config.ModeProduction {
		logger.Warn("WECHAT_SIMULATOR=true: WeChat is simulated in-process; no real WeChat user can log in")
	}
	verdict, _ := wechatsim.MediaVerdictOf(cfg.WeChatSimulatorMediaVerdict)
	if !cfg.WeChatPush {
		verdict, _ = wechatsim.MediaVerdictOf(wechatsim.VerdictNone)
	}
	w.sim = wechatsim.New(wechatsim.Options{
		AppID: wcfg.AppID, Secret: wcfg.Secret, PushToken: wcfg.PushToken, PushAESKey: wcfg.PushAESKey,
		Encrypted: wcfg.PushAESKey != "", MediaVerdict: verdict, Faults: cfg.WeChatSimulatorFaults,
	})
	if len(cfg.WeChatSimulatorFaults) > 0 {
		logger.Warn("WECHAT_SIMULATOR_FAULTS: the simulated WeChat fails on purpose", "faults", cfg.WeChatSimulatorFaults)
	}
	uninstall := w.sim.Install()
	return w, func() { uninstall(); w.sim.Close() }
}

// pushTo points the simulator this process started at its push URL.
func (w *weChat) pushTo(url string) {
	if w.sim != nil {
		w.sim.SetPushURL(url)
	}
}

// newHTTPHandler builds the HTTP edge on the services.
func newHTTPHandler(cfg *config.Config, st *stores, svc *services, wx *weChat, registry *prometheus.Registry, baseURL string,
	now func() time.Time, logger *slog.Logger) http.Handler {
	open311Type := "production"
	if cfg.WeChatSimulator {
		open311Type = "test" // nothing filed here reaches a real resident
	}
	return handler.New(handler.Deps{
		Logger:        logger,
		Auth:          svc.auth,
		People:        auditedPeople{svc.people, svc.trail},
		Categories:    auditedCategories{svc.categories, svc.trail},
		Photos:        svc.photos,
		PhotoURLs:     svc.signer,
		PhotoMaxBytes: cfg.PhotoMaxBytes,
		Reports:       svc.reports,
		Subscriptions: svc.subscriptions,
		Push:          wechat.PushReceiver{Client: wx.client, OnMediaVerdict: svc.screening.OnMediaVerdict},
		Tasks:         svc.tasks,
		Workflow:      svc.tasks,
		Feedback:      svc.feedback,
		Stats:         svc.stats,
		Activities:    svc.activities,
		Grids:         auditedGrids{svc.grids, svc.trail},
		Addresses:     svc.addresses,
		Layers:        svc.layers,
		DeadLetters:   deadLetters{svc.screenQueue, svc.dispatchQueue, svc.notifyQueue},
		Ready:         st.ready,
		Registry:      registry,
		OpenAPI:       docs.OpenAPIJSON(),
		CursorSecret:  []byte(cfg.TokenSecret),
		Open311:       auditedOpen311{svc.open311, svc.trail},
		Open311Discovery: handler.Open311Discovery{
			URL: baseURL + "/open311/v2", Changeset: now().In(time.FixedZone("CST", 8*3600)).Format(time.RFC3339),
			Contact: cfg.Open311Contact, KeyService: cfg.Open311KeyService, Type: open311Type,
		},
		StaffTickets:     svc.staffTickets,
		Live:             svc.live,
		UploadTimePerMiB: cfg.UploadTimePerMiB,
		MetricsToken:     cfg.MetricsToken,
		TrustedProxies:   cfg.TrustedProxies,
		Now:              now,
		Staff:            svc.auth,
		Privacy:          svc.privacy,
		Audit:            svc.trail,
		Trail:            svc.trail,
	})
}

// backgroundWork is every loop this instance runs beside the HTTP server,
// each the Run method of the service that owns it.
func backgroundWork(cfg *config.Config, st *stores, svc *services, logger *slog.Logger) []func(context.Context) {
	p := cfg.Periods
	loops := []func(context.Context){
		svc.signals.Run,
		func(ctx context.Context) {
			queue.Every(ctx, logger, "liveness", p.LivenessBeat, func(ctx context.Context) (int, error) { return 0, svc.liveness.Beat(ctx) })
		},
		func(ctx context.Context) { svc.dispatcher.RunTimers(ctx, svc.timers, p.Timers) },
		func(ctx context.Context) { svc.grids.Run(ctx, svc.signals.C(gridsSignal), p.Grids) },
		svc.live.Run,
		(&ticket.Reconciler{Screening: svc.screening, Dispatcher: svc.dispatcher, ScreenQueue: svc.screenQueue,
			Relay: svc.relay, Epoch: svc.epoch, Interval: cfg.ReconcileInterval}).Run,
		func(ctx context.Context) {
			(&ticket.Sweeper{Photos: svc.photos, Screening: svc.screening, UnusedTTL: p.UnusedPhotoTTL, Now: time.Now}).Run(ctx, p.PhotoSweep)
		},
		func(ctx context.Context) { svc.notifier.RunPruning(ctx, st.Notifications, p.NotificationsKept) },
		func(ctx context.Context) { svc.privacy.Run(ctx, svc.trail, cfg.Privacy.SweepEvery) },
	}
	if st.run != nil {
		loops = append(loops, st.run)
	}
	// The queues' consumers are named after this instance, whose liveness
	// mark lets the others take over its pending jobs and its handoffs
	// within seconds of its death.
	takeover := &ticket.Takeover{Registry: svc.liveness, Relay: svc.relay, Logger: logger}
	for _, q := range []struct {
		queue       *redis.Stream
		handle      func(context.Context, string) error
		attempts    int64
		giveUp      func(context.Context, string, error) error
		idle, limit time.Duration
	}{
		{svc.screenQueue, svc.screening.Handle, int64(cfg.ScreeningMaxAttempts), svc.screening.Hold, cfg.QueueRetryAfter, 30 * time.Second},
		{svc.dispatchQueue, svc.dispatcher.Handle, 10, svc.dispatcher.ToStaff, cfg.QueueRetryAfter, 30 * time.Second},
		{svc.notifyQueue, svc.notifier.Handle, 5, nil, time.Minute, 15 * time.Second},
	} {
		w := &queue.Worker{
			Queue: q.queue, Consumer: svc.liveness.Consumer(q.queue.Name()), Handle: q.handle, Concurrency: cfg.QueueConsumers,
			MaxAttempts: q.attempts, GiveUp: q.giveUp, ReclaimIdle: q.idle, HandleTimeout: q.limit, Logger: logger,
		}
		takeover.Workers = append(takeover.Workers, w)
		takeover.Queues = append(takeover.Queues, q.queue)
		loops = append(loops, w.Run)
	}
	loops = append(loops, func(ctx context.Context) { takeover.Run(ctx, p.Takeover) })
	return loops
}

// seedServices are the services seed-demo and seed-history lay a city out
// through.
func (s *services) seedServices(st *stores, logger *slog.Logger) seed.Services {
	return seed.Services{Auth: s.auth, People: s.people, Grids: s.grids, Photos: s.photos, Activities: s.activities, Logger: logger}
}

// deadLetters lists the dead letters of every queue for staff.
type deadLetters []*redis.Stream

func (d deadLetters) DeadLetters(ctx context.Context) ([]handler.DeadLetter, error) {
	var out []handler.DeadLetter
	for _, s := range d {
		items, err := s.DeadLetters(ctx, 100)
		if err != nil {
			return nil, err
		}
		for _, x := range items {
			out = append(out, handler.DeadLetter{Queue: x.Stream, Payload: x.Payload, Reason: x.Reason, At: x.At})
		}
	}
	return out, nil
}
