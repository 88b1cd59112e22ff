// Package checkin is the agent's conversation with the platform: the HTTP
// client that enrolls and checks in (Client), and the loop that decides
// when to check in (Loop): at once on start, every interval with a random
// variance, out of cycle when the UTC offset changes, and with exponential
// backoff after a failure.
//
// It writes the seed's six check-in lines to amagent.log: attempting,
// performing checkin with device UUID, performing request, response
// received, received command, complete.
package checkin

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/amagent/amagent/agent/identity"
	"github.com/amagent/amagent/agent/internal/httpx"
	"github.com/amagent/amagent/agent/outbox"
	"github.com/amagent/amagent/agent/protocol"
)

// ErrUnauthorized is returned when the platform refuses the device token
// even after a fresh enrollment.
var ErrUnauthorized = errors.New("platform refused the device token (401)")

// ErrFullScanRequired is returned by PostScan when the platform does not
// hold a section sent as its digest (409 with "full_scan_required"): the
// scan is to be sent again in full. It is not outbox.ErrPermanent.
var ErrFullScanRequired = errors.New("platform asked for the full scan")

// Client talks to the platform on behalf of one device.
type Client struct {
	// Server is the platform's base URL.
	Server   string
	HTTP     *http.Client
	Identity *identity.Identity
	Enroller *identity.Enroller
	// Version is sent as ver.
	Version string
	// Uptime returns the time since boot; nil means the system's.
	Uptime func(context.Context) (time.Duration, error)
	// Now and Zone give the local UTC offset sent as tz; nil means
	// time.Now and SystemZone.
	Now  func() time.Time
	Zone func() *time.Location
	// MaxBody bounds the size of an answer (0 means 1 MiB).
	MaxBody int64
	// Log receives the check-in lines; build it with
	// logging.WithProcess(log, "checkin").
	Log *slog.Logger
	// Run names this run of the agent to the platform (X-Agent-Run), so
	// that a command handed to an earlier run and never answered is
	// offered again at once; "" means a random one made at first use.
	Run string

	runOnce sync.Once

	// deltas: the platform's last answer to a check-in or a scan carried
	// protocol.HeaderScanDeltas (it takes placeholders and gzip).
	deltas atomic.Bool

	// One enrollment in flight (PROTOCOL.md): callers that find no token,
	// or a refused one, at the same time share one POST /enroll.
	enrollMu sync.Mutex
	flight   *enrollFlight
}

type enrollFlight struct {
	done chan struct{}
	err  error
}

func (c *Client) server() string { return strings.TrimRight(c.Server, "/") }

// CheckinURL builds <server>/checkin?uptime=..&ver=..&tz=.., in that order,
// each value URL-encoded (+0530 travels as %2B0530).
func CheckinURL(server string, uptime time.Duration, ver, tz string) string {
	return strings.TrimRight(server, "/") + protocol.PathCheckin +
		"?uptime=" + strconv.FormatInt(int64(uptime/time.Second), 10) +
		"&ver=" + url.QueryEscape(ver) +
		"&tz=" + url.QueryEscape(tz)
}

// TZOffset formats the UTC offset of t in loc as ±HHMM.
func TZOffset(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("-0700")
}

// Checkin performs one check-in and returns the platform's answer and its
// raw body. A transport failure, a non-200 status and a malformed answer
// are all errors saying why.
func (c *Client) Checkin(ctx context.Context) (protocol.CheckinResponse, []byte, error) {
	var resp protocol.CheckinResponse
	c.Log.Info("performing checkin with device UUID", "device_uuid", c.Identity.UUID())
	uptime, err := c.uptime(ctx)
	if err != nil {
		c.Log.Warn("cannot read uptime; sending 0", "error", err)
	}
	now, zone := time.Now, SystemZone
	if c.Now != nil {
		now = c.Now
	}
	if c.Zone != nil {
		zone = c.Zone
	}
	u := CheckinURL(c.server(), uptime, c.Version, TZOffset(now(), zone()))
	r, err := c.do(ctx, u, nil, false)
	if err != nil {
		return resp, nil, err
	}
	c.noteDeltas(r)
	if r.Status != http.StatusOK {
		return resp, r.Body, fmt.Errorf("platform answered %d %s: %s", r.Status, http.StatusText(r.Status), httpx.Snippet(r.Body, 200))
	}
	if err := json.Unmarshal(r.Body, &resp); err != nil {
		return resp, r.Body, fmt.Errorf("malformed answer: %v", err)
	}
	if err := resp.Validate(); err != nil {
		return resp, r.Body, fmt.Errorf("malformed answer: %v", err)
	}
	return resp, r.Body, nil
}

