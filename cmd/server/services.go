package main

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"github.com/citizen-city/chengguantong/config"
	"github.com/citizen-city/chengguantong/geo"
	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/photo"
	"github.com/citizen-city/chengguantong/service/audit"
	"github.com/citizen-city/chengguantong/service/catalogue"
	"github.com/citizen-city/chengguantong/service/notify"
	"github.com/citizen-city/chengguantong/service/open311"
	"github.com/citizen-city/chengguantong/service/people"
	"github.com/citizen-city/chengguantong/service/photos"
	"github.com/citizen-city/chengguantong/service/privacy"
	"github.com/citizen-city/chengguantong/service/stats"
	"github.com/citizen-city/chengguantong/service/ticket"
	"github.com/citizen-city/chengguantong/store/redis"
	"github.com/citizen-city/chengguantong/wechat"
	"github.com/citizen-city/chengguantong/workcal"
)

// services are the use cases, each built once, and the Redis parts the
// background work needs.
type services struct {
	auth          *people.Auth
	people        *people.Directory
	categories    *catalogue.Categories
	grids         *catalogue.Grids
	photos        *photos.Uploads
	signer        *photos.URLSigner
	reports       *ticket.Reports
	screening     *ticket.Screening
	workflow      *ticket.Workflow
	relay         *ticket.Relay
	dispatcher    *ticket.Dispatcher
	tasks         *ticket.Tasks
	feedback      *ticket.Feedback
	staffTickets  *ticket.StaffTickets
	activities    *people.Activities
	stats         *stats.Service
	subscriptions *notify.Subscriptions
	notifier      *notify.Notifier
	open311       *open311.Service
	live          *ticket.Live
	addresses     *catalogue.Addresses
	layers        *catalogue.Layers
	// The duty of care: the access trail, identities, data rights,
	// retention and redaction.
	trail   *audit.Trail
	privacy *privacy.Service

	screenQueue, dispatchQueue, notifyQueue *redis.Stream
	timers                                  timerSet
	signals                                 *redis.Signals
	liveness                                *redis.Liveness
	epoch                                   *redis.Epoch
	staffAdmin                              *model.User
}

// timerSet keeps the deadlines: Redis's sorted set, shared by the
// instances; in the embedded mode (one process) memory — the in-process
// Redis sorts the whole set at every read, the timers of every open ticket
// at each look of the timer loop and at each timer scheduled.
type timerSet interface {
	ticket.TimerStore
	ticket.TimerWaker
}

// The wake-up signal sent when grids are stored.
const gridsSignal = "grids"

