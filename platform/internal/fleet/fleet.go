// Package fleet holds the operator-facing rules shared by the amplatform
// command line and its admin HTTP API: which commands may be queued, how a
// worklet directory becomes a signed bundle, when a device counts as online,
// and the platform's secrets (signing key, tokens).
package fleet

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/amagent/amagent/agent/bundle"
	"github.com/amagent/amagent/agent/protocol"
	"github.com/amagent/amagent/platform/internal/store"
)

// Files in a data directory.
const (
	KeyFile        = "platform.key"
	AccessKeyFile  = "access.key"
	AdminTokenFile = "admin.token"
)

// Settings keys in the store.
const (
	SettingAccessKeyHash   = "access_key_sha256"
	SettingAdminTokenHash  = "admin_token_sha256"
	SettingCheckinInterval = "checkin_interval_seconds"
)

// ValidateCommand checks a command an operator wants to queue.
func ValidateCommand(name string, params []string) error {
	want := func(n int, usage string) error {
		if len(params) != n {
			return fmt.Errorf("command %s takes %d parameter(s): %s %s", name, n, name, usage)
		}
		return nil
	}
	switch name {
	case protocol.CmdScan:
		return want(0, "")
	case protocol.CmdExec:
		if err := want(1, "COMMAND_NAME (e.g. GetOS)"); err != nil {
			return err
		}
		if params[0] == "" {
			return errors.New("command execCmd: the command name is empty")
		}
	case protocol.CmdRunWorklet:
		if err := want(2, "WORKLET evaluate|remediate"); err != nil {
			return err
		}
		if params[1] != "evaluate" && params[1] != "remediate" {
			return fmt.Errorf("command runWorklet: phase %q must be evaluate or remediate", params[1])
		}
	case protocol.CmdReboot:
		if err := want(1, "DELAY_SECONDS"); err != nil {
			return err
		}
		if n, err := strconv.Atoi(params[0]); err != nil || n < 0 {
			return fmt.Errorf("command reboot: delay %q must be a whole number of seconds >= 0", params[0])
		}
	case protocol.CmdInstallUpdate:
	case protocol.CmdNop:
		return errors.New("nop cannot be queued: it is the answer when nothing is queued")
	default:
		return fmt.Errorf("unknown command %q: want one of scan, execCmd, runWorklet, reboot, InstallUpdate", name)
	}
	return nil
}

var hhmm = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)

// ValidateRemediate checks an assignment's remediation schedule.
func ValidateRemediate(s string) error {
	if s == "" || s == "never" || s == "immediately" || hhmm.MatchString(s) {
		return nil
	}
	return fmt.Errorf("remediate %q: want immediately, never, or a daily time HH:MM", s)
}

// Online reports whether a device checked in within twice the interval.
func Online(d store.Device, now time.Time, interval time.Duration) bool {
	return !d.LastSeen.IsZero() && now.Sub(d.LastSeen) <= 2*interval
}

// DeviceView is a device as shown to operators.
type DeviceView struct {
	store.Device
	Online bool `json:"online"`
}

// Views adds the online flag to devices.
func Views(devs []store.Device, now time.Time, interval time.Duration) []DeviceView {
	out := make([]DeviceView, len(devs))
	for i, d := range devs {
		out[i] = DeviceView{Device: d, Online: Online(d, now, interval)}
	}
	return out
}

// manifest is the part of worklet.toml the platform reads; the agent
// validates the rest.
type manifest struct {
	ABI     int    `toml:"abi"`
	Kind    string `toml:"kind"`
	Name    string `toml:"name"`
	Version string `toml:"version"`
	Module  string `toml:"module"`
	Params  map[string]struct {
		Secret bool `toml:"secret"`
	} `toml:"params"`
}

