package server

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/amagent/amagent/platform/internal/store"
)

// Admin API endpoints the fleet console and `amplatform devices retire`,
// `commands cancel` and `software` share (issue 13).

// RetireResponse answers POST /api/devices/{uuid}/retire.
type RetireResponse struct {
	Status string `json:"status"`
	UUID   string `json:"uuid"`
}

// apiRetire takes a device out of the fleet. Only a UUID names it:
// hostnames are chosen by devices.
func (s *Server) apiRetire(w http.ResponseWriter, r *http.Request) {
	if _, err := uuid.Parse(r.PathValue("device")); err != nil {
		writeError(w, http.StatusBadRequest, "retire names a device by its UUID, not by hostname")
		return
	}
	d, ok := s.findDevice(w, r)
	if !ok {
		return
	}
	if err := s.st.RetireDevice(r.Context(), d.ID, s.cfg.Now()); err != nil {
		s.dbError(w, r, err)
		return
	}
	s.log.Warn("device retired", "device_uuid", d.UUID, "device_id", d.ID)
	writeJSON(w, http.StatusOK, RetireResponse{Status: "retired", UUID: d.UUID})
}

// apiCancel ends a command that has no result yet (409 when it has one).
func (s *Server) apiCancel(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(w, http.StatusNotFound, "no such command")
		return
	}
	c, err := s.st.CancelCommand(r.Context(), id, s.cfg.Now())
	if err != nil {
		s.dbError(w, r, err)
		return
	}
	s.log.Info("command canceled", "command_id", id, "device_uuid", c.Device)
	writeJSON(w, http.StatusOK, c)
}

// SoftwareResponse answers GET /api/software?name=P[&below=V].
type SoftwareResponse struct {
	Name    string              `json:"name"`
	Below   string              `json:"below,omitempty"`
	Devices []store.SoftwareRow `json:"devices"`
}

// apiSoftware lists the devices whose newest scan has package name, at
// which versions, only those below a version when below is given.
func (s *Server) apiSoftware(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	name, below := strings.TrimSpace(q.Get("name")), strings.TrimSpace(q.Get("below"))
	if name == "" {
		writeError(w, http.StatusBadRequest, "name the package: /api/software?name=openssl[&below=3.0.15]")
		return
	}
	rows, err := s.st.SoftwareDevices(r.Context(), name)
	if err != nil {
		s.dbError(w, r, err)
		return
	}
	if below != "" {
		if rows, err = store.Below(rows, below); err != nil {
			writeError(w, http.StatusBadRequest, "below: "+err.Error())
			return
		}
	}
	writeJSON(w, http.StatusOK, SoftwareResponse{Name: name, Below: below, Devices: rows})
}
