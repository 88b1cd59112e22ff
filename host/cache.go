package host

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/amagent/amagent/agent/version"
)

// codeCache is the compiled-code cache, checked before use (ABI.md
// section 5, issue 9): wazero's own cache names an entry after the module
// it compiled and trusts its contents, so that swapping two entries'
// files swapped the modules' behaviour, and a damaged entry failed every
// load of its module. Here every entry wazero writes is kept beside a
// sidecar that binds it to the module's sha256, the bytes compiled, the
// agent's version and the entry's name, with an HMAC-SHA256 under a key
// of this agent's (a 0600 file made on first use). An entry is checked
// before wazero reads it; one that does not match (damaged, truncated,
// swapped, unreadable) is deleted, logged once at WARN, and compiled
// again: never an error charged to the module.
//
// Layout under the cache directory:
//
//	key                              the HMAC key (32 bytes, 0600)
//	<version>/wazero-.../<entry>     wazero's entries (its cache directory is <version>)
//	<version>/checked/<sha256>.json  the sidecar of a module's entry
//	<version>/refused/<sha256>.json  a module over the compile bound, and the bound
//	<version>/staging/<tmp>/         where a compile writes before its entry is kept
//
// What it does not do: the check happens before wazero opens the entry
// again, so a process that can write the cache directory (root, or the
// agent's user: it is 0700) between the two could still swap it. Such a
// process can change the agent itself; the check is against damage and
// mix-ups, not against the machine's administrator.
type codeCache struct {
	root string // the cache directory
	dir  string // root/<version>: wazero's cache directory
	key  []byte
}

// cacheFormat names the sidecar's format and what its MAC covers.
const cacheFormat = "amagent compiled code v1"

// openCodeCache opens (or makes) the cache directory and its key.
func openCodeCache(root string) (*codeCache, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("wasm cache: %w", err)
	}
	key, err := cacheKey(filepath.Join(root, "key"))
	if err != nil {
		return nil, fmt.Errorf("wasm cache key: %w", err)
	}
	c := &codeCache{root: root, dir: filepath.Join(root, versionDir(version.Version)), key: key}
	for _, d := range []string{"checked", "refused", "staging"} {
		if err := os.MkdirAll(filepath.Join(c.dir, d), 0o700); err != nil {
			return nil, fmt.Errorf("wasm cache: %w", err)
		}
	}
	c.sweep()
	return c, nil
}

// cacheKey reads the agent's key, or makes it on first use. A key file of
// the wrong size is replaced (every entry then fails its check and is
// compiled again).
func cacheKey(path string) ([]byte, error) {
	if b, err := os.ReadFile(path); err == nil && len(b) == 32 {
		return b, nil
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "key.*.tmp") // mode 0600
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(key)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	// Another engine may have made it meanwhile: the first one kept wins.
	if err := os.Link(tmp.Name(), path); err != nil {
		if b, rerr := os.ReadFile(path); rerr == nil && len(b) == 32 {
			return b, nil
		}
		if err := os.Rename(tmp.Name(), path); err != nil {
			return nil, err
		}
	}
	return key, nil
}

// versionDir is the agent's version as a directory name.
func versionDir(v string) string {
	b := []byte("agent-" + v)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' || c == '+') {
			b[i] = '_'
		}
	}
	return string(b)
}

// sweep removes what earlier agents left: the unchecked entries of the
// layout before this one (wazero-* directly under the cache directory) and
// staging directories older than an hour (a compile that was killed).
func (c *codeCache) sweep() {
	if old, _ := filepath.Glob(filepath.Join(c.root, "wazero-*")); len(old) > 0 {
		for _, d := range old {
			_ = os.RemoveAll(d)
		}
	}
	ents, _ := os.ReadDir(filepath.Join(c.dir, "staging"))
	for _, d := range ents {
		if fi, err := d.Info(); err == nil && time.Since(fi.ModTime()) > time.Hour {
			_ = os.RemoveAll(filepath.Join(c.dir, "staging", d.Name()))
		}
	}
}

// sidecar binds an entry to a module.
type sidecar struct {
	Prepared string `json:"prepared"` // sha256 of the bytes compiled (after the rewrites)
	Entry    string `json:"entry"`    // wazero's file, relative to dir
	MAC      string `json:"mac"`
}

func (c *codeCache) sidecarPath(sum string) string {
	return filepath.Join(c.dir, "checked", sum+".json")
}

// mac is the entry's keyed digest, bound to the module and the agent.
func (c *codeCache) mac(sum, prepared, entry string, content io.Reader) ([]byte, error) {
	h := hmac.New(sha256.New, c.key)
	fmt.Fprintf(h, "%s\nagent %s\nmodule %s\nprepared %s\nentry %s\n", cacheFormat, version.Version, sum, prepared, entry)
	if _, err := io.Copy(h, content); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}

