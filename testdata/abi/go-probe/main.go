// Command go-probe is an ABI v1 conformance worklet in Go (GOOS=wasip1),
// written from shared/ABI.md only. Its behaviour is chosen by the "mode"
// parameter of the input document, exactly like ../c-probe; see
// ../README.md for the modes.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
	"unsafe"
)

//go:wasmimport amagent fact
func fact(key unsafe.Pointer, keyLen int32) int32

//go:wasmimport amagent exec
func execHost(req unsafe.Pointer, reqLen int32) int32

//go:wasmimport amagent response
func response(buf unsafe.Pointer, bufCap int32) int32

//go:wasmimport amagent log
func logHost(level int32, msg unsafe.Pointer, msgLen int32)

func ptr(b []byte) unsafe.Pointer {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Pointer(&b[0])
}

// lookup calls fact and copies the slot out; it returns the host's code too.
func lookup(key string) (int32, []byte) {
	k := []byte(key)
	n := fact(ptr(k), int32(len(k)))
	if n < 0 {
		return n, nil
	}
	return n, take(n)
}

func take(n int32) []byte {
	buf := make([]byte, n+1) // never a nil pointer, even for an empty answer
	got := response(ptr(buf), n)
	if got < 0 {
		return nil
	}
	return buf[:got]
}

type input struct {
	ABI     int             `json:"abi"`
	Phase   string          `json:"phase"`
	Worklet json.RawMessage `json:"worklet"`
	Params  json.RawMessage `json:"params"`
	Scan    struct {
		Hostname json.RawMessage `json:"hostname"`
	} `json:"scan"`
}

type params struct {
	Mode string          `json:"mode"`
	Code int             `json:"code"`
	Key  string          `json:"key"`
	Argv json.RawMessage `json:"argv"`
	Path string          `json:"path"`
	Text string          `json:"text"`
}

// result prints the ABI result object and exits with code.
func result(code int, msg string, details any) {
	b, err := json.Marshal(map[string]any{"message": msg, "details": details})
	if err != nil {
		b = []byte(`{"message":"cannot encode result"}`)
		code = 1
	}
	os.Stdout.Write(append(b, '\n'))
	os.Exit(code)
}

func main() {
	raw, err := io.ReadAll(os.Stdin)
	if err != nil {
		result(1, "read stdin: "+err.Error(), nil)
	}
	var in input
	var p params
	if err := json.Unmarshal(raw, &in); err != nil {
		result(1, "input document: "+err.Error(), nil)
	}
	if err := json.Unmarshal(in.Params, &p); err != nil || p.Mode == "" {
		result(1, "no params.mode in the input document", nil)
	}
	phase := ""
	if len(os.Args) > 1 {
		phase = os.Args[1]
	}
	switch p.Mode {
	case "exit":
		result(p.Code, fmt.Sprintf("exit %d in %s", p.Code, phase), map[string]any{"code": p.Code, "phase": phase})

	case "plain":
		os.Stdout.WriteString(p.Text)
		os.Exit(0)

	case "stderr":
		os.Stderr.WriteString(p.Text)
		result(0, "wrote stderr", nil)

	case "env":
		var w struct {
			Name string `json:"name"`
		}
		json.Unmarshal(in.Worklet, &w)
		env := os.Environ()
		d := map[string]any{"argv": os.Args, "env": env}
		sorted := slices.Sorted(slices.Values(env))
		switch {
		case len(os.Args) != 2:
			result(1, "argv does not have 2 elements", d)
		case os.Args[0] != w.Name:
			result(1, "argv[0] is not worklet.name", d)
		case phase != "evaluate" && phase != "remediate":
			result(1, "argv[1] is not a phase", d)
		case in.Phase != phase:
			result(1, "argv[1] differs from the input document's phase", d)
		case !slices.Equal(sorted, []string{"AMAGENT_ABI=1", "AMAGENT_PHASE=" + phase}):
			result(1, "environment is not exactly AMAGENT_ABI and AMAGENT_PHASE", d)
		}
		result(0, "env ok", d)

	case "stdin":
		var host string
		json.Unmarshal(in.Scan.Hostname, &host)
		d := map[string]any{"abi": in.ABI, "worklet": in.Worklet, "params": in.Params, "hostname": in.Scan.Hostname}
		code := 0
		if in.ABI != 1 {
			code = 1
		}
		result(code, "hostname "+host, d)

	case "fact":
		n, v := lookup(p.Key)
		msg := fmt.Sprintf("fact %s %d", p.Key, n)
		if n < 0 {
			result(1, msg, nil)
		}
		result(0, msg, json.RawMessage(v))

	case "slot":
		key := []byte("os.version")
		l1 := fact(ptr(key), int32(len(key)))
		small := make([]byte, 3)
		full := make([]byte, 256)
		s := response(ptr(small), int32(len(small)))
		f := response(ptr(full), int32(len(full)))
		key2 := []byte("reboot_required")
		l2 := fact(ptr(key2), int32(len(key2)))
		again := make([]byte, 256)
		r := response(ptr(again), int32(len(again)))
		key3 := []byte("no.such.key")
		miss := fact(ptr(key3), int32(len(key3)))
		ok := l1 > 0 && s == min(l1, 3) && f == l1 && string(small[:max(s, 0)]) == string(full[:max(s, 0)]) &&
			l2 > 0 && r == l2 && miss == -1
		raw := func(b []byte, n int32) json.RawMessage {
			if n <= 0 || !json.Valid(b[:n]) {
				return json.RawMessage("null")
			}
			return json.RawMessage(b[:n])
		}
		d := map[string]any{"len": l1, "short": s, "full": f, "replaced": l2, "copied": r, "missing": miss,
			"value": raw(full, f), "replaced_value": raw(again, r)}
		if ok {
			result(0, "slot ok", d)
		}
		result(1, "slot rule violated", d)

	case "exec":
		if len(p.Argv) == 0 {
			result(1, "no params.argv", nil)
		}
		req, _ := json.Marshal(map[string]any{"argv": p.Argv, "stdin": "", "timeout_ms": 5000})
		n := execHost(ptr(req), int32(len(req)))
		msg := fmt.Sprintf("exec %d", n)
		if n < 0 {
			result(1, msg, nil)
		}
		result(0, msg, json.RawMessage(take(n)))

	case "read":
		b, err := os.ReadFile(p.Path)
		if err != nil {
			result(1, fmt.Sprintf("read %s failed: %v", p.Path, err), nil)
		}
		result(0, fmt.Sprintf("read %s %d bytes", p.Path, len(b)), string(b))

	case "write":
		err := os.WriteFile(p.Path, []byte(p.Text), 0o644)
		if err != nil {
			result(1, fmt.Sprintf("write %s failed: %v", p.Path, err), nil)
		}
		result(0, fmt.Sprintf("write %s %d bytes", p.Path, len(p.Text)), nil)

	case "log":
		for l, m := range []string{"probe debug", "probe info", "probe warn", "probe error"} {
			b := []byte(m)
			logHost(int32(l), ptr(b), int32(len(b)))
		}
		result(0, "logged 4 lines", nil)

	case "time":
		now := time.Now().UTC()
		result(0, now.Format(time.RFC3339), map[string]any{"unix": now.Unix()})
	}
	result(1, "unknown mode "+strings.TrimSpace(p.Mode), nil)
}
