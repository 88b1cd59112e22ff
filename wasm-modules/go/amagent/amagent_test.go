package amagent

import (
	"bytes"
	"encoding/json"
	"errors"
	"runtime"
	"testing"
)

func TestHostErrorMapsCodes(t *testing.T) {
	cases := map[int32]error{-1: ErrNotFound, -2: ErrDenied, -3: ErrMalformed, -4: ErrExec, -5: ErrLimit, -9: ErrUnknown}
	for code, want := range cases {
		err := error(&HostError{Op: "exec", Arg: "uname -r", Code: code})
		if !errors.Is(err, want) {
			t.Errorf("code %d: errors.Is(%v, %v) is false", code, err, want)
		}
	}
	got := (&HostError{Op: "exec", Arg: "uname -r", Code: -1}).Error()
	if got != "exec uname -r: not found (-1)" {
		t.Errorf("message %q", got)
	}
}

func TestParams(t *testing.T) {
	var d Document
	if err := json.Unmarshal([]byte(`{"abi":1,"phase":"evaluate","worklet":{"name":"x","version":"1"},
		"params":{"s":"v","n":42,"b":true,"l":["a","b"],"bad":"notanint"},"scan":{"os":{}}}`), &d); err != nil {
		t.Fatal(err)
	}
	if d.Worklet.Name != "x" || d.Phase != PhaseEvaluate || string(d.Scan) != `{"os":{}}` {
		t.Fatalf("document %+v", d)
	}
	if s, err := d.ParamString("s", "def"); s != "v" || err != nil {
		t.Errorf("ParamString = %q, %v", s, err)
	}
	if s, err := d.ParamString("absent", "def"); s != "def" || err != nil {
		t.Errorf("ParamString absent = %q, %v", s, err)
	}
	if n, err := d.ParamInt("n", 0); n != 42 || err != nil {
		t.Errorf("ParamInt = %d, %v", n, err)
	}
	if b, err := d.ParamBool("b", false); !b || err != nil {
		t.Errorf("ParamBool = %v, %v", b, err)
	}
	if l, err := d.ParamList("l", nil); len(l) != 2 || l[1] != "b" || err != nil {
		t.Errorf("ParamList = %v, %v", l, err)
	}
	if _, err := d.ParamInt("bad", 0); err == nil {
		t.Error("ParamInt of a string: no error")
	}
	var v string
	if err := d.Param("absent", &v); !errors.Is(err, ErrNotFound) {
		t.Errorf("Param absent: %v", err)
	}
}

func TestFinishWritesResultAndExits(t *testing.T) {
	var buf bytes.Buffer
	code := -1
	oldOut, oldExit := stdout, exit
	stdout, exit = &buf, func(c int) { code = c }
	defer func() { stdout, exit = oldOut, oldExit }()

	NonCompliant("too old", map[string]string{"have": "1"})
	if code != ExitNonCompliant || buf.String() != `{"message":"too old","details":{"have":"1"}}`+"\n" {
		t.Fatalf("code %d, output %q", code, buf.String())
	}
	buf.Reset()
	NotApplicable("not linux", nil)
	if code != ExitNotApplicable || buf.String() != `{"message":"not linux","details":null}`+"\n" {
		t.Fatalf("code %d, output %q", code, buf.String())
	}
	buf.Reset()
	Finish(ExitCompliant, "x", func() {}) // not encodable: an error, still a result
	if code != ExitError || !bytes.Contains(buf.Bytes(), []byte("details not encodable")) {
		t.Fatalf("code %d, output %q", code, buf.String())
	}
}

func TestNoHostOutsideWasip1(t *testing.T) {
	if runtime.GOOS == "wasip1" {
		t.Skip("host functions exist")
	}
	if _, err := Fact("os.version"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Fact: %v", err)
	}
	if _, err := Exec([]string{"true"}, "", 0); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Exec: %v", err)
	}
}

func TestParseDocument(t *testing.T) {
	raw := []byte(` {"abi":1, "phase":"remediate","worklet":{"name":"w","version":"2"},
		"scan":{"os":{"family":"linux","note":"a \"}]\\ b"},"software":[{"name":"x"},[]],"n":null},
		"params":{"p":"v"}, "future":[1,{"a":"}"}]} `)
	d, err := ParseDocument(raw)
	if err != nil {
		t.Fatal(err)
	}
	if d.ABI != 1 || d.Phase != PhaseRemediate || d.Worklet.Version != "2" || string(d.Params["p"]) != `"v"` {
		t.Fatalf("document %+v", d)
	}
	var scan map[string]any
	if err := json.Unmarshal(d.Scan, &scan); err != nil || scan["n"] != nil || len(scan) != 3 {
		t.Fatalf("scan %s: %v", d.Scan, err)
	}
	for _, bad := range []string{``, `[]`, `{"abi":1`, `{"scan":{"a":[}}`, `{"scan":"x}`, `{"abi" 1}`, `{"abi":1 "phase":"x"}`, `{"params":{"a":]}`, `{"phase":3}`} {
		if _, err := ParseDocument([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	if d, err := ParseDocument([]byte(`{}`)); err != nil || d.Params == nil {
		t.Errorf("empty document: %v, %+v", err, d)
	}
}

func TestParseDocumentStopsAtScan(t *testing.T) {
	head := `{"abi":1,"phase":"evaluate","worklet":{"name":"w","version":"1"},"params":{"scan":{"x":1},"p":"v"},"scan":`
	// The scan is taken as it is, without walking it (it is last).
	for _, scan := range []string{`{"os":{"family":"linux"},"software":[{"name":"a"}]}`, `{"unbalanced":[}`} {
		d, err := ParseDocument([]byte(head + scan + "}\n"))
		if err != nil || string(d.Scan) != scan || string(d.Params["p"]) != `"v"` || d.Phase != PhaseEvaluate {
			t.Fatalf("%s: %+v %v", scan, d, err)
		}
	}
	// Without all four keys first, every key is read and checked.
	if _, err := ParseDocument([]byte(`{"abi":1,"scan":{"a":[},"params":{}}`)); err == nil {
		t.Fatal("a bad scan before params parsed")
	}
	if _, err := ParseDocument([]byte(head + `[1, 2]`)); err == nil {
		t.Fatal("a document without its closing brace parsed")
	}
}
