// Package protocol holds the wire types of the agent ⇄ platform protocol,
// version 1 (see shared/PROTOCOL.md). Both the agent and the reference
// platform import it, so the two ends cannot drift apart.
package protocol

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Version is the protocol version this package implements.
const Version = 1

// Paths of the platform endpoints used by agents.
const (
	PathEnroll  = "/enroll"
	PathCheckin = "/checkin"
	PathScan    = "/scan"
	// PathResult is formatted with the command id: fmt.Sprintf(PathResult, id).
	PathResult = "/commands/%d/result"
	// PathBundle is formatted with a worklet name and version.
	PathBundle = "/bundles/%s/%s"
)

// Headers sent by an enrolled agent on every request.
const (
	HeaderAuthorization = "Authorization"
	HeaderDeviceUUID    = "X-Device-UUID"
	// HeaderAgentRun, on a check-in, names this run of the agent (random,
	// new at every start). A command handed to another run and not
	// answered is offered again at once: that run ended (optional; without
	// it a command is offered again only after the platform's timeout).
	HeaderAgentRun = "X-Agent-Run"
)

// Command names understood by the agent.
const (
	CmdNop           = "nop"
	CmdExec          = "execCmd"
	CmdScan          = "scan"
	CmdRunWorklet    = "runWorklet"
	CmdReboot        = "reboot"
	CmdInstallUpdate = "InstallUpdate"
)

// EnrollRequest is the body of POST /enroll.
type EnrollRequest struct {
	AccessKey  string `json:"access_key"`
	DeviceUUID string `json:"device_uuid"`
	Hostname   string `json:"hostname"`
	// DeviceKey is the device's ed25519 public key, base64 (standard).
	DeviceKey string `json:"device_key"`
	// Time is when the request was signed, RFC 3339.
	Time string `json:"time"`
	// Signature is the device key's ed25519 signature, base64 (standard),
	// over EnrollMessage(DeviceUUID, Time).
	Signature string `json:"signature"`
}

// EnrollMessage is the text a device key signs to enroll (PROTOCOL.md,
// Identity): "amagent-enroll-v1\n<uuid>\n<time>".
func EnrollMessage(uuid, time string) []byte {
	return []byte("amagent-enroll-v1\n" + uuid + "\n" + time)
}

// EnrollMaxSkew is how far an enrollment's time may be from the
// platform's clock.
const EnrollMaxSkew = 5 * 60 // seconds

// EnrollResponse is the answer to a successful enrollment.
type EnrollResponse struct {
	DeviceToken string `json:"device_token"`
}

// CheckinResponse is the answer to POST /checkin. A nop with ID 0 means
// nothing to do. Unknown fields are ignored.
type CheckinResponse struct {
	ID      int64   `json:"id"`
	Command string  `json:"command"`
	Params  Params  `json:"params"`
	Config  *Config `json:"config,omitempty"`
}

// Validate reports what is wrong with a decoded check-in answer.
func (r *CheckinResponse) Validate() error {
	if r.Command == "" {
		return fmt.Errorf("check-in answer: field \"command\" is missing or empty")
	}
	if r.ID < 0 {
		return fmt.Errorf("check-in answer: field \"id\" is negative (%d)", r.ID)
	}
	if r.Command != CmdNop && r.ID == 0 {
		return fmt.Errorf("check-in answer: command %q has no \"id\"", r.Command)
	}
	return nil
}

// Params is a command's parameter list. On the wire it is a JSON array whose
// elements may be strings, numbers or booleans; the agent sees strings.
type Params []string

// UnmarshalJSON accepts strings, numbers and booleans as elements.
func (p *Params) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*p = nil
		return nil
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("params: want a JSON array: %w", err)
	}
	out := make(Params, 0, len(raw))
	for i, r := range raw {
		var v any
		if err := json.Unmarshal(r, &v); err != nil {
			return fmt.Errorf("params[%d]: %w", i, err)
		}
		switch x := v.(type) {
		case string:
			out = append(out, x)
		case float64:
			out = append(out, strconv.FormatFloat(x, 'f', -1, 64))
		case bool:
			out = append(out, strconv.FormatBool(x))
		default:
			return fmt.Errorf("params[%d]: want a string, number or boolean, got %s", i, string(r))
		}
	}
	*p = out
	return nil
}