// newServices builds every service on the stores.
func newServices(ctx context.Context, cfg *config.Config, st *stores, wx *wechat.Client, baseURL, instance string,
	now func() time.Time, logger *slog.Logger) (*services, error) {
	rdb := st.redis
	limiter, locks := redis.NewRateLimiter(rdb), st.locks
	s := &services{
		screenQueue: redis.NewStream(rdb, "screen"), dispatchQueue: redis.NewStream(rdb, "dispatch"),
		notifyQueue: redis.NewStream(rdb, "notify"), timers: redis.NewTimers(rdb), signals: st.signals,
		liveness: redis.NewLiveness(rdb, instance, cfg.Periods.LivenessTTL), epoch: redis.NewEpoch(rdb),
	}
	if cfg.Mode == config.ModeEmbedded {
		s.timers = redis.NewMemoryTimers()
	}
	calendar, err := workcal.New(cfg.WorkCalendar)
	if err != nil {
		return nil, fmt.Errorf("WORK_CALENDAR: %w", err)
	}
	names := &people.Names{Users: st.Users, Workers: st.People, Members: st.People, Now: now}
	tokens := people.NewTokens([]byte(cfg.TokenSecret), cfg.TokenTTL, now)
	pc := cfg.Privacy
	s.trail = audit.New(st.Trail, pc.AuditRetention, now, logger)
	s.auth = people.NewAuth(people.AuthDeps{
		WeChat: wechat.Login{Client: wx}, Users: st.Users, Invites: st.Invites, Profiles: st.People,
		Limiter: limiter, Tokens: tokens, Logger: logger,
		Limits: people.AuthLimits{PerAccountPerMinute: cfg.LoginPerAccountPerMinute, PerIPPerMinute: cfg.LoginPerIPPerMinute},
		Staff:  st.Staff, Failures: redis.NewFailures(rdb), Trail: s.trail,
		Policy: people.LoginPolicy{SlowAfter: pc.LoginSlowAfter, LockAfter: pc.LoginLockAfter, LockFor: pc.LoginLockFor},
	})
	s.categories = catalogue.NewCategories(st.Categories, 5*time.Second, now)
	s.grids = catalogue.NewGrids(signalledGrids{st.Grids, s.signals}, float64(cfg.GridSnapMeters), logger)
	s.addresses = catalogue.NewAddresses(st.Addresses, s.grids, now)
	s.layers = catalogue.NewLayers(st.Layers)
	s.signer = photos.NewURLSigner([]byte(cfg.TokenSecret), baseURL, cfg.PhotoURLTTL, now)
	processor := photo.NewProcessor(photo.Limits{MaxBytes: cfg.PhotoMaxBytes, MaxPixels: cfg.PhotoMaxPixels, DecodeMemory: cfg.PhotoDecodeMemory}, runtime.NumCPU())
	s.photos = photos.NewUploads(st.Photos, processor, s.signer, limiter, cfg.UploadsPerMinute, 4*runtime.NumCPU())

	templates := notify.Templates{Assigned: cfg.TemplateAssigned, Accepted: cfg.TemplateAccepted, Resolved: cfg.TemplateResolved}
	s.notifier = notify.NewNotifier(notify.NotifierDeps{
		Queue: s.notifyQueue, Allowances: st.Subscriptions, Users: st.Users, Sender: wechat.Subscriber{Client: wx},
		Templates: templates, Dedup: st.Notifications, Now: now, Logger: logger,
	})
	s.subscriptions = notify.NewSubscriptions(st.Subscriptions, templates)
	s.privacy = privacy.New(privacy.Deps{
		Tickets: st.Tickets, Store: st.Privacy, Photos: st.Photos, Redaction: st.Redaction, Submitters: st.Submitters,
		Allowances: st.Subscriptions, Processor: processor, Trail: s.trail, Lease: locks, Forget: s.auth.ForgetUser,
		Config: privacy.Config{TicketRetention: pc.TicketRetention, KeepOriginal: pc.RedactKeepOriginal,
			ErasePhotos: privacy.ErasePhotos(pc.ErasePhotos),
			Templates:   []string{cfg.TemplateAssigned, cfg.TemplateAccepted, cfg.TemplateResolved}},
		Instance: instance, Now: now, Logger: logger,
	})
	// The live feed: shared by the instances through Redis; in the
	// embedded mode (one process) in memory — the in-process Redis makes a
	// reader blocked on a stream cost every other call a scan of it.
	var feed ticket.EventFeed = redis.NewEventLog(rdb)
	if cfg.Mode == config.ModeEmbedded {
		feed = redis.NewMemoryEventLog()
	}
	s.live = ticket.NewLive(feed, st.Users, logger)
	dispatchCfg := ticket.DispatchConfig{AcceptTimeout: cfg.AcceptTimeout, MaxReturns: cfg.MaxReturns, Calendar: calendar,
		FeedbackWindow: cfg.FeedbackWindow, PhotoMaxDistanceM: float64(cfg.ResolutionPhotoMaxDistanceM)}

	// The one workflow every ticket's steps are committed through, and the
	// relay that hands each commit's work to Redis.
	s.relay = ticket.NewRelay(ticket.RelayDeps{
		Tickets: st.Tickets, Screening: s.screenQueue, Dispatch: s.dispatchQueue, Timers: s.timers, Notify: s.notifier,
		Events: s.live, Liveness: s.liveness, Instance: instance, FeedbackWindow: cfg.FeedbackWindow, Now: now, Logger: logger,
	})
	router := ticket.NewRouter(ticket.RouterDeps{Grids: s.grids, Candidates: st.People, Duty: st.Users, Loads: st.Tickets,
		Categories: s.categories, Names: names})
	s.workflow = ticket.NewWorkflow(ticket.WorkflowDeps{Tickets: st.Tickets, Categories: s.categories, Router: router,
		Names: names, Relay: s.relay, Config: dispatchCfg, Now: now, Logger: logger})
	s.dispatcher = ticket.NewDispatcher(ticket.DispatcherDeps{Workflow: s.workflow, Router: router, Tickets: st.Tickets,
		Relay: s.relay, Timers: s.timers, Config: dispatchCfg, Now: now, Logger: logger})

	s.reports = ticket.NewReports(ticket.ReportsDeps{
		Tickets: st.Tickets, Photos: st.Photos, Categories: s.categories, Locks: locks, Limiter: limiter,
		Workflow: s.workflow, Limits: ticket.ReportLimits{PerDay: cfg.ReportsPerDay}, Now: now, Logger: logger,
	})
	s.screening = ticket.NewScreening(ticket.ScreeningDeps{
		Tickets: st.Tickets, Photos: st.Photos, Moderation: st.Photos, Users: st.Users, Content: wechat.Content{Client: wx},
		Categories: s.categories, Signer: s.signer, Reports: s.reports, Workflow: s.workflow, Now: now, Logger: logger,
	})
	s.tasks = ticket.NewTasks(ticket.TasksDeps{Tickets: st.Tickets, Photos: st.Photos, Members: st.People, Users: st.Users,
		Workflow: s.workflow, Now: now})
	s.feedback = ticket.NewFeedback(s.workflow, now)
	s.activities = people.NewActivities(st.Activities, st.People, st.People, now)
	s.stats = stats.NewService(stats.ServiceDeps{
		Store: st.Stats, Categories: s.categories, Grids: s.grids, Names: names, Activities: st.Activities,
		Branches: st.People, RankingWeights: cfg.RankingWeights, Now: now, Logger: logger,
	})
	s.people = people.NewDirectory(people.DirectoryDeps{Profiles: st.People, Invites: st.Invites, Revoker: st.Invites,
		Users: forgetfulUsers{st.Users, s.auth}, Grids: s.grids, Loads: st.Tickets, Tasks: s.tasks, InviteTTL: cfg.InviteTTL,
		Now: now, Logger: logger})
	s.staffTickets = ticket.NewStaffTickets(ticket.StaffTicketsDeps{Tickets: st.Tickets, People: st.People, Users: st.Users,
		Loads: st.Tickets, Dispatch: s.tasks, Grids: s.grids, Categories: s.categories, Now: now})
	s.open311 = open311.New(open311.Deps{
		Tickets: st.Tickets, Public: st.Tickets, Keys: st.APIKeys, Submitters: st.Submitters, Categories: s.categories,
		Photos: st.Photos, Signer: s.signer, Workflow: s.workflow, Limiter: limiter,
		Config: open311.Config{Jurisdiction: cfg.Open311JurisdictionFor(baseURL), PostsPerMinute: cfg.Open311PostsPerMinute,
			ListsPerMinute: cfg.Open311ListsPerMinute},
		Now: now, Logger: logger,
	})

	// What the record must hold before the first request.
	if cfg.AdminUsername != "" {
		if err := s.auth.EnsureAdmin(ctx, cfg.AdminUsername, cfg.AdminPassword); err != nil {
			if !degradedStart(err) {
				return nil, err
			}
			logger.Error("the staff account could not be stored (storage full?); starting to serve reads", "error", err.Error())
		}
	}
	if err := s.categories.Seed(ctx); err != nil {
		if !degradedStart(err) {
			return nil, err
		}
		logger.Error("the category catalogue could not be stored (storage full?); starting to serve reads", "error", err.Error())
	}
	if _, err := s.grids.Refresh(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// degradedStart reports whether a start-up write failed in a way that must
// not stop the server from serving what it can (a full disk: reads go on,
// writes answer 503 until space returns).
func degradedStart(err error) bool {
	return model.ErrorCode(err) == model.CodeUnavailable
}

// forgetfulUsers are the users store as the people directory changes
// accounts: each change (a role taken away by a deactivation, duty) is
// dropped from this instance's authentication cache at once, and reaches
// the others within people.UserCacheTTL.
type forgetfulUsers struct {
	people.Accounts
	auth *people.Auth
}

func (u forgetfulUsers) Bind(ctx context.Context, userID string, role model.Role, profileID string) (*model.User, error) {
	defer u.auth.ForgetUser(userID)
	return u.Accounts.Bind(ctx, userID, role, profileID)
}

func (u forgetfulUsers) Unbind(ctx context.Context, userID string, role model.Role) (*model.User, error) {
	defer u.auth.ForgetUser(userID)
	return u.Accounts.Unbind(ctx, userID, role)
}

func (u forgetfulUsers) SetDuty(ctx context.Context, userID string, onDuty bool) (*model.User, error) {
	defer u.auth.ForgetUser(userID)
	return u.Accounts.SetDuty(ctx, userID, onDuty)
}

// signalledGrids is the grid store, waking every instance's grid index
// when grids are stored.
type signalledGrids struct {
	catalogue.GridStore
	signals *redis.Signals
}

func (g signalledGrids) Upsert(ctx context.Context, grids []geo.Grid) ([]model.Grid, error) {
	out, err := g.GridStore.Upsert(ctx, grids)
	if err == nil {
		_ = g.signals.Notify(ctx, gridsSignal) // best effort: the others look every few minutes
	}
	return out, err
}
