package open311

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service/catalogue"
	"github.com/citizen-city/chengguantong/service/limit"
	"github.com/citizen-city/chengguantong/service/photos"
	"github.com/citizen-city/chengguantong/service/ticket"
)

// APIKeyStore keeps the Open311 api keys.
type APIKeyStore interface {
	Insert(ctx context.Context, k *model.APIKey) error
	Get(ctx context.Context, id string) (*model.APIKey, error)
	List(ctx context.Context) ([]*model.APIKey, error)
	Revoke(ctx context.Context, id string, at time.Time) error
}

// SubmitterStore keeps, for staff only, who an Open311 client said filed a
// request.
type SubmitterStore interface {
	Save(ctx context.Context, s *model.Open311Submitter) error
	Get(ctx context.Context, ticketID string) (*model.Open311Submitter, error)
}

// PublicTickets lists the tickets a public listing may show.
type PublicTickets interface {
	Public(ctx context.Context, q model.PublicQuery) ([]*model.Ticket, error)
}

// Config is the deployment's GeoReport v2 settings.
type Config struct {
	// Jurisdiction is the one jurisdiction_id served (OPEN311_JURISDICTION).
	Jurisdiction string
	// PostsPerMinute bounds the requests one api key may POST a minute.
	PostsPerMinute int
	// ListsPerMinute bounds the listings (GET requests without
	// service_request_id) one client address may ask for a minute: each
	// reads the tickets collection, which on FerretDB is a scan.
	ListsPerMinute int
}

// Tickets reads a ticket (a request by its id).
type Tickets interface {
	Get(ctx context.Context, id string) (*model.Ticket, error)
}

// PhotoStore reads the photos a published request links to.
type PhotoStore interface {
	Many(ctx context.Context, ids []string) ([]*model.Photo, error)
}

// Service serves the city's tickets in GeoReport v2 (Open311): the
// categories as services, published tickets as service requests, and
// requests filed by clients with an api key, which become tickets routed
// like any other.
type Service struct {
	tickets    Tickets
	public     PublicTickets
	keys       APIKeyStore
	submitters SubmitterStore
	categories *catalogue.Categories
	photos     PhotoStore
	signer     *photos.URLSigner
	workflow   *ticket.Workflow
	limiter    limit.Limiter
	cfg        Config
	now        func() time.Time
	logger     *slog.Logger
}

// Deps are the collaborators of Service.
type Deps struct {
	Tickets    Tickets
	Public     PublicTickets
	Keys       APIKeyStore
	Submitters SubmitterStore
	Categories *catalogue.Categories
	Photos     PhotoStore
	Signer     *photos.URLSigner
	// Workflow takes a new request in (Intake: routed at once) and gives
	// the handling limit that starts at registration.
	Workflow *ticket.Workflow
	Limiter  limit.Limiter
	Config   Config
	Now      func() time.Time
	Logger   *slog.Logger
}

// New returns the GeoReport v2 service.
func New(d Deps) *Service {
	if d.Config.PostsPerMinute <= 0 {
		d.Config.PostsPerMinute = 30
	}
	if d.Config.ListsPerMinute <= 0 {
		d.Config.ListsPerMinute = 60
	}
	return &Service{tickets: d.Tickets, public: d.Public, keys: d.Keys, submitters: d.Submitters, categories: d.Categories,
		photos: d.Photos, signer: d.Signer, workflow: d.Workflow, limiter: d.Limiter, cfg: d.Config,
		now: d.Now, logger: d.Logger}
}

// Jurisdiction is the jurisdiction_id this endpoint serves.
func (s *Service) Jurisdiction() string { return s.cfg.Jurisdiction }

// CheckJurisdiction accepts an absent (empty) jurisdiction_id or the one
// served. Errors: not_found naming the value.
func (s *Service) CheckJurisdiction(id string) error {
	if id == "" || strings.EqualFold(id, s.cfg.Jurisdiction) {
		return nil
	}
	return model.Errorf(model.CodeNotFound, "jurisdiction_id %q 不存在：本接口只服务 %q", id, s.cfg.Jurisdiction)
}

// Services lists the categories, which are GeoReport's services.
func (s *Service) Services(ctx context.Context) ([]model.Category, error) {
	return s.categories.List(ctx)
}

