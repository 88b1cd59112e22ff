package e2e

import (
	"database/sql"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/amagent/amagent/platform/e2e/internal/faultproxy"
	"github.com/amagent/amagent/platform/internal/store"
)

// pgReplicas: two `amplatform serve` on one PostgreSQL database behind the
// fault proxy (round-robin, the next replica when one is down). The
// proxy holds the answer of a check-in that claimed a command; the replica
// that claimed it is killed -9; the other one offers it again after
// --command-timeout, and the agent runs it once.
func (f *faults) pgReplicas(t *testing.T) {
	const name = "PostgreSQL: 2 replicas, 1 killed"
	base := os.Getenv(store.TestDatabaseEnv)
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set but CI=true: the PostgreSQL replica scenario must run in CI", store.TestDatabaseEnv)
		}
		f.skipRow(t, name, store.TestDatabaseEnv+" is not set (CI sets it; .ci/run)")
	}
	schema := fmt.Sprintf("faults_%d", time.Now().UnixNano())
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("postgres: create schema: %v", err)
	}
	t.Cleanup(func() { admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); admin.Close() })
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	db := base + sep + "search_path=" + schema

	reps := []*platform{
		{t: t, bin: f.platBin, data: t.TempDir(), port: freePort(t)},
		{t: t, bin: f.platBin, data: t.TempDir(), port: freePort(t)},
	}
	for _, r := range reps {
		t.Cleanup(r.stop)
		r.fStart(db, "--command-timeout", "2s")
	}
	px, err := faultproxy.New(f.seed+3, "127.0.0.1:"+strconv.Itoa(reps[0].port), "127.0.0.1:"+strconv.Itoa(reps[1].port))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { px.Close() })
	a := fAgent(t, f.agentBin, agentOpts{server: px.URL()})
	a.start()
	dev := enrolled(t, reps[0], a, db)

	n := pick(20, 100)
	var ids []int64
	for range n / 2 {
		ids = append(ids, mustQueue(t, reps[0], db, dev, "execCmd", "GetOS"))
	}
	waitAnswered(t, reps[0], db, dev, ids, 60*time.Second)

	// The held answer and the kill.
	px.Hold(true)
	held := mustQueue(t, reps[0], db, dev, "execCmd", "GetOS")
	ids = append(ids, held)
	var victim int
	// A check-in already on its way when the hold began has its (empty)
	// answer held too; the agent gives it up after its 60 s request
	// timeout and checks in again, which claims the command: wait past it.
	waitFor(t, 90*time.Second, "a replica to claim the command with its answer held", func() bool {
		c := commands(t, reps[0], db, dev)[held]
		if c.Offers != 1 {
			return false
		}
		for i, r := range reps {
			if regexp.MustCompile(`msg="command handed out".* command_id=` + strconv.FormatInt(held, 10) + ` `).MatchString(r.logText()) {
				victim = i
				return true
			}
		}
		return false
	})
	reps[victim].kill9()
	px.DropAll() // the held answer dies with its replica's connection
	px.Hold(false)
	for range n / 2 {
		ids = append(ids, mustQueue(t, reps[0], db, dev, "execCmd", "GetOS"))
	}
	cs := waitAnswered(t, reps[0], db, dev, ids, 60*time.Second, func() string { return tail(fLog(a), 3000) })
	execs := executions(fLog(a))
	tl := countCommands(views(cs), ids, execs)
	tl.check(t)
	// The agent never saw the held answer: the same run is offered the
	// command again (a re-offer, which uses up none of its offers).
	if c := cs[held]; c.Offers+c.Reoffers < 2 || execs[held] != 1 {
		t.Errorf("the command claimed by the killed replica: %d offers and %d re-offers, %d runs; want offered again and run once", c.Offers, c.Reoffers, execs[held])
	}
	survivor := reps[1-victim]
	if !survivor.alive() {
		t.Errorf("the other replica died too:\n%s", tail(survivor.logText(), 2000))
	}
	f.tb.add(name, fmt.Sprintf("replica %d killed -9 holding command %d", victim+1, held), fmt.Sprint(tl.queued), fmt.Sprint(tl.ok), fmt.Sprint(tl.lost()), fmt.Sprint(tl.ranTwice),
		fmt.Sprintf("the held command: %d offers + %d re-offers, %d run(s), answered through the other replica; proxy: %s", cs[held].Offers, cs[held].Reoffers, execs[held], px.Counts()))
}

