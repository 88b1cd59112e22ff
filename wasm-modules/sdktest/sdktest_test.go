// Package sdktest checks the guest SDKs against the agent's own host: the
// conformance worklet and the template of every language pass their
// recorded-scan cases under `amagent worklet test`, and the conformance
// cases are the same files in every language.
package sdktest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/amagent/amagent/host/cli"
)

var languages = []string{"go", "c", "rust", "assemblyscript", "wat"}

func TestConformanceCasesAreTheSameEverywhere(t *testing.T) {
	ref, err := filepath.Glob(filepath.Join("..", "go", "conformance", "tests", "*.json"))
	if err != nil || len(ref) < 5 {
		t.Fatalf("reference cases: %v (%d files)", err, len(ref))
	}
	for _, lang := range languages[1:] {
		got, _ := filepath.Glob(filepath.Join("..", lang, "conformance", "tests", "*.json"))
		if len(got) != len(ref) {
			t.Errorf("%s has %d conformance cases, go has %d", lang, len(got), len(ref))
		}
		for _, f := range ref {
			want, _ := os.ReadFile(f)
			have, err := os.ReadFile(filepath.Join("..", lang, "conformance", "tests", filepath.Base(f)))
			if err != nil || !bytes.Equal(want, have) {
				t.Errorf("%s/conformance/tests/%s differs from go's (%v)", lang, filepath.Base(f), err)
			}
		}
	}
}

func TestEveryModulePassesItsCases(t *testing.T) {
	for _, lang := range languages {
		for _, kind := range []string{"conformance", "template"} {
			dir := filepath.Join("..", lang, kind)
			t.Run(lang+"/"+kind, func(t *testing.T) {
				if testing.Short() && lang == "go" {
					t.Skip("-short: compiling a Go module takes seconds")
				}
				t.Parallel()
				cases, _ := filepath.Glob(filepath.Join(dir, "tests", "*.json"))
				if len(cases) < 2 {
					t.Fatalf("%s: %d cases", dir, len(cases))
				}
				var out, errb bytes.Buffer
				code := cli.WorkletCommand(context.Background(), []string{"test", dir}, &out, &errb)
				lines := strings.Split(strings.TrimSpace(out.String()), "\n")
				want := fmt.Sprintf("%d passed, 0 failed", len(cases))
				if code != 0 || lines[len(lines)-1] != want {
					t.Errorf("exit %d, last line %q, want %q\n%s\n%s", code, lines[len(lines)-1], want, out.String(), errb.String())
				}
			})
		}
	}
}
