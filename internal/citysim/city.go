// Package citysim builds a city (grids, grid workers, party members,
// residents) through the staff API of a running server and drives it over
// HTTP as the mini-program does: residents log in, upload photos one per
// request and report; workers watch their task lists, accept and resolve;
// residents rate; party members check in to an activity. It measures every
// endpoint and ends with an audit that asks the server, independently of
// what the load saw, whether every report that got a 201 exists, was
// dispatched exactly once, sits in exactly one worker's list and is counted
// once. cmd/citysim and the fault tests (faults/) use it.
package citysim

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"math"
	mrand "math/rand/v2"
	"mime/multipart"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config describes the city and where it lives.
type Config struct {
	// Targets are the base URLs of the server's instances
	// (http://127.0.0.1:8080); requests are spread over them, and a
	// resident logs in on one and reports on the next.
	Targets []string
	// StaffUser and StaffPass log in to the staff API.
	StaffUser, StaffPass string
	// Seed tells this city's grid codes, phones and WeChat codes apart from
	// another run's on the same server; empty means random.
	Seed string
	// Grids (default 4), WorkersPerGrid (default 2), Members (party members
	// of the first community, default 4) and Residents (default 50).
	Grids, WorkersPerGrid, Members, Residents int
	// Origin is the south-west corner of the city (WGS-84); default
	// Nanjing's 32.00, 118.70. Grids are 0.01° squares in a row eastwards.
	OriginLat, OriginLng float64
	// HTTP is the client (default one with a 30 s timeout).
	HTTP *http.Client
}

// City is a city built on a server, ready for load.
type City struct {
	cfg       Config
	staff     string
	grids     []gridBox
	workers   []*actor
	members   []*actor
	residents []*actor
	activity  string
	day       string // the statistics day (China Standard Time) of the baseline
	base      summary
	Stats     *Stats

	next atomic.Int64 // the number of the next report
	// accepted and resolved count the workers' successful steps.
	accepted, resolved atomic.Int64
	asked              atomic.Int64 // the target the audit asks first
	mu                 sync.Mutex
	reports            []*Report
}

type gridBox struct {
	code, community          string
	lat0, lng0, lat1, lng1   float64
	workerIDs, workerUserIDs []string
}

// actor is a WeChat user of the city.
type actor struct {
	code, token, userID, profileID string
	grid                           int
	mu                             sync.Mutex
}

// Report is one report that got a 201.
type Report struct {
	ID       string
	At       time.Time
	Resident *actor
	// Target is the instance that took the report; LoginTarget the one
	// the resident logged in on.
	Target, LoginTarget int
}

type summary struct {
	Reported   int64 `json:"reported"`
	Registered int64 `json:"registered"`
}

// shanghai is China Standard Time, the statistics' calendar.
var shanghai = time.FixedZone("CST", 8*3600)