// MarshalJSON writes an empty array rather than null.
func (p Params) MarshalJSON() ([]byte, error) {
	if p == nil {
		return []byte("[]"), nil
	}
	return json.Marshal([]string(p))
}

// Config is the configuration the platform hands to an agent with each
// check-in answer. Zero values mean "keep what you have".
type Config struct {
	// CheckinInterval is in seconds.
	CheckinInterval int `json:"checkin_interval"`
	// ScanInterval is in hours, 6 to 24 (the device group's setting).
	ScanInterval int `json:"scan_interval"`
	// Worklets lists the worklets and policies assigned to the device.
	Worklets []Assignment `json:"worklets"`
}

// Assignment is one worklet or policy assigned to a device.
type Assignment struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Kind    string `json:"kind"` // "worklet" or "policy"
	// SHA256 is the hex digest of the module (.wasm) bytes.
	SHA256 string `json:"sha256"`
	// ManifestSHA256 is the hex digest of the manifest (worklet.toml) bytes.
	ManifestSHA256 string `json:"manifest_sha256,omitempty"`
	// URL is where the bundle is fetched from; relative to the server when it
	// starts with "/".
	URL string `json:"url"`
	// Signature is the base64 ed25519 signature of the bundle (see the
	// bundle package for the signed message).
	Signature string `json:"signature,omitempty"`
	// Params are the assignment's parameter values, overriding defaults.
	Params map[string]any `json:"params,omitempty"`
	// Remediate is when a non-compliant worklet is remediated: "" or "never",
	// "immediately", or a daily time "HH:MM" (device local time).
	Remediate string `json:"remediate,omitempty"`
	// Release counts the platform's releases of this worklet's quarantine
	// for the device (`amplatform worklet release`); it only grows. An
	// agent that sees it grow clears the worklet's quarantine. Omitted
	// when 0, so older agents and platforms read it as before.
	Release int64 `json:"release,omitempty"`
}

// CommandResult is the body of POST /commands/<id>/result.
type CommandResult struct {
	Status    string          `json:"status"` // "ok" or "error"
	Error     string          `json:"error"`
	StartedAt time.Time       `json:"started_at"`
	ElapsedMS int64           `json:"elapsed_ms"`
	Output    json.RawMessage `json:"output"`
}

// Result statuses.
const (
	StatusOK    = "ok"
	StatusError = "error"
)

// ScanReport is the body of POST /scan: the scan document with the
// compliance results of the worklets and policies evaluated in the scan.
// To a platform that answers with HeaderScanDeltas, the top-level sections
// of Scan that it holds travel as {"$digest":"sha256:<hex>"} and the body
// is gzip-compressed (sections.go).
type ScanReport struct {
	ScanID    string          `json:"scan_id"`
	StartedAt time.Time       `json:"started_at"`
	ElapsedMS int64           `json:"elapsed_ms"`
	Reason    string          `json:"reason"` // "boot", "interval", "command", "manual"
	Scan      json.RawMessage `json:"scan"`
	Results   []WorkletResult `json:"results"`
}

// WorkletResult is the outcome of one worklet or policy run in a scan.
type WorkletResult struct {
	Name       string          `json:"name"`
	Version    string          `json:"version"`
	Kind       string          `json:"kind"`
	Phase      string          `json:"phase"`
	Status     string          `json:"status"` // compliant, non-compliant, not-applicable, succeeded, failed, error, quarantined
	ExitCode   int             `json:"exit_code"`
	Message    string          `json:"message"`
	Details    json.RawMessage `json:"details"`
	Error      string          `json:"error"`
	DurationMS int64           `json:"duration_ms"`
	ErrorKind  string          `json:"error_kind,omitempty"` // timeout, memory limit, trap, exit, load, compile limit (the module's fault); canceled, host (not); omitted when empty
}
