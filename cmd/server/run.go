package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.mongodb.org/mongo-driver/v2/event"

	"github.com/citizen-city/chengguantong/config"
	"github.com/citizen-city/chengguantong/docs"
	"github.com/citizen-city/chengguantong/geo"
	"github.com/citizen-city/chengguantong/handler"
	"github.com/citizen-city/chengguantong/internal/ferretdb" // the embedded mode until it moves to store/sqlite; the only import of FerretDB
	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/photo"
	"github.com/citizen-city/chengguantong/service"
	"github.com/citizen-city/chengguantong/service/seed"
	"github.com/citizen-city/chengguantong/store/mongodb"
	"github.com/citizen-city/chengguantong/store/redis"
	"github.com/citizen-city/chengguantong/wechat"
	"github.com/citizen-city/chengguantong/wechat/wechatsim"
	"github.com/citizen-city/chengguantong/workcal"
)

// options are what tests can set that the environment cannot.
type options struct {
	// onReady receives the address the server listens on.
	onReady func(addr string)
	// simulator, when set, is used instead of a new one, so that several
	// instances in one test share one simulated WeChat.
	simulator *wechatsim.Simulator
	now       func() time.Time
	// command, when set, runs instead of the HTTP server, with the stores
	// open and the services built (the subcommands).
	command func(ctx context.Context, a *app) error
	// mongoMonitor, when set, sees every MongoDB command the server sends
	// (the command-counting benchmark).
	mongoMonitor *event.CommandMonitor
}

// app is what a subcommand works with: the configuration and the services.
type app struct {
	cfg   *config.Config
	stats *service.Stats
	// settle returns once every committed transition is counted.
	settle func(ctx context.Context) error
	// seed are the services seed-demo and seed-history lay a city out
	// through (Staff unset).
	seed seed.Services
	// history is the store they write tickets to (seed.StoreOf an engine).
	history seed.Store
	// calendar is the work calendar deadlines are counted in.
	calendar model.Calendar
	// openID is the openid WeChat gives a login code: the simulator's, or
	// nil without it.
	openID func(code string) string
}

