package server

import (
	"crypto/ed25519"
	"crypto/sha256"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/amagent/amagent/agent/bundle"
	"github.com/amagent/amagent/platform/internal/fleet"
	"github.com/amagent/amagent/platform/internal/store"
)

// Admin API request bodies.
type (
	// QueueRequest is the body of POST /api/devices/{device}/commands.
	QueueRequest struct {
		Command string   `json:"command"`
		Params  []string `json:"params"`
	}
	// QueueResponse answers it.
	QueueResponse struct {
		ID int64 `json:"id"`
	}
	// GroupRequest is the body of POST /api/groups and PUT /api/groups/{name}.
	GroupRequest struct {
		Name         string `json:"name"`
		ScanInterval int    `json:"scan_interval"`
	}
	// MoveRequest is the body of PUT /api/devices/{device}/group.
	MoveRequest struct {
		Group string `json:"group"`
	}
	// WorkletRequest is the body of POST /api/worklets.
	WorkletRequest struct {
		Manifest string `json:"manifest"`
		Module   []byte `json:"module"` // base64
	}
)

func (s *Server) adminRoutes(mux *http.ServeMux) {
	a := func(m methods) http.Handler { return s.admin(m) }
	mux.Handle("/api/devices", a(methods{http.MethodGet: s.apiDevices}))
	mux.Handle("/api/devices/{device}", a(methods{http.MethodGet: s.apiDevice}))
	mux.Handle("/api/devices/{device}/commands", a(methods{http.MethodPost: s.apiQueue}))
	mux.Handle("/api/devices/{device}/results", a(methods{http.MethodGet: s.apiResults}))
	mux.Handle("/api/devices/{device}/group", a(methods{http.MethodPut: s.apiMove}))
	mux.Handle("/api/devices/{device}/reset", a(methods{http.MethodPost: s.apiReset}))
	mux.Handle("/api/groups", a(methods{http.MethodGet: s.apiGroups, http.MethodPost: s.apiAddGroup}))
	mux.Handle("/api/groups/{group}", a(methods{http.MethodPut: s.apiSetInterval}))
	mux.Handle("/api/groups/{group}/assignments", a(methods{http.MethodPost: s.apiAssign}))
	mux.Handle("/api/groups/{group}/assignments/{worklet}", a(methods{http.MethodDelete: s.apiUnassign}))
	mux.Handle("/api/worklets", a(methods{http.MethodGet: s.apiWorklets, http.MethodPost: s.apiAddWorklet}))
	mux.Handle("/api/key", a(methods{http.MethodGet: s.apiKey}))
	mux.Handle("/api/worklets/{name}/release", a(methods{http.MethodPost: s.apiRelease})) // release.go
	mux.Handle("/api/devices/{device}/retire", a(methods{http.MethodPost: s.apiRetire}))  // reports.go
	mux.Handle("/api/commands/{id}/cancel", a(methods{http.MethodPost: s.apiCancel}))     // reports.go
	mux.Handle("/api/software", a(methods{http.MethodGet: s.apiSoftware}))                // reports.go
	mux.Handle("/api/", a(methods{}))
}

