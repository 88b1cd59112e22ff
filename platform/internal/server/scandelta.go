package server

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/amagent/amagent/agent/protocol"
)

// Scan deltas (agent/protocol/sections.go): a scan upload may be
// gzip-compressed and may carry, for a section the platform holds, a
// placeholder with the section's digest. The platform decompresses under
// the same byte cap as an uncompressed upload (applied to the
// decompressed size), puts every held section back in place and stores
// the full report, so that every reader sees the whole document. A digest
// it does not hold is answered 409 with "full_scan_required".

// maxPlaceholders bounds the placeholders in one scan (a scan document
// has a few dozen sections).
const maxPlaceholders = 1000

// fullScanRequired is the 409 answer naming the digest the platform does
// not hold.
type fullScanRequired struct {
	Error            string `json:"error"`
	FullScanRequired bool   `json:"full_scan_required"`
}

// scanUpload is a scan upload as received and as rebuilt.
type scanUpload struct {
	body   []byte // the full report
	wire   int    // bytes received (compressed, with placeholders)
	reused int    // sections rebuilt from their digests
}

// readScan reads a scan upload, decompressing and rebuilding it; on
// failure it has answered (400, 409, 413 or 415).
func (s *Server) readScan(w http.ResponseWriter, r *http.Request, devID int64) (scanUpload, bool) {
	limit := s.cfg.MaxScanBytes
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	tooLarge := func(what string) {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("scan is larger than %d bytes%s", limit, what))
	}
	buf := bytes.NewBuffer(make([]byte, 0, min(max(r.ContentLength, 0), limit)+bytes.MinRead))
	if _, err := buf.ReadFrom(r.Body); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			tooLarge("")
			return scanUpload{}, false
		}
		writeError(w, http.StatusBadRequest, "reading the scan failed")
		return scanUpload{}, false
	}
	up := scanUpload{body: buf.Bytes(), wire: buf.Len()}
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(up.body))
		if err != nil {
			writeError(w, http.StatusBadRequest, "scan is not valid gzip: "+err.Error())
			return scanUpload{}, false
		}
		var out bytes.Buffer
		out.Grow(int(min(int64(up.wire)*8, limit)) + bytes.MinRead)
		// At most limit+1 bytes are inflated: a gzip bomb costs no more
		// memory than an uncompressed scan at the cap.
		n, err := out.ReadFrom(io.LimitReader(zr, limit+1))
		if err != nil {
			writeError(w, http.StatusBadRequest, "scan is not valid gzip: "+err.Error())
			return scanUpload{}, false
		}
		if n > limit {
			tooLarge(" once decompressed")
			return scanUpload{}, false
		}
		up.body = out.Bytes()
	default:
		writeError(w, http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Encoding %q is not supported: send gzip or none", truncate(enc, 32)))
		return scanUpload{}, false
	}
	if !bytes.Contains(up.body, []byte(`"`+protocol.DigestKey+`"`)) {
		return up, true
	}
	return s.rebuildScan(w, r, devID, up)
}

// rebuildScan puts the sections the platform holds in place of their
// placeholders.
func (s *Server) rebuildScan(w http.ResponseWriter, r *http.Request, devID int64, up scanUpload) (scanUpload, bool) {
	secs, err := protocol.ScanSections(up.body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "malformed scan report: "+err.Error())
		return scanUpload{}, false
	}
	digests := make([]string, len(secs))
	var want []string
	for i, sec := range secs {
		d, ok, err := protocol.PlaceholderDigest(sec.Value(up.body))
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("scan section %q: %v", truncate(sec.Key, 64), err))
			return scanUpload{}, false
		}
		if ok {
			digests[i] = d
			want = append(want, d)
		}
	}
	if len(want) == 0 {
		return up, true
	}
	if len(want) > maxPlaceholders {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("scan has %d section placeholders, more than %d", len(want), maxPlaceholders))
		return scanUpload{}, false
	}
	held, err := s.st.ScanSections(r.Context(), devID, want)
	if err != nil {
		s.dbError(w, r, err)
		return scanUpload{}, false
	}
	size := int64(len(up.body))
	for i, sec := range secs {
		if digests[i] == "" {
			continue
		}
		b, ok := held[digests[i]]
		if !ok {
			s.log.Info("scan names a section the platform does not hold; asking for the full scan", "device_id", devID, "section", truncate(sec.Key, 64), "digest", digests[i])
			writeJSON(w, http.StatusConflict, fullScanRequired{
				Error:            fmt.Sprintf("unknown section digest %s (section %q): send the full scan", digests[i], truncate(sec.Key, 64)),
				FullScanRequired: true,
			})
			return scanUpload{}, false
		}
		size += int64(len(b) - (sec.End - sec.Start))
	}
	// A section named many times would rebuild a document larger than
	// any upload: the cap holds for the rebuilt size too.
	if size > s.cfg.MaxScanBytes {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("scan is larger than %d bytes once rebuilt from its section digests", s.cfg.MaxScanBytes))
		return scanUpload{}, false
	}
	up.body = protocol.Splice(up.body, secs, func(i int) []byte {
		if digests[i] == "" {
			return nil
		}
		return held[digests[i]]
	})
	up.reused = len(want)
	return up, true
}
