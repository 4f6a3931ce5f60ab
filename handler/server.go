// Package handler is the HTTP edge. Every route is registered in one
// function, routes (routes.go), which reads top to bottom like the sections
// of docs/openapi.yaml, with the authentication and role middleware of each
// group in sight. Every handler has one shape: a method on *handlers that
// parses the request, calls one service method and responds, with its
// request and response structs beside it converting to and from model. The
// JSON views of a ticket, one per audience, are in views.go. Errors are
// returned, never written: the one error handler (errors.go) maps each
// model code to its status and writes the envelope.
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
	"github.com/citizen-city/chengguantong/service/open311"
	"github.com/citizen-city/chengguantong/service/people"
	"github.com/citizen-city/chengguantong/service/photos"
	"github.com/citizen-city/chengguantong/service/stats"
	"github.com/citizen-city/chengguantong/service/ticket"
)

// Deps is everything the HTTP edge calls: the services (each an interface
// declared below, holding only the methods the handlers call), and the
// settings of the edge itself.
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
	Stats         StatsService
	Activities    ActivityService
	Grids         GridService
	// Addresses is the address book; Layers the map's base layers.
	Addresses   AddressService
	Layers      LayerService
	DeadLetters DeadLetterSource
	Ready       map[string]Pinger // name → dependency, for /readyz
	Registry    *prometheus.Registry
	OpenAPI     []byte // the OpenAPI document served at /openapi.json (docs.OpenAPIJSON)
	// CursorSecret signs list cursors (TOKEN_SECRET, the same on every
	// instance); empty gives a random key, good for one process only.
	CursorSecret []byte
	// Open311 serves GeoReport v2 under /open311/v2; Open311Discovery is
	// what its discovery document says.
	Open311          Open311Service
	Open311Discovery Open311Discovery
	// Workflow is 延期, 挂账, 督办, 核查 and the hotline.
	Workflow WorkflowService
	// Live is the staff's live feed (GET /api/v1/admin/events).
	Live LiveFeed
	// Now is the clock of the defaults read from "today" (a statistics
	// period); nil means time.Now.
	Now func() time.Time
	// UploadTimePerMiB is the pace a photo's body must keep (zero:
	// DefaultUploadTimePerMiB).
	UploadTimePerMiB time.Duration
	// MetricsToken opens /metrics on the main port to callers that give it
	// as a bearer token; without it, /metrics there answers 404 (the
	// Registry's metrics are served by Metrics(Registry) on a listener of
	// their own).
	MetricsToken string
	// The duty of care (privacy.go): staff accounts, identities, data
	// rights and redaction, the access trail; Trail records exports.
	Staff   StaffService
	Privacy PrivacyService
	Audit   AuditService
	Trail   Recorder
	// TrustedProxies are the peers (load balancers) whose X-Forwarded-For
	// names the client; from any other peer, and from every peer when it is
	// empty, the client is the peer itself. This address is the one every
	// per-address limit and every log line uses.
	TrustedProxies []netip.Prefix
}

// AuthService is login, authentication and the user's own settings.
type AuthService interface {
	LoginWeChat(ctx context.Context, code, clientIP string) (*model.Session, error)
	LoginStaff(ctx context.Context, username, password, clientIP string) (*model.Session, error)
	Authenticate(ctx context.Context, token string) (*model.User, error)
	Bind(ctx context.Context, u *model.User, code string) (*model.User, error)
	SetDuty(ctx context.Context, u *model.User, onDuty bool) (*model.User, error)
	Logout(ctx context.Context, u *model.User) error
}

// SubscriptionService records subscribe-message allowances.
type SubscriptionService interface {
	Record(ctx context.Context, u *model.User, accepted []string) error
}

// CategoryService is the category catalogue.
type CategoryService interface {
	List(ctx context.Context) ([]model.Category, error)
	Put(ctx context.Context, c model.Category) (model.Category, error)
}

// PhotoService uploads and serves photos.
type PhotoService interface {
	Admit(ctx context.Context, u *model.User) (*photos.Admission, error)
	Upload(ctx context.Context, u *model.User, r io.Reader) (*model.Photo, error)
	Open(ctx context.Context, id, variant, exp, sig string) (*photos.Served, error)
}

