package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/amagent/amagent/agent/protocol"
	"github.com/amagent/amagent/platform/internal/fleet"
	"github.com/amagent/amagent/platform/internal/store"
)

// Red-team tests of what amplatform prints (issue 9, findings 8 and 9).

// hostile is what a device sends to attack the admin's terminal: an OSC
// that retitles the window, a screen clear, a one-character C1 CSI, a bidi
// override and a raw 8-bit CSI byte that is not UTF-8.
const hostile = "\x1b]0;pwned\x07\x1b[2J\u009b31m\u202eevil"

// terminalSafe reports the first thing in out a terminal would act on.
func terminalSafe(out string) error {
	for i, r := range out {
		switch {
		case r == utf8.RuneError:
			if _, size := utf8.DecodeRuneInString(out[i:]); size == 1 {
				return fmt.Errorf("byte %#x at %d is not UTF-8", out[i], i)
			}
		case r < 0x20 && r != '\n', r == 0x7f, r >= 0x80 && r <= 0x9f:
			return fmt.Errorf("control character %U at %d", r, i)
		case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
			return fmt.Errorf("bidi character %U at %d", r, i)
		}
	}
	return nil
}

// enrollDevice enrolls a device over HTTP and returns its credentials.
func enrollDevice(t *testing.T, base, accessKey, host string) (id, token string) {
	t.Helper()
	id = uuid.NewString()
	var r protocol.EnrollResponse
	d := &simDevice{}
	code, err := d.do(t.Context(), http.DefaultClient, base+protocol.PathEnroll, signedEnrollment(accessKey, id, host, time.Now()), &r)
	if err != nil || code != 200 {
		t.Fatalf("enroll: %d %v", code, err)
	}
	return id, r.DeviceToken
}

func devicePost(t *testing.T, base, id, token, path string, body []byte) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "POST", base+path, bytes.NewReader(body))
	req.Header.Set(protocol.HeaderAuthorization, "Bearer "+token)
	req.Header.Set(protocol.HeaderDeviceUUID, id)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("POST %s: %d %s", path, resp.StatusCode, b)
	}
}

