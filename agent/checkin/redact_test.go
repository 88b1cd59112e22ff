package checkin

import (
	"net/http"
	"strings"
	"testing"

	"github.com/amagent/amagent/agent/protocol"
)

// TestRedactAnswer: the logged check-in answer has no parameter value,
// neither the command's nor an assignment's. Failed before the fix
// (issue 9, finding 8): the answer was logged as it came.
func TestRedactAnswer(t *testing.T) {
	body := `{"id":3,"command":"runWorklet","params":["w","evaluate"],"config":{"checkin_interval":60,"scan_interval":8,` +
		`"worklets":[{"name":"w","version":"1.0","kind":"worklet","sha256":"ab","url":"/b","params":{"token":"s3cr3t-VALUE","n":2}}]},"extra":"x"}`
	got := RedactAnswer([]byte(body))
	want := `{"id":3,"command":"runWorklet","params":["<withheld>","<withheld>"],"config":{"checkin_interval":60,"scan_interval":8,"worklets":[{"name":"w","version":"1.0","kind":"worklet","params":["n","token"]}]}}`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if got := RedactAnswer([]byte(`{"id":1,"command":"x","params":["s3cr3t-VALUE"`)); strings.Contains(got, "s3cr3t") {
		t.Fatalf("malformed answer logged: %s", got)
	}
	if got := RedactAnswer([]byte(nopAnswer)); got != nopAnswer {
		t.Fatalf("nop answer %s", got)
	}
}

// TestKeptConfigHasNoSecrets: the platform config kept for the next start
// is what KeepConfig allows (no parameters at all without one), and it is
// written again when only that changes.
func TestKeptConfigHasNoSecrets(t *testing.T) {
	p := &fakePlatform{answers: []func(http.ResponseWriter){answer(200,
		`{"id":0,"command":"nop","params":[],"config":{"checkin_interval":60,"worklets":[{"name":"w","version":"1","params":{"token":"s3cr3t-VALUE"}}]}}`)}}
	srv, hc := loopback(t, p)
	allow := false
	e := setup(t, srv, hc, "", func(o *LoopOptions) {
		o.KeepConfig = func(pc protocol.Config) protocol.Config {
			if !allow {
				pc.Worklets = []protocol.Assignment{}
			}
			return pc
		}
	})
	e.loop.cycle(t.Context())
	kept, _ := e.store.Read(KeyPlatformConfig)
	if strings.Contains(string(kept), "s3cr3t") || !strings.Contains(string(kept), `"worklets":[]`) {
		t.Fatalf("kept %s", kept)
	}
	if got := e.loop.Config(); len(got.Worklets) != 1 || got.Worklets[0].Params["token"] != "s3cr3t-VALUE" {
		t.Fatalf("config in memory %+v", got)
	}
	allow = true
	e.loop.cycle(t.Context())
	if kept, _ := e.store.Read(KeyPlatformConfig); !strings.Contains(string(kept), `"name":"w"`) {
		t.Fatalf("not kept again: %s", kept)
	}

	e2 := setup(t, srv, hc, "", nil)
	e2.loop.cycle(t.Context())
	if kept, _ := e2.store.Read(KeyPlatformConfig); strings.Contains(string(kept), "s3cr3t") || !strings.Contains(string(kept), `"name":"w"`) {
		t.Fatalf("default keeps %s", kept)
	}
}
