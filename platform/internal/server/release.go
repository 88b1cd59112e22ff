package server

import (
	"net/http"
	"unicode"

	"github.com/amagent/amagent/agent/protocol"
	"github.com/amagent/amagent/platform/internal/fleet"
	"github.com/amagent/amagent/platform/internal/store"
)

// ReleaseRequest is the body of POST /api/worklets/{name}/release; without
// a device the worklet is released on every device.
type ReleaseRequest struct {
	Device string `json:"device"` // UUID or hostname; "" for every device
}

// ReleaseResponse answers it.
type ReleaseResponse struct {
	Worklet string `json:"worklet"`
	Device  string `json:"device_uuid,omitempty"`
	Release int64  `json:"release"`
}

// apiRelease lifts a worklet's quarantine (`amplatform worklet release`):
// the agents learn it from the release counter of the worklet's
// assignment at their next check-in.
func (s *Server) apiRelease(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if !fleet.ValidName(name) {
		writeError(w, http.StatusNotFound, "no such worklet")
		return
	}
	var req ReleaseRequest
	if r.ContentLength != 0 && !decode(w, r, maxAdminBody, &req) {
		return
	}
	var dev store.Device
	if req.Device != "" {
		d, err := s.st.FindDevice(r.Context(), req.Device)
		if err != nil {
			s.dbError(w, r, err)
			return
		}
		dev = d
	}
	n, err := s.st.ReleaseWorklet(r.Context(), name, dev.ID)
	if err != nil {
		s.dbError(w, r, err)
		return
	}
	s.log.Info("worklet quarantine released", "worklet", name, "device_uuid", dev.UUID, "release", n)
	writeJSON(w, http.StatusOK, ReleaseResponse{Worklet: name, Device: dev.UUID, Release: n})
}

// withReleases adds the device's own release counters to the group's
// assignments (which are cached and shared: a device with counters gets a
// copy).
func (s *Server) withReleases(list []protocol.Assignment, info store.CheckinInfo) []protocol.Assignment {
	if info.Releases == "" || len(list) == 0 {
		return list
	}
	rel, err := store.ParseReleases(info.Releases)
	if err != nil {
		s.log.Error("device release counters unreadable; sending the fleet-wide ones", "device_id", info.DeviceID, "err", err)
		return list
	}
	out := make([]protocol.Assignment, len(list))
	copy(out, list)
	for i := range out {
		out[i].Release += rel[out[i].Name]
	}
	return out
}

// agentRun is the check-in's X-Agent-Run (protocol.HeaderAgentRun), or ""
// when it is missing or not a short printable token (it is only compared).
func agentRun(r *http.Request) string {
	v := r.Header.Get(protocol.HeaderAgentRun)
	if len(v) > 64 {
		return ""
	}
	for _, c := range v {
		if c > unicode.MaxASCII || !unicode.IsPrint(c) || c == ' ' {
			return ""
		}
	}
	return v
}
