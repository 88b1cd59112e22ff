package protocol

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Scan deltas (PROTOCOL.md, "Scan deltas"; platform/README.md). A scan
// report's scan document is an object of top-level sections ("os",
// "software", "network", ...). Once the platform has acknowledged a scan,
// the agent may send, in place of any section at least MinSectionBytes
// long whose bytes are unchanged, the placeholder
//
//	{"$digest":"sha256:<64 lowercase hex>"}
//
// where the digest is the SHA-256 of the section's JSON bytes exactly as
// they appeared in the full report. The platform puts the bytes it holds
// back in place, so that the report it stores is byte for byte the full
// one; a digest it does not hold is answered 409 with
// {"error": "...", "full_scan_required": true}, and the agent sends the
// full report once. Only platforms that answer with HeaderScanDeltas take
// placeholders and gzip-compressed uploads.
const (
	// HeaderScanDeltas, on the platform's answers to a check-in and to a
	// scan, says that it takes scan uploads with section placeholders and
	// Content-Encoding: gzip. Its value is ScanDeltasV1.
	HeaderScanDeltas = "X-Scan-Deltas"
	ScanDeltasV1     = "sha256-gzip"

	// DigestKey is the only key of a placeholder object.
	DigestKey = "$digest"
	// DigestPrefix starts every section digest.
	DigestPrefix = "sha256:"
	// MinSectionBytes: shorter sections are always sent as they are (a
	// placeholder would not be smaller) and are not kept by the platform.
	MinSectionBytes = 128
)

// ScanSection is one top-level section of a report's scan document: its
// key and where its value lies in the report (Start inclusive, End
// exclusive).
type ScanSection struct {
	Key        string
	Start, End int
}

// Value returns the section's bytes in report.
func (s ScanSection) Value(report []byte) []byte { return report[s.Start:s.End] }

// SectionDigest is the digest of a section's bytes: "sha256:<hex>".
func SectionDigest(value []byte) string {
	sum := sha256.Sum256(value)
	return DigestPrefix + hex.EncodeToString(sum[:])
}

// Placeholder is what stands for a section the platform holds.
func Placeholder(digest string) []byte {
	return []byte(`{"` + DigestKey + `":"` + digest + `"}`)
}

// PlaceholderDigest reports whether value is a placeholder, and its
// digest. A value that looks like one but whose digest is malformed is an
// error naming it.
func PlaceholderDigest(value []byte) (string, bool, error) {
	if len(value) > 200 || len(value) == 0 || value[0] != '{' || !bytes.Contains(value, []byte(`"`+DigestKey+`"`)) {
		return "", false, nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(value, &m) != nil || len(m) != 1 {
		return "", false, nil
	}
	raw, ok := m[DigestKey]
	if !ok {
		return "", false, nil
	}
	var d string
	if err := json.Unmarshal(raw, &d); err != nil {
		return "", false, fmt.Errorf("section placeholder: %q must be a string", DigestKey)
	}
	h, ok := strings.CutPrefix(d, DigestPrefix)
	if b, err := hex.DecodeString(h); !ok || err != nil || len(b) != sha256.Size || h != strings.ToLower(h) {
		return "", false, fmt.Errorf("section placeholder: digest %q is not %s followed by 64 lowercase hex digits", truncated(d, 80), DigestPrefix)
	}
	return d, true, nil
}

func truncated(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// ScanSections returns the top-level sections of a report's "scan"
// object, in order. A report without a scan object (null, or missing) has
// none.
func ScanSections(report []byte) ([]ScanSection, error) {
	top, err := objectMembers(report, 0)
	if err != nil {
		return nil, fmt.Errorf("scan report: %w", err)
	}
	for _, m := range top {
		if m.Key != "scan" {
			continue
		}
		v := m.Value(report)
		if len(v) == 0 || v[0] != '{' {
			return nil, nil
		}
		secs, err := objectMembers(report[:m.End], m.Start)
		if err != nil {
			return nil, fmt.Errorf("scan report: scan: %w", err)
		}
		return secs, nil
	}
	return nil, nil
}

// objectMembers lists the members of the JSON object starting at b[off:]
// (after optional white space) with their value spans in b.
func objectMembers(b []byte, off int) ([]ScanSection, error) {
	dec := json.NewDecoder(bytes.NewReader(b[off:]))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not a JSON object")
	}
	var out []ScanSection
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, ok := tok.(string)
		if !ok {
			return nil, errors.New("object key is not a string")
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("member %q: %w", key, err)
		}
		end := off + int(dec.InputOffset())
		out = append(out, ScanSection{Key: key, Start: end - len(raw), End: end})
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the object")
	}
	return out, nil
}

// Splice returns report with the value of each section for which repl
// returns non-nil replaced by those bytes (sections in order, as
// ScanSections returns them).
func Splice(report []byte, secs []ScanSection, repl func(i int) []byte) []byte {
	var out bytes.Buffer
	out.Grow(len(report))
	last := 0
	for i, s := range secs {
		r := repl(i)
		if r == nil {
			continue
		}
		out.Write(report[last:s.Start])
		out.Write(r)
		last = s.End
	}
	out.Write(report[last:])
	return out.Bytes()
}
