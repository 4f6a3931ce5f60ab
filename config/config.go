// Package config loads the server's configuration from the environment. Load
// is a pure function of its getenv argument, so tests build configurations
// without touching the process environment.
package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/wechat/wechatsim"
	"github.com/citizen-city/chengguantong/workcal"
)

// Mode says where the stores live.
type Mode string

// The two modes.
const (
	// ModeEmbedded keeps the record in SQLite under DATA_DIR and runs an
	// in-process Redis and the WeChat simulator
	// inside the server process: a single-machine mode.
	ModeEmbedded Mode = "embedded"
	// ModeProduction uses the MongoDB and Redis named by MONGODB_URI and REDIS_URL.
	ModeProduction Mode = "production"
)

// Config is every setting of the server. Secrets are never printed: use
// LogValue (slog) or String, which mask them.
type Config struct {
	Mode Mode

	HTTPAddr      string
	PublicBaseURL string
	LogLevel      slog.Level

	MongoURI      string
	MongoDatabase string
	RedisURL      string
	// RedisKeyPrefix starts every Redis key, so deployments (and tests) can
	// share one Redis.
	RedisKeyPrefix string
	DataDir        string

	WeChatAppID      string
	WeChatSecret     string
	WeChatSimulator  bool
	WeChatPushToken  string
	WeChatPushAESKey string
	// WeChatPush is false when WECHAT_PUSH=off: no message push is
	// configured, so photo verdicts never arrive (each check is taken as
	// passed after 30 minutes). Production needs WECHAT_PUSH_TOKEN otherwise;
	// the embedded mode generates one under DataDir.
	WeChatPush bool
	// WeChatSimulatorFaults make simulated APIs fail (WECHAT_SIMULATOR_FAULTS,
	// for tests and staging); WeChatSimulatorMediaVerdict is the verdict the
	// simulator pushes for every photo: pass, risky, review or none.
	WeChatSimulatorFaults       map[string]wechatsim.Fault
	WeChatSimulatorMediaVerdict string

	// TokenSecret signs bearer tokens. Empty in embedded mode means "generate
	// one and keep it under DataDir".
	TokenSecret string
	TokenTTL    time.Duration
	InviteTTL   time.Duration

	AdminUsername string
	AdminPassword string

	// Photo limits and the lifetime of signed photo URLs.
	PhotoMaxBytes  int64
	PhotoMaxPixels int64
	PhotoURLTTL    time.Duration
	// PhotoDecodeMemory bounds the memory all photo decodes of an instance
	// take at once, each estimated from the image's headers before
	// decoding; a photo whose decode alone needs more is refused (413).
	PhotoDecodeMemory int64
	// Abuse limits per resident.
	UploadsPerMinute int
	ReportsPerDay    int
	// UploadTimePerMiB is the pace an upload's body must keep: each MiB
	// within this time (after 5 s of grace), else it is cut off (400).
	UploadTimePerMiB time.Duration

	// MetricsAddr is the address of the listener that serves /metrics
	// alone (empty: none, METRICS_ADDR=off). MetricsToken, when set, also
	// opens /metrics on the main port to callers that give it as a bearer
	// token; without it /metrics there answers 404.
	MetricsAddr  string
	MetricsToken string
	// TrustedProxies are the peers whose X-Forwarded-For is believed (the
	// load balancers); empty, the peer's own address is the client's.
	TrustedProxies []netip.Prefix
	// Dispatch rules.
	AcceptTimeout  time.Duration
	FeedbackWindow time.Duration
	MaxReturns     int
	GridSnapMeters int
	// ResolutionPhotoMaxDistanceM is how far from the ticket an "after"
	// photo's EXIF position may be before the resolution is flagged for 核查.
	ResolutionPhotoMaxDistanceM int
	// RankingWeights weigh the rates in /stats/ranking's composite score.
	RankingWeights model.RankingWeights
	// QueueConsumers is how many consumers each queue (screening, dispatch,
	// notifications) runs in this instance. A job spends its time waiting
	// on store round trips, so several per core keep the queues moving.
	QueueConsumers int
	// QueueRetryAfter is how long a failed queue job waits before it is tried
	// again (and how long a job of a consumer that vanished without a
	// liveness mark waits to be taken over).
	QueueRetryAfter time.Duration
	// ScreeningMaxAttempts bounds the tries of one report's screening; after
	// the last failed one the report is held for staff (held: true).
	ScreeningMaxAttempts int
	// ReconcileInterval is how often the reconcilers rebuild Redis's
	// dispatch state from the store when Redis has not lost its data.
	ReconcileInterval time.Duration
	// Periods are how often the background work looks by itself.
	Periods Periods
	// SQLiteReaders bounds the embedded store's reader connections.
	SQLiteReaders int
	// MongoSlowMS, when positive, prints every MongoDB command slower than
	// this many milliseconds to stderr (a diagnostic).
	MongoSlowMS int
	// WorkCalendar counts handling limits in working time: the built-in
	// China 2026 calendar unless WORK_CALENDAR gives another.
	WorkCalendar workcal.Config
	// Subscribe-message template ids by use.
	TemplateAssigned string
	TemplateAccepted string
	TemplateResolved string

	// LoginPerAccountPerMinute bounds login attempts per WeChat code/openid or
	// staff username; LoginPerIPPerMinute is a generous per-address ceiling
	// (carrier NAT puts thousands of residents behind one address).
	LoginPerAccountPerMinute int
	LoginPerIPPerMinute      int

	ShutdownTimeout time.Duration

	// Open311 (GeoReport v2): the jurisdiction_id served (empty: the host
	// of the public URL), the discovery document's contact and key-service
	// texts, the requests one api key may POST a minute and the listings
	// one address may read a minute.
	Open311Jurisdiction   string
	Open311Contact        string
	Open311KeyService     string
	Open311PostsPerMinute int
	Open311ListsPerMinute int

	// Privacy are the duty of care's settings (privacy.go).
	Privacy Privacy
}

