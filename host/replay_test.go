package host

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestReplay(t *testing.T) {
	e, logs := newTestEngine(t, Limits{})
	w := load(t, e, "probe.wasm", "", "[evaluate]\nread = [\"/etc/ssh/sshd_config\", \"/etc/missing\"]\nexec = [[\"sshd\", \"-T\"], [\"uname\"]]\n")
	recording := func(action, arg string) *Recording {
		r, err := ParseRecording([]byte(`{"abi": 1, "time": "2026-11-25T12:00:00Z",
			"scan": ` + probeScan(action, arg) + `,
			"files": {"/etc/ssh/sshd_config": "PermitRootLogin no\n", "/etc/shadow": "root:x"},
			"exec": [{"argv": ["sshd", "-T"], "exit_code": 0, "stdout": "permitrootlogin no\n", "stderr": ""}]}`))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	cases := []struct{ name, action, arg, status, want string }{
		{"file from recording", "read", "/etc/ssh/sshd_config", StatusCompliant, "PermitRootLogin no"},
		{"declared, not recorded", "read", "/etc/missing", StatusNonCompliant, "No such file"},
		{"recorded, not declared", "read", "/etc/shadow", StatusNonCompliant, "Permission denied"},
		{"exec from recording", "exec", execReq("sshd", "-T"), StatusCompliant, "exec ok"},
		{"exec not recorded", "exec", execReq("uname"), StatusNonCompliant, "exec -1"},
		{"exec denied", "exec", execReq("id"), StatusNonCompliant, "exec -2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var first Result
			for i := range 2 {
				env, err := ReplayEnv(recording(c.action, c.arg))
				if err != nil {
					t.Fatal(err)
				}
				r := e.Run(t.Context(), w, PhaseEvaluate, nil, env)
				if r.Status != c.status || !strings.Contains(r.Message, c.want) {
					t.Fatalf("got %s %q, want %s %q", r.Status, r.Message, c.status, c.want)
				}
				r.Duration = 0
				if i == 1 && (r.Message != first.Message || string(r.Details) != string(first.Details) || r.Status != first.Status) {
					t.Fatalf("replay is not deterministic: %+v vs %+v", r, first)
				}
				first = r
			}
		})
	}
	if !strings.Contains(logs.String(), `msg="worklet exec not in the recording" worklet=t-probe argv=[uname]`) {
		t.Errorf("missing exec not logged:\n%s", logs)
	}
}

