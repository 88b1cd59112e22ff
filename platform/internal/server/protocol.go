package server

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/amagent/amagent/agent/protocol"
	"github.com/amagent/amagent/platform/internal/fleet"
	"github.com/amagent/amagent/platform/internal/store"
)

func (s *Server) enroll(w http.ResponseWriter, r *http.Request) {
	now := s.cfg.Now()
	// The platform's clock travels with every answer, so that a device
	// whose clock is off can sign again with it (PROTOCOL.md, Identity).
	w.Header().Set("Date", now.UTC().Format(http.TimeFormat))
	var req protocol.EnrollRequest
	if !decode(w, r, maxEnrollBody, &req) {
		return
	}
	if !s.secretMatches(r.Context(), sha256.Sum256([]byte(req.AccessKey)), &s.accessHash) {
		s.log.Warn("enrollment refused: wrong access key", "remote", r.RemoteAddr, "device_uuid", truncate(req.DeviceUUID, 64))
		writeError(w, http.StatusUnauthorized, "wrong access key")
		return
	}
	id, err := uuid.Parse(req.DeviceUUID)
	if err != nil {
		writeError(w, http.StatusBadRequest, "device_uuid is not a UUID")
		return
	}
	if err := validHostname(req.Hostname); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	pub, signedAt, status, msg := verifyEnrollment(req, now)
	if status != 0 {
		s.log.Warn("enrollment refused", "remote", r.RemoteAddr, "device_uuid", id.String(), "status", status, "reason", msg)
		writeError(w, status, msg)
		return
	}
	tok := fleet.NewToken()
	hash := sha256.Sum256([]byte(tok))
	devID, err := s.st.Enroll(r.Context(), store.Enrollment{
		UUID: id.String(), Hostname: req.Hostname, TokenHash: hex.EncodeToString(hash[:]),
		DeviceKey: base64.StdEncoding.EncodeToString(pub),
		Signature: req.Signature, SignedAt: req.Time, Expires: signedAt.Add(2 * enrollMaxSkew),
	}, now)
	switch {
	case errors.Is(err, store.ErrKeyMismatch):
		s.log.Warn("enrollment refused: the device is bound to another key", "remote", r.RemoteAddr, "device_uuid", id.String())
		writeError(w, http.StatusConflict, fmt.Sprintf("device %s is bound to another device key; nothing was changed "+
			"(if this machine was reinstalled, an admin can release the binding: amplatform devices reset %s)", id, id))
		return
	case errors.Is(err, store.ErrReplay):
		s.log.Warn("enrollment refused: replayed", "remote", r.RemoteAddr, "device_uuid", id.String())
		writeError(w, http.StatusUnauthorized, "this signed enrollment was already used (a replay): sign again with a new time")
		return
	case err != nil:
		s.dbError(w, r, err)
		return
	}
	s.log.Info("device enrolled", "device_uuid", id.String(), "hostname", req.Hostname, "device_id", devID)
	writeJSON(w, http.StatusOK, protocol.EnrollResponse{DeviceToken: tok})
}

const enrollMaxSkew = protocol.EnrollMaxSkew * time.Second