// Periods are how often each background job looks for work by itself. Most
// are also woken at once when there is work (a commit, a timer set, grids
// stored); the period bounds how long a lost wake-up can delay them.
type Periods struct {
	// LivenessBeat is how often an instance renews its liveness mark, which
	// lives LivenessTTL: another instance takes over a dead one's jobs and
	// relays its handoffs within LivenessTTL + LivenessBeat of its death.
	LivenessBeat time.Duration
	LivenessTTL  time.Duration
	// Takeover is how often an instance looks for instances that died, to
	// take over their queue jobs and relay the after-commit work they left
	// (by dying between a commit and its hand-off to Redis).
	Takeover time.Duration
	// Timers is how often the timer loop looks for a timer set by another
	// instance (its own wake it at once).
	Timers time.Duration
	// Grids is how often an instance reloads the grids without a wake-up.
	Grids time.Duration
	// Stats is how often the MongoDB statistics applier looks without a
	// wake-up.
	Stats time.Duration
	// PhotoSweep is how often unused uploads and overdue photo checks are
	// swept; UnusedPhotoTTL is how long an upload may stay unused.
	PhotoSweep     time.Duration
	UnusedPhotoTTL time.Duration
	// NotificationsKept is how long the record of each sent notification is
	// kept (it makes a notification's retries send it once).
	NotificationsKept time.Duration
}

// Defaults that are not empty.
const (
	DefaultHTTPAddr      = ":8080"
	DefaultMongoDatabase = "chengguantong"
	DefaultDataDir       = "./data"
	DefaultMetricsAddr   = "127.0.0.1:9090"
	// SimulatorAppID is the app id the WeChat simulator answers for when no
	// WECHAT_APPID is configured.
	SimulatorAppID = "wx0000000000000000"
)

