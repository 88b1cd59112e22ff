// Package identity keeps the device's identity: a random UUID made at
// first start and kept for ever in the state directory, and the device
// token got from enrollment, stored in a file of mode 0600.
//
// A corrupt state file is logged, kept aside as <key>.corrupt when the
// store can do so, and rebuilt; it never stops the agent.
package identity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/google/uuid"

	"github.com/amagent/amagent/agent/internal/httpx"
	"github.com/amagent/amagent/agent/protocol"
	"github.com/amagent/amagent/agent/state"
)

// State keys.
const (
	KeyUUID  = "device_uuid"
	KeyToken = "device_token"
)

// ErrAccessDenied is returned by Enroll when the platform refuses the
// access key (HTTP 401).
var ErrAccessDenied = errors.New("enrollment refused: wrong access key")

// Quarantiner is implemented by stores that can move a corrupt key aside
// (state.FileStore).
type Quarantiner interface {
	Quarantine(key string) (string, error)
}

// Identity is the device UUID and token.
type Identity struct {
	store state.Store
	log   *slog.Logger

	uuid  string
	mu    sync.Mutex
	token string
}

// Load reads the identity from store, creating the UUID on first start and
// rebuilding whatever is corrupt.
func Load(store state.Store, log *slog.Logger) (*Identity, error) {
	id := &Identity{store: store, log: log}
	b, err := store.Read(KeyUUID)
	switch {
	case err == nil:
		u, perr := uuid.ParseBytes([]byte(strings.TrimSpace(string(b))))
		if perr == nil && u != uuid.Nil {
			id.uuid = u.String()
			break
		}
		corrupt(store, log, KeyUUID, fmt.Errorf("not a UUID: %q", httpx.Snippet(b, 60)))
	case !state.IsNotExist(err):
		// Unreadable (permissions, I/O): refusing to invent a new identity
		// keeps the device from appearing twice on the platform.
		return nil, fmt.Errorf("reading device UUID: %w", err)
	}
	if id.uuid == "" {
		id.uuid = uuid.NewString()
		if err := store.Write(KeyUUID, []byte(id.uuid+"\n")); err != nil {
			return nil, fmt.Errorf("saving device UUID: %w", err)
		}
		log.Info("created device UUID", "device_uuid", id.uuid)
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

// Enroller exchanges the access key for a device token.
type Enroller struct {
	Server    string // base URL, no trailing slash
	AccessKey string
	Hostname  string
	HTTP      *http.Client
	MaxBody   int64
}

// Enroll POSTs /enroll and stores the token it gets. A 401 is
// ErrAccessDenied; other failures say what went wrong.
func (e *Enroller) Enroll(ctx context.Context, id *Identity) error {
	if e.AccessKey == "" {
		return fmt.Errorf("%w: access_key is empty in amagent.toml", ErrAccessDenied)
	}
	body, err := json.Marshal(protocol.EnrollRequest{AccessKey: e.AccessKey, DeviceUUID: id.UUID(), Hostname: e.Hostname})
	if err != nil {
		return err
	}
	resp, err := httpx.Post(ctx, e.HTTP, e.Server+protocol.PathEnroll, nil, body, e.MaxBody)
	if err != nil {
		return fmt.Errorf("enroll: %w", err)
	}
	switch {
	case resp.Status == http.StatusUnauthorized:
		return ErrAccessDenied
	case resp.Status != http.StatusOK:
		return fmt.Errorf("enroll: platform answered %d: %s", resp.Status, httpx.Snippet(resp.Body, 200))
	}
	var er protocol.EnrollResponse
	if err := json.Unmarshal(resp.Body, &er); err != nil {
		return fmt.Errorf("enroll: malformed answer: %v", err)
	}
	if err := id.SetToken(er.DeviceToken); err != nil {
		return fmt.Errorf("enroll: %w", err)
	}
	return nil
}
