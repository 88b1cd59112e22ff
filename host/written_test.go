package host

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// A replay environment hands what a remediate run wrote into its scratch
// copy to OnWritten before the copy is removed: new or changed files only,
// and the recorded files that are gone. A live environment ignores it.
// (Before OnWritten, the scratch copy was removed unseen.)
func TestOnWritten(t *testing.T) {
	e, _ := newTestEngine(t, Limits{})
	w := load(t, e, "probe.wasm", "", "[remediate]\nread = [\"/etc/app/\"]\nwrite = [\"/etc/app/\"]\n")
	rec, err := ParseRecording([]byte(`{"abi": 1, "scan": ` + probeScan("write", "/etc/app/new.conf") + `,
		"files": {"/etc/app/old.conf": "old\n", "/etc/app/bin": {"base64": "AAE="}}}`))
	if err != nil {
		t.Fatal(err)
	}
	env, err := ReplayEnv(rec)
	if err != nil {
		t.Fatal(err)
	}
	var got *WrittenFiles
	env.OnWritten(func(f WrittenFiles) { got = &f })
	if res := e.Run(t.Context(), w, PhaseRemediate, nil, env); res.Status != StatusSucceeded {
		t.Fatalf("%s %s %s", res.Status, res.Message, res.Error)
	}
	want := WrittenFiles{Written: map[string]FileContent{"/etc/app/new.conf": "written by probe\n"}}
	if got == nil || !reflect.DeepEqual(*got, want) {
		t.Errorf("written: %+v, want %+v", got, want)
	}

	// A file the recording held, gone after the run, is listed removed.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "kept"), []byte("old\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	changes := scratchChanges(dir, map[string]FileContent{"/kept": "old\n", "/etc/gone": "x"})
	if len(changes.Written) != 0 || !reflect.DeepEqual(changes.Removed, []string{"/etc/gone"}) {
		t.Errorf("removed: %+v", changes)
	}

	live := LiveEnv(scanOf(t, `{}`))
	live.OnWritten(func(WrittenFiles) { t.Error("called on a live run") })
	if live.onWritten != nil {
		t.Error("a live environment keeps the hook")
	}
}

// `scan --record` writes "files", "stat" and "exec" as an object, an
// object and a list even when it recorded none (issue 11 saw "files": []).
func TestRecordEmptyIsObjects(t *testing.T) {
	e, _ := newTestEngine(t, Limits{})
	out, _, err := e.Record(t.Context(), scanOf(t, `{"os": {"family": "linux"}}`), nil, time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(out, &top); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{"files": "{}", "stat": "{}", "exec": "[]", "abi": "1"} {
		if string(top[key]) != want {
			t.Errorf("key %s: %s, want %s", key, top[key], want)
		}
	}
}