// PhotoURLs signs photo URLs.
type PhotoURLs interface {
	URL(id, variant string) string
}

// ReportService is the resident's reporting.
type ReportService interface {
	Submit(ctx context.Context, u *model.User, in ticket.ReportInput) (*model.Ticket, error)
	Get(ctx context.Context, u *model.User, id string) (*model.Ticket, error)
	Mine(ctx context.Context, u *model.User, cursor string, limit int) ([]*model.Ticket, string, error)
	Nearby(ctx context.Context, q ticket.NearbyQuery) ([]ticket.Nearby, error)
}

// FeedbackService is the resident's confirmation (核查结案).
type FeedbackService interface {
	Give(ctx context.Context, u *model.User, id string, in ticket.FeedbackInput) (*model.Ticket, error)
	Change(ctx context.Context, u *model.User, id string, in ticket.FeedbackInput) (*model.Ticket, error)
}

// TaskService is the assignees' work on tickets, and the staff's rejection.
type TaskService interface {
	Mine(ctx context.Context, u *model.User, cursor string, limit int) ([]*model.Ticket, string, error)
	Pool(ctx context.Context, u *model.User, cursor string, limit int) ([]*model.Ticket, string, error)
	Claim(ctx context.Context, u *model.User, id string) (*model.Ticket, error)
	Accept(ctx context.Context, u *model.User, id string) (*model.Ticket, error)
	Return(ctx context.Context, u *model.User, id, reason string) (*model.Ticket, error)
	Resolve(ctx context.Context, u *model.User, id, note string, photoIDs []string) (*model.Ticket, error)
	Reject(ctx context.Context, staff *model.User, id, reason string) (*model.Ticket, error)
}

// WorkflowService is the rest of the GB/T 30428 workflow: 延期, 挂账, 督办,
// 核查 and the hotline channel.
type WorkflowService interface {
	RequestExtension(ctx context.Context, u *model.User, id string, hours int, reason string) (*model.Ticket, error)
	DecideExtension(ctx context.Context, staff *model.User, id string, approve bool, note string) (*model.Ticket, error)
	Defer(ctx context.Context, staff *model.User, id, reason string) (*model.Ticket, error)
	Resume(ctx context.Context, staff *model.User, id string) (*model.Ticket, error)
	Urge(ctx context.Context, staff *model.User, id, note string) (*model.Ticket, error)
	Verify(ctx context.Context, staff *model.User, id string, passed *bool, note string) (*model.Ticket, error)
	TakeCall(ctx context.Context, staff *model.User, in ticket.HotlineInput) (*model.Ticket, error)
}

// StaffTicketService is the staff's view of every ticket.
type StaffTicketService interface {
	List(ctx context.Context, q model.TicketQuery, cursor string, limit int) (ticket.StaffPage, error)
	Count(ctx context.Context, q model.TicketQuery) (int64, bool, error)
	Get(ctx context.Context, id string) (*ticket.StaffTicket, error)
	Candidates(ctx context.Context, id string) ([]ticket.Candidate, error)
	Dispatch(ctx context.Context, staff *model.User, id string, in ticket.DispatchInput) (*ticket.StaffTicket, error)
	Export(ctx context.Context, q model.TicketQuery, title string, masked bool, w io.Writer) (int, error)
}

// PeopleService is the staff's management of workers, branches and members.
type PeopleService interface {
	CreateWorker(ctx context.Context, w model.Worker) (*people.Invited, error)
	ListWorkers(ctx context.Context, f model.PeopleFilter, cursor string, limit int) ([]people.WorkerRow, string, int64, error)
	GetWorker(ctx context.Context, id string) (*people.WorkerRow, error)
	UpdateWorker(ctx context.Context, id string, p people.WorkerPatch) (*people.WorkerRow, error)
	InviteWorker(ctx context.Context, id string) (*people.Invited, error)
	CreatePartyMember(ctx context.Context, m model.PartyMember) (*people.Invited, error)
	ListPartyMembers(ctx context.Context, f model.PeopleFilter, cursor string, limit int) ([]people.MemberRow, string, int64, error)
	GetPartyMember(ctx context.Context, id string) (*people.MemberRow, error)
	UpdatePartyMember(ctx context.Context, id string, p people.MemberPatch) (*people.MemberRow, error)
	InvitePartyMember(ctx context.Context, id string) (*people.Invited, error)
	CreateBranch(ctx context.Context, name string) (*model.Branch, error)
	ListBranches(ctx context.Context) ([]people.BranchRow, error)
	RenameBranch(ctx context.Context, id, name string) (*people.BranchRow, error)
}