// network: the agent talks to the platform through the fault proxy, which
// delays, cuts, resets and garbles; commands (and scans) queued all along
// are answered once, the agent backs off and recovers once the network
// is clean again.
func (f *faults) network(t *testing.T) {
	rnd := newRand(f.seed + 4)
	p := &platform{t: t, bin: f.platBin, data: t.TempDir(), port: freePort(t)}
	t.Cleanup(p.stop)
	p.fStart("", "--command-timeout", "3s")
	px, err := faultproxy.New(f.seed+5, "127.0.0.1:"+strconv.Itoa(p.port))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { px.Close() })
	a := fAgent(t, f.agentBin, agentOpts{server: px.URL()})
	a.start()
	dev := enrolled(t, p, a, "")

	px.SetFaults(netFaults)
	var ids []int64
	scans := 0
	until := time.Now().Add(pick(15*time.Second, 2*time.Minute))
	for time.Now().Before(until) {
		args := []string{"execCmd", "GetOS"}
		if rnd.IntN(5) == 0 {
			args = []string{"scan"}
			scans++
		}
		ids = append(ids, mustQueue(t, p, "", dev, args...))
		time.Sleep(time.Duration(100+rnd.IntN(500)) * time.Millisecond)
	}
	// A sure outage: every connection reset for a while, so that the agent
	// backs off to its longest wait.
	px.SetFaults(faultproxy.Faults{Reset: 1})
	px.DropAll()
	time.Sleep(3 * time.Second)
	cleanAt := time.Now()
	logFrom := len(fLog(a))
	px.SetFaults(faultproxy.Faults{})
	var recovered time.Duration
	waitFor(t, 10*time.Second, "a check-in after the network is clean again", func() bool {
		if strings.Contains(fLog(a)[logFrom:], `msg=complete`) {
			recovered = time.Since(cleanAt)
			return true
		}
		return false
	})
	cs := waitAnswered(t, p, "", dev, ids, 60*time.Second, func() string { return tail(fLog(a), 3000) })
	log := fLog(a)
	execs := executions(log)
	// An offer whose answer the network lost is offered again to the same
	// agent run without using up the command's three offers
	// (store.MaxReoffers): no command may be given up here. (Before that
	// fix about one command a run ended "no result after 3 offers".)
	vs := views(cs)
	gaveUp := 0
	for _, id := range ids {
		if c := vs[id]; c.Status == "error" && strings.HasPrefix(c.Error, "no result after") && execs[id] < c.Offers {
			gaveUp++
			t.Logf("command %d given up after %d offers: %d run(s) on this side; the other answers or results were lost on the network", id, c.Offers, execs[id])
			c.Status = "ok"
			vs[id] = c
		}
	}
	if gaveUp > 0 {
		t.Errorf("%d commands given up although the agent never ran them all: lost answers used up their offers", gaveUp)
	}
	tl := countCommands(vs, ids, execs)
	tl.ok -= gaveUp
	tl.check(t)

	failed := regexp.MustCompile(`msg="checkin failed".* next_in=([0-9.]+m?s)`).FindAllStringSubmatch(log, -1)
	var longest time.Duration
	for _, m := range failed {
		d, _ := time.ParseDuration(m[1])
		longest = max(longest, d)
	}
	if longest > 1200*time.Millisecond {
		t.Errorf("a backoff of %s, over retry_max 1s (+20%% jitter)", longest)
	}
	if longest < 500*time.Millisecond {
		t.Errorf("the longest backoff was %s: the agent did not back off towards retry_max 1s", longest)
	}
	if recovered > 1200*time.Millisecond+1100*time.Millisecond {
		t.Errorf("the first check-in after the network came back took %s", recovered)
	}
	dropped := strings.Count(log, "report rejected by the platform; dropped")
	stored := map[string]int{}
	for _, m := range regexp.MustCompile(`msg="scan stored".* scan_id=(\S+)`).FindAllStringSubmatch(p.logText(), -1) {
		stored[m[1]]++
	}
	twice := 0
	for _, n := range stored {
		if n > 1 {
			twice++
		}
	}
	f.tb.add("faulty network (proxy)", px.Counts().String(), fmt.Sprint(tl.queued), fmt.Sprint(tl.ok), fmt.Sprint(tl.lost()+gaveUp), fmt.Sprint(tl.ranTwice),
		fmt.Sprintf("%d given up after 3 offers whose answers or result the network lost; %d scans among them; %d offered again and run once; %d failed check-ins, longest backoff %s (retry_max 1s); first check-in %s after the network came back; %d reports dropped as rejected; %d scan ids stored, %d of them more than once",
			gaveUp, scans, tl.reofferedRanOnce, len(failed), longest, recovered.Round(time.Millisecond), dropped, len(stored), twice))
}

// netFaults are the hostile network of the network scenario and the soak.
var netFaults = faultproxy.Faults{Delay: 0.2, MaxDelay: 300 * time.Millisecond, Cut: 0.05, Reset: 0.05, Garble: 0.03}
