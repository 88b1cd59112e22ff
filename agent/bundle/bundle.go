// Package bundle signs and verifies worklet and policy bundles. The platform
// signs a bundle (manifest + module) with its ed25519 key when a worklet is
// added; the agent verifies it with the public keys it trusts before running
// the module. Both ends use this package so that the signed message cannot
// drift apart.
//
// The signed message is, byte for byte:
//
//	"amagent-bundle-v1\n" + name + "\n" + version + "\n" +
//	manifest_sha256_hex + "\n" + module_sha256_hex + "\n"
//
// where the digests are lowercase hex SHA-256 of the manifest (worklet.toml)
// bytes and of the module (.wasm) bytes. The signature travels as standard
// base64.
package bundle

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// messagePrefix versions the signed message format.
const messagePrefix = "amagent-bundle-v1\n"

// Errors returned by Verify, testable with errors.Is.
var (
	// ErrUnsigned means the bundle carries no signature.
	ErrUnsigned = errors.New("bundle is unsigned")
	// ErrBadSignature means the signature does not match any trusted key.
	ErrBadSignature = errors.New("bundle signature does not verify")
)

// Digest returns the lowercase hex SHA-256 of b, the form used in the
// signed message.
func Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Message returns the bytes that are signed for a bundle.
func Message(name, version, manifestSHA, moduleSHA string) []byte {
	var b strings.Builder
	b.Grow(len(messagePrefix) + len(name) + len(version) + len(manifestSHA) + len(moduleSHA) + 4)
	b.WriteString(messagePrefix)
	for _, s := range []string{name, version, manifestSHA, moduleSHA} {
		b.WriteString(s)
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// Sign returns the base64 (standard encoding) ed25519 signature of the
// bundle's message.
func Sign(priv ed25519.PrivateKey, name, version, manifestSHA, moduleSHA string) string {
	sig := ed25519.Sign(priv, Message(name, version, manifestSHA, moduleSHA))
	return base64.StdEncoding.EncodeToString(sig)
}

// Verify checks sig (base64) against the bundle's message with pub. The error
// says whether the bundle is unsigned, the signature is malformed, or it was
// made by another key or over other content.
func Verify(pub ed25519.PublicKey, sig, name, version, manifestSHA, moduleSHA string) error {
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("bundle %s@%s: public key is %d bytes, want %d", name, version, len(pub), ed25519.PublicKeySize)
	}
	if strings.TrimSpace(sig) == "" {
		return fmt.Errorf("bundle %s@%s: %w", name, version, ErrUnsigned)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(sig))
	if err != nil {
		return fmt.Errorf("bundle %s@%s: signature is not valid base64: %v", name, version, err)
	}
	if len(raw) != ed25519.SignatureSize {
		return fmt.Errorf("bundle %s@%s: signature is %d bytes, want %d", name, version, len(raw), ed25519.SignatureSize)
	}
	if !ed25519.Verify(pub, Message(name, version, manifestSHA, moduleSHA), raw) {
		return fmt.Errorf("bundle %s@%s: %w (signed by another key, or the manifest or module changed)", name, version, ErrBadSignature)
	}
	return nil
}

// VerifyAny checks sig against each trusted key and succeeds when one
// verifies it.
func VerifyAny(keys []ed25519.PublicKey, sig, name, version, manifestSHA, moduleSHA string) error {
	if len(keys) == 0 {
		return fmt.Errorf("bundle %s@%s: no trusted public keys configured", name, version)
	}
	var err error
	for _, k := range keys {
		if err = Verify(k, sig, name, version, manifestSHA, moduleSHA); err == nil {
			return nil
		}
		if errors.Is(err, ErrUnsigned) {
			return err
		}
	}
	return err
}

// ParsePublicKey decodes a base64 (standard encoding) ed25519 public key, the
// form printed by `amplatform key`.
func ParsePublicKey(b64 string) (ed25519.PublicKey, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil {
		return nil, fmt.Errorf("public key is not valid base64: %v", err)
	}
	if len(raw) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("public key is %d bytes, want %d (ed25519)", len(raw), ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(raw), nil
}

// FormatPublicKey encodes pub as standard base64.
func FormatPublicKey(pub ed25519.PublicKey) string {
	return base64.StdEncoding.EncodeToString(pub)
}
