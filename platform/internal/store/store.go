// Package store is the platform's database: devices, groups, commands,
// results, scans and worklet bundles. One interface, Store, has two
// implementations of the same schema and migrations: SQLite (embedded,
// modernc.org/sqlite, no cgo), the default, and PostgreSQL (pgx), for fleets
// where several `amplatform serve` replicas share one database.
//
// Times are stored as Unix milliseconds (0 means never) so that both
// databases compare them the same way.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/amagent/amagent/agent/protocol"
)

// Errors callers test with errors.Is.
var (
	ErrNotFound    = errors.New("not found")
	ErrExists      = errors.New("already exists")
	ErrAlreadyDone = errors.New("command already has a result")
	ErrAmbiguous   = errors.New("ambiguous")
	// ErrKeyMismatch: the UUID is bound to another device key.
	ErrKeyMismatch = errors.New("device is bound to another device key")
	// ErrReplay: this signed enrollment was already used.
	ErrReplay = errors.New("signed enrollment already used")
)

// MaxOffers is how many times a command is handed out without a result
// coming back; then ExpireCommands gives it up as an error, so that a
// command that kills the agent is not sent forever. The queries spell the
// number out (3) so that they can be prepared once.
const MaxOffers = 3

// MaxReoffers bounds the offers of a command to the same agent run whose
// answers were lost on the way (they do not count toward MaxOffers).
const MaxReoffers = 10

// DefaultGroup is the group new devices join.
const DefaultGroup = "default"

// Scan interval bounds for a group, in hours.
const (
	MinScanInterval     = 6
	MaxScanInterval     = 24
	DefaultScanInterval = 12
)

// Device is one enrolled device as shown to operators.
type Device struct {
	ID       int64  `json:"id"`
	UUID     string `json:"uuid"`
	Hostname string `json:"hostname"`
	// DeviceKey is the bound ed25519 public key (base64), "" when unbound.
	DeviceKey    string    `json:"device_key"`
	Group        string    `json:"group"`
	AgentVersion string    `json:"agent_version"`
	Uptime       int64     `json:"uptime"`
	TZ           string    `json:"tz"`
	FirstSeen    time.Time `json:"first_seen"`
	LastSeen     time.Time `json:"last_seen"`
	LastScan     time.Time `json:"last_scan"`
	Summary      Summary   `json:"compliance"`
}

// Summary counts the worklet and policy outcomes of a device's latest scan.
type Summary struct {
	Compliant    int `json:"compliant"`
	NonCompliant int `json:"non_compliant"`
	Error        int `json:"error"`
	// Quarantined counts the worklets the device no longer runs until
	// their version changes or `amplatform worklet release`.
	Quarantined int `json:"quarantined"`
}

// DeviceAuth is what the check-in path needs to authenticate a device.
type DeviceAuth struct {
	ID        int64
	TokenHash string
	GroupID   int64
}

// Enrollment is one verified enrollment request.
type Enrollment struct {
	UUID, Hostname, TokenHash string
	// DeviceKey is the device's ed25519 public key (base64). The first
	// enrollment of a UUID binds it; later ones must carry the same key.
	DeviceKey string
	// Signature is the enrollment's signature; with Expires (when the
	// platform would refuse its time anyway) it is remembered so that the
	// same signed request is accepted once. "" skips the check.
	Signature string
	// SignedAt is the signed time as sent (kept beside the signature).
	SignedAt string
	Expires  time.Time
}

// NewDevice is a device registered in bulk (load generation).
type NewDevice struct {
	UUID, Hostname, TokenHash string
}

// Checkin is one check-in's reported state.
type Checkin struct {
	DeviceID     int64
	Uptime       int64
	AgentVersion string
	TZ           string
	At           time.Time
}

// CheckinInfo is what a check-in is authenticated and answered from, read
// in one query.
type CheckinInfo struct {
	DeviceID     int64
	TokenHash    string
	GroupID      int64
	ScanInterval int
	GroupVersion int64
	HasCommand   bool
	// Releases is the device's own quarantine release counters, JSON
	// {"worklet": n} ("" when none): added to the worklets' fleet-wide
	// counters in the check-in's assignments.
	Releases string
}