// Service returns one category by service_code. Errors: not_found.
func (s *Service) Service(ctx context.Context, code string) (model.Category, error) {
	c, err := s.categories.Get(ctx, code)
	if errors.Is(err, model.ErrInvalidArgument) {
		return model.Category{}, model.Errorf(model.CodeNotFound, "service_code %q 不存在；services.xml 列出全部服务", code)
	}
	return c, err
}

// --- api keys ---------------------------------------------------------------

// IssuedKey is a new api key: its record and the secret, shown once.
type IssuedKey struct {
	Key    *model.APIKey
	APIKey string
}

const maxKeyName = 50

// IssueKey makes a new api key for the named holder. The key is returned
// once; only the digest of its secret is stored. Errors: invalid_argument
// (name).
func (s *Service) IssueKey(ctx context.Context, staff *model.User, name string) (*IssuedKey, error) {
	name = strings.TrimSpace(name)
	if n := utf8.RuneCountInString(name); n == 0 {
		return nil, model.Invalid("name", "必填：写明密钥的持有单位，例如“玄武区12345热线”")
	} else if n > maxKeyName {
		return nil, model.Invalid("name", "有 %d 个字符，最多 %d 个", n, maxKeyName)
	}
	now := s.now()
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("issue api key: %w", err)
	}
	secret := hex.EncodeToString(raw)
	k := &model.APIKey{ID: model.NewID(now), Name: name, Hash: keyHash(secret), CreatedBy: staff.ID, CreatedAt: now}
	if err := s.keys.Insert(ctx, k); err != nil {
		return nil, fmt.Errorf("issue api key: %w", err)
	}
	return &IssuedKey{Key: k, APIKey: k.ID + "." + secret}, nil
}

// Keys lists the api keys, without secrets.
func (s *Service) Keys(ctx context.Context) ([]*model.APIKey, error) {
	return s.keys.List(ctx)
}

// RevokeKey revokes an api key at once; revoking it again changes nothing.
// Errors: not_found.
func (s *Service) RevokeKey(ctx context.Context, id string) error {
	err := s.keys.Revoke(ctx, id, s.now())
	if errors.Is(err, model.ErrNotFound) {
		return model.Errorf(model.CodeNotFound, "没有 id 为 %q 的 Open311 密钥", id)
	}
	return err
}

// Authenticate returns the live key an api_key names. Errors:
// permission_denied (missing, malformed, unknown or revoked key).
func (s *Service) Authenticate(ctx context.Context, apiKey string) (*model.APIKey, error) {
	if apiKey == "" {
		return nil, model.Errorf(model.CodePermissionDenied, "缺少 api_key：提交服务请求需要城管局发放的密钥")
	}
	bad := model.Errorf(model.CodePermissionDenied, "api_key 无效或已被吊销")
	id, secret, ok := strings.Cut(apiKey, ".")
	if !ok || len(id) != 24 || len(secret) != 64 {
		return nil, bad
	}
	k, err := s.keys.Get(ctx, id)
	if errors.Is(err, model.ErrNotFound) {
		return nil, bad
	}
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare([]byte(k.Hash), []byte(keyHash(secret))) != 1 || k.Revoked() {
		return nil, bad
	}
	return k, nil
}

func keyHash(secret string) string {
	sum := sha256.Sum256([]byte("open311-key-v1\x00" + secret))
	return hex.EncodeToString(sum[:])
}

// --- POST requests ------------------------------------------------------------

// Input is a POSTed service request, as the form sent it.
type Input struct {
	ServiceCode   string
	Lat, Long     string
	CoordType     string // extension: gcj02 for a point from a Chinese map; wgs84 by default
	AddressString string
	AddressID     string
	Email         string
	DeviceID      string
	AccountID     string
	FirstName     string
	LastName      string
	Phone         string
	Description   string
	MediaURL      string
	// IdempotencyKey, when set (header Idempotency-Key), makes a retry
	// return the request the first attempt made.
	IdempotencyKey string
}

// MaxOpen311Description is GeoReport v2's limit on a description.
const MaxOpen311Description = 4000

