// Package console is amplatform's fleet console: server-rendered HTML
// pages (html/template, embedded in the binary) for compliance, inventory
// and history across the fleet, served on a listener of its own. No
// script runs in the browser: the Content-Security-Policy forbids every
// script, tables sort and page through query parameters, charts are SVG
// drawn on the server, and every change is a POST form carrying the
// session's CSRF token. Admins sign in with the admin token; the session
// lives in the database (only the hash of its cookie), so replicas share
// it and sign-out ends it everywhere. Every rendered page goes through
// safetext.Page, so that no control or bidi character a device chose
// reaches the browser as such.
package console

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/amagent/amagent/platform/internal/safetext"
	"github.com/amagent/amagent/platform/internal/store"
)

// Defaults for Config's zero values.
const (
	DefaultSessionTTL      = 12 * time.Hour
	DefaultCheckinInterval = time.Hour
	// maxForm caps a form body; an upload's is maxUpload.
	maxForm   = 1 << 20
	maxUpload = 32 << 20
)

// ContentSecurityPolicy is sent with every answer: no script at all, styles
// and images only from the console itself, forms only to it, no framing.
const ContentSecurityPolicy = "default-src 'none'; script-src 'none'; style-src 'self'; img-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// Config configures a Console. Zero values mean the documented defaults.
type Config struct {
	Store  store.Store
	Logger *slog.Logger
	// CheckinInterval is the interval handed to agents: a device is online
	// when it checked in within twice that (default one hour).
	CheckinInterval time.Duration
	// SigningKey signs uploaded bundles; without it the upload form is
	// not offered.
	SigningKey ed25519.PrivateKey
	// Secure marks the session cookie Secure (and names it with the
	// __Host- prefix): set it when the console is served over TLS.
	Secure bool
	// SessionTTL is how long a sign-in lasts (default 12 hours).
	SessionTTL time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// AggregateTTL is how long fleet-wide figures (fleet page counts,
	// pending updates, the trend) are served from memory (default 10s;
	// negative: computed for every request).
	AggregateTTL time.Duration
}

// Console serves the fleet console.
type Console struct {
	cfg   Config
	st    store.Store
	log   *slog.Logger
	pages map[string]*template.Template

	summary *aggregate[store.FleetSummary]
	updates *aggregate[[]store.UpdateCount]
	trend   *aggregate[[]store.TrendDay]
	oses    *aggregate[[]string]
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// New parses the embedded templates.
func New(cfg Config) (*Console, error) {
	if cfg.Store == nil {
		return nil, errors.New("console: no store")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.CheckinInterval <= 0 {
		cfg.CheckinInterval = DefaultCheckinInterval
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.AggregateTTL == 0 {
		cfg.AggregateTTL = DefaultAggregateTTL
	}
	c := &Console{cfg: cfg, st: cfg.Store, log: cfg.Logger, pages: map[string]*template.Template{}}
	ttl := cfg.AggregateTTL
	c.summary = newAggregate("fleet_summary", c.st, ttl, func(ctx context.Context) (store.FleetSummary, error) {
		return c.st.FleetSummary(ctx, c.onlineSince(c.cfg.Now()))
	})
	c.updates = newAggregate("pending_updates", c.st, ttl, func(ctx context.Context) ([]store.UpdateCount, error) {
		return c.st.PendingUpdates(ctx, 500)
	})
	// The trend reads a daily rollup (cheap), so it is not kept.
	c.trend = newAggregate("", nil, ttl, func(ctx context.Context) ([]store.TrendDay, error) {
		return c.st.ComplianceTrend(ctx, c.cfg.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -(trendDays-1)))
	})
	c.oses = newAggregate("operating_systems", c.st, ttl, c.st.OSNames)
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" || base == "parts" {
			continue
		}
		t, err := template.New(base).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/parts.html", n)
		if err != nil {
			return nil, fmt.Errorf("console: template %s: %w", n, err)
		}
		c.pages[base] = t
	}
	return c, nil
}

// Warm starts computing the fleet-wide figures in the background, after
// loading the ones the previous console kept, so that the first visit does
// not wait for a pass over the fleet. serve calls it once at start.
func (c *Console) Warm(ctx context.Context) {
	c.summary.prefetch(ctx)
	c.updates.prefetch(ctx)
	c.oses.prefetch(ctx)
}