// Command is a queued command and, once it came back, its result.
type Command struct {
	ID        int64     `json:"id"`
	Device    string    `json:"device_uuid,omitempty"`
	Command   string    `json:"command"`
	Params    []string  `json:"params"`
	CreatedAt time.Time `json:"created_at"`
	OfferedAt time.Time `json:"offered_at"`
	Offers    int       `json:"offers"`
	// Reoffers counts offers to the run the command was already handed
	// to (its answer lost on the way); they do not count toward Offers.
	Reoffers  int             `json:"reoffers"`
	DoneAt    time.Time       `json:"done_at"`
	Status    string          `json:"status"`
	Error     string          `json:"error"`
	StartedAt string          `json:"started_at"`
	ElapsedMS int64           `json:"elapsed_ms"`
	Output    json.RawMessage `json:"output"`
}

// Scan is a device's latest scan report.
type Scan struct {
	ScanID     string          `json:"scan_id"`
	StartedAt  time.Time       `json:"started_at"`
	ReceivedAt time.Time       `json:"received_at"`
	Summary    Summary         `json:"compliance"`
	Report     json.RawMessage `json:"report"`
}

// Group is a device group with its scan interval and assignments.
type Group struct {
	ID           int64        `json:"id"`
	Name         string       `json:"name"`
	ScanInterval int          `json:"scan_interval"`
	Version      int64        `json:"version"`
	Devices      int          `json:"devices"`
	Assignments  []Assignment `json:"assignments"`
}

// Assignment assigns one worklet version to a group.
type Assignment struct {
	Worklet   string         `json:"worklet"`
	Version   string         `json:"version"`
	Remediate string         `json:"remediate"`
	Params    map[string]any `json:"params,omitempty"`
}

// Worklet is a stored, signed worklet or policy bundle.
type Worklet struct {
	Name           string    `json:"name"`
	Version        string    `json:"version"`
	Kind           string    `json:"kind"`
	Manifest       string    `json:"-"`
	Module         []byte    `json:"-"`
	SHA256         string    `json:"sha256"`
	ManifestSHA256 string    `json:"manifest_sha256"`
	Signature      string    `json:"signature"`
	CreatedAt      time.Time `json:"created_at"`
}

