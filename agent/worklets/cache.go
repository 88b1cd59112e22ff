package worklets

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/amagent/amagent/agent/bundle"
	"github.com/amagent/amagent/agent/protocol"
	"github.com/amagent/amagent/agent/state"
)

// Document is a bundle as the platform serves it at an assignment's URL.
type Document struct {
	Name           string `json:"name"`
	Version        string `json:"version"`
	Kind           string `json:"kind"`
	Manifest       string `json:"manifest"` // worklet.toml text
	Module         string `json:"module"`   // base64 of the .wasm
	SHA256         string `json:"sha256"`
	ManifestSHA256 string `json:"manifest_sha256"`
	Signature      string `json:"signature"`
}

// Bundle is a verified worklet or policy on disk: Dir holds worklet.toml and
// the module it names. Manifest and Module are the bytes that were verified,
// so that what runs is exactly what was checked, read once.
type Bundle struct {
	Assignment     protocol.Assignment
	Dir            string
	ManifestSHA256 string
	ModuleSHA256   string
	Manifest       []byte
	Module         []byte
}

// Cache keeps verified bundles under Dir/<name>/<version>/.
type Cache struct {
	Dir string
}

var (
	errNotCached = errors.New("bundle not cached")
	safeName     = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	safeVersion  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]*$`)
	safeFile     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*\.wasm$`)
)

func (c *Cache) dir(a protocol.Assignment) (string, error) {
	if !safeName.MatchString(a.Name) {
		return "", fmt.Errorf("bundle name %q is not [a-z0-9-]", a.Name)
	}
	if !safeVersion.MatchString(a.Version) {
		return "", fmt.Errorf("bundle %s: version %q has characters that are not allowed", a.Name, a.Version)
	}
	return filepath.Join(c.Dir, a.Name, a.Version), nil
}

// moduleFile reads the manifest's module key: a plain file name beside it.
func moduleFile(manifest []byte) (string, error) {
	var m struct {
		Module string `toml:"module"`
	}
	if _, err := toml.Decode(string(manifest), &m); err != nil {
		return "", fmt.Errorf("bundle manifest: %w", err)
	}
	if m.Module == "" {
		return "", errors.New("bundle manifest: key \"module\" is missing")
	}
	if !safeFile.MatchString(m.Module) {
		return "", fmt.Errorf("bundle manifest: key \"module\" = %q must be a plain .wasm file name beside the manifest", m.Module)
	}
	return m.Module, nil
}

// verify checks the bundle's bytes against the assignment and the trusted
// keys. Every refusal names its reason.
func verify(a protocol.Assignment, manifest, module []byte, sig string, keys []ed25519.PublicKey) (manSHA, modSHA string, err error) {
	manSHA, modSHA = bundle.Digest(manifest), bundle.Digest(module)
	if a.SHA256 != "" && !strings.EqualFold(a.SHA256, modSHA) {
		return "", "", fmt.Errorf("bundle %s@%s refused: module sha256 is %s, the assignment says %s", a.Name, a.Version, modSHA, a.SHA256)
	}
	if a.ManifestSHA256 != "" && !strings.EqualFold(a.ManifestSHA256, manSHA) {
		return "", "", fmt.Errorf("bundle %s@%s refused: manifest sha256 is %s, the assignment says %s", a.Name, a.Version, manSHA, a.ManifestSHA256)
	}
	if len(keys) == 0 {
		return "", "", fmt.Errorf("bundle %s@%s refused: no trusted platform keys are configured ([worklets] trusted_keys)", a.Name, a.Version)
	}
	if err := bundle.VerifyAny(keys, sig, a.Name, a.Version, manSHA, modSHA); err != nil {
		return "", "", fmt.Errorf("bundle %s@%s refused: %w", a.Name, a.Version, err)
	}
	return manSHA, modSHA, nil
}

type meta struct {
	Signature string `json:"signature"`
}

// Load returns the cached bundle of a, verified again from its bytes.
func (c *Cache) Load(a protocol.Assignment, keys []ed25519.PublicKey) (*Bundle, error) {
	dir, err := c.dir(a)
	if err != nil {
		return nil, err
	}
	mb, err := os.ReadFile(filepath.Join(dir, "bundle.json"))
	if err != nil {
		return nil, errNotCached
	}
	var m meta
	if err := json.Unmarshal(mb, &m); err != nil {
		return nil, fmt.Errorf("cached bundle %s@%s: bundle.json: %w", a.Name, a.Version, err)
	}
	manifest, err := os.ReadFile(filepath.Join(dir, "worklet.toml"))
	if err != nil {
		return nil, fmt.Errorf("cached bundle %s@%s: %w", a.Name, a.Version, err)
	}
	file, err := moduleFile(manifest)
	if err != nil {
		return nil, err
	}
	module, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		return nil, fmt.Errorf("cached bundle %s@%s: %w", a.Name, a.Version, err)
	}
	manSHA, modSHA, err := verify(a, manifest, module, m.Signature, keys)
	if err != nil {
		return nil, err
	}
	return &Bundle{Assignment: a, Dir: dir, ManifestSHA256: manSHA, ModuleSHA256: modSHA, Manifest: manifest, Module: module}, nil
}

