// Package handler is the HTTP edge: Echo routes in one place, request and
// response types, authentication and role middleware, and the one error
// handler that writes the envelope of API.md.
package handler

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service"
)

// AuthService is login, authentication and the user's own settings.
type AuthService interface {
	LoginWeChat(ctx context.Context, code, clientIP string) (*model.Session, error)
	LoginStaff(ctx context.Context, username, password, clientIP string) (*model.Session, error)
	Authenticate(ctx context.Context, token string) (*model.User, error)
	Bind(ctx context.Context, u *model.User, code string) (*model.User, error)
	SetDuty(ctx context.Context, u *model.User, onDuty bool) (*model.User, error)
}

// PeopleService is the staff's management of workers, branches and members.
type PeopleService interface {
	CreateWorker(ctx context.Context, w model.Worker) (*service.Invited, error)
	CreateBranch(ctx context.Context, name string) (*model.Branch, error)
	CreatePartyMember(ctx context.Context, m model.PartyMember) (*service.Invited, error)
	ListWorkers(ctx context.Context, f model.PeopleFilter, cursor string, limit int) ([]service.WorkerRow, string, int64, error)
	GetWorker(ctx context.Context, id string) (*service.WorkerRow, error)
	UpdateWorker(ctx context.Context, id string, p service.WorkerPatch) (*service.WorkerRow, error)
	InviteWorker(ctx context.Context, id string) (*service.Invited, error)
	ListPartyMembers(ctx context.Context, f model.PeopleFilter, cursor string, limit int) ([]service.MemberRow, string, int64, error)
	GetPartyMember(ctx context.Context, id string) (*service.MemberRow, error)
	UpdatePartyMember(ctx context.Context, id string, p service.MemberPatch) (*service.MemberRow, error)
	InvitePartyMember(ctx context.Context, id string) (*service.Invited, error)
	ListBranches(ctx context.Context) ([]service.BranchRow, error)
	RenameBranch(ctx context.Context, id, name string) (*service.BranchRow, error)
}

// CategoryService is the category catalogue.
type CategoryService interface {
	List(ctx context.Context) ([]model.Category, error)
	Put(ctx context.Context, c model.Category) (model.Category, error)
}

// PhotoService uploads and serves photos.
type PhotoService interface {
	Admit(ctx context.Context, u *model.User) (*service.Admission, error)
	Upload(ctx context.Context, u *model.User, r io.Reader) (*model.Photo, error)
	Open(ctx context.Context, id, variant, exp, sig string) (*service.Served, error)
}

// PhotoURLs signs photo URLs.
type PhotoURLs interface {
	URL(id, variant string) string
}

// ReportService is the resident's reporting.
type ReportService interface {
	Submit(ctx context.Context, u *model.User, in service.ReportInput) (*model.Ticket, error)
	Get(ctx context.Context, u *model.User, id string) (*model.Ticket, error)
	Mine(ctx context.Context, u *model.User, cursor string, limit int) ([]*model.Ticket, string, error)
	Nearby(ctx context.Context, q service.NearbyQuery) ([]service.Nearby, error)
}

// SubscriptionService records subscribe-message allowances.
type SubscriptionService interface {
	Record(ctx context.Context, u *model.User, accepted []string) error
}

// PushService is WeChat's message push.
type PushService interface {
	Verify(q url.Values) (string, error)
	Receive(ctx context.Context, q url.Values, body []byte) error
}

// TaskService is the handlers' and staff's work on tickets.
type TaskService interface {
	Mine(ctx context.Context, u *model.User, cursor string, limit int) ([]*model.Ticket, string, error)
	Pool(ctx context.Context, u *model.User, cursor string, limit int) ([]*model.Ticket, string, error)
	Claim(ctx context.Context, u *model.User, id string) (*model.Ticket, error)
	Accept(ctx context.Context, u *model.User, id string) (*model.Ticket, error)
	Return(ctx context.Context, u *model.User, id, reason string) (*model.Ticket, error)
	Resolve(ctx context.Context, u *model.User, id, note string, photoIDs []string) (*model.Ticket, error)
	Reject(ctx context.Context, staff *model.User, id, reason string) (*model.Ticket, error)
}

// FeedbackService is the resident's confirmation (核查结案).
type FeedbackService interface {
	Give(ctx context.Context, u *model.User, id string, in service.FeedbackInput) (*model.Ticket, error)
}

