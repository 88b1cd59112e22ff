package cli

import (
	"bytes"
	"encoding/json"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/amagent/amagent/host"
)

var update = flag.Bool("update", false, "rewrite testdata/machines/*/recording.json from each machine's machine.json, golden.json, exec.json and root/")

// machinesDir holds the recorded machines (testdata/machines/<name>/).
const machinesDir = "../../testdata/machines"

// machineNames lists the recorded machines (folders with a golden.json).
func machineNames(t *testing.T) []string {
	t.Helper()
	ents, err := os.ReadDir(machinesDir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if _, err := os.Stat(filepath.Join(machinesDir, e.Name(), "golden.json")); e.IsDir() && err == nil {
			out = append(out, e.Name())
		}
	}
	if len(out) < 5 {
		t.Fatalf("found %d recorded machines, want at least 5: %v", len(out), out)
	}
	return out
}

// machineRecording is a recorded machine as `amagent scan --record` writes
// a recording: its scan document (golden.json, the agent's scan of the
// machine), every file of its root/ tree, and its programs' answers
// (exec.json), at its time (machine.json "now"). The trees were copied
// without owners and modes, so stat is empty; "description" (ignored on
// replay) says where the machine came from.
func machineRecording(t *testing.T, dir string) []byte {
	t.Helper()
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var m struct {
		Now         time.Time `json:"now"`
		Description string    `json:"description"`
	}
	if err := json.Unmarshal(read("machine.json"), &m); err != nil {
		t.Fatalf("%s/machine.json: %v", dir, err)
	}
	execs := []host.RecordedExec{}
	if b, err := os.ReadFile(filepath.Join(dir, "exec.json")); err == nil {
		if err := json.Unmarshal(b, &execs); err != nil {
			t.Fatalf("%s/exec.json: %v", dir, err)
		}
	}
	files := map[string]host.FileContent{}
	root := filepath.Join(dir, "root")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		files["/"+filepath.ToSlash(rel)] = host.FileContent(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.MarshalIndent(struct {
		ABI         int                         `json:"abi"`
		Description string                      `json:"description"`
		Time        time.Time                   `json:"time"`
		Scan        json.RawMessage             `json:"scan"`
		Files       map[string]host.FileContent `json:"files"`
		Stat        map[string]host.PathStat    `json:"stat"`
		Exec        []host.RecordedExec         `json:"exec"`
	}{host.ABIVersion, m.Description, m.Now.UTC(), read("golden.json"), files, map[string]host.PathStat{}, execs}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(out, '\n')
}

// Every recorded machine has a recording.json in the one format --scan
// reads (what `amagent scan --record` writes), made from its other files;
// -update rewrites them (after `go test ./agent/scan -run
// TestRecordedMachines -update` when a golden.json changed). Before, no
// file in testdata/machines could be given to --scan.
func TestMachineRecordings(t *testing.T) {
	for _, name := range machineNames(t) {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(machinesDir, name)
			got := machineRecording(t, dir)
			file := filepath.Join(dir, "recording.json")
			if *update {
				if err := os.WriteFile(file, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run go test ./host/cli -run TestMachineRecordings -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s is stale: run go test ./host/cli -run TestMachineRecordings -update", file)
			}
			rec, err := host.ParseRecording(want)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := host.ReplayEnv(rec); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Each recording passes `amagent worklet test --scan` with shipped
// worklets: disk-usage-threshold (C) reads the scan's disks, and
// package-min-version (Rust) the software inventory.
func TestMachinesWithShippedWorklets(t *testing.T) {
	cases := []struct {
		machine, worklet string
		params           []string
		status, message  string
	}{
		{"alpine319", "disk-usage-threshold", nil, "compliant", "2 file systems at most 90% used"},
		{"alpine319", "package-min-version", []string{"package=busybox", "min_version=1.36.1-r19"}, "non-compliant", "busybox 1.36.1-r15 is older than 1.36.1-r19"},
		{"debian12-debootstrap", "disk-usage-threshold", nil, "compliant", "at most 90% used"},
		{"debian12-debootstrap", "package-min-version", []string{"package=apt", "min_version=2.6.1"}, "compliant", "apt 2.6.1"},
		{"debian12-host", "disk-usage-threshold", nil, "compliant", "at most 90% used"},
		{"debian12-host", "package-min-version", []string{"package=bash", "min_version=5.2.15-2+b7"}, "compliant", "bash 5.2.15"},
		{"rhel9", "disk-usage-threshold", nil, "compliant", "at most 90% used"},
		{"rhel9", "package-min-version", []string{"package=openssl", "min_version=1:3.0.7-27.el9"}, "compliant", "openssl 1:3.0.7"},
		{"ubuntu2204", "disk-usage-threshold", nil, "compliant", "at most 90% used"},
		{"ubuntu2204", "package-min-version", []string{"package=openssl", "min_version=3.0.2-0ubuntu1.15"}, "non-compliant", "openssl 3.0.2-0ubuntu1.12 is older than 3.0.2-0ubuntu1.15"},
	}
	seen := map[string]bool{}
	for _, c := range cases {
		seen[c.machine] = true
		t.Run(c.machine+"/"+c.worklet, func(t *testing.T) {
			args := []string{"test", filepath.Join("../../worklets", c.worklet), "--scan", filepath.Join(machinesDir, c.machine, "recording.json"), "--json"}
			for _, p := range c.params {
				args = append(args, "--param", p)
			}
			code, out, errOut := run(t, args...)
			var got struct {
				Status, Message, Error string
			}
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("exit %d: %v in %q (%s)", code, err, out, errOut)
			}
			if got.Status != c.status || !strings.Contains(got.Message, c.message) {
				t.Errorf("exit %d: %s %q %s, want %s with %q", code, got.Status, got.Message, got.Error, c.status, c.message)
			}
		})
	}
	for _, name := range machineNames(t) {
		if !seen[name] {
			t.Errorf("recorded machine %s is run by no shipped worklet here", name)
		}
	}
}