// Handler returns the console's routes.
func (c *Console) Handler() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", cacheFor(http.FileServerFS(static))))
	mux.HandleFunc("GET /signin", c.signinPage)
	mux.HandleFunc("POST /signin", c.signin)

	in := func(h func(http.ResponseWriter, *http.Request, *page)) http.Handler { return c.signedIn(h) }
	mux.Handle("POST /signout", in(c.signout))
	mux.Handle("GET /{$}", in(c.fleetPage))
	mux.Handle("GET /devices", in(c.devicesPage))
	mux.Handle("GET /devices.csv", in(c.devicesExport))
	mux.Handle("GET /devices.json", in(c.devicesExport))
	mux.Handle("GET /devices/{uuid}", in(c.devicePage))
	mux.Handle("POST /devices/{uuid}/commands", in(c.queueCommand))
	mux.Handle("POST /devices/{uuid}/group", in(c.moveDevice))
	mux.Handle("GET /devices/{uuid}/retire", in(c.retirePage))
	mux.Handle("POST /devices/{uuid}/retire", in(c.retire))
	mux.Handle("POST /commands/{id}/cancel", in(c.cancelCommand))
	mux.Handle("GET /compliance.csv", in(c.complianceExport))
	mux.Handle("GET /compliance.json", in(c.complianceExport))
	mux.Handle("GET /worklets", in(c.workletsPage))
	mux.Handle("POST /worklets", in(c.uploadWorklet))
	mux.Handle("GET /worklets/{name}", in(c.workletPage))
	mux.Handle("POST /worklets/{name}/release", in(c.release))
	mux.Handle("GET /groups", in(c.groupsPage))
	mux.Handle("POST /groups", in(c.addGroup))
	mux.Handle("POST /groups/move", in(c.moveDeviceByName))
	mux.Handle("POST /groups/{group}/interval", in(c.setInterval))
	mux.Handle("POST /groups/{group}/assign", in(c.assign))
	mux.Handle("POST /groups/{group}/unassign", in(c.unassign))
	mux.Handle("GET /software", in(c.softwarePage))
	mux.Handle("GET /software.csv", in(c.softwareExport))
	mux.Handle("GET /software.json", in(c.softwareExport))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		c.errorPage(w, r, nil, http.StatusNotFound, "There is no page at "+r.URL.Path+".")
	})
	return c.headers(mux)
}

// headers sets the security headers of every answer and recovers panics.
func (c *Console) headers(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", ContentSecurityPolicy)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		hd.Set("Cross-Origin-Resource-Policy", "same-origin")
		if c.cfg.Secure {
			hd.Set("Strict-Transport-Security", "max-age=31536000")
		}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				c.log.Error("console handler panic", "path", r.URL.Path, "panic", fmt.Sprint(v))
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		h.ServeHTTP(w, r)
	})
}

func cacheFor(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

// page is what every template gets besides its own data.
type page struct {
	Title   string
	Nav     string // the nav entry to mark current
	CSRF    string
	Flash   string
	Now     time.Time
	Data    any
	session store.Session
}

// SignedIn reports whether the page is shown to a signed-in admin.
func (p *page) SignedIn() bool { return p.session.IDHash != "" }

// tableArgs passes a table and the page (for its CSRF token) to the
// "table" template.
type tableArgs struct {
	P *page
	T *Table
}

// render executes a page template into a buffer (a template error is a
// 500, never half a page), escapes what devices chose and writes it.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, p *page) {
	t, ok := c.pages[name]
	if !ok {
		c.log.Error("console: no template", "name", name)
		http.Error(w, "template "+name+" is missing", http.StatusInternalServerError)
		return
	}
	if p.Flash == "" {
		p.Flash = flashes[r.URL.Query().Get("done")]
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		c.log.Error("console: template failed", "name", name, "path", r.URL.Path, "err", err)
		http.Error(w, "template error: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(safetext.Page(buf.Bytes()))
}

// flashes are the messages a redirect after a change may show (?done=),
// a fixed set so that a link cannot make the console say anything else.
var flashes = map[string]string{
	"queued":     "Command queued: the device gets it at its next check-in.",
	"moved":      "Device moved.",
	"retired":    "Device retired.",
	"canceled":   "Command canceled.",
	"added":      "Bundle added and signed.",
	"group":      "Group created.",
	"interval":   "Scan interval set.",
	"assigned":   "Worklet assigned.",
	"unassigned": "Worklet unassigned.",
	"released":   "Quarantine released: the agents run the worklet again from their next check-in.",
}

// errorPage answers with a page naming what was wrong.
func (c *Console) errorPage(w http.ResponseWriter, r *http.Request, p *page, status int, msg string) {
	if p == nil {
		p = &page{}
	}
	p.Title, p.Data = http.StatusText(status), msg
	c.render(w, r, status, "error", p)
}

// errBadRequest marks an error in what the admin asked for (400).
var errBadRequest = errors.New("bad request")

// dbError answers a store error with the matching status and message.
func (c *Console) dbError(w http.ResponseWriter, r *http.Request, p *page, err error) {
	switch {
	case errors.Is(err, errBadRequest):
		c.errorPage(w, r, p, http.StatusBadRequest, strings.TrimSuffix(err.Error(), ": "+errBadRequest.Error()))
	case errors.Is(err, store.ErrNotFound):
		c.errorPage(w, r, p, http.StatusNotFound, err.Error())
	case errors.Is(err, store.ErrExists), errors.Is(err, store.ErrAlreadyDone), errors.Is(err, store.ErrAmbiguous):
		c.errorPage(w, r, p, http.StatusConflict, err.Error())
	case errors.Is(err, context.Canceled):
		c.errorPage(w, r, p, http.StatusServiceUnavailable, "request canceled")
	default:
		c.log.Error("console: database error", "path", r.URL.Path, "err", err)
		c.errorPage(w, r, p, http.StatusInternalServerError, "database error (see the platform's log)")
	}
}

// redirect sends the browser to a console path after a change (303).
func redirect(w http.ResponseWriter, r *http.Request, path string, done string) {
	u := path
	if done != "" {
		sep := "?"
		if strings.Contains(u, "?") {
			sep = "&"
		}
		frag := ""
		if i := strings.IndexByte(u, '#'); i >= 0 {
			u, frag = u[:i], u[i:]
		}
		u += sep + "done=" + url.QueryEscape(done) + frag
	}
	http.Redirect(w, r, u, http.StatusSeeOther)
}

// online is the time after which a check-in counts as online.
func (c *Console) onlineSince(now time.Time) time.Time { return now.Add(-2 * c.cfg.CheckinInterval) }
