//go:build !wasip1

package worklets

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/amagent/amagent/host"
)

// testCase is the part of a recorded scan that says what to expect.
type testCase struct {
	Params map[string]any `json:"params"`
	Expect struct {
		Phase   string `json:"phase"`
		Status  string `json:"status"`
		Message string `json:"message"`
	} `json:"expect"`
}

// TestWorkletCases runs every case in every folder's tests/ against the
// committed module, as `amagent worklet test DIR` does, and checks that each
// folder has the cases the project asks for.
func TestWorkletCases(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles every module; skipped with -short")
	}
	dirs, err := filepath.Glob("*/worklet.toml")
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) < 12 {
		t.Fatalf("found %d worklet folders, want at least 12", len(dirs))
	}
	eng := sharedEngine(t) // modules compiled once for this test and the benchmarks
	for _, manifest := range dirs {
		dir := filepath.Dir(manifest)
		t.Run(dir, func(t *testing.T) {
			t.Parallel()
			w, err := eng.Load(t.Context(), dir)
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			cases, _ := filepath.Glob(filepath.Join(dir, "tests", "*.json"))
			// A folder from `amagent worklet new` starts with two cases (a
			// compliant and a non-compliant one, checked below): adding it
			// needs no edit here.
			if len(cases) < 2 {
				t.Errorf("%d cases, want at least 2", len(cases))
			}
			seen := map[string]bool{}
			for _, file := range cases {
				raw, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				var tc testCase
				if err := json.Unmarshal(raw, &tc); err != nil {
					t.Fatalf("%s: %v", file, err)
				}
				phase := tc.Expect.Phase
				if phase == "" {
					phase = host.PhaseEvaluate
				}
				seen[tc.Expect.Status] = true
				rec, err := host.ParseRecording(raw)
				if err != nil {
					t.Fatalf("%s: %v", file, err)
				}
				env, err := host.ReplayEnv(rec)
				if err != nil {
					t.Fatalf("%s: %v", file, err)
				}
				params, err := w.Manifest.ResolveParams(tc.Params)
				if err != nil {
					t.Fatalf("%s: %v", file, err)
				}
				res := eng.Run(t.Context(), w, phase, params, env)
				if res.Status != tc.Expect.Status || !strings.Contains(res.Message, tc.Expect.Message) {
					t.Errorf("%s: got %s %q (error %q), want %s with %q",
						filepath.Base(file), res.Status, res.Message, res.Error, tc.Expect.Status, tc.Expect.Message)
				}
			}
			for _, want := range []string{"compliant", "non-compliant"} {
				if !seen[want] {
					t.Errorf("no %s case", want)
				}
			}
		})
	}
}