// verifyEnrollment checks an enrollment's device key, time and signature.
// On failure it returns the status and the reason to answer.
func verifyEnrollment(req protocol.EnrollRequest, now time.Time) (ed25519.PublicKey, time.Time, int, string) {
	if req.DeviceKey == "" {
		return nil, time.Time{}, http.StatusBadRequest, "device_key is missing: an enrollment carries the device's ed25519 public key (base64), its time and its signature (PROTOCOL.md, Identity)"
	}
	key, err := base64.StdEncoding.DecodeString(req.DeviceKey)
	if err != nil || len(key) != ed25519.PublicKeySize {
		return nil, time.Time{}, http.StatusBadRequest, fmt.Sprintf("device_key must be the standard base64 of a %d-byte ed25519 public key", ed25519.PublicKeySize)
	}
	if req.Time == "" {
		return nil, time.Time{}, http.StatusBadRequest, "time is missing: the RFC 3339 time the enrollment was signed at"
	}
	at, err := time.Parse(time.RFC3339, req.Time)
	if err != nil {
		return nil, time.Time{}, http.StatusBadRequest, "time must be an RFC 3339 time, e.g. 2026-11-25T12:00:00Z"
	}
	if req.Signature == "" {
		return nil, time.Time{}, http.StatusBadRequest, "signature is missing: the device key's ed25519 signature over amagent-enroll-v1\\n<uuid>\\n<time>"
	}
	sig, err := base64.StdEncoding.DecodeString(req.Signature)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return nil, time.Time{}, http.StatusBadRequest, fmt.Sprintf("signature must be the standard base64 of a %d-byte ed25519 signature", ed25519.SignatureSize)
	}
	if d := now.Sub(at); d > enrollMaxSkew || d < -enrollMaxSkew {
		return nil, time.Time{}, http.StatusUnauthorized, fmt.Sprintf("time is off: the enrollment was signed at %s, %s from the platform's clock (%s, see the Date header), more than the %s allowed; sign again with the platform's time",
			req.Time, d.Abs().Round(time.Second), now.UTC().Format(time.RFC3339), enrollMaxSkew)
	}
	if !ed25519.Verify(key, protocol.EnrollMessage(req.DeviceUUID, req.Time), sig) {
		return nil, time.Time{}, http.StatusUnauthorized, "signature does not verify with device_key over amagent-enroll-v1\\n<device_uuid>\\n<time>"
	}
	return key, at, 0, ""
}