// Load reads the configuration through getenv (os.Getenv in production) and
// validates it. The error names every variable that is wrong.
func Load(getenv func(string) string) (*Config, error) {
	p := parser{getenv: getenv}
	c := &Config{
		HTTPAddr:                    p.str("HTTP_ADDR", DefaultHTTPAddr),
		PublicBaseURL:               p.str("PUBLIC_BASE_URL", ""),
		MongoURI:                    p.str("MONGODB_URI", ""),
		MongoDatabase:               p.str("MONGODB_DATABASE", DefaultMongoDatabase),
		RedisURL:                    p.str("REDIS_URL", ""),
		RedisKeyPrefix:              p.str("REDIS_KEY_PREFIX", "cgt:"),
		DataDir:                     p.str("DATA_DIR", DefaultDataDir),
		WeChatAppID:                 p.str("WECHAT_APPID", ""),
		WeChatSecret:                p.str("WECHAT_SECRET", ""),
		WeChatPushToken:             p.str("WECHAT_PUSH_TOKEN", ""),
		WeChatPushAESKey:            p.str("WECHAT_PUSH_AES_KEY", ""),
		TokenSecret:                 p.str("TOKEN_SECRET", ""),
		TokenTTL:                    p.duration("TOKEN_TTL", 72*time.Hour),
		InviteTTL:                   p.duration("INVITE_TTL", 7*24*time.Hour),
		AdminUsername:               p.str("ADMIN_USERNAME", ""),
		AdminPassword:               p.str("ADMIN_PASSWORD", ""),
		LoginPerAccountPerMinute:    p.positiveInt("LOGIN_RATE_PER_ACCOUNT", 10),
		LoginPerIPPerMinute:         p.positiveInt("LOGIN_RATE_PER_IP", 600),
		ShutdownTimeout:             p.duration("SHUTDOWN_TIMEOUT", 15*time.Second),
		PhotoMaxBytes:               int64(p.positiveInt("PHOTO_MAX_BYTES", 10<<20)),
		PhotoMaxPixels:              int64(p.positiveInt("PHOTO_MAX_PIXELS", 50_000_000)),
		PhotoURLTTL:                 p.duration("PHOTO_URL_TTL", time.Hour),
		PhotoDecodeMemory:           int64(p.positiveInt("PHOTO_DECODE_MEMORY", 256<<20)),
		UploadsPerMinute:            p.positiveInt("UPLOADS_PER_MINUTE", 20),
		UploadTimePerMiB:            p.duration("UPLOAD_TIME_PER_MIB", 10*time.Second),
		MetricsAddr:                 p.str("METRICS_ADDR", DefaultMetricsAddr),
		MetricsToken:                p.str("METRICS_TOKEN", ""),
		ReportsPerDay:               p.positiveInt("REPORTS_PER_DAY", 20),
		AcceptTimeout:               p.duration("ACCEPT_TIMEOUT", 30*time.Minute),
		MaxReturns:                  p.positiveInt("MAX_RETURNS", 2),
		FeedbackWindow:              p.duration("FEEDBACK_WINDOW", 72*time.Hour),
		GridSnapMeters:              p.positiveInt("GRID_SNAP_METERS", 200),
		QueueConsumers:              p.positiveInt("QUEUE_CONSUMERS", 8),
		QueueRetryAfter:             p.duration("QUEUE_RETRY_AFTER", 30*time.Second),
		ScreeningMaxAttempts:        p.positiveInt("SCREENING_MAX_ATTEMPTS", 8),
		WeChatSimulatorMediaVerdict: p.str("WECHAT_SIMULATOR_MEDIA_VERDICT", wechatsim.VerdictPass),
		ResolutionPhotoMaxDistanceM: p.positiveInt("RESOLUTION_PHOTO_MAX_DISTANCE_M", 300),
		ReconcileInterval:           p.duration("RECONCILE_INTERVAL", 10*time.Minute),
		Periods: Periods{
			LivenessBeat:      p.duration("LIVENESS_BEAT", 2*time.Second),
			LivenessTTL:       p.duration("LIVENESS_TTL", 5*time.Second),
			Takeover:          p.duration("TAKEOVER_EVERY", 2*time.Second),
			Timers:            p.duration("TIMERS_LOOK_EVERY", 2*time.Second),
			Grids:             p.duration("GRIDS_LOOK_EVERY", 5*time.Minute),
			Stats:             p.duration("STATS_LOOK_EVERY", 5*time.Minute),
			PhotoSweep:        p.duration("PHOTO_SWEEP_EVERY", 10*time.Minute),
			UnusedPhotoTTL:    p.duration("UNUSED_PHOTO_TTL", 24*time.Hour),
			NotificationsKept: p.duration("NOTIFICATIONS_KEPT", 30*24*time.Hour),
		},
		SQLiteReaders:         p.positiveInt("SQLITE_READERS", 8),
		MongoSlowMS:           p.nonNegativeInt("MONGODB_SLOW_MS", 0),
		TemplateAssigned:      p.str("WECHAT_TEMPLATE_ASSIGNED", "tmpl_assigned"),
		TemplateAccepted:      p.str("WECHAT_TEMPLATE_ACCEPTED", "tmpl_accepted"),
		TemplateResolved:      p.str("WECHAT_TEMPLATE_RESOLVED", "tmpl_resolved"),
		Open311Jurisdiction:   strings.ToLower(p.str("OPEN311_JURISDICTION", "")),
		Open311Contact:        p.str("OPEN311_CONTACT", "市民城管通（城市管理局）：请通过城市管理局信息中心联系本接口的维护人员"),
		Open311KeyService:     p.str("OPEN311_KEY_SERVICE", "api_key 由城市管理局工作人员在管理后台签发：请以单位名义向城市管理局申请"),
		Open311PostsPerMinute: p.positiveInt("OPEN311_POSTS_PER_MINUTE", 30),
		Open311ListsPerMinute: p.positiveInt("OPEN311_LISTS_PER_MINUTE", 60),
	}
	c.LogLevel = p.level("LOG_LEVEL")
	c.Privacy = loadPrivacy(&p)
	c.TrustedProxies = p.prefixes("TRUSTED_PROXIES")
	if c.PhotoDecodeMemory < 32<<20 {
		p.fail("PHOTO_DECODE_MEMORY", "must be at least 33554432 (32 MiB): a 12-megapixel phone photo takes about 20 MiB to decode")
	}
	if c.UploadTimePerMiB < time.Second {
		p.fail("UPLOAD_TIME_PER_MIB", "must be at least 1s")
	}
	switch c.MetricsAddr {
	case "off":
		c.MetricsAddr = ""
	default:
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			p.fail("METRICS_ADDR", "must be host:port (e.g. 127.0.0.1:9090, the default) or off")
		}
	}
	if c.MetricsToken != "" && len(c.MetricsToken) < 16 {
		p.fail("METRICS_TOKEN", "must be at least 16 characters")
	}
	c.RankingWeights = model.DefaultRankingWeights()
	if v := p.str("RANKING_WEIGHTS", ""); v != "" {
		if w, err := model.ParseRankingWeights(v); err != nil {
			p.fail("RANKING_WEIGHTS", err.Error())
		} else {
			c.RankingWeights = w
		}
	}
	c.WorkCalendar = workcal.China2026()
	if v := p.str("WORK_CALENDAR", ""); v != "" {
		wc, err := workcal.Parse(v)
		if err != nil {
			p.fail("WORK_CALENDAR", err.Error())
		} else {
			c.WorkCalendar = wc
		}
	}

	switch {
	case c.MongoURI == "" && c.RedisURL == "":
		c.Mode = ModeEmbedded
	case c.MongoURI != "" && c.RedisURL != "":
		c.Mode = ModeProduction
	case c.MongoURI == "":
		p.fail("MONGODB_URI", "is required when REDIS_URL is set (set both for production mode, neither for the embedded mode)")
	default:
		p.fail("REDIS_URL", "is required when MONGODB_URI is set (set both for production mode, neither for the embedded mode)")
	}
	if pp := c.Periods; pp.LivenessTTL < 2*pp.LivenessBeat {
		p.fail("LIVENESS_TTL", fmt.Sprintf("must be at least twice LIVENESS_BEAT (%s), or a slow beat marks a running instance dead", pp.LivenessBeat))
	}
	if c.Periods.UnusedPhotoTTL < time.Hour {
		p.fail("UNUSED_PHOTO_TTL", "must be at least 1h: a resident's upload must outlive the time to fill in a report")
	}
	// The simulator is the default only in the embedded mode.
	c.WeChatSimulator = p.boolean("WECHAT_SIMULATOR", c.Mode == ModeEmbedded)

	if c.MongoURI != "" {
		if u, err := url.Parse(c.MongoURI); err != nil || (u.Scheme != "mongodb" && u.Scheme != "mongodb+srv") {
			p.fail("MONGODB_URI", "must be a mongodb:// or mongodb+srv:// URI")
		}
	}
	if c.RedisURL != "" {
		if u, err := url.Parse(c.RedisURL); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss" && u.Scheme != "unix") {
			p.fail("REDIS_URL", "must be a redis://, rediss:// or unix:// URL")
		}
	}
	if c.MongoDatabase == "" || strings.ContainsAny(c.MongoDatabase, `/\. "$`) {
		p.fail("MONGODB_DATABASE", "must be a plain database name")
	}
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		p.fail("HTTP_ADDR", "must be host:port, e.g. :8080")
	}
	if c.PublicBaseURL == "" {
		// Derived from the listener once it is bound: see BaseURL.
	} else if u, err := url.Parse(c.PublicBaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.fail("PUBLIC_BASE_URL", "must be an absolute http(s) URL, e.g. https://cgt.example.gov.cn")
	} else {
		c.PublicBaseURL = strings.TrimRight(c.PublicBaseURL, "/")
	}

	if c.WeChatSimulator {
		if c.WeChatAppID == "" {
			c.WeChatAppID = SimulatorAppID
		}
		if c.WeChatSecret == "" {
			c.WeChatSecret = "simulator-secret"
		}
	} else {
		if c.WeChatAppID == "" {
			p.fail("WECHAT_APPID", "is required unless WECHAT_SIMULATOR=true")
		}
		if c.WeChatSecret == "" {
			p.fail("WECHAT_SECRET", "is required unless WECHAT_SIMULATOR=true")
		}
	}
	if faults, err := wechatsim.ParseFaults(p.str("WECHAT_SIMULATOR_FAULTS", "")); err != nil {
		p.fail("WECHAT_SIMULATOR_FAULTS", err.Error())
	} else {
		c.WeChatSimulatorFaults = faults
	}
	if _, ok := wechatsim.MediaVerdictOf(c.WeChatSimulatorMediaVerdict); !ok {
		p.fail("WECHAT_SIMULATOR_MEDIA_VERDICT", fmt.Sprintf("must be pass, risky, review or none, not %q", c.WeChatSimulatorMediaVerdict))
	}
	switch v := p.str("WECHAT_PUSH", "on"); v {
	case "on":
		c.WeChatPush = true
	case "off":
		if c.WeChatPushToken != "" {
			p.fail("WECHAT_PUSH", "is off, but WECHAT_PUSH_TOKEN is set: unset one of them")
		}
	default:
		p.fail("WECHAT_PUSH", fmt.Sprintf("must be on or off, not %q", v))
	}
	if c.WeChatPush && c.WeChatPushToken == "" && c.Mode == ModeProduction {
		p.fail("WECHAT_PUSH_TOKEN", "is required in production mode: the Token of the mini-program's message push (消息推送) settings, "+
			"which signs the photo verdicts WeChat sends to /wechat/push (shared by every instance; with WECHAT_SIMULATOR=true any string of your choice). "+
			"Set WECHAT_PUSH=off to run without photo verdicts")
	}
	if c.WeChatPushAESKey != "" {
		if k, err := base64.StdEncoding.DecodeString(c.WeChatPushAESKey + "="); len(c.WeChatPushAESKey) != 43 || err != nil || len(k) != 32 {
			p.fail("WECHAT_PUSH_AES_KEY", "must be the 43-character EncodingAESKey from the mini-program's message push settings")
		}
	}

	if c.TokenSecret == "" && c.Mode == ModeProduction {
		p.fail("TOKEN_SECRET", "is required in production mode (at least 32 characters, shared by every instance)")
	} else if c.TokenSecret != "" && len(c.TokenSecret) < 32 {
		p.fail("TOKEN_SECRET", "must be at least 32 characters")
	}
	if (c.AdminUsername == "") != (c.AdminPassword == "") {
		p.fail("ADMIN_PASSWORD", "ADMIN_USERNAME and ADMIN_PASSWORD must be set together")
	}
	if c.AdminPassword != "" && len(c.AdminPassword) < 10 {
		p.fail("ADMIN_PASSWORD", "must be at least 10 characters")
	}
	if c.AdminUsername == "" && c.Mode == ModeEmbedded {
		// The embedded mode always has a console account; its password is
		// generated and kept under DATA_DIR when none is given.
		c.AdminUsername = "admin"
	}
	if c.PhotoURLTTL < time.Minute {
		p.fail("PHOTO_URL_TTL", "must be at least 1m")
	}
	if c.TokenTTL < time.Minute {
		p.fail("TOKEN_TTL", "must be at least 1m")
	}
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	return c, nil
}