// run returns Client.Run, made random at first use when empty.
func (c *Client) run() string {
	c.runOnce.Do(func() {
		if c.Run == "" {
			var b [12]byte
			rand.Read(b[:])
			c.Run = hex.EncodeToString(b[:])
		}
	})
	return c.Run
}

func (c *Client) uptime(ctx context.Context) (time.Duration, error) {
	if c.Uptime != nil {
		return c.Uptime(ctx)
	}
	return SystemUptime(ctx)
}

// Post delivers a JSON report (a command result or a scan) to path. A
// rejection that retrying cannot fix (a 4xx other than 401, 408, 429,
// answered by the platform itself: a JSON object with an "error") wraps
// outbox.ErrPermanent. Any other 4xx (a proxy's or a load balancer's plain
// 400, a damaged answer) is retried: a report is dropped only when the
// platform says it will never take it.
func (c *Client) Post(ctx context.Context, path string, body []byte) error {
	_, err := c.postReport(ctx, path, body, false)
	return err
}

// ScanDeltas reports whether the platform said, in its last answer to a
// check-in or a scan, that it takes scans with section placeholders,
// gzip-compressed (protocol.HeaderScanDeltas).
func (c *Client) ScanDeltas() bool { return c.deltas.Load() }

func (c *Client) noteDeltas(r httpx.Response) {
	if r.Status >= 200 && r.Status < 300 || r.Status == http.StatusConflict {
		c.deltas.Store(r.Header.Get(protocol.HeaderScanDeltas) == protocol.ScanDeltasV1)
	}
}

// PostScan delivers a scan report as Post does, gzip-compressed when gz
// is true; it returns the bytes sent. A 409 whose body says
// "full_scan_required" is ErrFullScanRequired.
func (c *Client) PostScan(ctx context.Context, body []byte, gz bool) (int, error) {
	if gz {
		body = httpx.Gzip(body)
	}
	n := len(body)
	r, err := c.postReport(ctx, protocol.PathScan, body, gz)
	if err == nil || errors.Is(err, ErrFullScanRequired) {
		c.noteDeltas(r)
	}
	return n, err
}

func (c *Client) postReport(ctx context.Context, path string, body []byte, gz bool) (httpx.Response, error) {
	r, err := c.do(ctx, c.server()+path, body, gz)
	if err != nil {
		return r, err
	}
	switch {
	case r.Status >= 200 && r.Status < 300:
		return r, nil
	case r.Status == http.StatusConflict && fullScanRequired(r.Body):
		return r, fmt.Errorf("POST %s: platform answered %d: %s: %w", path, r.Status, httpx.Snippet(r.Body, 200), ErrFullScanRequired)
	case r.Status == http.StatusRequestTimeout || r.Status == http.StatusTooManyRequests || r.Status >= 500 || !platformError(r.Body):
		return r, fmt.Errorf("POST %s: platform answered %d: %s", path, r.Status, httpx.Snippet(r.Body, 200))
	default:
		return r, fmt.Errorf("POST %s: platform answered %d: %s: %w", path, r.Status, httpx.Snippet(r.Body, 200), outbox.ErrPermanent)
	}
}

// Get fetches path (relative to the server, or an absolute URL on the same
// server) with the device's credentials, reading at most maxBody bytes.
// Anything but a 2xx answer is an error naming the status.
func (c *Client) Get(ctx context.Context, path string, maxBody int64) ([]byte, error) {
	u := path
	if strings.HasPrefix(path, "/") {
		u = c.server() + path
	} else if !strings.HasPrefix(path, c.server()+"/") {
		return nil, fmt.Errorf("GET %s: not on the platform %s", path, c.server())
	}
	get := func() (httpx.Response, error) {
		hdr := http.Header{}
		hdr.Set(protocol.HeaderAuthorization, "Bearer "+c.Identity.Token())
		hdr.Set(protocol.HeaderDeviceUUID, c.Identity.UUID())
		return httpx.Do(ctx, c.HTTP, http.MethodGet, u, hdr, nil, maxBody)
	}
	if c.Identity.Token() == "" {
		if err := c.enroll(ctx, ""); err != nil {
			return nil, err
		}
	}
	sent := c.Identity.Token()
	r, err := get()
	if err == nil && r.Status == http.StatusUnauthorized {
		if err := c.enroll(ctx, sent); err != nil {
			return nil, err
		}
		r, err = get()
	}
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	if r.Status < 200 || r.Status > 299 {
		return nil, fmt.Errorf("GET %s: platform answered %d: %s", path, r.Status, httpx.Snippet(r.Body, 200))
	}
	return r.Body, nil
}

