package handler_test

import (
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/citizen-city/chengguantong/handler"
)

// photoURLs signs nothing: it only puts photos on another origin, as
// PUBLIC_BASE_URL does.
type photoURLs struct{}

func (photoURLs) URL(id, variant string) string {
	return "https://cg.example.gov.cn/media/photos/" + id + "/" + variant + "?exp=1&sig=x"
}

func consoleServer(tb testing.TB) http.Handler {
	tb.Helper()
	return handler.New(handler.Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), PhotoURLs: photoURLs{}})
}

func get(tb testing.TB, h http.Handler, path string, header ...string) *httptest.ResponseRecorder {
	tb.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestConsolePage(t *testing.T) {
	h := consoleServer(t)
	rec := get(t, h, "/admin/")
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /admin/ = %d %s", rec.Code, rec.Body)
	}
	hdr := rec.Header()
	if ct := hdr.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	csp := hdr.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "img-src 'self' https://cg.example.gov.cn;", "object-src 'none'", "frame-ancestors 'none'", "base-uri 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-") || strings.Contains(csp, "*") {
		t.Errorf("Content-Security-Policy %q is not strict", csp)
	}
	for name, want := range map[string]string{
		"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache",
	} {
		if got := hdr.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	body := rec.Body.String()
	if !strings.Contains(body, "<title>市民城管通") || !strings.Contains(body, `<script type="module" src="app.js"></script>`) {
		t.Errorf("the page is not the console:\n%.300s", body)
	}
	// The policy forbids inline code: the page must have none.
	if regexp.MustCompile(`<script>|<script [^>]*>[^<]|<style|\sstyle=|\son[a-z]+=|javascript:`).MatchString(body) {
		t.Error("index.html has inline script or style, which the Content-Security-Policy blocks")
	}

	// Revalidation answers 304 without a body.
	etag := hdr.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	again := get(t, h, "/admin/", "If-None-Match", etag)
	if again.Code != http.StatusNotModified || again.Body.Len() != 0 {
		t.Errorf("GET /admin/ with If-None-Match = %d, %d bytes; want 304, none", again.Code, again.Body.Len())
	}
}

func TestConsoleRedirect(t *testing.T) {
	rec := get(t, consoleServer(t), "/admin")
	if rec.Code != http.StatusMovedPermanently || rec.Header().Get("Location") != "/admin/" {
		t.Errorf("GET /admin = %d Location %q, want 301 /admin/", rec.Code, rec.Header().Get("Location"))
	}
}

func TestConsoleAssets(t *testing.T) {
	h := consoleServer(t)
	page := get(t, h, "/admin/").Body.String()
	// Everything the page links to is served, with its type.
	refs := regexp.MustCompile(`(?:src|href)="([^"#:]+)"`).FindAllStringSubmatch(page, -1)
	if len(refs) < 2 {
		t.Fatalf("index.html links %d files, want the script and the style sheet", len(refs))
	}
	types := map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
	for _, ref := range refs {
		rec := get(t, h, "/admin/"+ref[1])
		if rec.Code != http.StatusOK {
			t.Errorf("GET /admin/%s = %d", ref[1], rec.Code)
			continue
		}
		for ext, want := range types {
			if strings.HasSuffix(ref[1], ext) && rec.Header().Get("Content-Type") != want {
				t.Errorf("GET /admin/%s: Content-Type %q, want %q", ref[1], rec.Header().Get("Content-Type"), want)
			}
		}
		if rec.Header().Get("X-Content-Type-Options") != "nosniff" || rec.Header().Get("Content-Security-Policy") == "" {
			t.Errorf("GET /admin/%s lacks the security headers", ref[1])
		}
	}
	js := get(t, h, "/admin/app.js")
	if js.Code != http.StatusOK || js.Header().Get("Content-Type") != "text/javascript; charset=utf-8" {
		t.Errorf("GET /admin/app.js = %d %q", js.Code, js.Header().Get("Content-Type"))
	}
}

func TestConsoleUnknownFile(t *testing.T) {
	h := consoleServer(t)
	for _, path := range []string{"/admin/nope.js", "/admin/console/app.js", "/admin/%2e%2e/go.mod", "/admin/app.js/"} {
		rec := get(t, h, path)
		var body handler.ErrorBody
		if rec.Code != http.StatusNotFound || json.Unmarshal(rec.Body.Bytes(), &body) != nil || body.Error.Code != "not_found" {
			t.Errorf("GET %s = %d %s, want 404 not_found in the error envelope", path, rec.Code, rec.Body)
		}
	}
}

