package console

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/amagent/amagent/platform/internal/safetext"
	"github.com/amagent/amagent/platform/internal/store"
)

// maxExport caps the rows of one export.
const maxExport = 200000

// csvCell makes a device-chosen value safe in a spreadsheet: characters a
// terminal or a bidi-aware viewer acts on are escaped (safetext.Term), and
// a value a spreadsheet would read as a formula (= + - @) is prefixed
// with a quote.
func csvCell(s string) string {
	s = safetext.Term(s)
	if s != "" && strings.ContainsRune("=+-@", rune(s[0])) {
		return "'" + s
	}
	return s
}

// export writes rows as CSV (header first) or JSON (v), by the path's
// extension, as a download.
func export(w http.ResponseWriter, r *http.Request, name string, header []string, rows [][]string, v any) {
	now := time.Now().UTC().Format("20060102-150405")
	if strings.HasSuffix(r.URL.Path, ".json") {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			http.Error(w, "encoding failed", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%s.json"`, name, now))
		w.Header().Set("Cache-Control", "no-store")
		w.Write(append(safetext.JSON(b), '\n'))
		return
	}
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	cw.Write(header)
	for _, row := range rows {
		for i := range row {
			row[i] = csvCell(row[i])
		}
		cw.Write(row)
	}
	cw.Flush()
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%s.csv"`, name, now))
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}

// exportDevice is one device in the JSON export.
type exportDevice struct {
	store.DeviceRow
	Status string `json:"status"`
}

func (c *Console) devicesExport(w http.ResponseWriter, r *http.Request, p *page) {
	dq, _ := c.deviceQuery(r.URL.Query(), p.Now)
	dq.Offset, dq.Limit = 0, maxExport
	rows, _, err := c.st.ListDevices(r.Context(), dq)
	if err != nil {
		c.dbError(w, r, p, err)
		return
	}
	header := []string{"hostname", "uuid", "group", "os", "status", "last_check_in", "last_scan", "agent_version",
		"compliant", "non_compliant", "error", "quarantined", "not_applicable", "pending_updates", "security_updates", "reboot_required", "last_user"}
	out := make([][]string, 0, len(rows))
	js := make([]exportDevice, 0, len(rows))
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, d := range rows {
		st := c.deviceStatus(d.LastSeen, p.Now)
		o := d.Outcomes
		out = append(out, []string{d.Hostname, d.UUID, d.Group, d.OS, st, ts(d.LastSeen), ts(d.LastScan), d.AgentVersion,
			strconv.Itoa(o.Compliant), strconv.Itoa(o.NonCompliant), strconv.Itoa(o.Error), strconv.Itoa(o.Quarantined), strconv.Itoa(o.NotApplicable),
			strconv.Itoa(d.PendingUpdates), strconv.Itoa(d.SecurityUpdates), strconv.FormatBool(d.RebootRequired), d.LastUser})
		js = append(js, exportDevice{DeviceRow: d, Status: st})
	}
	export(w, r, "devices", header, out, js)
}

func (c *Console) complianceExport(w http.ResponseWriter, r *http.Request, p *page) {
	sum, err := c.st.FleetSummary(r.Context(), c.onlineSince(p.Now))
	if err != nil {
		c.dbError(w, r, p, err)
		return
	}
	header := []string{"worklet", "kind", "compliant", "non_compliant", "error", "quarantined", "not_applicable"}
	var out [][]string
	for _, x := range sum.Worklets {
		o := x.Outcomes
		out = append(out, []string{x.Name, x.Kind, strconv.Itoa(o.Compliant), strconv.Itoa(o.NonCompliant), strconv.Itoa(o.Error),
			strconv.Itoa(o.Quarantined), strconv.Itoa(o.NotApplicable)})
	}
	ws := sum.Worklets
	if ws == nil {
		ws = []store.WorkletOutcomes{}
	}
	export(w, r, "compliance", header, out, ws)
}

// softwareRows lists the devices with package name, only those with a
// version below below when it is set.
func (c *Console) softwareRows(r *http.Request, name, below string) ([]store.SoftwareRow, error) {
	rows, err := c.st.SoftwareDevices(r.Context(), name)
	if err != nil || below == "" {
		return rows, err
	}
	rows, err = store.Below(rows, below)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", err, errBadRequest)
	}
	return rows, nil
}

func (c *Console) softwareExport(w http.ResponseWriter, r *http.Request, p *page) {
	q := r.URL.Query()
	name := strings.TrimSpace(q.Get("name"))
	if name == "" {
		c.errorPage(w, r, p, http.StatusBadRequest, "name the package: ?name=openssl")
		return
	}
	rows, err := c.softwareRows(r, name, strings.TrimSpace(q.Get("below")))
	if err != nil {
		c.dbError(w, r, p, err)
		return
	}
	var out [][]string
	for _, x := range rows {
		out = append(out, []string{x.Hostname, x.UUID, x.Group, x.Name, x.Version, x.Architecture, x.Source})
	}
	export(w, r, "software-"+safeFileName(name), []string{"hostname", "uuid", "group", "package", "version", "architecture", "source"}, out, rows)
}

// safeFileName keeps letters, digits, dot, dash and underscore.
func safeFileName(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x80 && (r == '.' || r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return r
		}
		return '_'
	}, clip(s, 64))
}
