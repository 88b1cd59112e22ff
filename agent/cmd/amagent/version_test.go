package main

import (
	"bytes"
	"encoding/json"
	"runtime"
	"strings"
	"testing"

	"github.com/amagent/amagent/agent/version"
)

func TestVersionJSON(t *testing.T) {
	var out bytes.Buffer
	if err := run(t.Context(), []string{"version", "--json"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	for _, k := range []string{"version", "commit", "date", "go", "wazero", "os", "arch"} {
		if _, ok := got[k]; !ok {
			t.Errorf("no %q in %s", k, out.String())
		}
	}
	if got["version"] != version.Version || got["go"] != runtime.Version() {
		t.Errorf("version %q go %q", got["version"], got["go"])
	}
	// The engine is linked in, so its version is known.
	if !strings.HasPrefix(got["wazero"], "v1.") {
		t.Errorf("wazero %q, want the module's version", got["wazero"])
	}
	out.Reset()
	if err := run(t.Context(), []string{"version"}, &out, &out); err != nil || out.String() != "amagent "+version.Version+"\n" {
		t.Errorf("version: %q, %v", out.String(), err)
	}
}