// BaseURL is the server's public URL: PUBLIC_BASE_URL, or else derived from
// the address the listener is bound to (so port 0 works too).
func (c *Config) BaseURL(listenAddr string) string {
	if c.PublicBaseURL != "" {
		return c.PublicBaseURL
	}
	host, port, _ := net.SplitHostPort(listenAddr)
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// Open311JurisdictionFor is the jurisdiction_id GeoReport v2 serves:
// OPEN311_JURISDICTION, or else the host of the public URL without "www."
// (GeoReport's suggestion: the jurisdiction's web address).
func (c *Config) Open311JurisdictionFor(baseURL string) string {
	if c.Open311Jurisdiction != "" {
		return c.Open311Jurisdiction
	}
	u, err := url.Parse(baseURL)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
}

// LogValue prints the configuration with every secret masked.
func (c *Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("mode", string(c.Mode)),
		slog.String("http_addr", c.HTTPAddr),
		slog.String("public_base_url", c.PublicBaseURL),
		slog.String("mongodb_uri", maskURL(c.MongoURI)),
		slog.String("mongodb_database", c.MongoDatabase),
		slog.String("redis_url", maskURL(c.RedisURL)),
		slog.String("redis_key_prefix", c.RedisKeyPrefix),
		slog.String("data_dir", c.DataDir),
		slog.String("wechat_appid", c.WeChatAppID),
		slog.String("wechat_secret", mask(c.WeChatSecret)),
		slog.Bool("wechat_simulator", c.WeChatSimulator),
		slog.String("wechat_push_token", mask(c.WeChatPushToken)),
		slog.String("wechat_push_aes_key", mask(c.WeChatPushAESKey)),
		slog.Bool("wechat_push", c.WeChatPush),
		slog.Any("wechat_simulator_faults", c.WeChatSimulatorFaults),
		slog.String("wechat_simulator_media_verdict", c.WeChatSimulatorMediaVerdict),
		slog.Int("screening_max_attempts", c.ScreeningMaxAttempts),
		slog.String("queue_retry_after", c.QueueRetryAfter.String()),
		slog.String("token_secret", mask(c.TokenSecret)),
		slog.String("token_ttl", c.TokenTTL.String()),
		slog.String("admin_username", c.AdminUsername),
		slog.String("admin_password", mask(c.AdminPassword)),
		slog.String("log_level", c.LogLevel.String()),
		slog.String("metrics_addr", c.MetricsAddr),
		slog.String("metrics_token", mask(c.MetricsToken)),
		slog.Any("trusted_proxies", c.TrustedProxies),
		slog.Int64("photo_decode_memory", c.PhotoDecodeMemory),
		slog.String("upload_time_per_mib", c.UploadTimePerMiB.String()),
		slog.Any("privacy", c.Privacy),
	)
}