func validHostname(h string) error {
	if h == "" || len(h) > 253 {
		return errors.New("hostname must be 1 to 253 characters")
	}
	if !utf8.ValidString(h) {
		return errors.New("hostname is not UTF-8")
	}
	for _, c := range h {
		// Graphic excludes controls, C1 controls and format characters
		// such as bidi overrides: a hostname is shown to operators.
		if !unicode.IsGraphic(c) || unicode.IsSpace(c) {
			return errors.New("hostname contains spaces, control or format characters")
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// credentials returns the request's device UUID and the SHA-256 of its
// token; on failure it has answered 401.
func credentials(w http.ResponseWriter, r *http.Request) (string, [32]byte, bool) {
	tok, ok := strings.CutPrefix(r.Header.Get(protocol.HeaderAuthorization), "Bearer ")
	id := r.Header.Get(protocol.HeaderDeviceUUID)
	if !ok || tok == "" || id == "" {
		writeError(w, http.StatusUnauthorized, "missing device credentials (Authorization: Bearer and X-Device-UUID)")
		return "", [32]byte{}, false
	}
	return id, sha256.Sum256([]byte(tok)), true
}

// tokenMatches compares a token's hash with the stored hex hash in
// constant time; on mismatch it answers 401.
func tokenMatches(w http.ResponseWriter, hash [32]byte, stored string) bool {
	want, err := hex.DecodeString(stored)
	if err != nil || subtle.ConstantTimeCompare(hash[:], want) != 1 {
		writeError(w, http.StatusUnauthorized, "wrong device token: enroll again")
		return false
	}
	return true
}

// device authenticates the request's device and returns its id; on failure
// it has answered 401.
func (s *Server) device(w http.ResponseWriter, r *http.Request) (int64, bool) {
	a, ok := s.deviceAuth(w, r)
	return a.ID, ok
}

// deviceAuth is device with the device's group.
func (s *Server) deviceAuth(w http.ResponseWriter, r *http.Request) (store.DeviceAuth, bool) {
	id, hash, ok := credentials(w, r)
	if !ok {
		return store.DeviceAuth{}, false
	}
	a, err := s.st.DeviceAuth(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusUnauthorized, "unknown device: enroll again")
		return store.DeviceAuth{}, false
	}
	if err != nil {
		s.dbError(w, r, err)
		return store.DeviceAuth{}, false
	}
	if !tokenMatches(w, hash, a.TokenHash) {
		return store.DeviceAuth{}, false
	}
	return a, true
}

var tzPattern = regexp.MustCompile(`^[+-](0[0-9]|1[0-4])[0-5][0-9]$`)

func (s *Server) checkin(w http.ResponseWriter, r *http.Request) {
	// One query authenticates the device and reads what the answer needs.
	devUUID, hash, ok := credentials(w, r)
	if !ok {
		return
	}
	now := s.cfg.Now()
	ctx := r.Context()
	run := agentRun(r)
	info, err := s.st.CheckinInfo(ctx, devUUID, run, now, s.cfg.CommandTimeout)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusUnauthorized, "unknown device: enroll again")
		return
	}
	if err != nil {
		s.dbError(w, r, err)
		return
	}
	if !tokenMatches(w, hash, info.TokenHash) {
		return
	}
	devID := info.DeviceID
	r.Body = http.MaxBytesReader(w, r.Body, maxCheckinBody)
	if _, err := io.Copy(io.Discard, r.Body); err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "check-in body is too large")
		return
	}
	q := r.URL.Query()
	c := store.Checkin{DeviceID: devID, AgentVersion: q.Get("ver"), TZ: q.Get("tz"), At: now}
	if v := q.Get("uptime"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, "uptime must be whole seconds >= 0")
			return
		}
		c.Uptime = n
	}
	if c.TZ != "" && !tzPattern.MatchString(c.TZ) {
		writeError(w, http.StatusBadRequest, "tz must be a UTC offset like -0500 or +0530 (URL-encode the +)")
		return
	}
	if len(c.AgentVersion) > 64 || !utf8.ValidString(c.AgentVersion) || strings.ContainsFunc(c.AgentVersion, func(r rune) bool { return !unicode.IsGraphic(r) }) {
		writeError(w, http.StatusBadRequest, "ver must be at most 64 printable characters")
		return
	}
	s.pendMu.Lock()
	s.pending[devID] = c
	s.pendMu.Unlock()

	resp := protocol.CheckinResponse{Command: protocol.CmdNop, Params: protocol.Params{}}
	if info.HasCommand {
		cmd, ok, err := s.st.ClaimCommand(ctx, devID, run, c.At, s.cfg.CommandTimeout)
		if err != nil {
			s.dbError(w, r, err)
			return
		}
		if ok {
			resp.ID, resp.Command, resp.Params = cmd.ID, cmd.Command, cmd.Params
			s.log.Info("command handed out", "device_id", devID, "command_id", cmd.ID, "command", cmd.Command, "offers", cmd.Offers)
		}
	}
	list, err := s.assignments(r, info)
	if err != nil {
		s.dbError(w, r, err)
		return
	}
	list = s.withReleases(list, info) // release.go
	resp.Config = &protocol.Config{
		CheckinInterval: int(s.cfg.CheckinInterval / time.Second),
		ScanInterval:    info.ScanInterval,
		Worklets:        list,
	}
	w.Header().Set(protocol.HeaderScanDeltas, protocol.ScanDeltasV1) // scandelta.go
	writeJSON(w, http.StatusOK, resp)
}

// assignments returns the group's assignments, cached per group version.
func (s *Server) assignments(r *http.Request, info store.CheckinInfo) ([]protocol.Assignment, error) {
	s.cfgMu.RLock()
	e, ok := s.groupCfg[info.GroupID]
	s.cfgMu.RUnlock()
	if ok && e.version == info.GroupVersion {
		return e.list, nil
	}
	list, err := s.st.GroupAssignments(r.Context(), info.GroupID)
	if err != nil {
		return nil, err
	}
	s.cfgMu.Lock()
	s.groupCfg[info.GroupID] = groupEntry{version: info.GroupVersion, list: list}
	s.cfgMu.Unlock()
	return list, nil
}