// Build creates the city: grids, workers (bound and on duty), a party
// branch with its members (bound and on duty) and a volunteer activity,
// and notes the statistics before any load.
func Build(ctx context.Context, cfg Config) (*City, error) {
	if len(cfg.Targets) == 0 {
		return nil, errors.New("citysim: no target")
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&cfg.Grids, 4)
	def(&cfg.WorkersPerGrid, 2)
	def(&cfg.Members, 4)
	def(&cfg.Residents, 50)
	if cfg.OriginLat == 0 && cfg.OriginLng == 0 {
		cfg.OriginLat, cfg.OriginLng = 32.00, 118.70
	}
	if cfg.Seed == "" {
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		cfg.Seed = hex.EncodeToString(b)
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	c := &City{cfg: cfg, Stats: newStats()}
	tok, err := c.staffLogin(ctx)
	if err != nil {
		return nil, err
	}
	c.staff = tok

	var features []string
	for i := range cfg.Grids {
		g := gridBox{code: fmt.Sprintf("sim%s-%03d", cfg.Seed, i), community: fmt.Sprintf("模拟社区%s-%d", cfg.Seed, i/2),
			lat0: cfg.OriginLat, lat1: cfg.OriginLat + 0.01, lng0: cfg.OriginLng + float64(i)*0.01, lng1: cfg.OriginLng + float64(i+1)*0.01}
		c.grids = append(c.grids, g)
		features = append(features, fmt.Sprintf(`{"type":"Feature","properties":{"code":%q,"name":"模拟网格%d","community":%q},`+
			`"geometry":{"type":"Polygon","coordinates":[[[%f,%f],[%f,%f],[%f,%f],[%f,%f],[%f,%f]]]}}`,
			g.code, i, g.community, g.lng0, g.lat0, g.lng1, g.lat0, g.lng1, g.lat1, g.lng0, g.lat1, g.lng0, g.lat0))
	}
	fc := `{"type":"FeatureCollection","features":[` + strings.Join(features, ",") + `]}`
	if _, err := c.call(ctx, 0, "POST /admin/grids", "POST", "/api/v1/admin/grids", c.staff, json.RawMessage(fc), nil, http.StatusOK); err != nil {
		return nil, err
	}

	phone := 13000000000 + int64(mrand.IntN(900_000_000))
	for gi := range c.grids {
		for w := range cfg.WorkersPerGrid {
			phone++
			var out struct {
				ID         string `json:"id"`
				InviteCode string `json:"invite_code"`
			}
			body := map[string]any{"name": fmt.Sprintf("网格员%d-%d", gi, w), "phone": fmt.Sprint(phone), "grid_codes": []string{c.grids[gi].code}}
			if _, err := c.call(ctx, 0, "POST /admin/workers", "POST", "/api/v1/admin/workers", c.staff, body, &out, http.StatusCreated); err != nil {
				return nil, err
			}
			a := &actor{code: fmt.Sprintf("sim-%s-worker-%d-%d", cfg.Seed, gi, w), grid: gi, profileID: out.ID}
			if err := c.bind(ctx, a, out.InviteCode); err != nil {
				return nil, err
			}
			c.grids[gi].workerIDs = append(c.grids[gi].workerIDs, out.ID)
			c.grids[gi].workerUserIDs = append(c.grids[gi].workerUserIDs, a.userID)
			c.workers = append(c.workers, a)
		}
	}
	var branch struct {
		ID string `json:"id"`
	}
	if _, err := c.call(ctx, 0, "POST /admin/branches", "POST", "/api/v1/admin/branches", c.staff,
		map[string]string{"name": "模拟党支部" + cfg.Seed}, &branch, http.StatusCreated); err != nil {
		return nil, err
	}
	for m := range cfg.Members {
		phone++
		var out struct {
			ID         string `json:"id"`
			InviteCode string `json:"invite_code"`
		}
		body := map[string]any{"name": fmt.Sprintf("党员%d", m), "phone": fmt.Sprint(phone), "branch_id": branch.ID, "communities": []string{c.grids[0].community}}
		if _, err := c.call(ctx, 0, "POST /admin/party-members", "POST", "/api/v1/admin/party-members", c.staff, body, &out, http.StatusCreated); err != nil {
			return nil, err
		}
		a := &actor{code: fmt.Sprintf("sim-%s-member-%d", cfg.Seed, m), profileID: out.ID}
		if err := c.bind(ctx, a, out.InviteCode); err != nil {
			return nil, err
		}
		c.members = append(c.members, a)
	}
	now := time.Now()
	var act struct {
		ID string `json:"id"`
	}
	if _, err := c.call(ctx, 0, "POST /admin/activities", "POST", "/api/v1/admin/activities", c.staff, map[string]string{
		"title": "模拟志愿服务" + cfg.Seed, "kind": "volunteer", "community": c.grids[0].community,
		"starts_at": now.Add(-time.Hour).Format(time.RFC3339), "ends_at": now.Add(6 * time.Hour).Format(time.RFC3339),
	}, &act, http.StatusCreated); err != nil {
		return nil, err
	}
	c.activity = act.ID
	for r := range cfg.Residents {
		c.residents = append(c.residents, &actor{code: fmt.Sprintf("sim-%s-resident-%d", cfg.Seed, r)})
	}
	c.day = now.In(shanghai).Format("2006-01-02")
	if c.base, err = c.summary(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// StaffToken is the staff's bearer token the city was built with.
func (c *City) StaffToken() string { return c.staff }

// Seed is the city's seed.
func (c *City) Seed() string { return c.cfg.Seed }

// Reports returns the reports that got a 201 so far.
func (c *City) Reports() []*Report {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*Report(nil), c.reports...)
}

func (c *City) staffLogin(ctx context.Context) (string, error) {
	var out struct {
		Token string `json:"token"`
	}
	_, err := c.call(ctx, 0, "POST /auth/staff", "POST", "/api/v1/auth/staff", "",
		map[string]string{"username": c.cfg.StaffUser, "password": c.cfg.StaffPass}, &out, http.StatusOK)
	return out.Token, err
}

// login logs a WeChat user in on target.
func (c *City) login(ctx context.Context, target int, a *actor) error {
	var out struct {
		Token string `json:"token"`
		User  struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	if _, err := c.call(ctx, target, "POST /auth/wechat", "POST", "/api/v1/auth/wechat", "", map[string]string{"code": a.code}, &out, http.StatusOK); err != nil {
		return err
	}
	a.token, a.userID = out.Token, out.User.ID
	return nil
}

func (c *City) bind(ctx context.Context, a *actor, invite string) error {
	if err := c.login(ctx, 0, a); err != nil {
		return err
	}
	if _, err := c.call(ctx, 0, "POST /me/bind", "POST", "/api/v1/me/bind", a.token, map[string]string{"invite_code": invite}, nil, http.StatusOK); err != nil {
		return err
	}
	_, err := c.call(ctx, 0, "PUT /me/duty", "PUT", "/api/v1/me/duty", a.token, map[string]bool{"on_duty": true}, nil, http.StatusOK)
	return err
}

func (c *City) summary(ctx context.Context) (summary, error) {
	var s summary
	_, err := c.ask(ctx, "GET /stats/summary", "GET", "/api/v1/stats/summary?from="+c.day+"&to="+c.day, c.staff, nil, &s, http.StatusOK)
	return s, err
}

// ask is call for the audit and the staff's own requests: an instance that
// does not answer (down, 502, 503) is passed over for the next, and the
// one that answered is asked first next time.
func (c *City) ask(ctx context.Context, endpoint, method, path, token string, body, out any, want int) (int, error) {
	var status int
	var err error
	first := int(c.asked.Load())
	for i := range c.cfg.Targets {
		status, err = c.call(ctx, first+i, endpoint, method, path, token, body, out, want)
		if err == nil || (status != 0 && status != http.StatusBadGateway && status != http.StatusServiceUnavailable) || ctx.Err() != nil {
			c.asked.Store(int64(first + i))
			return status, err
		}
	}
	return status, err
}

// HTTPError is an answer with an unexpected status.
type HTTPError struct {
	Endpoint string
	Status   int
	Code     string // the error envelope's code
	Message  string
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("%s: HTTP %d %s %s", e.Endpoint, e.Status, e.Code, e.Message)
}

// Retryable reports whether the mini-program would try the same request
// again later: the server was unreachable, unavailable or overloaded.
func Retryable(err error) bool {
	var he *HTTPError
	if errors.As(err, &he) {
		return he.Status == http.StatusServiceUnavailable || he.Status == http.StatusBadGateway ||
			he.Status == http.StatusGatewayTimeout || he.Status == http.StatusInternalServerError ||
			he.Status == http.StatusTooManyRequests || (he.Status == http.StatusConflict && he.Code == "conflict")
	}
	return err != nil && !errors.Is(err, context.Canceled)
}

// call sends one request to target (an index into Targets, taken modulo)
// and decodes a JSON answer with the wanted status into out. Every call is
// measured under endpoint.
func (c *City) call(ctx context.Context, target int, endpoint, method, path, token string, body, out any, want int, headers ...string) (int, error) {
	var rd io.Reader
	ctype := "application/json"
	switch b := body.(type) {
	case nil:
	case *multipartBody:
		rd, ctype = bytes.NewReader(b.data), b.ctype
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(raw)
	}
	base := c.cfg.Targets[((target%len(c.cfg.Targets))+len(c.cfg.Targets))%len(c.cfg.Targets)]
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		return 0, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", ctype)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	start := time.Now()
	resp, err := c.cfg.HTTP.Do(req)
	if err != nil {
		if ctx.Err() == nil { // not the load stopping
			c.Stats.record(endpoint, 0, time.Since(start))
		}
		return 0, fmt.Errorf("%s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	c.Stats.record(endpoint, resp.StatusCode, time.Since(start))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("%s: %w", endpoint, err)
	}
	if resp.StatusCode != want {
		var env struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		_ = json.Unmarshal(raw, &env)
		c.Stats.answer(Answer{Endpoint: endpoint, Status: resp.StatusCode, Code: env.Error.Code, Message: env.Error.Message})
		return resp.StatusCode, &HTTPError{Endpoint: endpoint, Status: resp.StatusCode, Code: env.Error.Code, Message: env.Error.Message}
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s: decode: %w", endpoint, err)
		}
	}
	return resp.StatusCode, nil
}

type multipartBody struct {
	data  []byte
	ctype string
}

// photoBody is one JPEG in field "file", as wx.uploadFile sends it; every
// photo differs a little.
func photoBody() *multipartBody {
	img := image.NewRGBA(image.Rect(0, 0, 96, 72))
	seed := uint8(mrand.IntN(256))
	for y := range 72 {
		for x := range 96 {
			img.Set(x, y, color.RGBA{uint8(x*2) + seed, uint8(y * 3), seed, 255})
		}
	}
	var jb bytes.Buffer
	_ = jpeg.Encode(&jb, img, &jpeg.Options{Quality: 80})
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	fw, _ := w.CreateFormFile("file", "wx_upload.jpg")
	_, _ = fw.Write(jb.Bytes())
	_ = w.Close()
	return &multipartBody{data: b.Bytes(), ctype: w.FormDataContentType()}
}

// categories of the default catalogue the residents report in.
var categories = []string{"0101", "0103", "0202", "0301", "0501", "0503", "1101", "1102", "1201", "1301"}

// point returns a random point inside grid g, away from its edges.
func (g gridBox) point() (lat, lng float64) {
	m := 0.0005
	return g.lat0 + m + mrand.Float64()*(g.lat1-g.lat0-2*m), g.lng0 + m + mrand.Float64()*(g.lng1-g.lng0-2*m)
}

// round to 6 decimals, as a phone's location is.
func round6(f float64) float64 { return math.Round(f*1e6) / 1e6 }
