package awsmeta

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/amagent/amagent/agent/scandoc"
)

// DefaultEndpoint is the instance metadata service's address.
const DefaultEndpoint = "http://169.254.169.254"

// DefaultTimeout bounds each metadata request. The service answers in
// milliseconds; a machine that is not an instance should never get here.
const DefaultTimeout = time.Second

// TokenTTL is the lifetime asked for the IMDSv2 session token, in seconds:
// one scan needs it for a few requests only.
const TokenTTL = "60"

// maxValue caps one metadata answer; every value read here is short.
const maxValue = 4 << 10

// Client reads the instance identity with IMDSv2: a PUT for a session
// token, then GETs that carry it. IMDSv1 (GETs without a token) is never
// used.
type Client struct {
	// Endpoint is the service's base URL; empty means DefaultEndpoint.
	// Plain HTTP goes only to the link-local metadata addresses
	// (169.254.169.254, fd00:ec2::254) or to loopback (tests).
	Endpoint string
	// HTTP is the client to use. Nil means one that never goes through a
	// proxy (the metadata service must be reached directly) and dials
	// with DefaultTimeout. Redirects are never followed either way.
	HTTP *http.Client
	// Timeout bounds each request; zero means DefaultTimeout.
	Timeout time.Duration
}

// CheckEndpoint validates an endpoint URL and returns it without a
// trailing slash.
func CheckEndpoint(endpoint string) (string, error) {
	if endpoint == "" {
		endpoint = DefaultEndpoint
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return "", fmt.Errorf("metadata endpoint %q: %w", endpoint, err)
	}
	if u.Scheme != "http" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("metadata endpoint %q: want http://host[:port] (the service speaks plain HTTP)", endpoint)
	}
	host := u.Hostname()
	ip := net.ParseIP(host)
	ok := host == "localhost" || (ip != nil && (ip.IsLoopback() || ip.Equal(net.ParseIP("169.254.169.254")) || ip.Equal(net.ParseIP("fd00:ec2::254"))))
	if !ok {
		return "", fmt.Errorf("metadata endpoint %q: plain HTTP is allowed only to 169.254.169.254, fd00:ec2::254 or loopback", endpoint)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

func (c Client) httpClient() *http.Client {
	if c.HTTP == nil {
		d := &net.Dialer{Timeout: c.timeout()}
		return &http.Client{
			Transport: &http.Transport{
				Proxy:             nil,
				DialContext:       d.DialContext,
				DisableKeepAlives: true,
			},
			CheckRedirect: noRedirect,
		}
	}
	hc := *c.HTTP
	hc.CheckRedirect = noRedirect
	return &hc
}

func (c Client) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}

// Fetch reads instance id, type, region, availability zone and AMI id.
// Without a token or an instance id it returns nil and the error; when
// only some other values fail it returns what it read and an error naming
// each value that failed. The region is taken from the availability zone
// when the service has no placement/region (older instances).
func (c Client) Fetch(ctx context.Context) (*scandoc.AWS, error) {
	base, err := CheckEndpoint(c.Endpoint)
	if err != nil {
		return nil, err
	}
	hc := c.httpClient()
	token, err := c.do(ctx, hc, http.MethodPut, base+"/latest/api/token", map[string]string{"X-aws-ec2-metadata-token-ttl-seconds": TokenTTL})
	if err != nil {
		return nil, fmt.Errorf("IMDSv2 token: %w", err)
	}
	if strings.ContainsAny(token, " \t\r\n") {
		return nil, errors.New("IMDSv2 token: the answer is not a token")
	}
	get := func(p string) (string, error) {
		v, err := c.do(ctx, hc, http.MethodGet, base+"/latest/meta-data/"+p, map[string]string{"X-aws-ec2-metadata-token": token})
		if err != nil {
			return "", fmt.Errorf("%s: %w", p, err)
		}
		if err := checkValue(v); err != nil {
			return "", fmt.Errorf("%s: %w", p, err)
		}
		return v, nil
	}
	id, err := get("instance-id")
	if err != nil {
		return nil, err
	}
	if !instanceIDRe.MatchString(id) {
		return nil, fmt.Errorf("instance-id: %q is not an EC2 instance id", id)
	}
	a := &scandoc.AWS{InstanceID: id}
	var errs []error
	for _, f := range []struct {
		path string
		dst  *string
	}{
		{"instance-type", &a.InstanceType},
		{"placement/availability-zone", &a.AvailabilityZone},
		{"placement/region", &a.Region},
		{"ami-id", &a.AMIID},
	} {
		v, err := get(f.path)
		if err != nil {
			if f.path == "placement/region" && a.AvailabilityZone != "" {
				if r := RegionFromAZ(a.AvailabilityZone); r != "" {
					a.Region = r
					continue
				}
			}
			errs = append(errs, err)
			continue
		}
		*f.dst = v
	}
	return a, errors.Join(errs...)
}

// do sends one request and returns the body of a 200 answer.
func (c Client) do(ctx context.Context, hc *http.Client, method, u string, hdr map[string]string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return "", err
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxValue+1))
	if err != nil {
		return "", fmt.Errorf("reading the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s %s: HTTP %d", method, req.URL.Path, resp.StatusCode)
	}
	if len(body) > maxValue {
		return "", fmt.Errorf("%s %s: answer longer than %d bytes", method, req.URL.Path, maxValue)
	}
	return strings.TrimSpace(string(body)), nil
}

// checkValue refuses empty answers and ones that are not a single
// printable ASCII word.
func checkValue(v string) error {
	if v == "" {
		return errors.New("empty answer")
	}
	for _, r := range v {
		if r <= ' ' || r > '~' {
			return fmt.Errorf("answer %q is not a single printable word", v)
		}
	}
	return nil
}

// RegionFromAZ derives the region from an availability zone name by
// dropping the zone letter: "us-east-1a" gives "us-east-1". Local and
// Wavelength zones ("us-west-2-lax-1a") have no such simple form and give "".
func RegionFromAZ(az string) string {
	if len(az) < 2 {
		return ""
	}
	last := az[len(az)-1]
	r := az[:len(az)-1]
	if last < 'a' || last > 'z' || r[len(r)-1] < '0' || r[len(r)-1] > '9' || strings.Count(r, "-") != 2 {
		return ""
	}
	return r
}
