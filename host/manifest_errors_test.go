package host

import (
	"errors"
	"strings"
	"testing"
)

// A manifest's problems are reported all at once, in line order, each
// with its line, and an unknown key with the nearest known one. Before,
// loading stopped at the first problem and unknown keys had no line.
func TestManifestEveryError(t *testing.T) {
	in := `abi = 1
kind = "script"
name = "Bad Name"
version = "1"
module = "m.wasm"
descripton = "typo"
os = ["linux", "plan9"]

[evaluate]
read = ["etc/passwd"]
exec = [["ls", "{file}"]]

[limits]
memory = "64 parsecs"
timeout = 10
exec_calls = "4"
memroy = "1MiB"

[params.port]
type = "int"
defualt = 22

[params.name]
type = "string"
default = 3
`
	_, err := ParseManifest([]byte(in))
	var es ManifestErrors
	if !errors.As(err, &es) {
		t.Fatalf("got %T %v, want ManifestErrors", err, err)
	}
	want := []string{
		`line 2: key kind: "script" is not "worklet" or "policy"`,
		`line 3: key name: "Bad Name" must be 1 to 64 characters of [a-z0-9-]`,
		`line 6: unknown key descripton; did you mean description?`,
		`line 7: key os[1]: "plan9" is not "linux", "windows" or "darwin"`,
		`line 10: key evaluate.read[0]: "etc/passwd" is not an absolute path`,
		`line 11: key evaluate.exec[0][1]: unknown placeholder "{file}" (there are {path}, {word} and {int})`,
		`line 14: key limits.memory: "64 parsecs" has an unknown unit`,
		`line 15: key limits.timeout: want a duration string such as "10s"`,
		`line 16: key limits.exec_calls: want an integer, got a string`,
		`line 17: unknown key limits.memroy; did you mean limits.memory?`,
		`line 21: unknown key params.port.defualt; did you mean params.port.default?`,
		`line 25: key params.name.default: want a string, got a number`,
	}
	if len(es) != len(want) {
		t.Errorf("%d errors, want %d:\n%s", len(es), len(want), strings.ReplaceAll(err.Error(), "; line", ";\nline"))
	}
	for i := range min(len(es), len(want)) {
		if !strings.HasPrefix(es[i].Error(), want[i]) {
			t.Errorf("error %d: %q, want it to start with %q", i, es[i].Error(), want[i])
		}
	}
	if !strings.HasPrefix(err.Error(), "manifest: line 2: key kind: ") {
		t.Errorf("joined: %v", err)
	}
}