var (
	namePattern    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	versionPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.+_-]{0,63}$`)
)

// ValidName reports whether s is a valid worklet name.
func ValidName(s string) bool { return namePattern.MatchString(s) }

// ValidVersion reports whether s is a valid worklet version.
func ValidVersion(s string) bool { return versionPattern.MatchString(s) }

func parseManifest(text []byte) (manifest, error) {
	var m manifest
	if _, err := toml.Decode(string(text), &m); err != nil {
		return m, fmt.Errorf("worklet.toml: %w", err)
	}
	switch {
	case m.ABI != 1:
		return m, fmt.Errorf("worklet.toml: abi = %d, want 1", m.ABI)
	case m.Kind != "worklet" && m.Kind != "policy":
		return m, fmt.Errorf("worklet.toml: kind = %q, want \"worklet\" or \"policy\"", m.Kind)
	case !ValidName(m.Name):
		return m, fmt.Errorf("worklet.toml: name = %q, want lowercase letters, digits and dashes", m.Name)
	case !ValidVersion(m.Version):
		return m, fmt.Errorf("worklet.toml: version = %q, want letters, digits and . + _ -", m.Version)
	case m.Module == "":
		return m, errors.New("worklet.toml: module is missing")
	}
	return m, nil
}

// ReadWorkletDir reads DIR/worklet.toml and the module it names.
func ReadWorkletDir(dir string) (manifestText, module []byte, err error) {
	manifestText, err = os.ReadFile(filepath.Join(dir, "worklet.toml"))
	if err != nil {
		return nil, nil, err
	}
	m, err := parseManifest(manifestText)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", dir, err)
	}
	if !filepath.IsLocal(m.Module) {
		return nil, nil, fmt.Errorf("%s: worklet.toml: module = %q must be a path inside the worklet directory", dir, m.Module)
	}
	module, err = os.ReadFile(filepath.Join(dir, m.Module))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: module: %w", dir, err)
	}
	return manifestText, module, nil
}

// BuildWorklet validates a manifest and module and signs the bundle.
func BuildWorklet(manifestText, module []byte, key ed25519.PrivateKey, now time.Time) (store.Worklet, error) {
	m, err := parseManifest(manifestText)
	if err != nil {
		return store.Worklet{}, err
	}
	if len(module) < 8 || string(module[:4]) != "\x00asm" {
		return store.Worklet{}, fmt.Errorf("worklet %s: module is not a WebAssembly binary (no \\0asm header)", m.Name)
	}
	w := store.Worklet{
		Name: m.Name, Version: m.Version, Kind: m.Kind,
		Manifest: string(manifestText), Module: module,
		SHA256: bundle.Digest(module), ManifestSHA256: bundle.Digest(manifestText),
		CreatedAt: now,
	}
	w.Signature = bundle.Sign(key, w.Name, w.Version, w.ManifestSHA256, w.SHA256)
	return w, nil
}

// LoadOrCreateKey reads the platform's ed25519 signing key (base64 seed) at
// path, creating it with mode 0600 on first use. A key file readable by
// others is refused.
func LoadOrCreateKey(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		seed := make([]byte, ed25519.SeedSize)
		if _, err := rand.Read(seed); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, err
		}
		if err := WriteSecret(path, base64.StdEncoding.EncodeToString(seed)+"\n"); err != nil {
			return nil, err
		}
		return ed25519.NewKeyFromSeed(seed), nil
	}
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("signing key %s has mode %v: make it 0600", path, fi.Mode().Perm())
	}
	seed, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("signing key %s: want the base64 of a %d-byte ed25519 seed", path, ed25519.SeedSize)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// WriteSecret writes a secret file with mode 0600, atomically.
func WriteSecret(path, content string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.WriteString(content); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// NewToken returns a random 256-bit token, base64url without padding.
func NewToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails: crypto/rand crashes the program instead
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashToken returns the hex SHA-256 of a token, the form stored. Tokens
// are random 256-bit values, so a fast hash is enough.
func HashToken(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

// Redacted is shown instead of a secret parameter's value: the platform
// hands secret values to agents (in the check-in answer) and to nobody
// else, not to its command line nor to GET requests of its admin API.
const Redacted = "(secret)"

// SecretParams returns the parameters a manifest declares secret = true.
func SecretParams(manifestText string) (map[string]bool, error) {
	m, err := parseManifest([]byte(manifestText))
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for k, p := range m.Params {
		if p.Secret {
			out[k] = true
		}
	}
	return out, nil
}

// RedactParams returns a copy of an assignment's params of worklet
// name@version in which each secret parameter's value is Redacted. When
// the manifest cannot be read every value is redacted: a value is shown
// only when it is known not to be secret.
func RedactParams(ctx context.Context, st store.Store, name, version string, params map[string]any) map[string]any {
	if len(params) == 0 {
		return params
	}
	var secret map[string]bool
	text, err := st.WorkletManifest(ctx, name, version)
	if err == nil {
		secret, err = SecretParams(text)
	}
	out := make(map[string]any, len(params))
	for k, v := range params {
		if err != nil || secret[k] {
			v = Redacted
		}
		out[k] = v
	}
	return out
}

// RedactGroups redacts the secret parameters of every group's assignments.
func RedactGroups(ctx context.Context, st store.Store, gs []store.Group) {
	for i := range gs {
		for j, a := range gs[i].Assignments {
			gs[i].Assignments[j].Params = RedactParams(ctx, st, a.Worklet, a.Version, a.Params)
		}
	}
}

// ResultsLimit is how many recent commands `results` shows.
const ResultsLimit = 50

// Results is a device's recent commands with their results and its latest
// scan.
type Results struct {
	Device   DeviceView      `json:"device"`
	Commands []store.Command `json:"commands"`
	Scan     *store.Scan     `json:"scan"`
}

// DeviceResults gathers a device's results.
func DeviceResults(ctx context.Context, st store.Store, d store.Device, now time.Time, interval time.Duration) (Results, error) {
	res := Results{Device: DeviceView{Device: d, Online: Online(d, now, interval)}}
	cmds, err := st.Commands(ctx, d.ID, ResultsLimit)
	if err != nil {
		return res, err
	}
	if cmds == nil {
		cmds = []store.Command{}
	}
	res.Commands = cmds
	sc, ok, err := st.LatestScan(ctx, d.ID)
	if err != nil {
		return res, err
	}
	if ok {
		res.Scan = &sc
	}
	return res, nil
}
