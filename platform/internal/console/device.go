package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/amagent/amagent/agent/protocol"
	"github.com/amagent/amagent/agent/scandoc"
	"github.com/amagent/amagent/platform/internal/fleet"
	"github.com/amagent/amagent/platform/internal/store"
	"github.com/amagent/amagent/wasm-modules/go/debver"
)

type deviceData struct {
	D        store.DeviceRow
	Status   string
	Retired  bool
	Scan     *store.Scan
	Report   *reportHead
	Doc      *scandoc.Document
	Bar      Chart
	Disks    *Table
	Results  *Table
	SWQuery  string
	Software *Table
	Patches  *Table
	Updates  *Table
	Commands *Table
	History  *Table
	Scans    []store.HistoryScan
	Diff     *diffData
	Groups   []string
	Assigned []string
}

type reportHead struct {
	ScanID    string
	Reason    string
	ElapsedMS int64
	Errors    map[string]string
}

type diffData struct {
	From, To store.HistoryScan
	Packages *Table
	Results  *Table
	Same     bool
}

func (c *Console) device(w http.ResponseWriter, r *http.Request, p *page) (store.Device, bool) {
	d, err := c.st.FindDevice(r.Context(), r.PathValue("uuid"))
	if err != nil {
		c.dbError(w, r, p, err)
		return d, false
	}
	return d, true
}