// Store verifies a downloaded bundle document and writes it to the cache.
func (c *Cache) Store(a protocol.Assignment, doc []byte, keys []ed25519.PublicKey) (*Bundle, error) {
	var d Document
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("bundle %s@%s: malformed bundle document: %w", a.Name, a.Version, err)
	}
	if d.Name != a.Name || d.Version != a.Version {
		return nil, fmt.Errorf("bundle %s@%s refused: the platform sent %s@%s", a.Name, a.Version, d.Name, d.Version)
	}
	module, err := base64.StdEncoding.DecodeString(d.Module)
	if err != nil {
		return nil, fmt.Errorf("bundle %s@%s: module is not valid base64: %w", a.Name, a.Version, err)
	}
	manifest := []byte(d.Manifest)
	sig := d.Signature
	if sig == "" {
		sig = a.Signature
	}
	manSHA, modSHA, err := verify(a, manifest, module, sig, keys)
	if err != nil {
		return nil, err
	}
	file, err := moduleFile(manifest)
	if err != nil {
		return nil, err
	}
	dir, err := c.dir(a)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	mb, _ := json.Marshal(meta{Signature: sig})
	for _, f := range []struct {
		name string
		b    []byte
	}{{file, module}, {"worklet.toml", manifest}, {"bundle.json", mb}} {
		if err := state.WriteFileAtomic(filepath.Join(dir, f.name), f.b, 0o600); err != nil {
			return nil, fmt.Errorf("caching bundle %s@%s: %w", a.Name, a.Version, err)
		}
	}
	return &Bundle{Assignment: a, Dir: dir, ManifestSHA256: manSHA, ModuleSHA256: modSHA, Manifest: manifest, Module: module}, nil
}

// VerifyDir checks a bundle directory (worklet.toml, the module it names,
// and the signature from sig or, when sig is empty, DIR/bundle.json) against
// the trusted keys: `amagent worklet verify DIR`.
func VerifyDir(dir, sig string, keys []ed25519.PublicKey) (*Bundle, error) {
	manifest, err := os.ReadFile(filepath.Join(dir, "worklet.toml"))
	if err != nil {
		return nil, err
	}
	var m struct {
		Name    string `toml:"name"`
		Version string `toml:"version"`
		Kind    string `toml:"kind"`
	}
	if _, err := toml.Decode(string(manifest), &m); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "worklet.toml"), err)
	}
	file, err := moduleFile(manifest)
	if err != nil {
		return nil, err
	}
	module, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		return nil, err
	}
	if sig == "" {
		mb, err := os.ReadFile(filepath.Join(dir, "bundle.json"))
		if err != nil {
			return nil, fmt.Errorf("bundle %s@%s: no signature given and no bundle.json: %w", m.Name, m.Version, bundle.ErrUnsigned)
		}
		var mt meta
		if err := json.Unmarshal(mb, &mt); err != nil {
			return nil, fmt.Errorf("bundle %s@%s: bundle.json: %w", m.Name, m.Version, err)
		}
		sig = mt.Signature
	}
	a := protocol.Assignment{Name: m.Name, Version: m.Version, Kind: m.Kind}
	manSHA, modSHA, err := verify(a, manifest, module, sig, keys)
	if err != nil {
		return nil, err
	}
	return &Bundle{Assignment: a, Dir: dir, ManifestSHA256: manSHA, ModuleSHA256: modSHA, Manifest: manifest, Module: module}, nil
}

// Cached returns the verified bundles of the given assignments that are in
// the cache, and the reasons the others are not usable.
func (c *Cache) Cached(as []protocol.Assignment, keys []ed25519.PublicKey) ([]*Bundle, []error) {
	var out []*Bundle
	var errs []error
	for _, a := range as {
		b, err := c.Load(a, keys)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s@%s: %w", a.Name, a.Version, err))
			continue
		}
		out = append(out, b)
	}
	return out, errs
}