// GridService manages the grids.
type GridService interface {
	Upload(ctx context.Context, data []byte) ([]model.Grid, error)
	List(ctx context.Context) ([]model.Grid, error)
	Locate(p model.Point) (model.Grid, bool)
}

// ActivityService is party members' volunteer activities.
type ActivityService interface {
	Create(ctx context.Context, staff *model.User, in people.ActivityInput) (*model.Activity, error)
	CheckIn(ctx context.Context, u *model.User, id string) (model.Checkin, bool, error)
	List(ctx context.Context, f model.ActivityFilter, cursor string, limit int) ([]*model.Activity, string, error)
	Upcoming(ctx context.Context, u *model.User, community, cursor string, limit int) ([]*model.Activity, string, error)
	Detail(ctx context.Context, id string) (*model.Activity, []people.CheckinRow, error)
	Update(ctx context.Context, id string, p people.ActivityPatch) (*model.Activity, error)
	Cancel(ctx context.Context, id, reason string) (*model.Activity, error)
}

// StatsService is the statistics the staff read and export.
type StatsService interface {
	Summary(ctx context.Context, p stats.Period, groupBy string) (*stats.Summary, error)
	PartyBuilding(ctx context.Context, p stats.Period) (*stats.PartyBuilding, error)
	Ranking(ctx context.Context, p stats.Period, by string, minSample int) (*stats.Ranking, error)
}

// Open311Service is GeoReport v2 (Open311) as the HTTP edge needs it.
type Open311Service interface {
	CheckJurisdiction(id string) error
	Services(ctx context.Context) ([]model.Category, error)
	Service(ctx context.Context, code string) (model.Category, error)
	Authenticate(ctx context.Context, apiKey string) (*model.APIKey, error)
	Create(ctx context.Context, key *model.APIKey, in open311.Input) (*open311.Created, error)
	Requests(ctx context.Context, q open311.Query) ([]open311.Request, error)
	Request(ctx context.Context, id string) (*open311.Request, error)
	Token(ctx context.Context, token string) (string, error)
	IssueKey(ctx context.Context, staff *model.User, name string) (*open311.IssuedKey, error)
	Keys(ctx context.Context) ([]*model.APIKey, error)
	RevokeKey(ctx context.Context, id string) error
}

// PushService is WeChat's message push.
type PushService interface {
	Verify(q url.Values) (string, error)
	Receive(ctx context.Context, q url.Values, body []byte) error
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

// handlers is the one handler type: every route is a method of it (see
// routes.go), reading the services from Deps.
type handlers struct {
	Deps
	console *console     // the staff console's files
	metrics http.Handler // /metrics, on Deps.Registry
}

// New builds the Echo server: the middleware every request passes, then
// every route (routes.go).
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

	e.Use(requestID(), withAuditSource(), observe(d.Logger, m), middleware.RecoverWithConfig(middleware.RecoverConfig{
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			d.Logger.ErrorContext(c.Request().Context(), "panic", "error", err.Error(), "stack", string(stack))
			return err
		},
	}), securityHeaders(), checkHeaderSize(MaxHeaderBytes), withCursorKey(cursorKey(d.CursorSecret)))

	if d.Now == nil {
		d.Now = time.Now
	}
	h := &handlers{Deps: d, console: newConsole(photoOrigin(d.PhotoURLs)),
		metrics: promhttp.HandlerFor(reg, promhttp.HandlerOpts{})}
	routes(e, h)
	return e
}