var (
	htmlTag   = regexp.MustCompile(`</?[a-zA-Z][a-zA-Z0-9-]*(\s[^<>]*)?/?>|<[!?][^<>]*>`)
	phoneText = regexp.MustCompile(`^\+?[0-9][0-9 ()\-]{2,30}$`)
)

// ValidateText checks a free text of a form the way a resident's is
// checked (model.CheckText: valid UTF-8, line breaks and tabs but no other
// control characters, something visible), then trimmed: required unless
// optional, at most max characters, and no HTML. It returns
// the trimmed text. Errors: invalid_argument naming the field.
func ValidateText(field, text string, max int, required bool) (string, error) {
	// The resident's rules (model.CheckText, which the JSON decoder applies
	// to every body): UTF-8, no control characters, something visible.
	if err := model.CheckText(field, text); err != nil {
		return "", err
	}
	text = strings.TrimSpace(text)
	n := utf8.RuneCountInString(text)
	switch {
	case n == 0 && required:
		return "", model.Invalid(field, "必填：请说明问题是什么")
	case n > max:
		return "", model.Invalid(field, "有 %d 个字符，最多 %d 个", n, max)
	}
	if htmlTag.MatchString(text) {
		return "", model.Invalid(field, "不能含有 HTML 或代码，请只写文字")
	}
	return text, nil
}

