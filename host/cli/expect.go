package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/amagent/amagent/host"
)

// expectation is a test case's "expect" object: what the run must end
// with. Every key but status is optional.
type expectation struct {
	Phase   string `json:"phase"`
	Status  string `json:"status"`
	Message string `json:"message"` // a substring of the message
	// MessageRE is a regular expression (Go syntax) the message matches.
	MessageRE string `json:"message_re"`
	// Denied is the exact list of what the run was refused (any order);
	// absent: not checked, []: nothing.
	Denied *[]string `json:"denied"`
	// Files maps an absolute path to what it holds after the run: a
	// string (exact content), {"base64": "..."} (exact bytes),
	// {"contains": "..."} (a substring), or null (it must not exist).
	Files map[string]json.RawMessage `json:"files"`

	messageRE *regexp.Regexp
	files     []fileExpect
}

// expectKeys are the keys of an expect object, for the unknown-key error.
const expectKeys = "phase, status, message, message_re, denied, files"

// fileExpect is one entry of expect.files.
type fileExpect struct {
	path     string
	absent   bool   // null: must not exist
	contains string // {"contains": ...}: a substring
	exact    *host.FileContent
}

// parseExpect decodes and checks an expect object; an unknown key is an
// error (a misspelt expectation would otherwise pass unchecked).
func parseExpect(raw json.RawMessage) (*expectation, error) {
	x := &expectation{}
	if len(bytes.TrimSpace(raw)) == 0 {
		return x, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(x); err != nil {
		if k, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return nil, fmt.Errorf("expect: unknown key %s (the keys are %s)", k, expectKeys)
		}
		return nil, fmt.Errorf("expect: %w", err)
	}
	if x.MessageRE != "" {
		re, err := regexp.Compile(x.MessageRE)
		if err != nil {
			return nil, fmt.Errorf("expect.message_re: %w", err)
		}
		x.messageRE = re
	}
	for p, v := range x.Files {
		fe := fileExpect{path: p}
		if !strings.HasPrefix(p, "/") {
			return nil, fmt.Errorf("expect.files: %q is not an absolute path", p)
		}
		v = bytes.TrimSpace(v)
		switch {
		case len(v) == 0 || string(v) == "null":
			fe.absent = true
		case v[0] == '{' && bytes.Contains(v, []byte(`"contains"`)):
			var c struct {
				Contains *string `json:"contains"`
			}
			d := json.NewDecoder(bytes.NewReader(v))
			d.DisallowUnknownFields()
			if err := d.Decode(&c); err != nil || c.Contains == nil {
				return nil, fmt.Errorf(`expect.files[%q]: want {"contains": "..."} alone`, p)
			}
			fe.contains = *c.Contains
		default:
			var c host.FileContent
			if err := json.Unmarshal(v, &c); err != nil {
				return nil, fmt.Errorf(`expect.files[%q]: want the exact content (a string or {"base64": "..."}), {"contains": "..."} or null for "must not exist"`, p)
			}
			fe.exact = &c
		}
		x.files = append(x.files, fe)
	}
	sort.Slice(x.files, func(i, j int) bool { return x.files[i].path < x.files[j].path })
	return x, nil
}