// do POSTs with the device's credentials, enrolling first when there is
// no token and again once when the platform answers 401.
func (c *Client) do(ctx context.Context, u string, body []byte, gz bool) (httpx.Response, error) {
	if c.Identity.Token() == "" {
		if err := c.enroll(ctx, ""); err != nil {
			return httpx.Response{}, err
		}
	}
	sent := c.Identity.Token()
	r, err := c.post(ctx, u, body, gz)
	if err != nil || r.Status != http.StatusUnauthorized {
		return r, err
	}
	c.Log.Warn("platform refused the device token; enrolling again", "device_uuid", c.Identity.UUID())
	if err := c.enroll(ctx, sent); err != nil {
		return httpx.Response{}, err
	}
	r, err = c.post(ctx, u, body, gz)
	if err == nil && r.Status == http.StatusUnauthorized {
		return r, ErrUnauthorized
	}
	return r, err
}

func (c *Client) post(ctx context.Context, u string, body []byte, gz bool) (httpx.Response, error) {
	c.Log.Info("performing request", "request_type", http.MethodPost, "url", u)
	hdr := http.Header{}
	if gz {
		hdr.Set("Content-Encoding", httpx.ContentEncodingGzip)
	}
	hdr.Set(protocol.HeaderAuthorization, "Bearer "+c.Identity.Token())
	hdr.Set(protocol.HeaderDeviceUUID, c.Identity.UUID())
	hdr.Set(protocol.HeaderAgentRun, c.run())
	if body == nil {
		body = []byte{}
	}
	r, err := httpx.Post(ctx, c.HTTP, u, hdr, body, c.MaxBody)
	if err != nil {
		return r, err
	}
	if strings.Contains(u, protocol.PathCheckin+"?") {
		// The check-in answer carries the assignments' parameters, secret
		// ones included: it is logged without any parameter value.
		c.Log.Info("response received", "response", RedactAnswer(r.Body))
	} else {
		c.Log.Info("response received", "response", string(r.Body))
	}
	return r, nil
}

// enroll makes sure the device has a token other than stale (the token a
// request was refused with, "" when there was none). Only one enrollment
// is in flight: a caller arriving during one waits for it and shares its
// outcome; a caller arriving after one succeeded finds a fresh token and
// sends nothing.
func (c *Client) enroll(ctx context.Context, stale string) error {
	c.enrollMu.Lock()
	if tok := c.Identity.Token(); tok != "" && tok != stale {
		c.enrollMu.Unlock()
		return nil
	}
	if f := c.flight; f != nil {
		c.enrollMu.Unlock()
		select {
		case <-f.done:
			return f.err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	f := &enrollFlight{done: make(chan struct{})}
	c.flight = f
	c.enrollMu.Unlock()
	f.err = c.enrollOnce(ctx)
	c.enrollMu.Lock()
	c.flight = nil
	c.enrollMu.Unlock()
	close(f.done)
	return f.err
}

func (c *Client) enrollOnce(ctx context.Context) error {
	c.Log.Info("enrolling", "device_uuid", c.Identity.UUID(), "url", c.server()+protocol.PathEnroll)
	err := c.Enroller.Enroll(ctx, c.Identity)
	switch {
	case errors.Is(err, identity.ErrAccessDenied):
		c.Log.Error("enrollment refused: wrong access key; check access_key in amagent.toml", "error", err)
		return err
	case errors.Is(err, identity.ErrKeyConflict):
		// Retried only on the check-in loop's backoff (1 to 30 minutes):
		// nothing changes until an admin acts.
		c.Log.Error("enrollment refused: the platform has bound device UUID "+c.Identity.UUID()+
			" to another device key; an admin runs `amplatform devices reset "+c.Identity.UUID()+"` if this machine was reinstalled",
			"device_uuid", c.Identity.UUID(), "error", err)
		return err
	case err != nil:
		c.Log.Error("enrollment failed", "error", err)
		return err
	}
	c.Log.Info("enrolled", "device_uuid", c.Identity.UUID())
	return nil
}

// fullScanRequired reports whether a 409's body is the platform's request
// for the full scan ({"error": "...", "full_scan_required": true}).
func fullScanRequired(body []byte) bool {
	var v struct {
		Full bool `json:"full_scan_required"`
	}
	return json.Unmarshal(body, &v) == nil && v.Full
}

// platformError reports whether an answer's body is the platform's own
// error object ({"error": "..."}), as every refusal of the reference
// platform is.
func platformError(body []byte) bool {
	var v struct {
		Error *string `json:"error"`
	}
	return json.Unmarshal(body, &v) == nil && v.Error != nil
}