func mask(s string) string {
	if s == "" {
		return ""
	}
	return "***"
}

// maskURL hides the password of a connection URL.
func maskURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "***")
	}
	return u.Redacted()
}

type parser struct {
	getenv func(string) string
	errs   []error
}

func (p *parser) fail(name, msg string) {
	p.errs = append(p.errs, fmt.Errorf("%s %s", name, msg))
}

func (p *parser) str(name, def string) string {
	if v := strings.TrimSpace(p.getenv(name)); v != "" {
		return v
	}
	return def
}

func (p *parser) duration(name string, def time.Duration) time.Duration {
	v := p.str(name, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		p.fail(name, fmt.Sprintf("must be a positive duration such as 90s, 15m or 72h, not %q", v))
		return def
	}
	return d
}

func (p *parser) positiveInt(name string, def int) int {
	v := p.str(name, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		p.fail(name, fmt.Sprintf("must be a positive integer, not %q", v))
		return def
	}
	return n
}

func (p *parser) nonNegativeInt(name string, def int) int {
	v := p.str(name, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		p.fail(name, fmt.Sprintf("must be 0 or a positive integer, not %q", v))
		return def
	}
	return n
}

// prefixes reads a comma list of CIDR prefixes (a bare address is its own
// /32 or /128).
func (p *parser) prefixes(name string) []netip.Prefix {
	var out []netip.Prefix
	for _, f := range strings.Split(p.str(name, ""), ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if pfx, err := netip.ParsePrefix(f); err == nil {
			out = append(out, pfx.Masked())
		} else if a, err := netip.ParseAddr(f); err == nil {
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
		} else {
			p.fail(name, fmt.Sprintf("must be a comma list of addresses or CIDR prefixes such as 10.0.0.0/8, not %q", f))
		}
	}
	return out
}

func (p *parser) boolean(name string, def bool) bool {
	v := p.str(name, "")
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		p.fail(name, fmt.Sprintf("must be true or false, not %q", v))
		return def
	}
	return b
}

func (p *parser) level(name string) slog.Level {
	var l slog.Level
	v := p.str(name, "info")
	if err := l.UnmarshalText([]byte(v)); err != nil {
		p.fail(name, fmt.Sprintf("must be debug, info, warn or error, not %q", v))
	}
	return l
}