// consoleModules reads every script of the console (app.js and the modules
// it imports), by path under console/.
func consoleModules(t *testing.T) map[string]string {
	t.Helper()
	mods := map[string]string{}
	err := fs.WalkDir(os.DirFS("console"), ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(name, ".js") {
			return err
		}
		b, err := os.ReadFile(filepath.Join("console", name))
		mods[name] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if mods["app.js"] == "" || len(mods) < 10 {
		t.Fatalf("console/ has %d scripts, want app.js and its modules", len(mods))
	}
	return mods
}

// TestConsoleModules checks that the console is ES modules the page loads
// without a build step: every module is imported by another (or is
// app.js), every import names a module that is served, and the page
// preloads every module so that the imports do not load in a chain.
func TestConsoleModules(t *testing.T) {
	h := consoleServer(t)
	mods := consoleModules(t)
	page := get(t, h, "/admin/").Body.String()
	imported := map[string]bool{"app.js": true}
	imp := regexp.MustCompile(`(?m)^import (?:[^;]*? from )?'([^']+)';`)
	for name, js := range mods {
		if regexp.MustCompile(`\brequire\(|import\(`).MatchString(js) {
			t.Errorf("%s loads code at run time; import modules statically", name)
		}
		for _, m := range imp.FindAllStringSubmatch(js, -1) {
			if !strings.HasPrefix(m[1], "./") && !strings.HasPrefix(m[1], "../") || !strings.HasSuffix(m[1], ".js") {
				t.Errorf("%s imports %q; import the console's own modules by relative path with .js", name, m[1])
				continue
			}
			target := path.Join(path.Dir(name), m[1])
			if _, ok := mods[target]; !ok {
				t.Errorf("%s imports %s, which console/ does not have", name, target)
			}
			imported[target] = true
		}
	}
	for name := range mods {
		if !imported[name] {
			t.Errorf("console/%s is imported by no module", name)
		}
		if !strings.Contains(page, `<link rel="modulepreload" href="`+name+`">`) {
			t.Errorf("index.html does not preload %s", name)
		}
		rec := get(t, h, "/admin/"+name)
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "text/javascript; charset=utf-8" {
			t.Errorf("GET /admin/%s = %d %q, want a script", name, rec.Code, rec.Header().Get("Content-Type"))
		}
	}
}

// TestConsoleScript checks the scripts statically: they call only routes
// the server has, never turn text into HTML and fetch nothing from
// outside.
func TestConsoleScript(t *testing.T) {
	mods := consoleModules(t)
	e := handler.New(handler.Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	param := regexp.MustCompile(`:[a-z_]+`)
	routes := map[string]bool{}
	for _, r := range e.Routes() {
		routes[r.Method+" "+param.ReplaceAllString(r.Path, ":p")] = true
	}
	// api('GET', '/reports/' + enc(id)) and api('POST', `/admin/tickets/${enc(id)}/dispatch`).
	call := regexp.MustCompile("\\bapi\\('([A-Z]+)', ['`]([^'`]*)['`]( \\+)?")
	var calls, uses int
	for name, js := range mods {
		for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function",
			"setTimeout('", "setInterval('", "javascript:", "srcdoc", "DOMParser", "createContextualFragment", "{ style:", "'style'"} {
			if strings.Contains(js, bad) {
				t.Errorf("%s uses %s; put API data on the page as text", name, bad)
			}
		}
		found := call.FindAllStringSubmatch(js, -1)
		calls += len(found)
		uses += len(regexp.MustCompile(`\bapi\(`).FindAllStringIndex(js, -1))
		for _, m := range found {
			p := regexp.MustCompile(`\$\{[^}]*\}`).ReplaceAllString(m[2], ":p")
			if m[3] != "" {
				p += ":p"
			}
			if route := m[1] + " /api/v1" + p; !routes[route] {
				t.Errorf("%s calls %s, which the server does not route", name, route)
			}
		}
		// Nothing is fetched from outside this server: no absolute URL but
		// the SVG namespace.
		for _, u := range regexp.MustCompile(`https?://[^'"\s)]+`).FindAllString(js, -1) {
			if u != "http://www.w3.org/2000/svg" {
				t.Errorf("%s names the outside URL %s; the console must work without the internet", name, u)
			}
		}
	}
	if calls < 30 {
		t.Fatalf("found %d API calls in the console's scripts; the pattern no longer matches the code", calls)
	}
	// Every call has a literal method and path, so that this check sees it.
	if uses != calls+1 { // +1: the definition
		t.Errorf("the scripts call api( %d times, %d of them with a literal method and path; spell out every path", uses-1, calls)
	}
	for _, name := range []string{"console/index.html", "console/app.css"} {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if u := regexp.MustCompile(`(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}`).FindString(string(b)); u != "" {
			t.Errorf("%s refers to %s; the console must work without the internet", name, u)
		}
	}
}

// TestConsoleScriptParses runs node --check on every module when node is
// installed; nothing else in the build needs node.
func TestConsoleScriptParses(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	for name := range consoleModules(t) {
		cmd := exec.Command(node, "--check", "--input-type=module")
		cmd.Stdin, err = os.Open(filepath.Join("console", name))
		if err != nil {
			t.Fatal(err)
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("node --check console/%s: %v\n%s", name, err, out)
		}
	}
}