func (c *Console) devicePage(w http.ResponseWriter, r *http.Request, p *page) {
	ctx := r.Context()
	dev, ok := c.device(w, r, p)
	if !ok {
		return
	}
	row, err := c.st.DeviceRow(ctx, dev.ID)
	if err != nil {
		c.dbError(w, r, p, err)
		return
	}
	q := r.URL.Query()
	base := "/devices/" + url.PathEscape(row.UUID)
	d := deviceData{D: row, Status: c.deviceStatus(row.LastSeen, p.Now), Retired: !row.RetiredAt.IsZero(), Bar: outcomeBar(row.Outcomes)}

	sc, ok, err := c.st.LatestScan(ctx, dev.ID)
	if err != nil {
		c.dbError(w, r, p, err)
		return
	}
	if ok {
		d.Scan = &sc
		var rep struct {
			ScanID    string                   `json:"scan_id"`
			Reason    string                   `json:"reason"`
			ElapsedMS int64                    `json:"elapsed_ms"`
			Scan      json.RawMessage          `json:"scan"`
			Results   []protocol.WorkletResult `json:"results"`
		}
		if json.Unmarshal(sc.Report, &rep) == nil {
			d.Report = &reportHead{ScanID: rep.ScanID, Reason: rep.Reason, ElapsedMS: rep.ElapsedMS}
			var doc scandoc.Document
			if len(rep.Scan) > 0 && string(rep.Scan) != "null" && json.Unmarshal(rep.Scan, &doc) == nil {
				d.Doc = &doc
				d.Report.Errors = doc.Errors
			}
			d.Results = resultsTable(rep.Results, row.UUID)
			d.Results.sortPage(base, q, "", false, perPage)
		}
	}
	if d.Doc != nil {
		d.Disks = &Table{ID: "k", Caption: "Disks", Empty: "No disks reported.", Columns: []Column{{Key: "mount", Label: "Mount point"}, {Key: "device", Label: "Device"},
			{Key: "fs", Label: "File system"}, {Key: "size", Label: "Size", Num: true}, {Key: "used", Label: "Used", Num: true}}}
		for _, k := range d.Doc.Hardware.Disks {
			d.Disks.Rows = append(d.Disks.Rows, []Cell{text(k.Mountpoint), text(k.Device), text(k.FSType),
				{Text: humanBytes(k.TotalBytes), Sort: float64(k.TotalBytes), Class: "num"},
				{Text: fmt.Sprintf("%.0f%%", k.UsedPct), Sort: k.UsedPct, Class: "num" + map[bool]string{true: " o-bad"}[k.UsedPct >= 90]}})
		}
		d.Disks.sortPage(base, q, "mount", false, perPageSmall)

		d.SWQuery = strings.TrimSpace(q.Get("sw"))
		d.Software = &Table{ID: "p", Caption: fmt.Sprintf("Software (%d packages)", len(d.Doc.Software)), Empty: "No package matches.",
			Columns: []Column{{Key: "name", Label: "Name"}, {Key: "version", Label: "Version"}, {Key: "arch", Label: "Architecture"}, {Key: "source", Label: "Source"}}}
		for _, s := range d.Doc.Software {
			if d.SWQuery != "" && !strings.Contains(strings.ToLower(s.Name), strings.ToLower(d.SWQuery)) {
				continue
			}
			d.Software.Rows = append(d.Software.Rows, []Cell{{Text: s.Name, Href: "/software?name=" + url.QueryEscape(s.Name)},
				{Text: s.Version, Sort: versionKey(s.Version)}, text(s.Architecture), text(s.Source)})
		}
		d.Software.sortPage(base, q, "name", false, perPageSmall)

		d.Patches = &Table{ID: "h", Caption: "Patches", Empty: "No patches reported.", Columns: []Column{{Key: "id", Label: "Id"}, {Key: "title", Label: "Title"},
			{Key: "installed", Label: "Installed"}, {Key: "source", Label: "Source"}}}
		for _, x := range d.Doc.Patches {
			inst, sortKey := "", int64(0)
			if x.InstalledAt != nil {
				inst, sortKey = x.InstalledAt.UTC().Format("2006-01-02"), x.InstalledAt.Unix()
			}
			d.Patches.Rows = append(d.Patches.Rows, []Cell{text(x.ID), text(x.Title), {Text: inst, Sort: sortKey}, text(x.Source)})
		}
		d.Patches.sortPage(base, q, "installed", true, 10)

		d.Updates = &Table{ID: "u", Caption: fmt.Sprintf("Pending updates (%d)", len(d.Doc.PendingUpdates)), Empty: "No pending updates.",
			Columns: []Column{{Key: "name", Label: "Package"}, {Key: "current", Label: "Installed"}, {Key: "version", Label: "Available"},
				{Key: "security", Label: "Security"}, {Key: "severity", Label: "Severity"}, {Key: "origin", Label: "Origin"}}}
		for _, u := range d.Doc.PendingUpdates {
			sec, n := "", 0
			if u.Security {
				sec, n = "security", 1
			}
			d.Updates.Rows = append(d.Updates.Rows, []Cell{text(u.Name), text(u.CurrentVersion), text(u.Version),
				{Text: sec, Sort: n, Class: map[bool]string{true: "o-bad"}[u.Security]}, text(u.Severity), text(u.Origin)})
		}
		d.Updates.sortPage(base, q, "security", true, perPageSmall)
	}

	cmds, err := c.st.Commands(ctx, dev.ID, 500)
	if err != nil {
		c.dbError(w, r, p, err)
		return
	}
	d.Commands = commandsTable(cmds, p)
	d.Commands.sortPage(base, q, "id", true, perPageSmall)

	scans, err := c.st.ScanHistory(ctx, dev.ID)
	if err != nil {
		c.dbError(w, r, p, err)
		return
	}
	d.Scans = scans
	d.History = historyTable(scans, base, p)
	d.History.sortPage(base, q, "started", true, perPageSmall)
	if from, to := q.Get("from"), q.Get("to"); from != "" && to != "" {
		fi, err1 := strconv.ParseInt(from, 10, 64)
		ti, err2 := strconv.ParseInt(to, 10, 64)
		if err1 != nil || err2 != nil {
			c.errorPage(w, r, p, http.StatusBadRequest, "from and to must be scan numbers from the scan history")
			return
		}
		a, err := c.st.HistoryScan(ctx, dev.ID, fi)
		if err != nil {
			c.dbError(w, r, p, err)
			return
		}
		b, err := c.st.HistoryScan(ctx, dev.ID, ti)
		if err != nil {
			c.dbError(w, r, p, err)
			return
		}
		d.Diff = scanDiff(a, b)
		d.Diff.Packages.sortPage(base, q, "name", false, perPage)
		d.Diff.Results.sortPage(base, q, "worklet", false, perPage)
	}

	gs, err := c.st.Groups(ctx)
	if err != nil {
		c.dbError(w, r, p, err)
		return
	}
	for _, g := range gs {
		d.Groups = append(d.Groups, g.Name)
		if g.Name == row.Group {
			for _, a := range g.Assignments {
				d.Assigned = append(d.Assigned, a.Worklet)
			}
		}
	}
	p.Title, p.Nav, p.Data = row.Hostname, "devices", d
	c.render(w, r, http.StatusOK, "device", p)
}