// resultIn mirrors protocol.CommandResult but accepts an empty started_at.
type resultIn struct {
	Status    string          `json:"status"`
	Error     string          `json:"error"`
	StartedAt string          `json:"started_at"`
	ElapsedMS int64           `json:"elapsed_ms"`
	Output    json.RawMessage `json:"output"`
}

func (s *Server) result(w http.ResponseWriter, r *http.Request) {
	cmdID, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || cmdID <= 0 {
		writeError(w, http.StatusNotFound, "no such command")
		return
	}
	devID, ok := s.device(w, r)
	if !ok {
		return
	}
	var in resultIn
	if !decode(w, r, maxResultBody, &in) {
		return
	}
	if in.Status != protocol.StatusOK && in.Status != protocol.StatusError {
		writeError(w, http.StatusBadRequest, `status must be "ok" or "error"`)
		return
	}
	res := protocol.CommandResult{Status: in.Status, Error: in.Error, ElapsedMS: in.ElapsedMS, Output: in.Output}
	if in.StartedAt != "" {
		t, err := time.Parse(time.RFC3339Nano, in.StartedAt)
		if err != nil {
			writeError(w, http.StatusBadRequest, "started_at must be an RFC 3339 time")
			return
		}
		res.StartedAt = t
	}
	err = s.st.CompleteCommand(r.Context(), devID, cmdID, res, s.cfg.Now())
	switch {
	case errors.Is(err, store.ErrAlreadyDone):
		// A re-delivered result (outbox, or a re-offered command that ran
		// twice): the first one stays, the agent may drop this one.
		writeJSON(w, http.StatusOK, map[string]string{"status": "duplicate"})
		return
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "no such command for this device")
		return
	case err != nil:
		s.dbError(w, r, err)
		return
	}
	s.log.Info("command result stored", "device_id", devID, "command_id", cmdID, "status", in.Status)
	writeJSON(w, http.StatusOK, map[string]string{"status": "stored"})
}

// scanIn is the part of a scan report the platform reads (the report is
// stored whole); the scan document itself is skipped, not copied.
type scanIn struct {
	ScanID    string                   `json:"scan_id"`
	StartedAt string                   `json:"started_at"`
	Results   []protocol.WorkletResult `json:"results"`
}

// Summarize counts a scan's outcomes, taking the last evaluation of each
// worklet (a remediation is followed by a second evaluation).
func Summarize(results []protocol.WorkletResult) store.Summary {
	last := map[string]string{}
	var order []string
	for _, r := range results {
		if r.Phase == "remediate" {
			continue
		}
		if _, seen := last[r.Name]; !seen {
			order = append(order, r.Name)
		}
		last[r.Name] = r.Status
	}
	var sum store.Summary
	for _, name := range order {
		switch last[name] {
		case "compliant":
			sum.Compliant++
		case "non-compliant":
			sum.NonCompliant++
		case "error", "timeout":
			sum.Error++
		case "quarantined":
			sum.Quarantined++
		}
	}
	return sum
}

