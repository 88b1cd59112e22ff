package amagent

// This file is the SDK's file surface: the path-metadata fact (Stat) and
// reading, listing and writing the paths the manifest grants. Files are
// plain WASI: the agent mounts the device's "/" (guarded) as the module's
// only preopened directory, so os.ReadFile("/etc/motd") works as is; these
// helpers add errors that say which of "not there" and "not declared" it
// was, the same in every SDK.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
)

// PathInfo is the path-metadata fact (ABI section 4): what lstat says of a
// path the phase declares readable.
type PathInfo struct {
	Type  string `json:"type"` // "file", "dir", "symlink" or "other"
	Mode  string `json:"mode"` // four octal digits, e.g. "0640" (setuid 4000, setgid 2000, sticky 1000)
	UID   int64  `json:"uid"`
	GID   int64  `json:"gid"`
	User  string `json:"user"`  // "" when the device has no name for UID
	Group string `json:"group"` // "" when the device has no name for GID
	Size  int64  `json:"size"`
	Mtime string `json:"mtime"` // RFC 3339, UTC
}

// Perm is Mode as a number (0o640), or 0 when Mode is not octal.
func (p PathInfo) Perm() uint32 {
	n, err := strconv.ParseUint(p.Mode, 8, 32)
	if err != nil {
		return 0
	}
	return uint32(n)
}

// Stat returns the metadata of an absolute path: its type, mode, owner,
// size and mtime. A path that does not exist is an error wrapping
// ErrNotFound; a path the manifest does not declare readable for this
// phase, one wrapping ErrDenied (the agent logs it and lists it in the
// result's "denied").
func Stat(path string) (PathInfo, error) {
	var p PathInfo
	raw, err := Fact(path)
	if err != nil {
		return p, err
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return p, fmt.Errorf("fact %s: %w", path, err)
	}
	return p, nil
}

// fileError names what happened to path in the SDK's terms: errors.Is
// matches ErrNotFound or ErrDenied (and the fs error underneath).
func fileError(op, path string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s %s: %w (%w)", op, path, ErrNotFound, err)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%s %s: %w: not declared in worklet.toml for this phase (%w)", op, path, ErrDenied, err)
	}
	return fmt.Errorf("%s %s: %w", op, path, err)
}

// ReadFile returns the contents of a file the manifest declares readable
// ([evaluate] or [remediate] read, or a tree above it).
func ReadFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fileError("read", path, err)
	}
	return b, nil
}

// ReadFileString is ReadFile as a string.
func ReadFileString(path string) (string, error) {
	b, err := ReadFile(path)
	return string(b), err
}

// ListDir returns the names in a directory the manifest declares as a tree
// ("dir/"), sorted.
func ListDir(path string) ([]string, error) {
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, fileError("list", path, err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names, nil // os.ReadDir sorts by name
}

// WriteFile replaces the contents of path (created with mode perm if it is
// new). Only paths under the manifest's [remediate] write are writable, and
// only in the remediate phase.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	if err := os.WriteFile(path, data, perm); err != nil {
		return fileError("write", path, err)
	}
	return nil
}
