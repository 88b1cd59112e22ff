package checkin

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/amagent/amagent/agent/command"
	"github.com/amagent/amagent/agent/outbox"
	"github.com/amagent/amagent/agent/protocol"
)

// blockingTable has commands that run until the agent stops them, in the
// foreground and in the background (as a scan does), and one that counts
// its runs.
func blockingTable(t *testing.T, runs *atomic.Int32) *command.Table {
	block := func(ctx context.Context, _ []string) (any, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	tbl, err := command.NewTable(
		command.Handler{Type: protocol.CmdNop, Run: func(context.Context, []string) (any, error) { return nil, nil }},
		command.Handler{Type: "block", Run: block},
		command.Handler{Type: "bgblock", Run: block, Background: true},
		// A worklet run the agent stops answers "ok" with a canceled
		// worklet result (host.RunWorkletHandler).
		command.Handler{Type: "wasmblock", Run: func(ctx context.Context, _ []string) (any, error) {
			<-ctx.Done()
			return protocol.WorkletResult{Name: "w", Status: "error", Error: "canceled", ErrorKind: "canceled"}, nil
		}},
		command.Handler{Type: "count", Run: func(context.Context, []string) (any, error) { runs.Add(1); return "ran", nil }},
	)
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

// Issue 10 finding 2: a scan command interrupted by the agent's shutdown
// ended on the platform as "error: context canceled" instead of being
// offered again. This test failed on the code before the fix (the result
// was queued in the outbox and delivered at the next start).
func TestShutdownInterruptedCommandNotReported(t *testing.T) {
	for _, typ := range []string{"block", "bgblock", "wasmblock"} {
		t.Run(typ, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := &fakePlatform{answers: []func(http.ResponseWriter){
					answer(200, `{"id":5,"command":"`+typ+`","params":[]}`),
					answer(200, nopAnswer),
				}}
				var runs atomic.Int32
				e := setup(t, "http://platform.test", inMemory(p), "tok", func(o *LoopOptions) {
					o.Processor = &command.Processor{Log: o.Processor.Log, Table: blockingTable(t, &runs)}
				})
				runFor(t, e.loop, 10*time.Minute) // the agent is stopped while the command runs
				if len(p.results) != 0 || e.box.Len() != 0 {
					t.Fatalf("an interrupted command was reported: results %v, outbox %d", p.results, e.box.Len())
				}
				if !strings.Contains(e.log.String(), "command interrupted by the agent's shutdown; not reported") {
					t.Fatalf("not logged:\n%s", e.log.String())
				}
			})
		})
	}
}

// A command that finished before a restart has its result in the outbox;
// when the platform offers it again (it was handed to the earlier run and
// not answered), the result is delivered and the command is not run twice.
func TestWaitingResultNotRunAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &fakePlatform{answers: []func(http.ResponseWriter){
			answer(200, `{"id":9,"command":"count","params":[]}`),
			answer(200, nopAnswer),
		}}
		var runs atomic.Int32
		e := setup(t, "http://platform.test", inMemory(p), "tok", func(o *LoopOptions) {
			o.Processor = &command.Processor{Log: o.Processor.Log, Table: blockingTable(t, &runs)}
		})
		res, _ := json.Marshal(protocol.CommandResult{Status: "ok", Output: json.RawMessage(`"ran before the restart"`)})
		if err := e.box.Add(outbox.KindResult, "/commands/9/result", res); err != nil {
			t.Fatal(err)
		}
		runFor(t, e.loop, time.Minute)
		if runs.Load() != 0 {
			t.Fatalf("the command ran %d times again", runs.Load())
		}
		if len(p.results) != 1 || !strings.Contains(p.results[0], "ran before the restart") {
			t.Fatalf("results %v", p.results)
		}
	})
}

// Every request names the agent's run; one client keeps one run, another
// client (the next start) has another.
func TestCheckinNamesTheRun(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get(protocol.HeaderAgentRun))
		mu.Unlock()
		w.Write([]byte(nopAnswer))
	})
	for range 2 {
		e := setup(t, "http://platform.test", inMemory(h), "tok", nil)
		for range 2 {
			if _, _, err := e.opts.Client.Checkin(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(seen) != 4 || len(seen[0]) != 24 || seen[0] != seen[1] || seen[2] != seen[3] || seen[0] == seen[2] {
		t.Fatalf("X-Agent-Run values %q: want one per client, 24 hex digits", seen)
	}
}