// admin checks the admin bearer token before h.
func (s *Server) admin(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || !s.secretMatches(r.Context(), sha256.Sum256([]byte(tok)), &s.adminHash) {
			writeError(w, http.StatusUnauthorized, "admin token required (Authorization: Bearer <admin token>)")
			return
		}
		if m, ok := h.(methods); ok && len(m) == 0 {
			writeError(w, http.StatusNotFound, "no such endpoint: "+r.URL.Path)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func (s *Server) apiDevices(w http.ResponseWriter, r *http.Request) {
	devs, err := s.st.Devices(r.Context())
	if err != nil {
		s.dbError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, fleet.Views(devs, s.cfg.Now(), s.cfg.CheckinInterval))
}

func (s *Server) findDevice(w http.ResponseWriter, r *http.Request) (store.Device, bool) {
	d, err := s.st.FindDevice(r.Context(), r.PathValue("device"))
	if err != nil {
		s.dbError(w, r, err)
		return d, false
	}
	return d, true
}

func (s *Server) apiDevice(w http.ResponseWriter, r *http.Request) {
	if d, ok := s.findDevice(w, r); ok {
		writeJSON(w, http.StatusOK, fleet.DeviceView{Device: d, Online: fleet.Online(d, s.cfg.Now(), s.cfg.CheckinInterval)})
	}
}

func (s *Server) apiQueue(w http.ResponseWriter, r *http.Request) {
	var req QueueRequest
	if !decode(w, r, maxAdminBody, &req) {
		return
	}
	if err := fleet.ValidateCommand(req.Command, req.Params); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	d, ok := s.findDevice(w, r)
	if !ok {
		return
	}
	id, err := s.st.QueueCommand(r.Context(), d.ID, req.Command, req.Params, s.cfg.Now())
	if err != nil {
		s.dbError(w, r, err)
		return
	}
	s.log.Info("command queued", "device_uuid", d.UUID, "command_id", id, "command", req.Command)
	writeJSON(w, http.StatusCreated, QueueResponse{ID: id})
}

func (s *Server) apiResults(w http.ResponseWriter, r *http.Request) {
	d, ok := s.findDevice(w, r)
	if !ok {
		return
	}
	res, err := fleet.DeviceResults(r.Context(), s.st, d, s.cfg.Now(), s.cfg.CheckinInterval)
	if err != nil {
		s.dbError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) apiMove(w http.ResponseWriter, r *http.Request) {
	var req MoveRequest
	if !decode(w, r, maxAdminBody, &req) {
		return
	}
	d, ok := s.findDevice(w, r)
	if !ok {
		return
	}
	if err := s.st.MoveDevice(r.Context(), d.ID, req.Group); err != nil {
		s.dbError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "moved"})
}

// ResetResponse answers POST /api/devices/{uuid}/reset.
type ResetResponse struct {
	Status string `json:"status"`
	UUID   string `json:"uuid"`
}

// apiReset releases a device's key binding (a reinstalled machine that
// keeps its UUID). Only a UUID names the device: hostnames are chosen by
// devices.
func (s *Server) apiReset(w http.ResponseWriter, r *http.Request) {
	ref := r.PathValue("device")
	if _, err := uuid.Parse(ref); err != nil {
		writeError(w, http.StatusBadRequest, "reset names a device by its UUID, not by hostname")
		return
	}
	d, ok := s.findDevice(w, r)
	if !ok {
		return
	}
	if err := s.st.ResetDevice(r.Context(), d.ID); err != nil {
		s.dbError(w, r, err)
		return
	}
	s.log.Warn("device key binding released", "device_uuid", d.UUID, "device_id", d.ID)
	writeJSON(w, http.StatusOK, ResetResponse{Status: "reset", UUID: d.UUID})
}

func (s *Server) apiGroups(w http.ResponseWriter, r *http.Request) {
	gs, err := s.st.Groups(r.Context())
	if err != nil {
		s.dbError(w, r, err)
		return
	}
	fleet.RedactGroups(r.Context(), s.st, gs)
	writeJSON(w, http.StatusOK, gs)
}

func (s *Server) apiAddGroup(w http.ResponseWriter, r *http.Request) {
	var req GroupRequest
	if !decode(w, r, maxAdminBody, &req) {
		return
	}
	if req.ScanInterval == 0 {
		req.ScanInterval = store.DefaultScanInterval
	}
	if err := store.ValidScanInterval(req.ScanInterval); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if !fleet.ValidName(req.Name) {
		writeError(w, http.StatusBadRequest, "group name must be lowercase letters, digits and dashes")
		return
	}
	if err := s.st.AddGroup(r.Context(), req.Name, req.ScanInterval); err != nil {
		s.dbError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, req)
}

func (s *Server) apiSetInterval(w http.ResponseWriter, r *http.Request) {
	var req GroupRequest
	if !decode(w, r, maxAdminBody, &req) {
		return
	}
	if err := store.ValidScanInterval(req.ScanInterval); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := s.st.SetScanInterval(r.Context(), r.PathValue("group"), req.ScanInterval); err != nil {
		s.dbError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, GroupRequest{Name: r.PathValue("group"), ScanInterval: req.ScanInterval})
}

func (s *Server) apiAssign(w http.ResponseWriter, r *http.Request) {
	var req store.Assignment
	if !decode(w, r, maxAdminBody, &req) {
		return
	}
	if err := fleet.ValidateRemediate(req.Remediate); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	a, err := s.st.Assign(r.Context(), r.PathValue("group"), req)
	if err != nil {
		s.dbError(w, r, err)
		return
	}
	// Secret parameters are write-only.
	a.Params = fleet.RedactParams(r.Context(), s.st, a.Worklet, a.Version, a.Params)
	writeJSON(w, http.StatusOK, a)
}

func (s *Server) apiUnassign(w http.ResponseWriter, r *http.Request) {
	if err := s.st.Unassign(r.Context(), r.PathValue("group"), r.PathValue("worklet")); err != nil {
		s.dbError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "unassigned"})
}

func (s *Server) apiWorklets(w http.ResponseWriter, r *http.Request) {
	ws, err := s.st.Worklets(r.Context())
	if err != nil {
		s.dbError(w, r, err)
		return
	}
	if ws == nil {
		ws = []store.Worklet{}
	}
	writeJSON(w, http.StatusOK, ws)
}

func (s *Server) apiAddWorklet(w http.ResponseWriter, r *http.Request) {
	if s.cfg.SigningKey == nil {
		writeError(w, http.StatusServiceUnavailable, "this server has no signing key; use `amplatform worklet add`")
		return
	}
	var req WorkletRequest
	if !decode(w, r, maxAdminBody, &req) {
		return
	}
	wk, err := fleet.BuildWorklet([]byte(req.Manifest), req.Module, s.cfg.SigningKey, s.cfg.Now())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := s.st.AddWorklet(r.Context(), wk); err != nil {
		s.dbError(w, r, err)
		return
	}
	s.log.Info("worklet added", "name", wk.Name, "version", wk.Version, "sha256", wk.SHA256)
	writeJSON(w, http.StatusCreated, wk)
}

func (s *Server) apiKey(w http.ResponseWriter, r *http.Request) {
	if s.cfg.SigningKey == nil {
		writeError(w, http.StatusNotFound, "this server has no signing key")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"public_key": bundle.FormatPublicKey(s.cfg.SigningKey.Public().(ed25519.PublicKey))})
}