// GridService manages the grids.
type GridService interface {
	Upload(ctx context.Context, data []byte) ([]model.Grid, error)
	List(ctx context.Context) ([]model.Grid, error)
}

// DeadLetter is a queued job that kept failing.
type DeadLetter struct {
	Queue, Payload, Reason string
	At                     time.Time
}

// DeadLetterSource lists dead letters for staff.
type DeadLetterSource interface {
	DeadLetters(ctx context.Context) ([]DeadLetter, error)
}

// Pinger is a dependency /readyz checks.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Deps is everything the HTTP edge calls.
type Deps struct {
	Logger        *slog.Logger
	Auth          AuthService
	People        PeopleService
	Categories    CategoryService
	Photos        PhotoService
	PhotoURLs     PhotoURLs
	PhotoMaxBytes int64
	Reports       ReportService
	Subscriptions SubscriptionService
	Push          PushService
	Tasks         TaskService
	StaffTickets  StaffTicketService
	Feedback      FeedbackService
	Stats         StatsReader
	Activities    ActivityService
	Grids         GridService
	DeadLetters   DeadLetterSource
	Ready         map[string]Pinger // name → dependency, for /readyz
	Registry      *prometheus.Registry
	OpenAPI       []byte // the OpenAPI document served at /openapi.json
	// CursorSecret signs list cursors (TOKEN_SECRET, the same on every
	// instance); empty gives a random key, good for one process only.
	CursorSecret []byte
	// Open311 serves GeoReport v2 under /open311/v2; Open311Discovery is
	// what its discovery document says.
	Open311          Open311Service
	Open311Discovery Open311Discovery
	// Workflow is 延期, 挂账, 督办, 核查 and the hotline (nil: 503).
	Workflow WorkflowService
	// Live is the staff's live feed (GET /api/v1/admin/events; nil: 503).
	Live LiveFeed
	// UploadTimePerMiB is the pace a photo's body must keep (zero:
	// DefaultUploadTimePerMiB).
	UploadTimePerMiB time.Duration
	// MetricsToken opens /metrics on the main port to callers that give it
	// as a bearer token; without it, /metrics there answers 404 (the
	// Registry's metrics are served by Metrics(Registry) on a listener of
	// their own).
	MetricsToken string
	// TrustedProxies are the peers (load balancers) whose X-Forwarded-For
	// names the client; from any other peer, and from every peer when it is
	// empty, the client is the peer itself. This address is the one every
	// per-address limit and every log line uses.
	TrustedProxies []netip.Prefix
}

