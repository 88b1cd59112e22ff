package cli

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/amagent/amagent/agent/protocol"
	"github.com/amagent/amagent/platform/internal/fleet"
	"github.com/amagent/amagent/platform/internal/store"
)

// loadgen simulates enrolled devices checking in with the real protocol.
func (a *app) loadgen(ctx context.Context, args []string) error {
	fs := a.flags("loadgen")
	base := fs.String("url", "http://127.0.0.1:8080", "platform URL")
	accessKey := fs.String("access-key", "", "enrollment access key")
	n := fs.Int("devices", 1000, "number of simulated devices")
	duration := fs.Duration("duration", 10*time.Second, "how long to check in")
	conc := fs.Int("concurrency", 32, "concurrent check-ins")
	register := fs.Bool("register", false, "register the devices directly in the database (--data/--database) instead of enrolling them over HTTP; for 100,000 devices")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, 0, "loadgen --url URL --access-key K --devices N --duration 10s --concurrency C"); err != nil {
		return err
	}
	u, err := url.Parse(*base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("--url %q: want http://host:port or https://host:port", *base)
	}
	if u.Scheme == "http" && !isLoopback(u.Host) && u.Hostname() != "localhost" {
		return fmt.Errorf("--url %s: plain HTTP only to loopback", *base)
	}
	if *n < 1 || *conc < 1 {
		return errors.New("--devices and --concurrency must be at least 1")
	}
	client := &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns: *conc * 2, MaxIdleConnsPerHost: *conc * 2, MaxConnsPerHost: *conc,
			DisableCompression: true, IdleConnTimeout: time.Minute,
		},
	}
	devs := make([]simDevice, *n)
	start := time.Now()
	if *register {
		if err := a.registerBulk(ctx, devs); err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "registered %d devices in the database in %v\n", *n, time.Since(start).Round(time.Millisecond))
	} else {
		if *accessKey == "" {
			return errors.New("--access-key is required to enroll (or use --register)")
		}
		if err := enrollAll(ctx, client, *base, *accessKey, devs, *conc); err != nil {
			return err
		}
		el := time.Since(start)
		fmt.Fprintf(a.stdout, "enrolled %d devices in %v (%.0f/s)\n", *n, el.Round(time.Millisecond), float64(*n)/el.Seconds())
	}

	rctx, cancel := context.WithTimeout(ctx, *duration)
	defer cancel()
	var next atomic.Int64
	var failed, commands atomic.Int64
	lats := make([][]time.Duration, *conc)
	var firstErr atomic.Value
	var wg sync.WaitGroup
	start = time.Now()
	for w := range *conc {
		wg.Go(func() {
			for rctx.Err() == nil {
				d := &devs[int(next.Add(1)-1)%len(devs)]
				t := time.Now()
				r, err := d.checkin(rctx, client, *base)
				if err != nil {
					if rctx.Err() != nil {
						return
					}
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				lats[w] = append(lats[w], time.Since(t))
				if r.ID != 0 {
					commands.Add(1)
					d.post(rctx, client, *base+fmt.Sprintf(protocol.PathResult, r.ID), protocol.CommandResult{Status: "ok", StartedAt: time.Now(), Output: json.RawMessage(`{}`)})
				}
			}
		})
	}
	wg.Wait()
	el := time.Since(start)
	all := slices.Concat(lats...)
	slices.Sort(all)
	pct := func(p float64) time.Duration {
		if len(all) == 0 {
			return 0
		}
		return all[min(len(all)-1, int(float64(len(all))*p))].Round(10 * time.Microsecond)
	}
	fmt.Fprintf(a.stdout, "check-ins: %d ok, %d failed, %d commands, in %v with %d devices, concurrency %d\n",
		len(all), failed.Load(), commands.Load(), el.Round(time.Millisecond), *n, *conc)
	fmt.Fprintf(a.stdout, "rate: %.0f check-ins/s\n", float64(len(all))/el.Seconds())
	fmt.Fprintf(a.stdout, "latency: p50 %v  p90 %v  p99 %v  max %v\n", pct(0.50), pct(0.90), pct(0.99), pct(1))
	if e := firstErr.Load(); e != nil {
		fmt.Fprintf(a.stdout, "first error: %s\n", termSafe(e.(string)))
	}
	return nil
}

type simDevice struct {
	uuid, token string
}

func (a *app) registerBulk(ctx context.Context, devs []simDevice) error {
	st, err := a.open(ctx)
	if err != nil {
		return fmt.Errorf("--register needs the platform's database: %w", err)
	}
	defer st.Close()
	nd := make([]store.NewDevice, len(devs))
	for i := range devs {
		devs[i] = simDevice{uuid: uuid.NewString(), token: fleet.NewToken()}
		nd[i] = store.NewDevice{UUID: devs[i].uuid, Hostname: fmt.Sprintf("load-%06d", i), TokenHash: fleet.HashToken(devs[i].token)}
	}
	for len(nd) > 0 {
		k := min(10000, len(nd))
		if err := st.RegisterDevices(ctx, nd[:k], time.Now()); err != nil {
			return err
		}
		nd = nd[k:]
	}
	return nil
}

func enrollAll(ctx context.Context, c *http.Client, base, key string, devs []simDevice, conc int) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, conc)
	for range conc {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(devs) || ctx.Err() != nil {
					return
				}
				d := &devs[i]
				d.uuid = uuid.NewString()
				var r protocol.EnrollResponse
				code, err := d.do(ctx, c, base+protocol.PathEnroll, signedEnrollment(key, d.uuid, fmt.Sprintf("load-%06d", i), time.Now()), &r)
				if err == nil && (code != 200 || r.DeviceToken == "") {
					err = fmt.Errorf("enroll: status %d", code)
				}
				if err != nil {
					errs <- err
					return
				}
				d.token = r.DeviceToken
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// signedEnrollment is an enrollment by a new device key (PROTOCOL.md,
// Identity), as a simulated device makes it.
func signedEnrollment(accessKey, id, hostname string, now time.Time) protocol.EnrollRequest {
	pub, priv, _ := ed25519.GenerateKey(nil) // never fails with crypto/rand
	at := now.UTC().Format(time.RFC3339)
	return protocol.EnrollRequest{
		AccessKey: accessKey, DeviceUUID: id, Hostname: hostname,
		DeviceKey: base64.StdEncoding.EncodeToString(pub), Time: at,
		Signature: base64.StdEncoding.EncodeToString(ed25519.Sign(priv, protocol.EnrollMessage(id, at))),
	}
}

func (d *simDevice) checkin(ctx context.Context, c *http.Client, base string) (protocol.CheckinResponse, error) {
	var r protocol.CheckinResponse
	code, err := d.do(ctx, c, base+"/checkin?uptime=3600&ver=loadgen&tz=%2B0000", nil, &r)
	if err != nil {
		return r, err
	}
	if code != 200 {
		return r, fmt.Errorf("check-in: status %d", code)
	}
	return r, r.Validate()
}

func (d *simDevice) post(ctx context.Context, c *http.Client, u string, body any) {
	d.do(ctx, c, u, body, nil)
}

func (d *simDevice) do(ctx context.Context, c *http.Client, u string, body, out any) (int, error) {
	var rd io.Reader = http.NoBody
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if d.token != "" {
		req.Header.Set(protocol.HeaderAuthorization, "Bearer "+d.token)
		req.Header.Set(protocol.HeaderDeviceUUID, d.uuid)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if out != nil && resp.StatusCode == 200 {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("malformed answer: %v: %s", err, strings.TrimSpace(string(b[:min(len(b), 200)])))
		}
	}
	return resp.StatusCode, nil
}