func resultsTable(results []protocol.WorkletResult, devUUID string) *Table {
	t := &Table{ID: "r", Caption: "Worklet and policy results of the newest scan", Empty: "The newest scan ran no worklet.",
		Columns: []Column{{Key: "worklet", Label: "Worklet"}, {Key: "version", Label: "Version"}, {Key: "phase", Label: "Phase"},
			{Key: "status", Label: "Status"}, {Key: "message", Label: "Message"}, {Key: "ms", Label: "ms", Num: true}, {Key: "details", Label: "Details", NoSort: true},
			{Key: "action", Label: "", NoSort: true}}}
	for i, x := range results {
		msg := x.Message
		if x.Error != "" {
			msg = strings.TrimSpace(msg + " " + x.Error)
		}
		act := Cell{}
		if x.Status == "quarantined" {
			act.Form = &CellForm{Action: "/worklets/" + url.PathEscape(x.Name) + "/release", Label: "Release",
				Fields: map[string]string{"device": devUUID, "back": "device"}}
		}
		details := Cell{}
		if len(x.Details) > 0 && string(x.Details) != "null" {
			var buf bytes.Buffer
			if json.Indent(&buf, x.Details, "", "  ") != nil {
				buf.Reset()
				buf.Write(x.Details)
			}
			details = Cell{Text: buf.String(), Pre: true, Title: "details"}
		}
		t.Rows = append(t.Rows, []Cell{
			{Text: x.Name, Href: "/worklets/" + url.PathEscape(x.Name), Sort: fmt.Sprintf("%s\x00%04d", x.Name, i)}, text(x.Version), text(x.Phase),
			{Text: x.Status, Class: outcomeClass(x.Status)}, text(msg), {Text: strconv.FormatInt(x.DurationMS, 10), Sort: x.DurationMS, Class: "num"}, details, act})
	}
	return t
}

// commandStatus is a command's status as shown.
func commandStatus(c store.Command) string {
	if !c.DoneAt.IsZero() {
		return c.Status
	}
	if !c.OfferedAt.IsZero() {
		return fmt.Sprintf("sent (%d×)", c.Offers)
	}
	return "queued"
}

func commandsTable(cmds []store.Command, p *page) *Table {
	t := &Table{ID: "c", Caption: "Commands", Empty: "No command was queued for this device.",
		Columns: []Column{{Key: "id", Label: "Id", Num: true}, {Key: "command", Label: "Command"}, {Key: "status", Label: "Status"},
			{Key: "queued", Label: "Queued"}, {Key: "done", Label: "Done"}, {Key: "ms", Label: "ms", Num: true},
			{Key: "output", Label: "Output or error", NoSort: true}, {Key: "action", Label: "", NoSort: true}}}
	for _, x := range cmds {
		st := commandStatus(x)
		out := Cell{}
		if x.Error != "" {
			out = text(x.Error)
		} else if len(x.Output) > 0 && string(x.Output) != "null" {
			var buf bytes.Buffer
			if json.Indent(&buf, x.Output, "", "  ") != nil {
				buf.Reset()
				buf.Write(x.Output)
			}
			out = Cell{Text: buf.String(), Pre: true, Title: clip(string(x.Output), 60)}
		}
		act := Cell{}
		if x.DoneAt.IsZero() {
			act.Form = &CellForm{Action: fmt.Sprintf("/commands/%d/cancel", x.ID), Label: "Cancel", Danger: true}
		}
		t.Rows = append(t.Rows, []Cell{
			{Text: strconv.FormatInt(x.ID, 10), Sort: x.ID, Class: "num"},
			text(strings.TrimSpace(x.Command + " " + strings.Join(x.Params, " "))),
			{Text: st, Class: outcomeClass(st)},
			{Text: when(x.CreatedAt, p.Now), Sort: x.CreatedAt.UnixMilli()},
			{Text: when(x.DoneAt, p.Now), Sort: x.DoneAt.UnixMilli()},
			{Text: strconv.FormatInt(x.ElapsedMS, 10), Sort: x.ElapsedMS, Class: "num"},
			out, act})
	}
	return t
}