// Store is the platform's storage. Every method is safe for concurrent use.
type Store interface {
	Close() error
	// Reporting: history, fleet-wide views, retire, cancel, console
	// sessions (fleetviews.go).
	Reporting

	// Setting returns a platform-wide setting (e.g. the access key hash).
	Setting(ctx context.Context, key string) (string, bool, error)
	// SetSetting stores a setting, replacing any previous value.
	SetSetting(ctx context.Context, key, value string) error
	// InitSetting stores value unless key is set, and reports whether it did.
	InitSetting(ctx context.Context, key, value string) (bool, error)

	// Enroll creates the device, binding its key, or, when the UUID is
	// known and unbound or bound to the same key, replaces its token and
	// hostname (binding the key). A UUID bound to another key is
	// ErrKeyMismatch and changes nothing; a Signature already used is
	// ErrReplay. New devices join the default group.
	Enroll(ctx context.Context, e Enrollment, now time.Time) (int64, error)
	// ResetDevice releases a device's key binding and revokes its token:
	// the next enrollment of its UUID binds a new key.
	ResetDevice(ctx context.Context, deviceID int64) error
	// RegisterDevices enrolls many devices at once (load generation).
	RegisterDevices(ctx context.Context, devs []NewDevice, now time.Time) error
	// DeviceAuth looks a device up by UUID.
	DeviceAuth(ctx context.Context, uuid string) (DeviceAuth, error)
	// RecordCheckins stores the reported state of a batch of check-ins.
	RecordCheckins(ctx context.Context, cs []Checkin) error
	// CheckinInfo returns, in one query, the device's id and token hash, its
	// group settings, its release counters and whether a command is
	// waiting (queued, offered longer ago than the timeout, or handed to
	// an agent run other than run, the one checking in; "" means unknown).
	CheckinInfo(ctx context.Context, deviceUUID, run string, now time.Time, timeout time.Duration) (CheckinInfo, error)
	// ClaimCommand hands the device's oldest waiting command to exactly one
	// caller, marking it offered at now to the agent run run; ok is false
	// when there is none.
	ClaimCommand(ctx context.Context, deviceID int64, run string, now time.Time, timeout time.Duration) (cmd Command, ok bool, err error)
	// ExpireCommands ends, with status "error", every command offered
	// MaxOffers times whose last offer timed out; it returns how many.
	ExpireCommands(ctx context.Context, now time.Time, timeout time.Duration) (int64, error)
	// CompleteCommand stores a result for the device's own command:
	// ErrNotFound when the device has no such command, ErrAlreadyDone when
	// a result was already stored.
	CompleteCommand(ctx context.Context, deviceID, commandID int64, r protocol.CommandResult, now time.Time) error
	// SaveScan keeps a scan once by its id: a repeated id is ScanDuplicate
	// and changes nothing; a scan that started before the device's latest
	// is ScanOlder and never becomes the latest (nor moves last_scan);
	// otherwise it is the device's latest, ScanStored.
	SaveScan(ctx context.Context, deviceID int64, sc NewScan, now time.Time) (ScanOutcome, error)
	// ScanSections returns, of the given section digests, those the
	// platform holds for the device, with their bytes (sections.go; the
	// sections of the device's latest two scans are held).
	ScanSections(ctx context.Context, deviceID int64, digests []string) (map[string][]byte, error)
	// ReleaseWorklet lifts the quarantine of a worklet on one device
	// (deviceID > 0) or on every device (0) by raising its release
	// counter, which agents read at their next check-in; it returns the
	// new counter. An unknown worklet is ErrNotFound.
	ReleaseWorklet(ctx context.Context, worklet string, deviceID int64) (int64, error)

	// Devices lists every device.
	Devices(ctx context.Context) ([]Device, error)
	// FindDevice finds a device by UUID or hostname.
	FindDevice(ctx context.Context, ref string) (Device, error)
	// QueueCommand queues a command for a device and returns its id.
	QueueCommand(ctx context.Context, deviceID int64, command string, params []string, now time.Time) (int64, error)
	// Commands lists a device's commands, newest first, at most limit.
	Commands(ctx context.Context, deviceID int64, limit int) ([]Command, error)
	// LatestScan returns the device's latest scan.
	LatestScan(ctx context.Context, deviceID int64) (Scan, bool, error)

	// Groups lists the groups with their assignments.
	Groups(ctx context.Context) ([]Group, error)
	AddGroup(ctx context.Context, name string, scanInterval int) error
	SetScanInterval(ctx context.Context, group string, scanInterval int) error
	// Assign assigns a worklet to a group; an empty version means the most
	// recently added one.
	Assign(ctx context.Context, group string, a Assignment) (Assignment, error)
	Unassign(ctx context.Context, group, worklet string) error
	MoveDevice(ctx context.Context, deviceID int64, group string) error
	// GroupAssignments returns a group's assignments as sent to agents.
	GroupAssignments(ctx context.Context, groupID int64) ([]protocol.Assignment, error)

	// AddWorklet stores a bundle; a name and version are stored once.
	AddWorklet(ctx context.Context, w Worklet) error
	// Worklets lists bundles without their module bytes.
	Worklets(ctx context.Context) ([]Worklet, error)
	// WorkletManifest returns one bundle's manifest text.
	WorkletManifest(ctx context.Context, name, version string) (string, error)
	// Worklet returns one bundle with its manifest and module.
	Worklet(ctx context.Context, name, version string) (Worklet, error)
}