// TestRedteamEscapesReachNoTerminal: a device's result, error, scan
// messages and (stored before hostnames were checked) hostname carry
// terminal escape sequences; `devices` and `results`, as tables and as
// JSON, print them visibly escaped and never raw.
func TestRedteamEscapesReachNoTerminal(t *testing.T) {
	// Failed on the code before the fix: `results` printed the ESC, BEL and C1 bytes raw (the OSC retitled the terminal, 2J cleared it).
	dir := t.TempDir()
	base := serve(t, "--data", dir, "--access-key", "redteam-access-key-0123456789", "--flush-interval", "10ms")
	id, tok := enrollDevice(t, base, "redteam-access-key-0123456789", "victim")

	cmd := strings.TrimSpace(mustRun(t, "queue", id, "execCmd", "GetOS", "--data", dir))
	var r protocol.CheckinResponse
	d := &simDevice{uuid: id, token: tok}
	if code, err := d.do(t.Context(), http.DefaultClient, base+"/checkin", nil, &r); err != nil || code != 200 || fmt.Sprint(r.ID) != cmd {
		t.Fatalf("check-in: %d %v %+v", code, err, r)
	}
	res, _ := json.Marshal(protocol.CommandResult{Status: "error", Error: "failed: " + hostile, Output: json.RawMessage(`{"text":` + jsonString(hostile) + `}`)})
	devicePost(t, base, id, tok, fmt.Sprintf(protocol.PathResult, r.ID), res)
	// The scan is sent as raw bytes: a device need not send valid UTF-8.
	scan := []byte(`{"scan_id":"s1` + "\x9b" + `","results":[{"name":"w` + "\u202e" + `","version":"1","phase":"evaluate","status":"non-compliant","message":` + jsonString(hostile) + `},` +
		`{"name":"x","phase":"evaluate","status":"error","error":"bad ` + "\xff\x9b" + `2J"}]}`)
	devicePost(t, base, id, tok, protocol.PathScan, scan)

	// A hostname stored before enrollment checked it (or by another tool).
	st, err := store.OpenSQLite(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.RegisterDevices(t.Context(), []store.NewDevice{{UUID: uuid.NewString(), Hostname: "old" + hostile, TokenHash: "x"}}, time.Now()); err != nil {
		t.Fatal(err)
	}
	st.Close()

	for _, args := range [][]string{
		{"devices"}, {"devices", "--wide"}, {"devices", "--json"},
		{"results", id}, {"results", id, "--json"},
	} {
		out := mustRun(t, append(args, "--data", dir)...)
		if err := terminalSafe(out); err != nil {
			t.Errorf("amplatform %s: %v in\n%q", strings.Join(args, " "), err, out)
		}
		if !strings.Contains(args[len(args)-1], "json") {
			shown := `\x1b]0;pwned\x07\x1b[2J\u009b31m\u202eevil`
			if len(args) == 1 && args[0] == "devices" {
				shown = `old\x1b]0;pwned` // the long hostname is cut to fit 100 columns
			}
			if !strings.Contains(out, shown) {
				t.Errorf("amplatform %s does not show the escapes visibly:\n%s", strings.Join(args, " "), out)
			}
			continue
		}
		if !json.Valid([]byte(out)) {
			t.Errorf("amplatform %s: output is not JSON:\n%s", strings.Join(args, " "), out)
		}
	}
	// The JSON means what the device sent, only spelled safely.
	var got fleet.Results
	if err := json.Unmarshal([]byte(mustRun(t, "results", id, "--json", "--data", dir)), &got); err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Results []struct{ Message string } `json:"results"`
	}
	json.Unmarshal(got.Scan.Report, &rep)
	if len(got.Commands) != 1 || got.Commands[0].Error != "failed: "+hostile || len(rep.Results) != 2 || rep.Results[0].Message != hostile {
		t.Fatalf("results --json changed the text: %+v %+v", got.Commands, rep)
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestTermSafe(t *testing.T) {
	for in, want := range map[string]string{
		"plain text 1.2.3":         "plain text 1.2.3",
		"naïve ünïcödé 日本":         "naïve ünïcödé 日本",
		"a\tb\nc\rd":               `a\tb\nc\rd`,
		"\x1b[2J\x07\x00\x7f":      `\x1b[2J\x07\x00\x7f`,
		"\u009b1m\u0085":           `\u009b1m\u0085`,
		"\u202eabc\u2066\u200f":    `\u202eabc\u2066\u200f`,
		"bad \xff\x9b byte":        `bad \xff\x9b byte`,
		"tag \U000E0041 sep\u2028": `tag \U000e0041 sep\u2028`,
	} {
		if got := termSafe(in); got != want {
			t.Errorf("termSafe(%q) = %q, want %q", in, got, want)
		}
	}
	for _, in := range []string{`{"a":"x` + "\u009b\u202e\x7f\xff" + `y","b":"\u001b ok é"}`, "[\n  \"\U000E0041\"\n]\n"} {
		out := jsonSafe([]byte(in))
		if err := terminalSafe(string(out)); err != nil || !json.Valid(out) {
			t.Errorf("jsonSafe(%q) = %q: %v, valid %v", in, out, err, json.Valid(out))
		}
		var a, b any
		json.Unmarshal([]byte(strings.ToValidUTF8(in, "\ufffd")), &a)
		json.Unmarshal(out, &b)
		if fmt.Sprint(a) != fmt.Sprint(b) {
			t.Errorf("jsonSafe(%q) changed the value: %v != %v", in, a, b)
		}
	}
}

// TestRedteamSecretParamsNotPrinted: a parameter the manifest declares
// secret is never printed by the command line nor answered by the admin
// API; the check-in answer (the one place it travels) still carries it.
func TestRedteamSecretParamsNotPrinted(t *testing.T) {
	// Failed on the code before the fix: `groups list --json` and GET /api/groups printed the secret value.
	const secret = "hunter2-secret-value"
	dir := t.TempDir()
	wdir := t.TempDir()
	manifest := "abi = 1\nkind = \"worklet\"\nname = \"uses-secret\"\nversion = \"1.0.0\"\nmodule = \"w.wasm\"\n\n[params.api_token]\ntype = \"string\"\nsecret = true\n\n[params.level]\ntype = \"int\"\ndefault = 1\n"
	os.WriteFile(filepath.Join(wdir, "worklet.toml"), []byte(manifest), 0o644)
	os.WriteFile(filepath.Join(wdir, "w.wasm"), []byte("\x00asm\x01\x00\x00\x00"), 0o644)
	mustRun(t, "worklet", "add", wdir, "--data", dir)
	base := serve(t, "--data", dir, "--access-key", "redteam-access-key-0123456789")

	var outs []string
	outs = append(outs, mustRun(t, "groups", "assign", "default", "uses-secret", "--param", "api_token="+secret, "--param", "level=3", "--data", dir))
	outs = append(outs, mustRun(t, "groups", "list", "--data", dir), mustRun(t, "groups", "list", "--json", "--data", dir))
	adminTok, _ := os.ReadFile(filepath.Join(dir, fleet.AdminTokenFile))
	api := func(method, path string, body any) string {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequestWithContext(context.Background(), method, base+path, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(adminTok)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, out)
		}
		return string(out)
	}
	outs = append(outs, api("GET", "/api/groups", nil),
		api("POST", "/api/groups/default/assignments", store.Assignment{Worklet: "uses-secret", Params: map[string]any{"api_token": secret, "level": 4}}))
	for _, out := range outs {
		if strings.Contains(out, secret) {
			t.Errorf("the secret value is printed:\n%s", out)
		}
	}
	if !strings.Contains(outs[1], "api_token=(secret)") || !strings.Contains(outs[1], "level=3") || !strings.Contains(outs[2], `"api_token": "(secret)"`) {
		t.Errorf("groups list does not show the redacted params:\n%s\n%s", outs[1], outs[2])
	}
	// The device still gets the value it needs, in its check-in answer.
	id, tok := enrollDevice(t, base, "redteam-access-key-0123456789", "dev")
	var r protocol.CheckinResponse
	d := &simDevice{uuid: id, token: tok}
	if code, err := d.do(t.Context(), http.DefaultClient, base+"/checkin", nil, &r); err != nil || code != 200 {
		t.Fatalf("check-in: %d %v", code, err)
	}
	if len(r.Config.Worklets) != 1 || r.Config.Worklets[0].Params["api_token"] != secret {
		t.Fatalf("check-in answer's assignment = %+v, want the secret value", r.Config.Worklets)
	}
}

// TestDevicesReset: `devices reset UUID` releases the key binding so that
// a reinstalled machine keeping its UUID enrolls with its new key.
func TestDevicesReset(t *testing.T) {
	dir := t.TempDir()
	const ak = "redteam-access-key-0123456789"
	base := serve(t, "--data", dir, "--access-key", ak)
	id, _ := enrollDevice(t, base, ak, "reinstalled")
	d := &simDevice{}
	var r protocol.EnrollResponse
	if code, _ := d.do(t.Context(), http.DefaultClient, base+protocol.PathEnroll, signedEnrollment(ak, id, "reinstalled", time.Now()), &r); code != http.StatusConflict {
		t.Fatalf("enrollment with a new key before reset = %d, want 409", code)
	}
	if _, err := run(t, "devices", "reset", "reinstalled", "--data", dir); err == nil || !strings.Contains(err.Error(), "UUID") {
		t.Fatalf("reset by hostname: %v, want an error asking for the UUID", err)
	}
	if out := mustRun(t, "devices", "reset", id, "--data", dir); !strings.Contains(out, "released") {
		t.Fatalf("devices reset printed %q", out)
	}
	if code, _ := d.do(t.Context(), http.DefaultClient, base+protocol.PathEnroll, signedEnrollment(ak, id, "reinstalled", time.Now()), &r); code != 200 {
		t.Fatalf("enrollment with a new key after reset = %d, want 200", code)
	}
}
