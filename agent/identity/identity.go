// Package identity keeps the device's identity (PROTOCOL.md, Identity): a
// random UUID and an ed25519 device key made at first start and kept for
// ever in the state directory, and the device token got from enrollment.
// Every file is written atomically with mode 0600.
//
// Recovery rules, so that a device never silently becomes another one:
//   - device_key holds the private key and a copy of the UUID. When
//     device_uuid is missing or damaged while device_key is sound, the UUID
//     is recovered from device_key (logged at WARN; a damaged file is kept
//     as device_uuid.corrupt). When the two disagree, device_key wins (it is
//     what the platform bound at enrollment); logged at ERROR.
//   - A damaged device_key is kept as device_key.corrupt and logged at
//     ERROR. When device_uuid is sound the device keeps its UUID and gets a
//     new key: its token keeps working, and if the platform has bound the
//     old key, enrolling again is refused (409) until an admin runs
//     `amplatform devices reset <uuid>`. When device_uuid is missing or
//     damaged too, Load refuses to start: the agent does not make a new
//     identity by itself (the error says which files to remove for that).
//   - device_uuid without device_key (an agent from before device keys) gets
//     a new key for the same UUID. Neither file (first start) makes both.
//   - A damaged device_token is kept aside and the device enrolls again.
package identity

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/amagent/amagent/agent/internal/httpx"
	"github.com/amagent/amagent/agent/protocol"
	"github.com/amagent/amagent/agent/state"
)

// State keys.
const (
	KeyUUID  = "device_uuid"
	KeyToken = "device_token"
	// KeyDevice holds the device key and a copy of the UUID (JSON).
	KeyDevice = "device_key"
)

// ErrAccessDenied is returned by Enroll when the platform refuses the
// access key (HTTP 401).
var ErrAccessDenied = errors.New("enrollment refused: wrong access key")

// ErrKeyConflict is returned by Enroll when the platform has bound the
// device UUID to another device key (HTTP 409).
var ErrKeyConflict = errors.New("enrollment refused (409): the device UUID is bound to another device key")

// ErrClock is returned by Enroll when the platform refuses the request's
// time even after signing again with the platform's own time.
var ErrClock = errors.New("enrollment refused twice for its time, the second time signed with the platform's own time")

// Quarantiner is implemented by stores that can move a corrupt key aside
// (state.FileStore).
type Quarantiner interface {
	Quarantine(key string) (string, error)
}

// Identity is the device UUID, device key and token.
type Identity struct {
	store state.Store
	log   *slog.Logger

	uuid string
	key  ed25519.PrivateKey

	mu    sync.Mutex
	token string
}

// keyFile is the content of device_key.
type keyFile struct {
	DeviceUUID string `json:"device_uuid"`
	PublicKey  string `json:"public_key"`  // base64 std, 32 bytes
	PrivateKey string `json:"private_key"` // base64 std of the 32-byte seed
}

func parseUUID(b []byte) (string, error) {
	u, err := uuid.ParseBytes(bytes.TrimSpace(b))
	if err != nil || u == uuid.Nil {
		return "", fmt.Errorf("not a UUID: %q", httpx.Snippet(b, 60))
	}
	return u.String(), nil
}

func parseKeyFile(b []byte) (string, ed25519.PrivateKey, error) {
	var kf keyFile
	if err := json.Unmarshal(b, &kf); err != nil {
		return "", nil, fmt.Errorf("not JSON: %v", err)
	}
	u, err := parseUUID([]byte(kf.DeviceUUID))
	if err != nil {
		return "", nil, fmt.Errorf("device_uuid: %v", err)
	}
	seed, err := base64.StdEncoding.DecodeString(kf.PrivateKey)
	if err != nil || len(seed) != ed25519.SeedSize {
		return u, nil, fmt.Errorf("private_key: want base64 of %d bytes", ed25519.SeedSize)
	}
	key := ed25519.NewKeyFromSeed(seed)
	if base64.StdEncoding.EncodeToString(key.Public().(ed25519.PublicKey)) != kf.PublicKey {
		return u, nil, errors.New("public_key does not match private_key")
	}
	return u, key, nil
}

func marshalKeyFile(u string, key ed25519.PrivateKey) []byte {
	b, _ := json.Marshal(keyFile{
		DeviceUUID: u,
		PublicKey:  base64.StdEncoding.EncodeToString(key.Public().(ed25519.PublicKey)),
		PrivateKey: base64.StdEncoding.EncodeToString(key.Seed()),
	})
	return append(b, '\n')
}

var uuidInText = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)

