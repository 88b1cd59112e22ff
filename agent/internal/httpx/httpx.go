// Package httpx holds the agent's one way to talk HTTP to the platform: a
// client with connect and total timeouts, TLS verified, and responses read
// through a size limit.
package httpx

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// Default limits.
const (
	DefaultConnectTimeout = 10 * time.Second
	DefaultTotalTimeout   = 60 * time.Second
	DefaultMaxBody        = 1 << 20
)

// NewClient returns an HTTP client with the given connect and total
// timeouts (zero means the defaults). Certificates are always verified.
func NewClient(connect, total time.Duration) *http.Client {
	if connect <= 0 {
		connect = DefaultConnectTimeout
	}
	if total <= 0 {
		total = DefaultTotalTimeout
	}
	d := &net.Dialer{Timeout: connect, KeepAlive: 30 * time.Second}
	return &http.Client{
		Timeout: total,
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           d.DialContext,
			TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
			TLSHandshakeTimeout:   connect,
			ResponseHeaderTimeout: total,
			MaxIdleConns:          2,
			IdleConnTimeout:       90 * time.Second,
			ForceAttemptHTTP2:     true,
		},
		// The platform never redirects; following one could carry the
		// token to another host.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// ErrTooLarge is returned when a response body exceeds the limit.
var ErrTooLarge = errors.New("response body too large")

// Response is a read response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Post sends body (JSON) to url with the given headers and reads at most
// maxBody bytes of the answer (0 means DefaultMaxBody). A body larger than
// the limit is an error wrapping ErrTooLarge.
func Post(ctx context.Context, hc *http.Client, url string, hdr http.Header, body []byte, maxBody int64) (Response, error) {
	return Do(ctx, hc, http.MethodPost, url, hdr, body, maxBody)
}

// Do sends a request (a JSON body when body is not nil) and reads at most
// maxBody bytes of the answer, as Post does.
func Do(ctx context.Context, hc *http.Client, method, url string, hdr http.Header, body []byte, maxBody int64) (Response, error) {
	if maxBody <= 0 {
		maxBody = DefaultMaxBody
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return Response{}, err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return Response{Status: resp.StatusCode, Header: resp.Header}, fmt.Errorf("reading answer: %w", err)
	}
	if int64(len(b)) > maxBody {
		return Response{Status: resp.StatusCode, Header: resp.Header}, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, maxBody)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

// Snippet returns at most n bytes of b as a string, for error messages.
func Snippet(b []byte, n int) string {
	b = bytes.TrimSpace(b)
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}
