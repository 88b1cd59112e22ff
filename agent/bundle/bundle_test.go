package bundle

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func newKey(t *testing.T, seed byte) (ed25519.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	priv := ed25519.NewKeyFromSeed([]byte(strings.Repeat(string(rune('a'+seed)), ed25519.SeedSize)))
	return priv.Public().(ed25519.PublicKey), priv
}

func TestMessage(t *testing.T) {
	got := string(Message("ssh", "1.0.0", "aa", "bb"))
	want := "amagent-bundle-v1\nssh\n1.0.0\naa\nbb\n"
	if got != want {
		t.Fatalf("Message = %q, want %q", got, want)
	}
}

func TestDigest(t *testing.T) {
	if got, want := Digest([]byte("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; got != want {
		t.Fatalf("Digest = %s, want %s", got, want)
	}
}

func TestVerify(t *testing.T) {
	pub, priv := newKey(t, 0)
	other, _ := newKey(t, 1)
	man, mod := Digest([]byte("manifest")), Digest([]byte("module"))
	sig := Sign(priv, "ssh", "1.0.0", man, mod)

	tests := []struct {
		name    string
		pub     ed25519.PublicKey
		sig     string
		version string
		module  string
		wantErr error
		wantMsg string
	}{
		{name: "good", pub: pub, sig: sig, version: "1.0.0", module: mod},
		{name: "unsigned", pub: pub, sig: "", version: "1.0.0", module: mod, wantErr: ErrUnsigned},
		{name: "other key", pub: other, sig: sig, version: "1.0.0", module: mod, wantErr: ErrBadSignature},
		{name: "module changed", pub: pub, sig: sig, version: "1.0.0", module: Digest([]byte("tampered")), wantErr: ErrBadSignature},
		{name: "version changed", pub: pub, sig: sig, version: "1.0.1", module: mod, wantErr: ErrBadSignature},
		{name: "not base64", pub: pub, sig: "!!!", version: "1.0.0", module: mod, wantMsg: "not valid base64"},
		{name: "short signature", pub: pub, sig: base64.StdEncoding.EncodeToString([]byte("short")), version: "1.0.0", module: mod, wantMsg: "signature is 5 bytes"},
		{name: "short key", pub: pub[:5], sig: sig, version: "1.0.0", module: mod, wantMsg: "public key is 5 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.pub, tt.sig, "ssh", tt.version, man, tt.module)
			switch {
			case tt.wantErr == nil && tt.wantMsg == "":
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Verify = %v, want %v", err, tt.wantErr)
				}
			default:
				if err == nil || !strings.Contains(err.Error(), tt.wantMsg) {
					t.Fatalf("Verify = %v, want error containing %q", err, tt.wantMsg)
				}
			}
		})
	}
}

func TestVerifyAny(t *testing.T) {
	pub, priv := newKey(t, 0)
	other, _ := newKey(t, 1)
	sig := Sign(priv, "p", "1", "m", "w")
	if err := VerifyAny([]ed25519.PublicKey{other, pub}, sig, "p", "1", "m", "w"); err != nil {
		t.Fatalf("VerifyAny with trusted key second: %v", err)
	}
	if err := VerifyAny([]ed25519.PublicKey{other}, sig, "p", "1", "m", "w"); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("VerifyAny without the key = %v, want ErrBadSignature", err)
	}
	if err := VerifyAny(nil, sig, "p", "1", "m", "w"); err == nil {
		t.Fatal("VerifyAny with no keys succeeded")
	}
}

func TestParsePublicKey(t *testing.T) {
	pub, _ := newKey(t, 0)
	got, err := ParsePublicKey(" " + FormatPublicKey(pub) + "\n")
	if err != nil || !got.Equal(pub) {
		t.Fatalf("ParsePublicKey round trip = %v, %v", got, err)
	}
	for _, bad := range []string{"", "%%%", base64.StdEncoding.EncodeToString([]byte("short"))} {
		if _, err := ParsePublicKey(bad); err == nil {
			t.Errorf("ParsePublicKey(%q) succeeded", bad)
		}
	}
}
