package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/amagent/amagent/agent/protocol"
	"github.com/amagent/amagent/agent/scandoc"
	"github.com/amagent/amagent/platform/internal/store"
)

func TestRetireCancelSoftwareAPI(t *testing.T) {
	st := store.OpenTestSQLite(t, 1)
	e := newEnv(t, st)
	ctx, s := t.Context(), st[0]
	admin := map[string]string{"Authorization": "Bearer " + testAdminToken}
	devs := map[string]int64{}
	uuids := map[string]string{}
	for host, bash := range map[string]string{"web1": "5.2.15-2", "web2": "5.1-2"} {
		id := uuid.NewString()
		dev, err := s.Enroll(ctx, store.Enrollment{UUID: id, Hostname: host, TokenHash: "x"}, e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		devs[host], uuids[host] = dev, id
		doc, _ := json.Marshal(scandoc.Document{Software: []scandoc.Package{{Name: "bash", Version: bash, Source: "dpkg"}}})
		rep, _ := json.Marshal(protocol.ScanReport{ScanID: "s-" + host, StartedAt: e.clock.Now(), Scan: doc})
		if _, err := s.SaveScan(ctx, dev, store.NewScan{ID: "s-" + host, StartedAt: e.clock.Now(), Report: rep}, e.clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	code, body := call(t, http.MethodGet, e.url[0]+"/api/software?name=bash&below=5.2", admin, nil)
	var sw SoftwareResponse
	if json.Unmarshal(body, &sw); code != http.StatusOK || len(sw.Devices) != 1 || sw.Devices[0].Hostname != "web2" {
		t.Fatalf("software below 5.2 = %d %s", code, body)
	}
	if code, body := call(t, http.MethodGet, e.url[0]+"/api/software?name=bash&below=%21", admin, nil); code != http.StatusBadRequest {
		t.Fatalf("a malformed version = %d %s", code, body)
	}
	if code, _ := call(t, http.MethodGet, e.url[0]+"/api/software?name=bash", nil, nil); code != http.StatusUnauthorized {
		t.Fatalf("software without the admin token = %d", code)
	}
	id, _ := s.QueueCommand(ctx, devs["web1"], protocol.CmdScan, nil, e.clock.Now())
	cancel := fmt.Sprintf("%s/api/commands/%d/cancel", e.url[0], id)
	if code, body := call(t, http.MethodPost, cancel, admin, nil); code != http.StatusOK {
		t.Fatalf("cancel = %d %s", code, body)
	}
	if code, _ := call(t, http.MethodPost, cancel, admin, nil); code != http.StatusConflict {
		t.Fatalf("cancel twice = %d, want 409", code)
	}
	if code, _ := call(t, http.MethodPost, e.url[0]+"/api/commands/99999/cancel", admin, nil); code != http.StatusNotFound {
		t.Fatalf("cancel of no command = %d, want 404", code)
	}
	if code, _ := call(t, http.MethodPost, e.url[0]+"/api/devices/web1/retire", admin, nil); code != http.StatusBadRequest {
		t.Fatalf("retire by hostname = %d, want 400", code)
	}
	if code, body := call(t, http.MethodPost, e.url[0]+"/api/devices/"+uuids["web1"]+"/retire", admin, nil); code != http.StatusOK {
		t.Fatalf("retire = %d %s", code, body)
	}
	code, body = call(t, http.MethodGet, e.url[0]+"/api/devices", admin, nil)
	var list []struct{ Hostname string }
	if json.Unmarshal(body, &list); code != http.StatusOK || len(list) != 1 || list[0].Hostname != "web2" {
		t.Fatalf("devices after retire = %s", body)
	}
}