// run starts the server and serves until ctx is done, then shuts down
// gracefully: it stops accepting, drains in-flight requests, stops the
// background workers and closes the stores.
func run(ctx context.Context, getenv func(string) string, logOut io.Writer, opt options) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	logger := slog.New(handler.LogHandler{Handler: slog.NewJSONHandler(logOut, &slog.HandlerOptions{Level: cfg.LogLevel})})
	now := opt.now
	if now == nil {
		now = time.Now
	}
	logger.Info("starting", "config", cfg)

	mongoURI, redisURL := cfg.MongoURI, cfg.RedisURL
	var emb *ferretdb.Server
	if cfg.Mode == config.ModeEmbedded {
		var err error
		emb, err = ferretdb.Start(cfg.DataDir, logger)
		if err != nil {
			return err
		}
		defer emb.Close()
		inproc, err := redis.StartInProcess()
		if err != nil {
			return err
		}
		defer inproc.Close()
		mongoURI, redisURL = emb.URI, inproc.URL
		logger.Warn("EMBEDDED SINGLE-MACHINE MODE: FerretDB (SQLite) under DATA_DIR, an in-process Redis and the WeChat simulator run inside this process; set MONGODB_URI and REDIS_URL for production",
			"data_dir", cfg.DataDir)
		if err := embeddedSecrets(cfg, logger); err != nil {
			return err
		}
	} else if cfg.WeChatSimulator {
		logger.Warn("WECHAT_SIMULATOR=true: WeChat is simulated in-process; no real WeChat user can log in")
	}
	if !cfg.WeChatPush {
		logger.Warn("WECHAT_PUSH=off: no message push is configured, so WeChat's photo verdicts never arrive; every photo check is taken as passed after 30 minutes")
	}

	startCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	mongo, err := mongodb.OpenMongo(startCtx, mongoURI, cfg.MongoDatabase, mongodb.MongoOptions{Monitor: opt.mongoMonitor})
	if err != nil {
		return err
	}
	defer mongo.Close(context.Background())
	if err := mongo.EnsureIndexes(startCtx); err != nil {
		return err
	}
	if emb != nil {
		if err := emb.IndexIDs(startCtx, cfg.MongoDatabase); err != nil {
			return err
		}
	}
	rdb, err := redis.OpenRedis(startCtx, redisURL, cfg.RedisKeyPrefix)
	if err != nil {
		return err
	}
	defer rdb.Close()

	wcfg := wechat.Config{AppID: cfg.WeChatAppID, Secret: cfg.WeChatSecret, PushToken: cfg.WeChatPushToken, PushAESKey: cfg.WeChatPushAESKey}
	sim := opt.simulator
	if cfg.WeChatSimulator && sim == nil {
		verdict, _ := wechatsim.MediaVerdictOf(cfg.WeChatSimulatorMediaVerdict)
		if !cfg.WeChatPush {
			verdict, _ = wechatsim.MediaVerdictOf(wechatsim.VerdictNone)
		}
		sim = wechatsim.New(wechatsim.Options{
			AppID: wcfg.AppID, Secret: wcfg.Secret, PushToken: wcfg.PushToken, PushAESKey: wcfg.PushAESKey,
			Encrypted: wcfg.PushAESKey != "", MediaVerdict: verdict, Faults: cfg.WeChatSimulatorFaults,
		})
		if len(cfg.WeChatSimulatorFaults) > 0 {
			logger.Warn("WECHAT_SIMULATOR_FAULTS: the simulated WeChat fails on purpose", "faults", cfg.WeChatSimulatorFaults)
		}
		defer sim.Close()
		defer sim.Install()()
	}
	wx := wechat.New(wcfg, redis.NewWeChatCache(rdb))

	logger.Info("stores ready")
	// Bind first: the public URL (signed photo links, WeChat's callbacks)
	// may depend on the port. A subcommand serves nothing.
	var ln net.Listener
	addr := cfg.HTTPAddr
	if opt.command == nil {
		if ln, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
			return fmt.Errorf("listen on HTTP_ADDR %s: %w", cfg.HTTPAddr, err)
		}
		defer ln.Close()
		addr = ln.Addr().String()
	}
	baseURL := cfg.BaseURL(addr)
	users := mongodb.NewUsers(mongo, now)
	invites := mongodb.NewInvites(mongo, now)
	people := mongodb.NewPeople(mongo, now)
	tokens := service.NewTokens([]byte(cfg.TokenSecret), cfg.TokenTTL, now)
	auth := service.NewAuth(service.AuthDeps{
		WeChat: wechat.Login{Client: wx}, Users: users, Invites: invites, Profiles: people,
		Limiter: redis.NewRateLimiter(rdb), Tokens: tokens, Logger: logger,
		Limits: service.AuthLimits{PerAccountPerMinute: cfg.LoginPerAccountPerMinute, PerIPPerMinute: cfg.LoginPerIPPerMinute},
	})
	if cfg.AdminUsername != "" {
		if err := auth.EnsureAdmin(startCtx, cfg.AdminUsername, cfg.AdminPassword); err != nil {
			return err
		}
	}

	categories := service.NewCategories(mongodb.NewCategories(mongo, now), 5*time.Second, now)
	if err := categories.Seed(startCtx); err != nil {
		return err
	}
	photoStore := mongodb.NewPhotos(mongo, now)
	signer := service.NewURLSigner([]byte(cfg.TokenSecret), baseURL, cfg.PhotoURLTTL, now)
	limiter := redis.NewRateLimiter(rdb)
	processor := photo.NewProcessor(photo.Limits{MaxBytes: cfg.PhotoMaxBytes, MaxPixels: cfg.PhotoMaxPixels}, runtime.NumCPU())
	photos := service.NewPhotos(photoStore, processor, signer, limiter, cfg.UploadsPerMinute, 4*runtime.NumCPU())
	// This instance's name: its queue consumers', its liveness mark's, and
	// the owner of the handoffs it records.
	instance := consumerName()
	tickets := mongodb.NewTickets(mongo, instance, now)
	signals := redis.NewSignals(rdb)
	statsStore := mongodb.NewStats(mongo, mongodb.StatsDeps{Tickets: tickets, Lease: redis.NewLocks(rdb), Wakeups: signals,
		Cache: rdb, Owner: instance, Now: now, Logger: logger})
	screenQueue := redis.NewStream(rdb, "screen")
	reports := service.NewReports(service.ReportsDeps{
		Tickets: tickets, Photos: photoStore, Categories: categories, Locks: redis.NewLocks(rdb), Limiter: limiter,
		Screening: screenQueue, Limits: service.ReportLimits{PerDay: cfg.ReportsPerDay}, Now: now, Logger: logger,
	})
	calendar, err := workcal.New(cfg.WorkCalendar)
	if err != nil {
		return fmt.Errorf("WORK_CALENDAR: %w", err)
	}
	grids := service.NewGrids(signalledGrids{mongodb.NewGrids(mongo, now), signals}, float64(cfg.GridSnapMeters), logger)
	if _, err := grids.Refresh(startCtx); err != nil {
		return err
	}
	templates := service.Templates{Assigned: cfg.TemplateAssigned, Accepted: cfg.TemplateAccepted, Resolved: cfg.TemplateResolved}
	notifyQueue := redis.NewStream(rdb, "notify")
	notifications := mongodb.NewNotifications(mongo, now)
	notifier := service.NewNotifier(service.NotifierDeps{
		Queue: notifyQueue, Allowances: mongodb.NewSubscriptions(mongo, now), Users: users,
		Sender: wechat.Subscriber{Client: wx}, Templates: templates, Dedup: notifications, Now: now, Logger: logger,
	})
	dispatchQueue := redis.NewStream(rdb, "dispatch")
	timers := redis.NewTimers(rdb)
	dispatcher := service.NewDispatcher(service.DispatcherDeps{
		Tickets: tickets, Grids: grids, Candidates: people, Duty: users, Loads: tickets, Categories: categories,
		Timers: timers, Notify: notifier, Queue: dispatchQueue, Now: now, Logger: logger,
		Names: &service.Names{Users: users, Workers: people, Members: people, Now: now},
		Config: service.DispatchConfig{AcceptTimeout: cfg.AcceptTimeout, MaxReturns: cfg.MaxReturns, Calendar: calendar,
			FeedbackWindow: cfg.FeedbackWindow, PhotoMaxDistanceM: float64(cfg.ResolutionPhotoMaxDistanceM)},
	})
	tasks := service.NewTasks(tickets, photoStore, people, users, dispatcher, notifier, now)
	screening := service.NewScreening(service.ScreeningDeps{
		Tickets: tickets, Photos: photoStore, Moderation: photoStore, Users: users, Content: wechat.Content{Client: wx},
		Categories: categories, Signer: signer, Reports: reports, Router: dispatcher, Now: now, Logger: logger,
	})
	activityStore := mongodb.NewActivities(mongo, now)
	stats := service.NewStats(service.StatsDeps{
		Store: statsStore, Categories: categories, Grids: grids,
		Names: &service.Names{Users: users, Workers: people, Members: people, Now: now}, Activities: activityStore, Branches: people,
		RankingWeights: cfg.RankingWeights, Now: now, Logger: logger,
	})
	peopleSvc := service.NewPeople(service.PeopleDeps{Profiles: people, Invites: invites, Revoker: invites, Users: forgetfulUsers{users, auth}, Grids: grids,
		Loads: tickets, Tasks: tasks, InviteTTL: cfg.InviteTTL, Now: now, Logger: logger})
	staffTickets := service.NewStaffTickets(service.StaffTicketsDeps{Tickets: tickets, People: people, Users: users, Loads: tickets,
		Dispatch: tasks, Now: now})
	feedback := service.NewFeedback(tickets, dispatcher, now)
	activities := service.NewActivities(activityStore, people, now)
	if opt.command != nil {
		a := &app{cfg: cfg, stats: stats, settle: statsStore.Settle, calendar: calendar,
			seed: seed.Services{Auth: auth, People: peopleSvc, Grids: grids, Photos: photos, Activities: activities, Logger: logger},
			history: seed.Store{Tickets: tickets, Users: users, People: people, Grids: mongodb.NewGrids(mongo, now),
				Categories: mongodb.NewCategories(mongo, now), Photos: photoStore, Submitters: mongodb.NewOpen311Submitters(mongo),
				Stats: statsStore}}
		if sim != nil {
			a.openID = sim.OpenIDFor
		}
		return opt.command(ctx, a)
	}
	open311 := service.NewOpen311(service.Open311Deps{
		Tickets: tickets, Public: tickets, Keys: mongodb.NewAPIKeys(mongo), Submitters: mongodb.NewOpen311Submitters(mongo),
		Categories: categories, Photos: photoStore, Signer: signer, Router: dispatcher, Dispatch: dispatchQueue, SLAs: dispatcher.Workflow(), Limiter: limiter,
		Config: service.Open311Config{Jurisdiction: cfg.Open311JurisdictionFor(baseURL), PostsPerMinute: cfg.Open311PostsPerMinute,
			ListsPerMinute: cfg.Open311ListsPerMinute},
		Now: now, Logger: logger,
	})
	open311Type := "production"
	if cfg.WeChatSimulator {
		open311Type = "test" // nothing filed here reaches a real resident
	}

	e := handler.New(handler.Deps{
		Logger:        logger,
		Auth:          auth,
		People:        peopleSvc,
		Categories:    categories,
		Photos:        photos,
		PhotoURLs:     signer,
		PhotoMaxBytes: cfg.PhotoMaxBytes,
		Reports:       reports,
		Subscriptions: service.NewSubscriptions(mongodb.NewSubscriptions(mongo, now), templates),
		Push:          wechat.PushReceiver{Client: wx, OnMediaVerdict: screening.OnMediaVerdict},
		Tasks:         tasks,
		Workflow:      tasks,
		Feedback:      feedback,
		Stats:         stats,
		Activities:    activities,
		Grids:         grids,
		DeadLetters:   deadLetters{screenQueue, dispatchQueue, notifyQueue},
		Ready:         map[string]handler.Pinger{"mongodb": mongo, "redis": rdb},
		Registry:      prometheus.NewRegistry(),
		OpenAPI:       docs.OpenAPIJSON(),
		CursorSecret:  []byte(cfg.TokenSecret),
		Open311:       open311,
		Open311Discovery: handler.Open311Discovery{
			URL: baseURL + "/open311/v2", Changeset: now().In(time.FixedZone("CST", 8*3600)).Format(time.RFC3339),
			Contact: cfg.Open311Contact, KeyService: cfg.Open311KeyService, Type: open311Type,
		},
		StaffTickets: staffTickets,
	})

	// Background work: queue consumers and periodic jobs, each safe to run
	// on every instance at once.
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	var workers sync.WaitGroup
	// Consumers are named after this instance, whose liveness mark lets the
	// other instances take over its pending jobs within seconds of its death.
	liveness := redis.NewLiveness(rdb, instance, livenessTTL)
	if err := liveness.Beat(startCtx); err != nil {
		return err
	}
	workers.Go(func() { signals.Run(workCtx) })
	var takeOver []*service.Worker // one worker per queue, in the queues' order
	for _, q := range []struct {
		queue       *redis.Stream
		handle      func(context.Context, string) error
		attempts    int64
		giveUp      func(context.Context, string, error) error
		idle, limit time.Duration
	}{
		{screenQueue, screening.Handle, int64(cfg.ScreeningMaxAttempts), screening.Hold, cfg.QueueRetryAfter, 30 * time.Second},
		{dispatchQueue, dispatcher.Handle, 10, dispatcher.ToStaff, cfg.QueueRetryAfter, 30 * time.Second},
		{notifyQueue, notifier.Handle, 5, nil, time.Minute, 15 * time.Second},
	} {
		w := &service.Worker{
			Queue: q.queue, Consumer: liveness.Consumer(q.queue.Name()), Handle: q.handle, Concurrency: cfg.QueueConsumers,
			MaxAttempts: q.attempts, GiveUp: q.giveUp, ReclaimIdle: q.idle, HandleTimeout: q.limit, Logger: logger,
		}
		takeOver = append(takeOver, w)
		workers.Go(func() { w.Run(workCtx) })
	}
	workers.Go(func() {
		service.Every(workCtx, logger, "liveness", livenessBeat, func(ctx context.Context) (int, error) {
			return 0, liveness.Beat(ctx)
		})
	})
	workers.Go(func() {
		// One look per queue every few seconds (an XPENDING summary, which
		// is all it costs at rest) for jobs of consumers that died; once in
		// a while, dead instances' idle consumers are removed from the groups.
		queues := []*redis.Stream{screenQueue, dispatchQueue, notifyQueue} // in takeOver's order
		lastPrune := time.Now()
		service.Every(workCtx, logger, "takeover", livenessBeat, func(ctx context.Context) (int, error) {
			var n int
			var errs []error
			for i, w := range takeOver {
				m, err := w.TakeOver(ctx, queues[i])
				n += m
				errs = append(errs, err)
			}
			if time.Since(lastPrune) > 10*time.Minute {
				lastPrune = time.Now()
				for _, q := range queues {
					_, err := q.PruneConsumers(ctx, time.Hour)
					errs = append(errs, err)
				}
			}
			return n, errors.Join(errs...)
		})
	})
	// The statistics applier: woken by every commit (here or on another
	// instance), otherwise a look every few minutes for a lost wake-up.
	workers.Go(func() { statsStore.Run(workCtx) })
	workers.Go(func() {
		service.Every(workCtx, logger, "prune-notifications", time.Hour, func(ctx context.Context) (int, error) {
			return notifications.Prune(ctx, now().Add(-30*24*time.Hour))
		})
	})
	// Redis is rebuilt from MongoDB at start-up, then kept in step; should
	// it lose its data, the next look (every 30 s) rebuilds it again.
	epoch := redis.NewEpoch(rdb)
	if _, err := epoch.Lost(startCtx); err != nil {
		return err
	}
	if n, err := screening.Requeue(startCtx, screenQueue, 0); err != nil {
		logger.Warn("start-up requeue of screening failed; it will run again", "error", err.Error())
	} else if n > 0 {
		logger.Info("start-up requeued reports for screening", "count", n)
	}
	if n, err := dispatcher.Reconcile(startCtx, 0); err != nil {
		logger.Warn("start-up reconciliation failed; it will run again", "error", err.Error())
	} else if n > 0 {
		logger.Info("start-up reconciliation queued tickets for dispatch", "count", n)
	}
	workers.Go(func() {
		// The reconcilers scan MongoDB's open tickets. They run at once when
		// Redis has lost its data, and otherwise every RECONCILE_INTERVAL
		// for what a failed Redis write left behind (a job not queued, a
		// timer not set), which is rare.
		last := time.Now()
		service.Every(workCtx, logger, "reconcile", 30*time.Second, func(ctx context.Context) (int, error) {
			lost, err := epoch.Lost(ctx)
			if err != nil {
				return 0, err
			}
			if !lost && time.Since(last) < cfg.ReconcileInterval {
				return 0, nil
			}
			if lost {
				logger.WarnContext(ctx, "redis lost its data; rebuilding queues and timers from MongoDB")
			}
			last = time.Now()
			n, err := screening.Requeue(ctx, screenQueue, time.Minute)
			if err != nil {
				return n, err
			}
			m, err := dispatcher.Reconcile(ctx, time.Minute)
			return n + m, err
		})
	})
	workers.Go(func() {
		// Sleeps until the next due time, woken when this instance sets a
		// timer; a timer set by another instance is seen within
		// timersLookEvery.
		service.Waiting(workCtx, logger, "timers", timers.Woken(), 0, timersLookEvery,
			func(ctx context.Context) (time.Duration, int, error) {
				at, ok, err := timers.Next(ctx)
				if err != nil || !ok {
					return 0, 0, err
				}
				if wait := at.Sub(now()); wait > 0 {
					return wait, 0, nil
				}
				n, err := dispatcher.FireDue(ctx)
				if err != nil {
					return 0, n, err
				}
				return -1, n, nil
			})
	})
	workers.Go(func() {
		// Woken when any instance stores grids; a look every few minutes
		// for a lost wake-up.
		service.Waiting(workCtx, logger, "grid-refresh", signals.C(gridsSignal), 0, gridsLookEvery,
			func(ctx context.Context) (time.Duration, int, error) {
				changed, err := grids.Refresh(ctx)
				if changed {
					return 0, 1, err
				}
				return 0, 0, err
			})
	})
	workers.Go(func() {
		service.Every(workCtx, logger, "photo-sweeper", 10*time.Minute, func(ctx context.Context) (int, error) {
			n, err := photos.SweepUnused(ctx, now(), 24*time.Hour)
			if err != nil {
				return n, err
			}
			m, err := screening.ExpireModeration(ctx, 30*time.Minute)
			return n + m, err
		})
	})
	srv := &http.Server{
		Handler:           e,
		ReadHeaderTimeout: 5 * time.Second,
		// Photos come from phones on weak networks: allow a slow body.
		ReadTimeout:    60 * time.Second,
		WriteTimeout:   60 * time.Second,
		IdleTimeout:    120 * time.Second,
		MaxHeaderBytes: handler.ServerMaxHeaderBytes, // past handler.MaxHeaderBytes: 431 with the envelope
		ErrorLog:       slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	if sim != nil && opt.simulator == nil {
		sim.SetPushURL(baseURL + "/wechat/push")
	}
	logger.Info("listening", "addr", addr, "mode", cfg.Mode)
	if opt.onReady != nil {
		opt.onReady(addr)
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down: draining requests")
	shutCtx, cancelShut := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancelShut()
	if err := srv.Shutdown(shutCtx); err != nil {
		logger.Warn("shutdown did not drain in time", "error", err.Error())
	}
	logger.Info("stopping background workers")
	stopWork()
	workers.Wait()
	// What this instance leaves pending (jobs waiting for a retry) is
	// taken over by the others at once.
	if err := liveness.Stop(shutCtx); err != nil {
		logger.Warn("liveness mark not removed; the others take over when it expires", "error", err.Error())
	}
	if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	logger.Info("stopped")
	return nil
}

// A consumer's liveness mark is set every livenessBeat and lives
// livenessTTL, so the jobs of an instance killed are taken over within
// livenessTTL + livenessBeat (7 s).
const (
	livenessBeat = 2 * time.Second
	livenessTTL  = 5 * time.Second
)

// How often the jobs that are woken by signals look by themselves: for a
// wake-up lost with a Redis connection, or a timer set on another instance.
const (
	gridsLookEvery  = 5 * time.Minute
	timersLookEvery = 2 * time.Second
	gridsSignal     = "grids"
)

// forgetfulUsers are the users store as the people directory changes
// accounts: each change (a role taken away by a deactivation, duty) is
// dropped from this instance's authentication cache at once, and reaches
// the others within service.UserCacheTTL.
type forgetfulUsers struct {
	*mongodb.Users
	auth *service.Auth
}

func (u forgetfulUsers) Bind(ctx context.Context, userID string, role model.Role, profileID string) (*model.User, error) {
	defer u.auth.ForgetUser(userID)
	return u.Users.Bind(ctx, userID, role, profileID)
}

func (u forgetfulUsers) Unbind(ctx context.Context, userID string, role model.Role) (*model.User, error) {
	defer u.auth.ForgetUser(userID)
	return u.Users.Unbind(ctx, userID, role)
}

func (u forgetfulUsers) SetDuty(ctx context.Context, userID string, onDuty bool) (*model.User, error) {
	defer u.auth.ForgetUser(userID)
	return u.Users.SetDuty(ctx, userID, onDuty)
}

// signalledGrids is the grid store, waking every instance's grid index
// when grids are stored.
type signalledGrids struct {
	*mongodb.Grids
	signals *redis.Signals
}

func (g signalledGrids) Upsert(ctx context.Context, grids []geo.Grid) ([]model.Grid, error) {
	out, err := g.Grids.Upsert(ctx, grids)
	if err == nil {
		_ = g.signals.Notify(ctx, gridsSignal) // best effort: the others look every few minutes
	}
	return out, err
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

// consumerName names this instance's queue consumers.
func consumerName() string {
	host, _ := os.Hostname()
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}

// embeddedSecrets fills in what the single-machine mode may generate: the
// token secret, the message-push token shared by the simulator and
// /wechat/push, and the first staff account's password, each kept in a file
// under DATA_DIR so that restarts keep every login working.
func embeddedSecrets(cfg *config.Config, logger *slog.Logger) error {
	if cfg.WeChatPush && cfg.WeChatPushToken == "" {
		s, _, err := readOrCreateSecret(filepath.Join(cfg.DataDir, "push-token"))
		if err != nil {
			return err
		}
		cfg.WeChatPushToken = s
	}
	if cfg.TokenSecret == "" {
		s, _, err := readOrCreateSecret(filepath.Join(cfg.DataDir, "token-secret"))
		if err != nil {
			return err
		}
		cfg.TokenSecret = s
	}
	if cfg.AdminPassword == "" {
		path := filepath.Join(cfg.DataDir, "admin-password")
		s, created, err := readOrCreateSecret(path)
		if err != nil {
			return err
		}
		cfg.AdminPassword = s
		if created {
			logger.Warn("created the staff console account; its password is in the file named here", "username", cfg.AdminUsername, "password_file", path)
		} else {
			logger.Info("staff console account", "username", cfg.AdminUsername, "password_file", path)
		}
	}
	return nil
}

func readOrCreateSecret(path string) (secret string, created bool, err error) {
	b, err := os.ReadFile(path)
	if err == nil && len(strings.TrimSpace(string(b))) >= 32 {
		return strings.TrimSpace(string(b)), false, nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", false, fmt.Errorf("read %s: %w", path, err)
	}
	raw := make([]byte, 24)
	if _, err := rand.Read(raw); err != nil {
		return "", false, err
	}
	secret = hex.EncodeToString(raw)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", false, fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return "", false, fmt.Errorf("write %s: %w", path, err)
	}
	return secret, true, nil
}