// New builds the Echo server with every route.
func New(d Deps) *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = errorHandler(d.Logger)
	e.IPExtractor = clientIP(d.TrustedProxies)

	reg := d.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := newMetrics(reg)

	e.Use(requestID(), observe(d.Logger, m), middleware.RecoverWithConfig(middleware.RecoverConfig{
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			d.Logger.ErrorContext(c.Request().Context(), "panic", "error", err.Error(), "stack", string(stack))
			return err
		},
	}), securityHeaders(), checkHeaderSize(MaxHeaderBytes), withCursorKey(cursorKey(d.CursorSecret)))

	h := &handlers{Deps: d}
	e.GET("/healthz", h.healthz)
	e.GET("/readyz", h.readyz)
	e.GET("/metrics", metricsOnMainPort(d.MetricsToken, promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))
	e.GET("/openapi.json", h.openapi)
	mountConsole(e, d.PhotoURLs) // GET /admin/: the staff console

	e.GET("/media/photos/:id/:variant", h.servePhoto)
	e.GET("/wechat/push", h.wechatVerify)
	e.POST("/wechat/push", h.wechatPush)

	api := e.Group("/api/v1")
	api.POST("/auth/wechat", h.loginWeChat)
	api.POST("/auth/staff", h.loginStaff)
	api.GET("/categories", h.listCategories)

	authed := api.Group("", authenticate(d.Auth))
	authed.GET("/me", h.me)
	authed.POST("/me/bind", h.bind)
	authed.PUT("/me/duty", h.duty)
	authed.POST("/me/subscriptions", h.recordSubscriptions)

	wx := authed.Group("", requireRole(model.RoleResident))
	wx.POST("/photos", h.uploadPhoto)
	wx.POST("/reports", h.submitReport)
	wx.GET("/reports/mine", h.myReports)
	wx.GET("/reports/nearby", h.nearbyReports)
	wx.POST("/reports/:id/feedback", h.feedback)
	authed.GET("/reports/:id", h.getReport)

	tasks := authed.Group("/tasks", requireRole(model.RoleGridWorker, model.RolePartyMember))
	tasks.GET("", h.myTasks)
	tasks.GET("/pool", h.taskPool)
	tasks.POST("/:id/claim", h.claimTask)
	tasks.POST("/:id/accept", h.acceptTask)
	tasks.POST("/:id/return", h.returnTask)
	tasks.POST("/:id/resolve", h.resolveTask)

	admin := authed.Group("/admin", requireRole(model.RoleStaff))
	admin.PUT("/categories/:code", h.putCategory)
	admin.POST("/grids", h.uploadGrids)
	admin.GET("/grids", h.listGrids)
	admin.GET("/tickets", h.staffTickets)
	admin.GET("/tickets/export.xlsx", h.exportTickets)
	admin.GET("/tickets/:id", h.staffTicket)
	admin.GET("/tickets/:id/candidates", h.ticketCandidates)
	admin.POST("/tickets/:id/dispatch", h.staffDispatch)
	admin.POST("/tickets/:id/reject", h.staffReject)
	admin.GET("/dead-letters", h.deadLetters)
	admin.GET("/events", h.liveEvents)
	mountWorkflow(tasks, admin, &WorkflowHandlers{Svc: d.Workflow,
		Show: h.showStaff, Task: func(t *model.Ticket) any { return h.toTask(t) }})
	ah := &ActivityHandlers{Svc: d.Activities}
	admin.POST("/activities", ah.Create)
	authed.POST("/activities/:id/checkin", ah.CheckIn, requireRole(model.RolePartyMember))

	stats := authed.Group("/stats", requireRole(model.RoleStaff))
	stats.GET("/summary", h.statsSummary)
	stats.GET("/party-building", h.statsPartyBuilding)
	stats.GET("/ranking", h.statsRanking)
	stats.GET("/export.xlsx", (&ExportHandlers{Stats: d.Stats}).Export)
	admin.POST("/workers", h.createWorker)
	admin.GET("/workers", h.listWorkers)
	admin.GET("/workers/:id", h.getWorker)
	admin.PATCH("/workers/:id", h.patchWorker)
	admin.POST("/workers/:id/invite", h.inviteWorker)
	admin.POST("/branches", h.createBranch)
	admin.GET("/branches", h.listBranches)
	admin.PATCH("/branches/:id", h.patchBranch)
	admin.POST("/party-members", h.createPartyMember)
	admin.GET("/party-members", h.listPartyMembers)
	admin.GET("/party-members/:id", h.getPartyMember)
	admin.PATCH("/party-members/:id", h.patchPartyMember)
	admin.POST("/party-members/:id/invite", h.invitePartyMember)

	// Open311 GeoReport v2: the public endpoint and the staff's api keys.
	o311 := &open311Handlers{svc: d.Open311, disc: d.Open311Discovery, logger: d.Logger}
	mountOpen311(e, o311)
	admin.POST("/open311/keys", o311.issueKey)
	admin.GET("/open311/keys", o311.listKeys)
	admin.DELETE("/open311/keys/:id", o311.revokeKey)
	return e
}

type handlers struct {
	Deps
}

func (h *handlers) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 503 while any store does not answer, naming which.
func (h *handlers) readyz(c echo.Context) error {
	checks := map[string]string{}
	ready := true
	for name, p := range h.Ready {
		if err := p.Ping(c.Request().Context()); err != nil {
			checks[name] = "unavailable"
			ready = false
		} else {
			checks[name] = "ok"
		}
	}
	if !ready {
		return c.JSON(http.StatusServiceUnavailable, map[string]any{
			"error":  ErrorDetail{Code: string(model.CodeUnavailable), Message: "有存储服务未响应（见 checks）"},
			"checks": checks,
		})
	}
	return c.JSON(http.StatusOK, map[string]any{"status": "ready", "checks": checks})
}

func (h *handlers) openapi(c echo.Context) error {
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, h.OpenAPI)
}