func TestReplayClockAndHostIsolation(t *testing.T) {
	// The Go module reads a file named by a param; in replay the host's
	// own file of that name is not visible, and time is the recording's.
	e, _ := newTestEngine(t, Limits{})
	dir := t.TempDir()
	hostFile := filepath.Join(dir, "sshd_config")
	if err := os.WriteFile(hostFile, []byte("PermitRootLogin no\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	w := load(t, e, "gomod.wasm", "", "[evaluate]\nread = [\""+hostFile+"\"]\n[params.file]\ntype = \"string\"\ndefault = \""+hostFile+"\"\n")
	live := e.Run(t.Context(), w, PhaseEvaluate, nil, LiveEnv(scanOf(t, `{"hostname": "live"}`)))
	if live.Status != StatusCompliant || string(live.Details) != `"\"live\""` {
		t.Fatalf("live: %+v", live)
	}
	rec := &Recording{ABI: 1, Time: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC), Scan: json.RawMessage(`{"hostname": "rec"}`),
		Files: map[string]FileContent{hostFile: "PermitRootLogin yes\n"}}
	env, err := ReplayEnv(rec)
	if err != nil {
		t.Fatal(err)
	}
	r := e.Run(t.Context(), w, PhaseEvaluate, nil, env)
	if r.Status != StatusNonCompliant || string(r.Details) != `"\"rec\""` {
		t.Fatalf("replay: %+v", r)
	}
}

func TestRecordThenReplay(t *testing.T) {
	e, _ := newTestEngine(t, Limits{})
	dir := t.TempDir()
	f := filepath.Join(dir, "conf")
	if err := os.WriteFile(f, []byte("value\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	w := load(t, e, "probe.wasm", "", "[evaluate]\nread = [\""+dir+"/\"]\nexec = [[\"echo\", \"{word}\"]]\n")
	scan := scanOf(t, probeScan("exec", execReq("echo", "recorded")))
	out, results, err := e.Record(t.Context(), scan, []Job{{Worklet: w}}, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	if err != nil || len(results) != 1 || results[0].Status != StatusCompliant {
		t.Fatalf("record: %v %+v", err, results)
	}
	rec, err := ParseRecording(out)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Files[f] != "value\n" || len(rec.Exec) != 1 || rec.Exec[0].Stdout != "recorded\n" || !rec.Time.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Fatalf("recording: %s", out)
	}
	env, err := ReplayEnv(rec)
	if err != nil {
		t.Fatal(err)
	}
	r := e.Run(t.Context(), w, PhaseEvaluate, nil, env)
	if r.Status != StatusCompliant || string(r.Details) != string(results[0].Details) {
		t.Fatalf("replay of the recording: %+v vs %+v", r, results[0])
	}
	if st := rec.Stat[f]; st.Type != "file" || st.Mode != "0644" || st.Size != 6 || rec.Stat[dir].Type != "dir" {
		t.Errorf("stat: %+v", rec.Stat)
	}
	// Nothing declared: files and stat are still objects.
	bare := load(t, e, "exit.wasm", "", "")
	out, _, err = e.Record(t.Context(), scanOf(t, `{"exit": 0}`), []Job{{Worklet: bare}}, time.Now())
	if err != nil || !strings.Contains(string(out), `"files": {}`) || !strings.Contains(string(out), `"stat": {}`) {
		t.Errorf("empty recording: %v\n%s", err, out)
	}
}

// TestReplayPathFact: in replay the path-metadata fact answers from the
// recording's stat, after the capability check: an undeclared path is -2
// (and denied) even when the recording describes it; a declared path
// missing from stat is -1.
func TestReplayPathFact(t *testing.T) {
	e, logs := newTestEngine(t, Limits{})
	w := load(t, e, "probe.wasm", "", "[evaluate]\nread = [\"/etc/ssh/sshd_config\", \"/etc/missing\"]\n")
	shadow := `{"type": "file", "mode": "0640", "uid": 0, "gid": 42, "user": "root", "group": "shadow", "size": 1042, "mtime": "2026-11-01T00:00:00Z"}`
	sshd := `{"type":"file","mode":"4755","uid":0,"gid":0,"user":"root","group":"root","size":20,"mtime":"2026-11-01T00:00:00Z"}`
	for _, c := range []struct{ key, details string }{
		{"/etc/ssh/sshd_config", sshd},
		{"/etc/ssh/../ssh/sshd_config", sshd},
		{"/etc/missing", "-1"},
		{"/etc/shadow", "-2"},
	} {
		r, err := ParseRecording([]byte(`{"abi": 1, "time": "2026-11-25T12:00:00Z", "scan": ` + probeScan("fact", c.key) + `,
			"files": {"/etc/ssh/sshd_config": "PermitRootLogin no\n"},
			"stat": {"/etc/ssh/sshd_config": ` + sshd + `, "/etc/shadow": ` + shadow + `}}`))
		if err != nil {
			t.Fatal(err)
		}
		env, err := ReplayEnv(r)
		if err != nil {
			t.Fatal(err)
		}
		res := e.Run(t.Context(), w, PhaseEvaluate, nil, env)
		if string(res.Details) != c.details {
			t.Errorf("fact %s: %s, want %s", c.key, res.Details, c.details)
		}
		if denied := c.details == "-2"; denied != slices.Contains(res.Denied, c.key) {
			t.Errorf("fact %s: denied %q", c.key, res.Denied)
		}
	}
	if !strings.Contains(logs.String(), `msg="worklet path denied" worklet=t-probe phase=evaluate path=/etc/shadow reason=undeclared`) {
		t.Errorf("denial not logged:\n%s", logs)
	}
}

// TestRecordingFileContent: a file is a string (UTF-8 text) or
// {"base64": "..."}, both ways.
func TestRecordingFileContent(t *testing.T) {
	r, err := ParseRecording([]byte(`{"abi": 1, "files": {"/a": "text\n", "/b": {"base64": "AAEC/w=="}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if r.Files["/a"] != "text\n" || r.Files["/b"] != "\x00\x01\x02\xff" {
		t.Fatalf("files: %q", r.Files)
	}
	out, err := json.Marshal(r.Files)
	if err != nil || string(out) != `{"/a":"text\n","/b":{"base64":"AAEC/w=="}}` {
		t.Fatalf("marshal: %s %v", out, err)
	}
	for _, bad := range []string{`{"base64": "!!"}`, `{"b64": "AAEC"}`, `3`, `["x"]`} {
		if _, err := ParseRecording([]byte(`{"abi": 1, "files": {"/a": ` + bad + `}}`)); err == nil {
			t.Errorf("files value %s accepted", bad)
		}
	}
	for _, bad := range []string{`{"/a": {"type": "pipe", "mode": "0644", "mtime": "2026-11-01T00:00:00Z"}}`,
		`{"/a": {"type": "file", "mode": "644", "mtime": "2026-11-01T00:00:00Z"}}`,
		`{"a": {"type": "file", "mode": "0644", "mtime": "2026-11-01T00:00:00Z"}}`} {
		if _, err := ParseRecording([]byte(`{"abi": 1, "stat": ` + bad + `}`)); err == nil {
			t.Errorf("stat %s accepted", bad)
		}
	}
}