// check compares a run with the expectations and returns every mismatch.
// rec is the recording the run started from, wrote what it left in its
// scratch copy (nil when the phase could not write).
func (x *expectation) check(res host.Result, rec *host.Recording, wrote *host.WrittenFiles) []string {
	var problems []string
	if res.Status != x.Status {
		problems = append(problems, fmt.Sprintf("status %s, want %s", res.Status, x.Status))
	}
	if x.Message != "" && !strings.Contains(res.Message, x.Message) {
		problems = append(problems, fmt.Sprintf("message %q does not contain %q", res.Message, x.Message))
	}
	if x.messageRE != nil && !x.messageRE.MatchString(res.Message) {
		problems = append(problems, fmt.Sprintf("message %q does not match %q", res.Message, x.MessageRE))
	}
	if x.Denied != nil {
		got, want := slices.Clone(res.Denied), slices.Clone(*x.Denied)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			problems = append(problems, fmt.Sprintf("denied %q, want %q", nonNil(got), nonNil(want)))
		}
	}
	if len(x.files) > 0 && wrote != nil && wrote.Incomplete {
		return append(problems, "files: what the run wrote is over the bound read back; not compared")
	}
	for _, fe := range x.files {
		content, exists := fileAfter(fe.path, rec, wrote)
		switch {
		case fe.absent && exists:
			problems = append(problems, fmt.Sprintf("file %s exists (%s), want none", fe.path, quoteShort(content)))
		case fe.absent:
		case !exists:
			why := ""
			if wrote == nil {
				why = " (nothing was written: the run's phase declares no write paths)"
			}
			problems = append(problems, fmt.Sprintf("file %s does not exist%s", fe.path, why))
		case fe.exact != nil && *fe.exact != content:
			problems = append(problems, fmt.Sprintf("file %s holds %s, want %s", fe.path, quoteShort(content), quoteShort(*fe.exact)))
		case fe.exact == nil && !strings.Contains(string(content), fe.contains):
			problems = append(problems, fmt.Sprintf("file %s does not contain %q; it holds %s", fe.path, fe.contains, quoteShort(content)))
		}
	}
	return problems
}

// fileAfter is the content of the file at p after the run: what the run
// wrote, else the recording's.
func fileAfter(p string, rec *host.Recording, wrote *host.WrittenFiles) (host.FileContent, bool) {
	if wrote != nil {
		if c, ok := wrote.Written[p]; ok {
			return c, true
		}
		if slices.Contains(wrote.Removed, p) {
			return "", false
		}
	}
	c, ok := rec.Files[p]
	return c, ok
}

// filesJSON is what a run wrote as the "files" of --json: path -> content,
// null for a file it removed; nil when it wrote nothing.
func filesJSON(wrote *host.WrittenFiles) map[string]*host.FileContent {
	if wrote == nil || len(wrote.Written)+len(wrote.Removed) == 0 {
		return nil
	}
	out := map[string]*host.FileContent{}
	for p, c := range wrote.Written {
		out[p] = &c
	}
	for _, p := range wrote.Removed {
		out[p] = nil
	}
	return out
}

// quoteShort quotes a file's content for a message, cut after 200 bytes.
func quoteShort(c host.FileContent) string {
	const max = 200
	if len(c) <= max {
		return fmt.Sprintf("%q", string(c))
	}
	return fmt.Sprintf("%q... (%d bytes)", string(c[:max]), len(c))
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// CaseOutcome is the outcome of one test case of a worklet folder.
type CaseOutcome struct {
	Name    string // the file name without .json
	Problem string // "" when the case passed; else every mismatch
	Result  host.Result
	// Files is what a remediate run wrote (path -> content, nil for a
	// file it removed); nil when it wrote nothing.
	Files map[string]*host.FileContent
}

// RunTests runs every case in DIR/tests/*.json with e, with the same
// expectations as `amagent worklet test DIR`, so that a Go test can run a
// folder's cases exactly as the command does.
func RunTests(ctx context.Context, e *host.Engine, dir string) ([]CaseOutcome, error) {
	files, err := filepath.Glob(filepath.Join(dir, "tests", "*.json"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no test cases in %s", filepath.Join(dir, "tests"))
	}
	sort.Strings(files)
	w, loadErr := e.Load(ctx, dir)
	out := make([]CaseOutcome, 0, len(files))
	for _, f := range files {
		why, res, wrote := oneCase(ctx, e, w, loadErr, f)
		out = append(out, CaseOutcome{Name: strings.TrimSuffix(filepath.Base(f), ".json"), Problem: why, Result: res, Files: filesJSON(wrote)})
	}
	return out, nil
}