// validate checks a POSTed request and returns its location. Errors:
// invalid_argument naming the form field.
func (in *Input) validate() (model.Location, error) {
	var loc model.Location
	in.ServiceCode = strings.TrimSpace(in.ServiceCode)
	if in.ServiceCode == "" {
		return loc, model.Invalid("service_code", "必填：取自 services.xml 的 service_code")
	}
	in.Lat, in.Long = strings.TrimSpace(in.Lat), strings.TrimSpace(in.Long)
	switch {
	case in.Lat == "" && in.Long == "":
		if strings.TrimSpace(in.AddressString) != "" || strings.TrimSpace(in.AddressID) != "" {
			return loc, model.Invalid("lat", "必填：本市按坐标派遣到网格，仅有 address_string 或 address_id 无法定位，请同时提交 lat 和 long（WGS-84）")
		}
		return loc, model.Invalid("lat", "必填：请提交 lat 和 long（WGS-84）")
	case in.Lat == "":
		return loc, model.Invalid("lat", "必填：lat 和 long 须同时提交")
	case in.Long == "":
		return loc, model.Invalid("long", "必填：lat 和 long 须同时提交")
	}
	lat, err := strconv.ParseFloat(in.Lat, 64)
	if err != nil || math.IsNaN(lat) || lat < -90 || lat > 90 {
		return loc, model.Invalid("lat", "必须是 -90 到 90 之间的数，而不是 %q", in.Lat)
	}
	lng, err := strconv.ParseFloat(in.Long, 64)
	if err != nil || math.IsNaN(lng) || lng < -180 || lng > 180 {
		return loc, model.Invalid("long", "必须是 -180 到 180 之间的数，而不是 %q", in.Long)
	}
	loc = model.Location{Lat: lat, Lng: lng, CoordType: model.CoordWGS84}
	switch strings.ToLower(strings.TrimSpace(in.CoordType)) {
	case "", "wgs84":
	case "gcj02":
		loc.CoordType = model.CoordGCJ02
	default:
		return loc, model.Invalid("coord_type", "只能是 wgs84（默认）或 gcj02，而不是 %q", in.CoordType)
	}
	if err := ticket.ValidateLocation("", loc); err != nil {
		return loc, model.Invalid("lat", "(%s, %s) 不在中国境内", in.Lat, in.Long)
	}
	if in.Description, err = ValidateText("description", in.Description, MaxOpen311Description, true); err != nil {
		return loc, err
	}
	if in.AddressString, err = ValidateText("address_string", in.AddressString, ticket.MaxAddress, false); err != nil {
		return loc, err
	}
	for _, f := range []struct {
		name string
		v    *string
		max  int
	}{{"address_id", &in.AddressID, 64}, {"device_id", &in.DeviceID, 128}, {"account_id", &in.AccountID, 128},
		{"first_name", &in.FirstName, 50}, {"last_name", &in.LastName, 50}} {
		if *f.v, err = ValidateText(f.name, *f.v, f.max, false); err != nil {
			return loc, err
		}
	}
	in.Email = strings.TrimSpace(in.Email)
	if in.Email != "" {
		if a, err := mail.ParseAddress(in.Email); err != nil || a.Address != in.Email || len(in.Email) > 254 {
			return loc, model.Invalid("email", "%q 不是有效的电子邮件地址", in.Email)
		}
	}
	in.Phone = strings.TrimSpace(in.Phone)
	if in.Phone != "" && !phoneText.MatchString(in.Phone) {
		return loc, model.Invalid("phone", "不是有效的电话号码：只能有数字、空格、括号、连字符和开头的 +")
	}
	in.MediaURL = strings.TrimSpace(in.MediaURL)
	if in.MediaURL != "" {
		u, err := url.Parse(in.MediaURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(in.MediaURL) > 2048 {
			return loc, model.Invalid("media_url", "必须是 http(s) 绝对地址，最长 2048 个字符")
		}
	}
	if len(in.IdempotencyKey) > 128 {
		return loc, model.Invalid("Idempotency-Key", "最多 128 个字符")
	}
	return loc, nil
}

func (in *Input) bodyHash() string {
	b, _ := json.Marshal(in)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Created is the answer to a POSTed request.
type Created struct {
	ID     string
	Notice string
}

// Timeline notes of requests filed through Open311.
const (
	noteOpen311Reported   = "经 Open311 接口提交（%s）"
	noteOpen311Registered = "已立案，等待派遣（文字由密钥持有单位负责，未经微信内容安全检测）"
)

// Create files a service request from a keyed client. The ticket is
// registered (立案) at once — the WeChat text check needs a WeChat user,
// which a client is not, so the text is taken on the key holder's
// responsibility — and routed like any other ticket. The submitter's
// details are kept for staff only. Errors: invalid_argument (the form
// field), not_found (service_code), rate_limited (per key),
// idempotency_key_reused, unavailable.
func (s *Service) Create(ctx context.Context, key *model.APIKey, in Input) (*Created, error) {
	loc, err := in.validate()
	if err != nil {
		return nil, err
	}
	cat, err := s.Service(ctx, in.ServiceCode)
	if err != nil {
		return nil, err
	}
	hash := in.bodyHash()
	idem := ""
	if in.IdempotencyKey != "" {
		// A retry is answered before it counts against the key's rate
		// limit. Two attempts at once both miss here; then the unique idem
		// decides: exactly one insert succeeds, the other replays it.
		idem = model.Digest("open311:" + key.ID + "\x00" + in.IdempotencyKey)
		if t, err := s.replay(ctx, idem, hash); t != nil || err != nil {
			return s.created(t, cat), err
		}
	}
	if err := limit.Check(ctx, s.limiter, "open311:"+key.ID, s.cfg.PostsPerMinute, time.Minute,
		fmt.Sprintf("该密钥每分钟最多提交 %d 条服务请求，请稍后再试", s.cfg.PostsPerMinute)); err != nil {
		return nil, err
	}
	now := s.now()
	id := model.NewID(now)
	if idem == "" {
		idem = "t:" + id
	}
	// The submitter's name and phone go where a hotline caller's do, so
	// the staff's ticket views show them (and nothing else does); the rest
	// of what the client sent is in the submitter's record.
	t := &model.Ticket{
		ID: id, Category: cat.Code, Description: in.Description, Location: loc, Point: ticket.ToWGS84(loc),
		Address: in.AddressString, Source: model.SourceOpen311,
		CallerName: personName(in.FirstName, in.LastName), CallerPhone: in.Phone,
	}
	// Reported and registered (立案) before it is stored: nothing screens
	// an Open311 request later, so it never waits submitted for a
	// screening that needs a WeChat user.
	if err := t.Report(model.Act{At: now, Note: fmt.Sprintf(noteOpen311Reported, key.Name)}); err != nil {
		return nil, err
	}
	sla, err := s.workflow.SLA(ctx, t)
	if err != nil {
		return nil, fmt.Errorf("open311 request: %w", err)
	}
	if err := t.Register(model.Act{At: now, Note: noteOpen311Registered}, sla); err != nil {
		return nil, err
	}
	// The submitter first: a ticket never lacks the details it was filed
	// with, and a submitter without its ticket (a failed insert) is inert.
	if err := s.submitters.Save(ctx, &model.Open311Submitter{
		TicketID: id, KeyID: key.ID, KeyName: key.Name, Email: in.Email, Phone: in.Phone, FirstName: in.FirstName,
		LastName: in.LastName, DeviceID: in.DeviceID, AccountID: in.AccountID, MediaURL: in.MediaURL,
		AddressID: in.AddressID, CreatedAt: now,
	}); err != nil {
		return nil, fmt.Errorf("open311 request: %w", err)
	}
	stored, err := s.workflow.Intake(ctx, t, idem, hash)
	if err != nil {
		if errors.Is(err, model.ErrConflict) && in.IdempotencyKey != "" {
			if t, rerr := s.replay(ctx, idem, hash); t != nil || rerr != nil {
				return s.created(t, cat), rerr
			}
		}
		return nil, fmt.Errorf("open311 request: %w", err)
	}
	return s.created(stored, cat), nil
}

// personName joins a given and a family name the way the names are
// written: 王小明 for Chinese names, "John Smith" otherwise.
func personName(first, last string) string {
	switch {
	case first == "" || last == "":
		return first + last
	case hasHan(first) && hasHan(last):
		return last + first
	}
	return first + " " + last
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

func (s *Service) created(t *model.Ticket, cat model.Category) *Created {
	if t == nil {
		return nil
	}
	return &Created{ID: t.ID, Notice: serviceNotice(cat)}
}

func (s *Service) replay(ctx context.Context, idem, hash string) (*model.Ticket, error) {
	return s.workflow.Replay(ctx, idem, hash, "此 Idempotency-Key 已用于另一条服务请求；新的请求请换一个键")
}

func serviceNotice(cat model.Category) string {
	return fmt.Sprintf("已立案，按位置派遣至所在网格处置；处置时限为 %d 个工作小时", cat.SLAHours)
}

// Submitter returns, to staff only, what the Open311 client said about the
// person behind a ticket it filed (email, phone, names, device and account
// ids, its media_url) and which key filed it: for the staff's ticket view.
// Errors: permission_denied (not staff), not_found (not filed through
// Open311).
func (s *Service) Submitter(ctx context.Context, u *model.User, ticketID string) (*model.Open311Submitter, error) {
	if u == nil || !u.Has(model.RoleStaff) {
		return nil, model.Errorf(model.CodePermissionDenied, "只有工作人员能查看 Open311 提交人的信息")
	}
	sub, err := s.submitters.Get(ctx, ticketID)
	if errors.Is(err, model.ErrNotFound) {
		return nil, model.Errorf(model.CodeNotFound, "工单 %s 不是经 Open311 提交的", ticketID)
	}
	return sub, err
}

// --- GET requests -------------------------------------------------------------

// Query is a GET requests query, parsed. Nil times and empty lists
// are absent parameters.
type Query struct {
	// IDs (service_request_id) overrides every other parameter.
	IDs          []string
	ServiceCodes []string
	Start, End   *time.Time
	// Statuses are open and/or closed.
	Statuses []string
	Page     int // from 1; 0 is absent
	PageSize int // 0 is absent
	// ClientIP is the caller's address, for the listing rate limit.
	ClientIP string
}

// Limits of GET requests.
const (
	// Open311MaxRange is the longest span start_date..end_date may cover.
	Open311MaxRange = 90 * 24 * time.Hour
	// Open311MaxRows is the default and largest page.
	Open311MaxRows = 1000
)

// Request is a ticket as GeoReport v2 publishes it: no reporter
// identity, WGS-84 position, open or closed.
type Request struct {
	ID                string
	Status            string // open or closed
	StatusNotes       string
	ServiceName       string
	ServiceCode       string
	Description       string
	AgencyResponsible string
	ServiceNotice     string
	Requested         time.Time
	Updated           time.Time
	Expected          time.Time // zero when unknown
	Address           string
	Lat, Long         float64
	MediaURL          string
}

// Requests answers GET requests: by service_request_id, or the requests
// made between start_date and end_date (at most 90 days; the last 90 days
// by default) of the given services and statuses, newest first, a page of
// at most 1,000. Errors: invalid_argument (the parameter), not_found (an
// unknown service_code), rate_limited (listings per client address).
func (s *Service) Requests(ctx context.Context, q Query) ([]Request, error) {
	var pq model.PublicQuery
	if len(q.IDs) > 0 {
		if len(q.IDs) > Open311MaxRows {
			return nil, model.Invalid("service_request_id", "一次最多查询 %d 个，收到 %d 个", Open311MaxRows, len(q.IDs))
		}
		pq.IDs = q.IDs
	} else {
		for _, code := range q.ServiceCodes {
			if _, err := s.Service(ctx, code); err != nil {
				return nil, err
			}
		}
		pq.Categories = q.ServiceCodes
		for _, st := range q.Statuses {
			switch st {
			case "open":
				pq.Statuses = append(pq.Statuses, openStatuses...)
			case "closed":
				pq.Statuses = append(pq.Statuses, closedStatuses...)
			default:
				return nil, model.Invalid("status", "只能是 open 或 closed（可用逗号分隔），而不是 %q", st)
			}
		}
		end, start := s.now(), time.Time{}
		switch {
		case q.Start != nil && q.End != nil:
			start, end = *q.Start, *q.End
		case q.Start != nil:
			start = *q.Start
			end = start.Add(Open311MaxRange)
		case q.End != nil:
			end = *q.End
			start = end.Add(-Open311MaxRange)
		default:
			start = end.Add(-Open311MaxRange)
		}
		if end.Before(start) {
			return nil, model.Invalid("end_date", "%s 早于 start_date %s", w3c(end), w3c(start))
		}
		if end.Sub(start) > Open311MaxRange {
			return nil, model.Invalid("end_date", "start_date 到 end_date 最多 90 天，而 %s 到 %s 有 %.1f 天",
				w3c(start), w3c(end), end.Sub(start).Hours()/24)
		}
		pq.From, pq.To = start, end
		size := Open311MaxRows
		if q.PageSize != 0 {
			if q.PageSize < 1 || q.PageSize > Open311MaxRows {
				return nil, model.Invalid("page_size", "必须在 1 到 %d 之间，而不是 %d", Open311MaxRows, q.PageSize)
			}
			size = q.PageSize
		}
		page := 1
		if q.Page != 0 {
			if q.Page < 1 || q.Page > 100000 {
				return nil, model.Invalid("page", "必须在 1 到 100000 之间，而不是 %d", q.Page)
			}
			page = q.Page
		}
		pq.Offset, pq.Limit = (page-1)*size, size
		if q.ClientIP != "" {
			if err := limit.Check(ctx, s.limiter, "open311-list:"+q.ClientIP, s.cfg.ListsPerMinute, time.Minute,
				fmt.Sprintf("每个地址每分钟最多查询 %d 次服务请求列表，请稍后再试；按 service_request_id 查询不受此限", s.cfg.ListsPerMinute)); err != nil {
				return nil, err
			}
		}
	}
	ts, err := s.public.Public(ctx, pq)
	if err != nil {
		return nil, fmt.Errorf("open311 requests: %w", err)
	}
	return s.publish(ctx, ts)
}

// Request answers GET requests/{id}. Errors: not_found (no such ticket, or
// one not published: still being screened, or rejected).
func (s *Service) Request(ctx context.Context, id string) (*Request, error) {
	out, err := s.Requests(ctx, Query{IDs: []string{id}})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, model.Errorf(model.CodeNotFound, "service_request_id %q 不存在", id)
	}
	return &out[0], nil
}

// Token answers GET tokens/{token}. Requests are created synchronously
// (type realtime), so no token is ever needed; the id of a request filed
// through Open311 serves as its own token. Errors: not_found.
func (s *Service) Token(ctx context.Context, token string) (string, error) {
	notFound := model.Errorf(model.CodeNotFound, "token %q 不存在：本接口同步返回 service_request_id，不发放 token", token)
	t, err := s.tickets.Get(ctx, token)
	if errors.Is(err, model.ErrNotFound) {
		return "", notFound
	}
	if err != nil {
		return "", err
	}
	if t.Source != model.SourceOpen311 || !slices.Contains(model.PublicStatuses, t.Status) {
		return "", notFound
	}
	return t.ID, nil
}

var (
	openStatuses   = []model.Status{model.StatusPending, model.StatusDispatched, model.StatusInProgress, model.StatusDeferred}
	closedStatuses = []model.Status{model.StatusResolved, model.StatusClosed, model.StatusMerged}
)

// publish renders tickets for the public: the first photo only once its
// content check passed, no reporter identity, contact details in the text
// masked.
func (s *Service) publish(ctx context.Context, ts []*model.Ticket) ([]Request, error) {
	var first []string
	for _, t := range ts {
		if len(t.PhotoIDs) > 0 {
			first = append(first, t.PhotoIDs[0])
		}
	}
	served := map[string]bool{}
	if len(first) > 0 {
		ps, err := s.photos.Many(ctx, first)
		if err != nil {
			return nil, fmt.Errorf("open311 requests: %w", err)
		}
		for _, p := range ps {
			// Photos are checked asynchronously (docs/screening.md): the
			// public sees one only once it passed, or its check timed out
			// and it is served as passed.
			served[p.ID] = p.Moderation.Suggest == "pass" || p.Moderation.Suggest == "timeout"
		}
	}
	cats := map[string]model.Category{}
	if list, err := s.categories.List(ctx); err == nil {
		for _, c := range list {
			cats[c.Code] = c
		}
	}
	out := make([]Request, 0, len(ts))
	for _, t := range ts {
		r := Request{
			ID: t.ID, Status: "open", StatusNotes: statusNotes(t), ServiceName: cats[t.Category].Name, ServiceCode: t.Category,
			Description: RedactContacts(t.Description), AgencyResponsible: t.Community,
			Requested: t.CreatedAt, Updated: t.UpdatedAt, Expected: t.DueAt,
			Address: RedactContacts(t.Address), Lat: t.Point.Lat, Long: t.Point.Lng,
		}
		if slices.Contains(closedStatuses, t.Status) {
			r.Status = "closed"
			r.Expected = time.Time{}
		}
		if cat, ok := cats[t.Category]; ok {
			r.ServiceNotice = fmt.Sprintf("处置时限为 %d 个工作小时", cat.SLAHours)
		}
		if len(t.PhotoIDs) > 0 && served[t.PhotoIDs[0]] {
			r.MediaURL = s.signer.URL(t.PhotoIDs[0], photos.VariantFull)
		}
		out = append(out, r)
	}
	return out, nil
}

// statusNotes says in Chinese what the ticket's own status is, which open
// and closed do not.
func statusNotes(t *model.Ticket) string {
	var n string
	switch t.Status {
	case model.StatusPending:
		switch {
		case t.Queue == model.QueueStaff && t.Pool:
			n = "已立案，等待社区在职党员认领或人工派遣"
		case t.Queue == model.QueueStaff:
			n = "已立案，等待人工派遣"
		case t.Pool:
			n = "已立案，等待社区在职党员认领"
		default:
			n = "已立案，等待派遣"
		}
	case model.StatusDispatched:
		n = "已派遣，等待处置人员接单"
	case model.StatusInProgress:
		n = "处置中"
	case model.StatusDeferred:
		n = "已挂账，暂缓处置"
	case model.StatusResolved:
		n = "已处置，等待反映人确认"
	case model.StatusClosed:
		n = "已结案"
	case model.StatusMerged:
		n = "重复反映，已并入工单 " + t.DuplicateOf + " 跟进"
	default:
		n = t.Status.Label()
	}
	if t.Escalated && !slices.Contains(closedStatuses, t.Status) {
		n += "；已超过处置时限，督办中"
	}
	return n
}

// RedactContacts masks the phone, e-mail and identity numbers a reporter
// may have typed into a text before it is published, in any written form
// (model.ScrubPublic).
func RedactContacts(s string) string { return model.ScrubPublic(s) }

// w3c formats a time as GeoReport v2 wants it: W3C/ISO 8601 with the zone,
// in China Standard Time.
func w3c(t time.Time) string { return t.In(model.ChinaTime()).Format(time.RFC3339) }

// W3C formats a time as GeoReport v2 wants it (W3C datetime with its zone,
// in China Standard Time), or "" for the zero time.
func W3C(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return w3c(t)
}