func historyTable(scans []store.HistoryScan, base string, p *page) *Table {
	t := &Table{ID: "s", Caption: "Scan history", Empty: "No scan kept yet.",
		Columns: []Column{{Key: "started", Label: "Started"}, {Key: "received", Label: "Received"},
			{Key: "compliant", Label: "OK", Num: true}, {Key: "non_compliant", Label: "Non-compl.", Num: true}, {Key: "error", Label: "Err", Num: true},
			{Key: "quarantined", Label: "Quar.", Num: true}, {Key: "not_applicable", Label: "N/A", Num: true},
			{Key: "software", Label: "Packages", NoSort: true}}}
	for i, h := range scans {
		sw := Cell{Text: "same as before"}
		if i+1 < len(scans) {
			prev := scans[i+1]
			if prev.SoftwareSHA256 != h.SoftwareSHA256 {
				sw = Cell{Text: "changed: compare", Class: "o-q"}
			} else {
				sw.Text = "unchanged: compare"
			}
			sw.Href = fmt.Sprintf("%s?from=%d&to=%d#diff", base, prev.ID, h.ID)
		} else {
			sw.Text = "oldest kept"
		}
		o := h.Outcomes
		t.Rows = append(t.Rows, []Cell{
			{Text: when(h.StartedAt, p.Now), Sort: h.StartedAt.UnixMilli(), Title: h.ScanID},
			{Text: when(h.ReceivedAt, p.Now), Sort: h.ReceivedAt.UnixMilli()},
			num(o.Compliant), numLinkBad(o.NonCompliant, "o-bad"), numLinkBad(o.Error, "o-err"), numLinkBad(o.Quarantined, "o-q"), num(o.NotApplicable), sw})
	}
	return t
}

// scanDiff compares two stored scans: packages added, removed, upgraded
// or downgraded (by name and architecture), and worklet outcomes that
// changed.
func scanDiff(a, b store.HistoryScan) *diffData {
	d := &diffData{From: a, To: b}
	key := func(p store.Package) string { return p.Name + "\x00" + p.Architecture }
	old := map[string]store.Package{}
	for _, p := range a.Packages {
		old[key(p)] = p
	}
	d.Packages = &Table{ID: "x", Caption: "Packages that changed", Empty: "The two scans have the same packages.",
		Columns: []Column{{Key: "name", Label: "Package"}, {Key: "change", Label: "Change"}, {Key: "from", Label: "Before"}, {Key: "to", Label: "After"}}}
	seen := map[string]bool{}
	for _, p := range b.Packages {
		k := key(p)
		seen[k] = true
		name := p.Name
		if p.Architecture != "" {
			name += ":" + p.Architecture
		}
		o, had := old[k]
		switch {
		case !had:
			d.Packages.Rows = append(d.Packages.Rows, []Cell{text(name), {Text: "added", Class: "o-ok"}, text(""), text(p.Version)})
		case o.Version != p.Version:
			change, class := "upgraded", "o-ok"
			if debver.Compare(p.Version, o.Version) < 0 {
				change, class = "downgraded", "o-err"
			}
			d.Packages.Rows = append(d.Packages.Rows, []Cell{text(name), {Text: change, Class: class}, text(o.Version), text(p.Version)})
		}
	}
	for _, p := range a.Packages {
		if !seen[key(p)] {
			name := p.Name
			if p.Architecture != "" {
				name += ":" + p.Architecture
			}
			d.Packages.Rows = append(d.Packages.Rows, []Cell{text(name), {Text: "removed", Class: "o-bad"}, text(p.Version), text("")})
		}
	}
	d.Results = &Table{ID: "y", Caption: "Outcomes that changed", Empty: "No worklet outcome changed.",
		Columns: []Column{{Key: "worklet", Label: "Worklet"}, {Key: "from", Label: "Before"}, {Key: "to", Label: "After"}, {Key: "message", Label: "Message now"}}}
	before := map[string]string{}
	for _, r := range a.Results {
		before[r.Name] = r.Status
	}
	after := map[string]bool{}
	for _, r := range b.Results {
		after[r.Name] = true
		if before[r.Name] != r.Status {
			d.Results.Rows = append(d.Results.Rows, []Cell{text(r.Name), {Text: before[r.Name], Class: outcomeClass(before[r.Name])},
				{Text: r.Status, Class: outcomeClass(r.Status)}, text(strings.TrimSpace(r.Message + " " + r.Error))})
		}
	}
	for _, r := range a.Results {
		if !after[r.Name] {
			d.Results.Rows = append(d.Results.Rows, []Cell{text(r.Name), {Text: r.Status, Class: outcomeClass(r.Status)}, text("(not run)"), text("")})
		}
	}
	d.Same = len(d.Packages.Rows) == 0 && len(d.Results.Rows) == 0
	return d
}

