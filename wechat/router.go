package wechat

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/silenceper/wechat/v2/util"
)

// APIHost is the host of WeChat's server API; only requests to it are
// candidates for in-process simulation.
const APIHost = "api.weixin.qq.com"

// SimTokenPrefix starts every access_token minted by a simulator:
// "SIM.<appid>.<random>". The router uses it to find the simulator that owns a
// token.
const SimTokenPrefix = "SIM."

// defaultHTTPTimeout bounds every silenceper call (some of them, e.g.
// subscribe Send, take no context) when the installed client had none.
const defaultHTTPTimeout = 30 * time.Second

// Route registers rt as the in-process answerer for requests of appID to
// api.weixin.qq.com and returns a function removing that registration.
//
// A request is routed to rt when its query `appid` is appID, when its query
// `access_token` is "SIM.<appID>.…", or when it is POST /cgi-bin/stable_token
// whose JSON body has "appid": appID. Everything else goes to the transport
// util.DefaultHTTPClient had before (http.DefaultTransport by default), i.e.
// to the real WeChat.
//
// The first call of Route (or New) replaces silenceper's package-level
// util.DefaultHTTPClient, once per process, by a copy whose Transport is the
// router (and whose Timeout is 30s if it had none). Registering the same appid
// again replaces the previous registration until it is unregistered.
func Route(appID string, rt http.RoundTripper) (unregister func()) {
	installRouter()
	return theRouter.register(appID, rt)
}

var (
	routerOnce sync.Once
	theRouter  = newRouter(nil)
)

func installRouter() {
	routerOnce.Do(func() {
		var c http.Client
		if prev := util.DefaultHTTPClient; prev != nil {
			c = *prev
		}
		theRouter.setFallback(c.Transport)
		c.Transport = theRouter
		if c.Timeout == 0 {
			c.Timeout = defaultHTTPTimeout
		}
		util.DefaultHTTPClient = &c
	})
}

type routeEntry struct{ rt http.RoundTripper }

type router struct {
	mu       sync.RWMutex
	routes   map[string]*routeEntry
	fallback http.RoundTripper
}

func newRouter(fallback http.RoundTripper) *router {
	r := &router{routes: map[string]*routeEntry{}}
	r.setFallback(fallback)
	return r
}

func (r *router) setFallback(rt http.RoundTripper) {
	if rt == nil {
		rt = http.DefaultTransport
	}
	r.mu.Lock()
	r.fallback = rt
	r.mu.Unlock()
}

func (r *router) register(appID string, rt http.RoundTripper) func() {
	if appID == "" || rt == nil {
		panic("wechat.Route: empty appID or nil RoundTripper")
	}
	e := &routeEntry{rt: rt}
	r.mu.Lock()
	prev := r.routes[appID]
	r.routes[appID] = e
	r.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			r.mu.Lock()
			defer r.mu.Unlock()
			if r.routes[appID] == e {
				if prev != nil {
					r.routes[appID] = prev
				} else {
					delete(r.routes, appID)
				}
			}
		})
	}
}

func (r *router) lookup(appID string) http.RoundTripper {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if e := r.routes[appID]; e != nil {
		return e.rt
	}
	return nil
}

// RoundTrip implements http.RoundTripper.
func (r *router) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.RLock()
	fallback := r.fallback
	r.mu.RUnlock()
	if req.URL == nil || !strings.EqualFold(req.URL.Hostname(), APIHost) {
		return fallback.RoundTrip(req)
	}
	q := req.URL.Query()
	if id := q.Get("appid"); id != "" {
		if rt := r.lookup(id); rt != nil {
			return rt.RoundTrip(req)
		}
	}
	if tok := q.Get("access_token"); strings.HasPrefix(tok, SimTokenPrefix) {
		id := simTokenAppID(tok)
		if rt := r.lookup(id); rt != nil {
			return rt.RoundTrip(req)
		}
		// A simulator token must never travel to the real WeChat.
		closeBody(req)
		return nil, errors.New("wechat router: no simulator registered for this access_token's appid")
	}
	if req.Method == http.MethodPost && req.URL.Path == "/cgi-bin/stable_token" && req.Body != nil && r.hasRoutes() {
		body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
		closeBody(req)
		if err != nil {
			return nil, fmt.Errorf("wechat router: reading request body: %w", err)
		}
		req = withBody(req, body)
		var b struct {
			AppID string `json:"appid"`
		}
		if json.Unmarshal(body, &b) == nil && b.AppID != "" {
			if rt := r.lookup(b.AppID); rt != nil {
				return rt.RoundTrip(req)
			}
		}
	}
	return fallback.RoundTrip(req)
}

func (r *router) hasRoutes() bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.routes) > 0
}

// simTokenAppID extracts <appid> out of "SIM.<appid>.<random>".
func simTokenAppID(tok string) string {
	rest := strings.TrimPrefix(tok, SimTokenPrefix)
	if i := strings.LastIndexByte(rest, '.'); i > 0 {
		return rest[:i]
	}
	return ""
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

// withBody returns a shallow copy of req whose body is b (readable again via
// GetBody), as a RoundTripper must not modify the request it was given.
func withBody(req *http.Request, b []byte) *http.Request {
	r2 := req.Clone(req.Context())
	r2.Body = io.NopCloser(bytes.NewReader(b))
	r2.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	r2.ContentLength = int64(len(b))
	return r2
}