// Load reads the identity from store, creating the UUID and the device
// key on first start and recovering what it can (see the package doc).
func Load(store state.Store, log *slog.Logger) (*Identity, error) {
	id := &Identity{store: store, log: log}

	// The UUID file: "" when missing or damaged (damaged is kept aside
	// only once the key file has been looked at, see below).
	var fileUUID string
	uuidDamaged := false
	b, err := store.Read(KeyUUID)
	switch {
	case err == nil:
		if fileUUID, err = parseUUID(b); err != nil {
			uuidDamaged = true
		}
	case !state.IsNotExist(err):
		// Unreadable (permissions, I/O): refusing to invent a new identity
		// keeps the device from appearing twice on the platform.
		return nil, fmt.Errorf("reading device UUID: %w", err)
	}
	uuidWhy := err

	// The key file.
	kb, kerr := store.Read(KeyDevice)
	switch {
	case kerr == nil:
		keyUUID, key, perr := parseKeyFile(kb)
		if perr != nil {
			if fileUUID == "" {
				// Both copies of the UUID are damaged or gone: no new
				// identity by ourselves.
				hint := ""
				if m := uuidInText.Find(kb); m != nil {
					hint = fmt.Sprintf(" (the damaged key file mentions UUID %s)", m)
				}
				log.Error("device identity lost: the device key file is damaged and the UUID file is missing or damaged; not making a new identity",
					"key_error", perr, "uuid_error", uuidWhy)
				return nil, fmt.Errorf("device identity lost: %s is damaged (%v) and %s is missing or damaged%s; "+
					"the agent will not make a new identity by itself: to start this machine as a new device, remove both files from the state directory "+
					"(and run `amplatform devices reset <old uuid>` if the old device should be re-enrolled later)",
					KeyDevice, perr, KeyUUID, hint)
			}
			corrupt(store, log, KeyDevice, perr)
			key, err = newKey()
			if err != nil {
				return nil, err
			}
			if err := store.Write(KeyDevice, marshalKeyFile(fileUUID, key)); err != nil {
				return nil, fmt.Errorf("saving device key: %w", err)
			}
			log.Error("device key was damaged: made a new device key for the same device UUID; if the platform has bound the old key, "+
				"enrolling again is refused (409) until an admin runs `amplatform devices reset "+fileUUID+"`", "device_uuid", fileUUID)
			id.uuid, id.key = fileUUID, key
			break
		}
		id.uuid, id.key = keyUUID, key
		switch {
		case uuidDamaged:
			corrupt(store, log, KeyUUID, uuidWhy)
			fallthrough
		case fileUUID == "":
			if err := store.Write(KeyUUID, []byte(keyUUID+"\n")); err != nil {
				return nil, fmt.Errorf("saving device UUID: %w", err)
			}
			log.Warn("device UUID file was missing or damaged; recovered it from the device key file", "device_uuid", keyUUID)
		case fileUUID != keyUUID:
			corrupt(store, log, KeyUUID, fmt.Errorf("UUID %s differs from %s in the device key file", fileUUID, keyUUID))
			if err := store.Write(KeyUUID, []byte(keyUUID+"\n")); err != nil {
				return nil, fmt.Errorf("saving device UUID: %w", err)
			}
			log.Error("device UUID file disagreed with the device key file; the key file's UUID is kept", "device_uuid", keyUUID, "other_uuid", fileUUID)
		}
	case state.IsNotExist(kerr):
		if uuidDamaged {
			// No second copy to recover from (an agent from before device
			// keys): the only way on is a new identity, logged loudly.
			corrupt(store, log, KeyUUID, uuidWhy)
			log.Error("device UUID file was damaged and there is no device key file to recover it from; this device starts as a new one")
		}
		u := fileUUID
		if u == "" {
			u = uuid.NewString()
		}
		key, err := newKey()
		if err != nil {
			return nil, err
		}
		// The key file first: it is the second copy of the UUID.
		if err := store.Write(KeyDevice, marshalKeyFile(u, key)); err != nil {
			return nil, fmt.Errorf("saving device key: %w", err)
		}
		if fileUUID == "" {
			if err := store.Write(KeyUUID, []byte(u+"\n")); err != nil {
				return nil, fmt.Errorf("saving device UUID: %w", err)
			}
			log.Info("created device UUID", "device_uuid", u)
		}
		log.Info("created device key", "device_uuid", u)
		id.uuid, id.key = u, key
	default:
		return nil, fmt.Errorf("reading device key: %w", kerr)
	}

	b, err = store.Read(KeyToken)
	switch {
	case err == nil:
		tok := strings.TrimSpace(string(b))
		if validToken(tok) {
			id.token = tok
		} else {
			corrupt(store, log, KeyToken, errors.New("empty or not a printable token"))
		}
	case !state.IsNotExist(err):
		log.Error("cannot read device token; will enroll again", "error", err)
	}
	return id, nil
}

func newKey() (ed25519.PrivateKey, error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("making the device key: %w", err)
	}
	return key, nil
}

func corrupt(store state.Store, log *slog.Logger, key string, why error) {
	if q, ok := store.(Quarantiner); ok {
		if dst, err := q.Quarantine(key); err == nil {
			log.Error("corrupt state file moved aside; rebuilding it", "key", key, "moved_to", dst, "error", why)
			return
		} else {
			log.Error("corrupt state file could not be moved aside; rebuilding it", "key", key, "error", why, "move_error", err)
			return
		}
	}
	log.Error("corrupt state; rebuilding it", "key", key, "error", why)
}