// queueCommand queues scan, runWorklet or reboot from the device page.
func (c *Console) queueCommand(w http.ResponseWriter, r *http.Request, p *page) {
	dev, ok := c.device(w, r, p)
	if !ok {
		return
	}
	cmd := r.PostFormValue("command")
	var params []string
	switch cmd {
	case protocol.CmdScan:
	case protocol.CmdRunWorklet:
		params = []string{r.PostFormValue("worklet"), r.PostFormValue("phase")}
	case protocol.CmdReboot:
		params = []string{strings.TrimSpace(r.PostFormValue("delay"))}
	default:
		c.errorPage(w, r, p, http.StatusBadRequest, fmt.Sprintf("command %q cannot be queued from the console: use scan, runWorklet or reboot", cmd))
		return
	}
	if err := fleet.ValidateCommand(cmd, params); err != nil {
		c.errorPage(w, r, p, http.StatusBadRequest, err.Error())
		return
	}
	id, err := c.st.QueueCommand(r.Context(), dev.ID, cmd, params, c.cfg.Now())
	if err != nil {
		c.dbError(w, r, p, err)
		return
	}
	c.log.Info("console: command queued", "device_uuid", dev.UUID, "command_id", id, "command", cmd)
	redirect(w, r, "/devices/"+url.PathEscape(dev.UUID)+"#c", "queued")
}

func (c *Console) moveDevice(w http.ResponseWriter, r *http.Request, p *page) {
	dev, ok := c.device(w, r, p)
	if !ok {
		return
	}
	if err := c.st.MoveDevice(r.Context(), dev.ID, r.PostFormValue("group")); err != nil {
		c.dbError(w, r, p, err)
		return
	}
	redirect(w, r, "/devices/"+url.PathEscape(dev.UUID), "moved")
}

func (c *Console) retirePage(w http.ResponseWriter, r *http.Request, p *page) {
	dev, ok := c.device(w, r, p)
	if !ok {
		return
	}
	p.Title, p.Nav, p.Data = "Retire "+dev.Hostname, "devices", dev
	c.render(w, r, http.StatusOK, "retire", p)
}

func (c *Console) retire(w http.ResponseWriter, r *http.Request, p *page) {
	dev, ok := c.device(w, r, p)
	if !ok {
		return
	}
	if err := c.st.RetireDevice(r.Context(), dev.ID, c.cfg.Now()); err != nil {
		c.dbError(w, r, p, err)
		return
	}
	c.log.Warn("console: device retired", "device_uuid", dev.UUID, "device_id", dev.ID)
	redirect(w, r, "/devices", "retired")
}

func (c *Console) cancelCommand(w http.ResponseWriter, r *http.Request, p *page) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		c.errorPage(w, r, p, http.StatusNotFound, "no such command")
		return
	}
	cmd, err := c.st.CancelCommand(r.Context(), id, c.cfg.Now())
	if err != nil {
		c.dbError(w, r, p, err)
		return
	}
	c.log.Info("console: command canceled", "command_id", id, "device_uuid", cmd.Device)
	redirect(w, r, "/devices/"+url.PathEscape(cmd.Device)+"#c", "canceled")
}
