// Package state keeps the agent's small persistent state (device identity,
// token, applied configuration, outbox, last boot) behind a two-method
// store. The file store writes atomically: temp file, fsync, rename, fsync
// of the directory, every file mode 0600.
package state

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sync"
)

// ErrNotExist is returned by Read for a key that was never written.
var ErrNotExist = fs.ErrNotExist

// Store reads and writes whole values by key.
type Store interface {
	Read(key string) ([]byte, error)
	Write(key string, b []byte) error
}

var keyRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]*$`)

func checkKey(key string) error {
	if !keyRE.MatchString(key) {
		return fmt.Errorf("state: invalid key %q", key)
	}
	return nil
}

// FileStore keeps each key in a file of its own under Dir.
type FileStore struct {
	Dir string
	mu  sync.Mutex
}

// NewFileStore creates Dir (mode 0700) if needed.
func NewFileStore(dir string) (*FileStore, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("state directory %s: %w", dir, err)
	}
	return &FileStore{Dir: dir}, nil
}

// Path is the file that holds key.
func (s *FileStore) Path(key string) string { return filepath.Join(s.Dir, key) }

// Read returns the value of key, or an error wrapping ErrNotExist.
func (s *FileStore) Read(key string) ([]byte, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	return os.ReadFile(s.Path(key))
}

// Write replaces the value of key atomically, with mode 0600.
func (s *FileStore) Write(key string, b []byte) error {
	if err := checkKey(key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return WriteFileAtomic(s.Path(key), b, 0o600)
}

// Quarantine moves a corrupt key aside as <key>.corrupt so that it can be
// rebuilt while the bad bytes are kept for a human to look at.
func (s *FileStore) Quarantine(key string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	dst := s.Path(key) + ".corrupt"
	if err := os.Rename(s.Path(key), dst); err != nil {
		return "", err
	}
	return dst, nil
}

// SetAside handles a state file that could not be decoded: it is kept as
// <key>.corrupt (when the store can move files) for a human to look at,
// and one ERROR line says what was lost and where the bytes went. what
// names the file's role ("worklet health", "scan state").
func SetAside(store Store, key, what string, cause error, log *slog.Logger) {
	moved := ""
	if q, ok := store.(interface {
		Quarantine(string) (string, error)
	}); ok {
		if dst, err := q.Quarantine(key); err == nil {
			moved = dst
		}
	}
	log.Error(what+" state file is corrupt; starting afresh", "key", key, "error", cause.Error(), "moved_to", moved)
}

// WriteFileAtomic writes b to path through a temp file in the same
// directory, fsyncs it, renames it over path and fsyncs the directory.
func WriteFileAtomic(path string, b []byte, perm fs.FileMode) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	if err = f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if _, err = f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err = f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	if d, derr := os.Open(dir); derr == nil {
		d.Sync() // best effort: not every OS can fsync a directory
		d.Close()
	}
	return nil
}

// MemStore is an in-memory Store for tests.
type MemStore struct {
	mu sync.Mutex
	m  map[string][]byte
}

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore { return &MemStore{m: map[string][]byte{}} }

// Read returns a copy of the value of key.
func (s *MemStore) Read(key string) ([]byte, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.m[key]
	if !ok {
		return nil, fmt.Errorf("state %s: %w", key, ErrNotExist)
	}
	return append([]byte(nil), b...), nil
}

// Write stores a copy of b under key.
func (s *MemStore) Write(key string, b []byte) error {
	if err := checkKey(key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[key] = append([]byte(nil), b...)
	return nil
}

// IsNotExist reports whether err means the key was never written.
func IsNotExist(err error) bool { return errors.Is(err, ErrNotExist) }
