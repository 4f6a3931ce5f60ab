package handler

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service/photos"
)

// consoleFiles is the staff console: one HTML page, its style sheet and
// its scripts — app.js and the ES modules it imports (lib/, tabs/) — plain
// files with no build step. The page talks only to the JSON API under
// /api/v1.
//
//go:embed console
var consoleFiles embed.FS

// consoleAsset is one embedded file, ready to serve.
type consoleAsset struct {
	body        []byte
	contentType string
	etag        string
}

// consoleTypes are the media types of the files the console ships; set
// here rather than guessed from the system's MIME tables, which differ
// between machines.
var consoleTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".ico":  "image/x-icon",
	".png":  "image/png",
}

// console is the staff console's files, ready to serve, and the
// Content-Security-Policy they are served with. The page needs no
// authentication: everything it shows comes from API calls that do.
type console struct {
	assets map[string]consoleAsset
	csp    string
}

// newConsole loads the embedded files. photoOrigin, when set, is the origin
// of the signed photo URLs the page shows, for the Content-Security-Policy.
func newConsole(photoOrigin string) *console {
	sub, err := fs.Sub(consoleFiles, "console")
	if err != nil {
		panic(fmt.Errorf("console assets: %w", err)) // the embed directive guarantees the directory
	}
	cs := &console{assets: map[string]consoleAsset{}}
	err = fs.WalkDir(sub, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ctype, ok := consoleTypes[path.Ext(name)]
		if !ok {
			return nil // only what the console is known to ship
		}
		body, err := fs.ReadFile(sub, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		cs.assets[name] = consoleAsset{body: body, contentType: ctype, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
		return nil
	})
	if err != nil {
		panic(fmt.Errorf("console assets: %w", err))
	}
	img := "'self'"
	if photoOrigin != "" {
		img += " " + photoOrigin
	}
	// No inline script or style at all, no plug-ins, no framing, and the
	// page talks to its own origin only. Module scripts and their imports
	// are loaded under script-src, which default-src 'self' gives.
	cs.csp = "default-src 'self'; img-src " + img + "; object-src 'none'; base-uri 'none'; " +
		"form-action 'self'; frame-ancestors 'none'"
	return cs
}

// photoOrigin is the scheme and host of the signed photo URLs (they are
// absolute, built on PUBLIC_BASE_URL or the listener's address), or "" when
// unknown.
func photoOrigin(urls PhotoURLs) string {
	if urls == nil {
		return ""
	}
	u, err := url.Parse(urls.URL("origin", photos.VariantThumb))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// consoleRedirect sends /admin to /admin/, where the page's relative links
// work.
func (h *handlers) consoleRedirect(c echo.Context) error {
	return c.Redirect(http.StatusMovedPermanently, "/admin/")
}

// consoleFile answers one console file; /admin/ is index.html. Files are
// revalidated on every load (no-cache with an ETag, so usually a 304), so a
// new release is picked up at once without fingerprinted names. Errors:
// not_found for anything the console does not ship.
func (h *handlers) consoleFile(c echo.Context) error {
	name := strings.TrimPrefix(c.Param("*"), "/")
	if name == "" {
		name = "index.html"
	}
	a, ok := h.console.assets[name]
	if !ok {
		return model.Errorf(model.CodeNotFound, "管理后台没有文件 %q", clip(name, 100))
	}
	hdr := c.Response().Header()
	hdr.Set("Content-Security-Policy", h.console.csp)
	hdr.Set("X-Frame-Options", "DENY")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("ETag", a.etag)
	hdr.Set(echo.HeaderContentType, a.contentType)
	// ServeContent answers If-None-Match with 304 and HEAD without a body.
	http.ServeContent(c.Response(), c.Request(), name, time.Time{}, bytes.NewReader(a.body))
	return nil
}