// entryState is what check found.
type entryState int

const (
	entryMissing entryState = iota // no entry for the module: compile it
	entryGood                      // the entry is the module's: wazero may read it
	entryDamaged                   // it does not match: delete and compile again
)

// check looks at the module's entry before wazero reads it; for a damaged
// one it says why.
func (c *codeCache) check(sum, prepared string) (entryState, string) {
	b, err := os.ReadFile(c.sidecarPath(sum))
	if errors.Is(err, fs.ErrNotExist) {
		return entryMissing, ""
	} else if err != nil {
		return entryDamaged, err.Error()
	}
	var s sidecar
	if err := json.Unmarshal(b, &s); err != nil || s.Entry == "" || !filepath.IsLocal(s.Entry) {
		return entryDamaged, "its record does not parse"
	}
	if s.Prepared != prepared {
		// The agent's rewrites changed since it was compiled: not damage,
		// just another module for wazero.
		return entryMissing, ""
	}
	f, err := os.Open(filepath.Join(c.dir, filepath.FromSlash(s.Entry)))
	if err != nil {
		return entryDamaged, err.Error()
	}
	defer f.Close()
	got, err := c.mac(sum, prepared, s.Entry, f)
	if err != nil {
		return entryDamaged, err.Error()
	}
	want, err := hex.DecodeString(s.MAC)
	if err != nil || !hmac.Equal(got, want) {
		return entryDamaged, "its content does not match its digest"
	}
	return entryGood, ""
}

// drop deletes the module's sidecar and entry.
func (c *codeCache) drop(sum string) {
	if b, err := os.ReadFile(c.sidecarPath(sum)); err == nil {
		var s sidecar
		if json.Unmarshal(b, &s) == nil && s.Entry != "" && filepath.IsLocal(s.Entry) {
			_ = os.Remove(filepath.Join(c.dir, filepath.FromSlash(s.Entry)))
		}
	}
	_ = os.Remove(c.sidecarPath(sum))
}

// staging makes a fresh directory for one compile to write its entry in.
func (c *codeCache) staging() (string, error) {
	return os.MkdirTemp(filepath.Join(c.dir, "staging"), "compile-")
}

// keep moves the entry a compile wrote in staging to wazero's directory,
// with its sidecar.
func (c *codeCache) keep(sum, prepared, staging string) error {
	var found []string
	err := filepath.WalkDir(staging, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() && !strings.HasSuffix(p, ".tmp") {
			found = append(found, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(found) != 1 {
		return fmt.Errorf("the compile left %d entries, want 1", len(found))
	}
	rel, err := filepath.Rel(staging, found[0])
	if err != nil || !filepath.IsLocal(rel) {
		return fmt.Errorf("entry %s is outside its staging directory", found[0])
	}
	entry := filepath.ToSlash(rel)
	f, err := os.Open(found[0])
	if err != nil {
		return err
	}
	sig, err := c.mac(sum, prepared, entry, f)
	f.Close()
	if err != nil {
		return err
	}
	dst := filepath.Join(c.dir, rel)
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return err
	}
	if err := os.Rename(found[0], dst); err != nil {
		return err
	}
	b, err := json.Marshal(sidecar{Prepared: prepared, Entry: entry, MAC: hex.EncodeToString(sig)})
	if err != nil {
		return err
	}
	return writeAtomic(c.sidecarPath(sum), b)
}

// refusal is a module that passed the compile bound, and the bound then.
type refusal struct {
	Reason  string        `json:"reason"`
	Timeout time.Duration `json:"timeout"`
	Memory  int64         `json:"memory"`
}

func (c *codeCache) refusalPath(sum string) string {
	return filepath.Join(c.dir, "refused", sum+".json")
}

// refuse remembers that the module passed the bound lim, so that a restart
// does not compile it again.
func (c *codeCache) refuse(sum, reason string, lim Limits) error {
	b, err := json.Marshal(refusal{Reason: reason, Timeout: lim.CompileTimeout, Memory: lim.CompileMemory})
	if err != nil {
		return err
	}
	return writeAtomic(c.refusalPath(sum), b)
}

// refused reports a module that passed a bound no larger than lim: it is
// refused again without compiling (raising the bound tries it again).
func (c *codeCache) refused(sum string, lim Limits) (string, bool) {
	b, err := os.ReadFile(c.refusalPath(sum))
	if err != nil {
		return "", false
	}
	var r refusal
	if json.Unmarshal(b, &r) != nil || r.Reason == "" {
		return "", false
	}
	if lim.CompileTimeout > r.Timeout || lim.CompileMemory > r.Memory {
		_ = os.Remove(c.refusalPath(sum))
		return "", false
	}
	return r.Reason, true
}

// writeAtomic writes a small file whole (temp file, fsync, rename).
func writeAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(b)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