func (s *Server) scan(w http.ResponseWriter, r *http.Request) {
	devID, ok := s.device(w, r)
	if !ok {
		return
	}
	// This platform takes section digests and gzip (scandelta.go).
	w.Header().Set(protocol.HeaderScanDeltas, protocol.ScanDeltasV1)
	// One upload per device (and MaxScans in all) is read at a time; a
	// refused one is answered before a byte of its body is read.
	release, reason, ok := s.scans.acquire(devID)
	if !ok {
		w.Header().Set("Retry-After", scanRetryAfter)
		writeError(w, http.StatusTooManyRequests, reason)
		return
	}
	defer release()
	if s.scanReceiving != nil {
		s.scanReceiving(devID)
	}
	up, ok := s.readScan(w, r, devID) // scandelta.go: gzip, section digests
	if !ok {
		return
	}
	body := up.body
	var in scanIn
	if err := json.Unmarshal(body, &in); err != nil {
		writeError(w, http.StatusBadRequest, "malformed scan report: "+err.Error())
		return
	}
	if in.ScanID == "" || len(in.ScanID) > 128 {
		writeError(w, http.StatusBadRequest, "scan_id must be 1 to 128 characters")
		return
	}
	var started time.Time
	if in.StartedAt != "" {
		t, err := time.Parse(time.RFC3339Nano, in.StartedAt)
		if err != nil {
			writeError(w, http.StatusBadRequest, "started_at must be an RFC 3339 time")
			return
		}
		started = t
	}
	sum := Summarize(in.Results)
	outcome, err := s.st.SaveScan(r.Context(), devID, store.NewScan{ID: in.ScanID, StartedAt: started, Report: body, Summary: sum}, s.cfg.Now())
	if err != nil {
		s.dbError(w, r, err)
		return
	}
	// A repeated or an older scan is acknowledged (the agent's outbox can
	// drop it) and never replaces the device's latest.
	switch outcome {
	case store.ScanStored:
		s.log.Info("scan stored", "device_id", devID, "scan_id", in.ScanID, "compliant", sum.Compliant, "non_compliant", sum.NonCompliant, "error", sum.Error, "quarantined", sum.Quarantined,
			"bytes_received", up.wire, "bytes", len(body), "sections_from_digest", up.reused)
	case store.ScanDuplicate:
		s.log.Info("scan received again; kept once", "device_id", devID, "scan_id", in.ScanID)
	default:
		s.log.Info("scan older than the device's latest; not made the latest", "device_id", devID, "scan_id", in.ScanID, "started_at", in.StartedAt)
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": string(outcome)})
}

// BundleResponse is the answer to GET /bundles/<name>/<version>.
type BundleResponse struct {
	Name           string `json:"name"`
	Version        string `json:"version"`
	Kind           string `json:"kind"`
	Manifest       string `json:"manifest"`
	Module         []byte `json:"module"` // base64 on the wire
	SHA256         string `json:"sha256"`
	ManifestSHA256 string `json:"manifest_sha256"`
	Signature      string `json:"signature"`
}

func (s *Server) bundle(w http.ResponseWriter, r *http.Request) {
	dev, ok := s.deviceAuth(w, r)
	if !ok {
		return
	}
	name, version := r.PathValue("name"), r.PathValue("version")
	if !fleet.ValidName(name) || !fleet.ValidVersion(version) {
		writeError(w, http.StatusNotFound, "no such bundle")
		return
	}
	// A device gets only the bundles assigned to its group.
	assigned, err := s.st.GroupAssignments(r.Context(), dev.GroupID)
	if err != nil {
		s.dbError(w, r, err)
		return
	}
	if !slices.ContainsFunc(assigned, func(a protocol.Assignment) bool { return a.Name == name && a.Version == version }) {
		writeError(w, http.StatusNotFound, "no such bundle assigned to this device")
		return
	}
	key := name + "/" + version
	s.bundleMu.RLock()
	b, ok := s.bundles[key]
	s.bundleMu.RUnlock()
	if !ok {
		wk, err := s.st.Worklet(r.Context(), name, version)
		if err != nil {
			s.dbError(w, r, err)
			return
		}
		b, err = json.Marshal(BundleResponse{
			Name: wk.Name, Version: wk.Version, Kind: wk.Kind, Manifest: wk.Manifest, Module: wk.Module,
			SHA256: wk.SHA256, ManifestSHA256: wk.ManifestSHA256, Signature: wk.Signature,
		})
		if err != nil {
			writeError(w, http.StatusInternalServerError, "encoding the bundle failed")
			return
		}
		s.bundleMu.Lock()
		if len(s.bundles) < 256 { // bundles never change once added
			s.bundles[key] = b
		}
		s.bundleMu.Unlock()
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}
