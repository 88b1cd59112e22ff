package e2e

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/amagent/amagent/agent/protocol"
	"github.com/amagent/amagent/platform/internal/store"
)

// witness is a device the test drives itself over the protocol, so that
// it knows which of its results the platform acknowledged.
type witness struct {
	uuid, token string
	client      *http.Client

	mu    sync.Mutex
	acked map[int64]string // command id -> the output the platform acknowledged
	posts int
}

func newWitness(t *testing.T, base string) *witness {
	t.Helper()
	_, key, _ := ed25519.GenerateKey(nil)
	w := &witness{uuid: uuid.NewString(), client: &http.Client{Timeout: 5 * time.Second}, acked: map[int64]string{}}
	code, body := enrollAs(t, base, key, w.uuid, "witness", time.Now())
	if code != http.StatusOK {
		t.Fatalf("witness enrollment: %d %s", code, body)
	}
	var r protocol.EnrollResponse
	json.Unmarshal([]byte(body), &r)
	w.token = r.DeviceToken
	return w
}

func (w *witness) do(base, path string, body any, out any) (int, error) {
	var b []byte
	if body != nil {
		b, _ = json.Marshal(body)
	}
	req, _ := http.NewRequest(http.MethodPost, base+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+w.token)
	req.Header.Set("X-Device-UUID", w.uuid)
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return resp.StatusCode, err
		}
	}
	return resp.StatusCode, nil
}

// step checks in once and answers a command it is given; it records the
// results the platform acknowledged (200).
func (w *witness) step(base string) {
	var r protocol.CheckinResponse
	code, err := w.do(base, "/checkin?uptime=1&ver=witness&tz=%2B0000", nil, &r)
	if err != nil || code != 200 || r.ID == 0 {
		return
	}
	// A moment between the claim and the result, as a real run takes: a
	// kill in it leaves the command claimed without a result.
	time.Sleep(time.Duration(rand.IntN(150)) * time.Millisecond)
	out := fmt.Sprintf(`{"witness":%d,"at":%q}`, r.ID, time.Now().Format(time.RFC3339Nano))
	code, err = w.do(base, fmt.Sprintf(protocol.PathResult, r.ID), protocol.CommandResult{Status: "ok", StartedAt: time.Now(), Output: json.RawMessage(out)}, nil)
	w.mu.Lock()
	w.posts++
	if err == nil && code == 200 {
		if _, seen := w.acked[r.ID]; !seen {
			w.acked[r.ID] = out
		}
	}
	w.mu.Unlock()
}