func validToken(t string) bool {
	if t == "" || len(t) > 4096 {
		return false
	}
	for _, r := range t {
		if r <= ' ' || r >= 0x7f {
			return false
		}
	}
	return true
}

// UUID is the device UUID; it never changes.
func (id *Identity) UUID() string { return id.uuid }

// PublicKey is the device key's public half.
func (id *Identity) PublicKey() ed25519.PublicKey { return id.key.Public().(ed25519.PublicKey) }

// Sign signs msg with the device key.
func (id *Identity) Sign(msg []byte) []byte { return ed25519.Sign(id.key, msg) }

// Token is the device token, empty when the device is not enrolled.
func (id *Identity) Token() string {
	id.mu.Lock()
	defer id.mu.Unlock()
	return id.token
}

// SetToken stores a new device token (file mode 0600).
func (id *Identity) SetToken(tok string) error {
	if !validToken(tok) {
		return fmt.Errorf("device token from the platform is empty or not printable")
	}
	if err := id.store.Write(KeyToken, []byte(tok+"\n")); err != nil {
		return fmt.Errorf("saving device token: %w", err)
	}
	id.mu.Lock()
	id.token = tok
	id.mu.Unlock()
	return nil
}

// Enroller exchanges the access key and a signature by the device key for
// a device token.
type Enroller struct {
	Server    string // base URL, no trailing slash
	AccessKey string
	Hostname  string
	HTTP      *http.Client
	MaxBody   int64
	// Now is the clock the request is signed with; nil means time.Now.
	Now func() time.Time
}

// Request builds the signed body of POST /enroll for the time t.
func (e *Enroller) Request(id *Identity, t time.Time) protocol.EnrollRequest {
	ts := t.UTC().Format(time.RFC3339)
	return protocol.EnrollRequest{
		AccessKey:  e.AccessKey,
		DeviceUUID: id.UUID(),
		Hostname:   e.Hostname,
		DeviceKey:  base64.StdEncoding.EncodeToString(id.PublicKey()),
		Time:       ts,
		Signature:  base64.StdEncoding.EncodeToString(id.Sign(protocol.EnrollMessage(id.UUID(), ts))),
	}
}

// Enroll POSTs /enroll and stores the token it gets. A 401 that says the
// time is off is signed again once with the time of the answer's Date
// header; another 401 is ErrAccessDenied; a 409 is ErrKeyConflict. Other
// failures say what went wrong.
func (e *Enroller) Enroll(ctx context.Context, id *Identity) error {
	if e.AccessKey == "" {
		return fmt.Errorf("%w: access_key is empty in amagent.toml", ErrAccessDenied)
	}
	now := time.Now
	if e.Now != nil {
		now = e.Now
	}
	t := now()
	for attempt := 0; ; attempt++ {
		body, err := json.Marshal(e.Request(id, t))
		if err != nil {
			return err
		}
		resp, err := httpx.Post(ctx, e.HTTP, e.Server+protocol.PathEnroll, nil, body, e.MaxBody)
		if err != nil {
			return fmt.Errorf("enroll: %w", err)
		}
		switch resp.Status {
		case http.StatusOK:
			var er protocol.EnrollResponse
			if err := json.Unmarshal(resp.Body, &er); err != nil {
				return fmt.Errorf("enroll: malformed answer: %v", err)
			}
			if err := id.SetToken(er.DeviceToken); err != nil {
				return fmt.Errorf("enroll: %w", err)
			}
			return nil
		case http.StatusConflict:
			return fmt.Errorf("%w: device UUID %s; if this machine was reinstalled, an admin runs `amplatform devices reset %s`: %s",
				ErrKeyConflict, id.UUID(), id.UUID(), reason(resp.Body))
		case http.StatusUnauthorized:
			why := reason(resp.Body)
			if !aboutTime(why) {
				if why != "" {
					return fmt.Errorf("%w: %s", ErrAccessDenied, why)
				}
				return ErrAccessDenied
			}
			date, derr := http.ParseTime(resp.Header.Get("Date"))
			if attempt > 0 || derr != nil {
				return fmt.Errorf("%w: signed at %s: %s", ErrClock, t.UTC().Format(time.RFC3339), why)
			}
			// The device's clock is off (or this second's request was
			// already used): sign again, once, with the platform's time.
			if date.Unix() == t.Unix() {
				date = date.Add(time.Second)
			}
			t = date
		default:
			return fmt.Errorf("enroll: platform answered %d: %s", resp.Status, httpx.Snippet(resp.Body, 200))
		}
	}
}

// aboutTime says whether a 401's reason is about the request's time (off
// the platform's clock, or a signed time already used) rather than the
// access key or the signature.
func aboutTime(why string) bool {
	w := strings.ToLower(why)
	return strings.Contains(w, "time is off") || strings.Contains(w, "clock") || strings.Contains(w, "already used")
}

// reason is the "error" of a JSON answer, else a snippet of the body.
func reason(body []byte) string {
	var a struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &a) == nil && a.Error != "" {
		return httpx.Snippet([]byte(a.Error), 200)
	}
	return httpx.Snippet(body, 200)
}