// platformKills: kill -9 the platform under `amplatform loadgen` while
// commands are queued through the admin API; every command the platform
// acknowledged (201) is answered, and every result it acknowledged (200,
// seen by a witness device) is kept.
func (f *faults) platformKills(t *testing.T) {
	kills := pick(3, 8)
	rnd := newRand(f.seed + 1)
	p := &platform{t: t, bin: f.platBin, data: t.TempDir(), port: freePort(t)}
	t.Cleanup(p.stop)
	p.fStart("", "--command-timeout", "2s", "--flush-interval", "200ms")
	token := strings.TrimSpace(readFile(filepath.Join(p.data, "admin.token")))
	if token == "" {
		t.Fatalf("no admin token in %s", p.data)
	}

	// The load: 50 devices registered in the database, checking in as fast
	// as two connections go, with the platform killed under them.
	lg := exec.Command(f.platBin, "loadgen", "--url", p.url(), "--data", p.data, "--register", "--devices", "50",
		"--duration", "10m", "--concurrency", "2")
	var lgOut lockedWriter
	lgOut.w = &bytes.Buffer{}
	lg.Stdout, lg.Stderr = &lgOut, &lgOut
	if err := lg.Start(); err != nil {
		t.Fatal(err)
	}
	lgDone := make(chan struct{})
	go func() { lg.Wait(); close(lgDone) }()
	t.Cleanup(func() {
		lg.Process.Signal(syscall.SIGINT)
		select {
		case <-lgDone:
		case <-time.After(10 * time.Second):
			lg.Process.Kill()
			<-lgDone
		}
	})
	var devs []string
	waitFor(t, 30*time.Second, "loadgen to register its devices", func() bool {
		devs = devs[:0]
		openStore(p, "", func(st store.Store) error {
			ds, err := st.Devices(context.Background())
			for _, d := range ds {
				if strings.HasPrefix(d.Hostname, "load-") {
					devs = append(devs, d.UUID)
				}
			}
			return err
		})
		return len(devs) == 50
	}, lgOut.String)
	w := newWitness(t, p.url())
	devs = append(devs, w.uuid)

	// Queue through the admin API all along; 201 is an acknowledgement.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	type ack struct {
		dev string
		id  int64
	}
	var mu sync.Mutex
	var acked []ack
	var refused, unknown atomic.Int64
	wg.Go(func() {
		client := &http.Client{Timeout: 3 * time.Second}
		r := newRand(f.seed + 2)
		for {
			select {
			case <-stop:
				return
			case <-time.After(15 * time.Millisecond):
			}
			dev := devs[r.IntN(len(devs))]
			if r.IntN(3) == 0 {
				dev = w.uuid
			}
			code, body, err := adminPost(client, p.url(), token, "/api/devices/"+dev+"/commands", map[string]any{"command": "execCmd", "params": []string{"GetOS"}})
			switch {
			case err != nil && strings.Contains(err.Error(), "connection refused"):
				refused.Add(1)
			case err != nil:
				unknown.Add(1) // sent, answer lost: the command may or may not be queued
			case code == http.StatusCreated:
				var r struct{ ID int64 }
				json.Unmarshal(body, &r)
				mu.Lock()
				acked = append(acked, ack{dev, r.ID})
				mu.Unlock()
			default:
				refused.Add(1)
			}
		}
	})
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			w.step(p.url())
			time.Sleep(10 * time.Millisecond)
		}
	})

	for k := range kills {
		time.Sleep(time.Duration(500+rnd.IntN(1000)) * time.Millisecond)
		p.kill9()
		time.Sleep(time.Duration(50+rnd.IntN(250)) * time.Millisecond)
		p.fStart("", "--command-timeout", "2s", "--flush-interval", "200ms")
		_ = k
	}
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()
	// The witness answers what is left.
	wdone := make(chan struct{})
	go func() {
		for {
			select {
			case <-wdone:
				return
			default:
			}
			w.step(p.url())
			time.Sleep(20 * time.Millisecond)
		}
	}()
	defer close(wdone)

	// Every acknowledged command ends ok.
	byDev := map[string][]int64{}
	for _, a := range acked {
		byDev[a.dev] = append(byDev[a.dev], a.id)
	}
	var tl tally
	reoffered := 0
	deadline := time.Now().Add(40 * time.Second)
	for dev, ids := range byDev {
		var cs map[int64]store.Command
		for {
			cs = commands(t, p, "", dev)
			open := 0
			for _, id := range ids {
				if !finished(cs[id]) {
					open++
				}
			}
			if open == 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		for _, id := range ids {
			c, ok := cs[id]
			tl.queued++
			switch {
			case !ok:
				tl.unanswered++
				tl.failures = append(tl.failures, fmt.Sprintf("%d for %s: acknowledged (201) but not in the database", id, dev))
			case c.DoneAt.IsZero():
				tl.unanswered++
				tl.failures = append(tl.failures, fmt.Sprintf("%d for %s: not answered after %d offers", id, dev, c.Offers))
			case c.Status != "ok":
				tl.failed++
				tl.failures = append(tl.failures, fmt.Sprintf("%d for %s: %s %q after %d offers", id, dev, c.Status, c.Error, c.Offers))
			default:
				tl.ok++
			}
			if c.Offers > 1 {
				reoffered++
			}
		}
	}
	// Every result the platform acknowledged to the witness is the one kept.
	wcs := commands(t, p, "", w.uuid)
	w.mu.Lock()
	resultsLost := 0
	for id, out := range w.acked {
		if c := wcs[id]; c.DoneAt.IsZero() || !jsonEqual(string(c.Output), out) {
			resultsLost++
			t.Errorf("witness result for command %d was acknowledged (200) but the platform keeps %s %q", id, c.Status, c.Output)
		}
	}
	wAcked, wPosts := len(w.acked), w.posts
	w.mu.Unlock()
	tl.check(t)
	lg.Process.Signal(syscall.SIGINT)
	<-lgDone
	summary := ""
	for _, l := range strings.Split(lgOut.String(), "\n") {
		if strings.HasPrefix(l, "check-ins:") {
			summary = strings.TrimSpace(l)
		}
	}
	f.tb.add("platform kill -9 under loadgen", fmt.Sprintf("%d kills", kills), fmt.Sprint(tl.queued), fmt.Sprint(tl.ok), fmt.Sprint(tl.lost()+resultsLost), "-",
		fmt.Sprintf("51 devices; %d commands offered again after a kill; witness results acknowledged %d of %d posted, all kept; queue requests refused while down %d, answer lost %d; loadgen %s",
			reoffered, wAcked, wPosts, refused.Load(), unknown.Load(), summary))
	_ = os.Getpid
}

func jsonEqual(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return bytes.Equal(xb, yb)
}
