package console

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/amagent/amagent/platform/internal/fleet"
	"github.com/amagent/amagent/platform/internal/store"
)

type workletsData struct {
	Table     *Table
	CanUpload bool
}

func (c *Console) workletsPage(w http.ResponseWriter, r *http.Request, p *page) {
	ctx := r.Context()
	ws, err := c.st.Worklets(ctx)
	if err != nil {
		c.dbError(w, r, p, err)
		return
	}
	gs, err := c.st.Groups(ctx)
	if err != nil {
		c.dbError(w, r, p, err)
		return
	}
	sum, _, err := c.fleetSummary(ctx)
	if err != nil {
		c.dbError(w, r, p, err)
		return
	}
	outcomes := map[string]store.Outcomes{}
	for _, x := range sum.Worklets {
		outcomes[x.Name] = x.Outcomes
	}
	assigned := map[string][]string{}
	for _, g := range gs {
		for _, a := range g.Assignments {
			assigned[a.Worklet+"@"+a.Version] = append(assigned[a.Worklet+"@"+a.Version], g.Name)
		}
	}
	t := &Table{ID: "w", Caption: "Stored worklets and policies", Empty: "No bundle stored yet.",
		Columns: []Column{{Key: "name", Label: "Name"}, {Key: "version", Label: "Version"}, {Key: "kind", Label: "Kind"},
			{Key: "groups", Label: "Assigned to"}, {Key: "failing", Label: "Failing devices", Num: true},
			{Key: "sha", Label: "SHA-256"}, {Key: "added", Label: "Added"}}}
	for _, x := range ws {
		o := outcomes[x.Name]
		failing := o.NonCompliant + o.Error + o.Quarantined
		fail := numLink(failing, "/worklets/"+url.PathEscape(x.Name)+"?status=failing", "o-bad")
		t.Rows = append(t.Rows, []Cell{
			{Text: x.Name, Href: "/worklets/" + url.PathEscape(x.Name)}, {Text: x.Version, Sort: versionKey(x.Version)}, text(x.Kind),
			text(strings.Join(assigned[x.Name+"@"+x.Version], ", ")), fail,
			{Text: clip(x.SHA256, 16), Title: x.SHA256}, {Text: when(x.CreatedAt, p.Now), Sort: x.CreatedAt.UnixMilli()}})
	}
	t.sortPage("/worklets", r.URL.Query(), "name", false, perPage)
	p.Title, p.Nav, p.Data = "Worklets", "worklets", workletsData{Table: t, CanUpload: c.cfg.SigningKey != nil}
	c.render(w, r, http.StatusOK, "worklets", p)
}

type workletData struct {
	Name        string
	Quarantined int
	Status      string
	Statuses    []string
	Bar         Chart
	Versions    []store.Worklet
	Assigned    []assignedIn
	Table       *Table
}

type assignedIn struct {
	Group string
	store.Assignment
}

func (c *Console) workletPage(w http.ResponseWriter, r *http.Request, p *page) {
	ctx := r.Context()
	name := r.PathValue("name")
	status := r.URL.Query().Get("status")
	d := workletData{Name: name, Status: status, Statuses: []string{"", "failing", store.OutcomeCompliant, store.OutcomeNonCompliant,
		store.OutcomeError, store.OutcomeQuarantined, store.OutcomeNotApplicable}}
	if !slices.Contains(d.Statuses, status) {
		c.errorPage(w, r, p, http.StatusBadRequest, fmt.Sprintf("status %q: want failing, compliant, non-compliant, error, quarantined or not-applicable", status))
		return
	}
	ws, err := c.st.Worklets(ctx)
	if err != nil {
		c.dbError(w, r, p, err)
		return
	}
	for _, x := range ws {
		if x.Name == name {
			d.Versions = append(d.Versions, x)
		}
	}
	gs, err := c.st.Groups(ctx)
	if err != nil {
		c.dbError(w, r, p, err)
		return
	}
	fleet.RedactGroups(ctx, c.st, gs)
	for _, g := range gs {
		for _, a := range g.Assignments {
			if a.Worklet == name {
				d.Assigned = append(d.Assigned, assignedIn{Group: g.Name, Assignment: a})
			}
		}
	}
	sum, _, err := c.fleetSummary(ctx)
	if err != nil {
		c.dbError(w, r, p, err)
		return
	}
	var o store.Outcomes
	known := len(d.Versions) > 0 || len(d.Assigned) > 0
	for _, x := range sum.Worklets {
		if x.Name == name {
			o, known = x.Outcomes, true
		}
	}
	if !known {
		c.errorPage(w, r, p, http.StatusNotFound, "There is no worklet or policy named "+name+".")
		return
	}
	t := &Table{ID: "f", Caption: "Devices and their newest result", Empty: "No device matches.",
		Columns: []Column{{Key: "hostname", Label: "Hostname"}, {Key: "group", Label: "Group"}, {Key: "version", Label: "Version"},
			{Key: "status", Label: "Status"}, {Key: "message", Label: "Message or error"}, {Key: "scanned", Label: "Scanned"},
			{Key: "action", Label: "", NoSort: true}}}
	q := r.URL.Query()
	st := readState(q, "f", t.Columns, "status", false)
	devs, total, err := c.st.WorkletDevices(ctx, name, status, st.sort, st.desc, (st.page-1)*perPage, perPage)
	if err != nil {
		c.dbError(w, r, p, err)
		return
	}
	for _, x := range devs {
		act := Cell{}
		if x.Status == store.OutcomeQuarantined {
			act.Form = &CellForm{Action: "/worklets/" + url.PathEscape(name) + "/release", Label: "Release", Fields: map[string]string{"device": x.UUID}}
		}
		t.Rows = append(t.Rows, []Cell{{Text: x.Hostname, Href: "/devices/" + url.PathEscape(x.UUID)}, text(x.Group), {Text: x.Version, Sort: versionKey(x.Version)},
			{Text: x.Status, Class: outcomeClass(x.Status)}, text(strings.TrimSpace(x.Message + " " + x.Error)),
			{Text: when(x.ScannedAt, p.Now), Sort: x.ScannedAt.UnixMilli()}, act})
	}
	d.Bar = outcomeBar(o)
	d.Quarantined = o.Quarantined
	t.links("/worklets/"+url.PathEscape(name), q, st, total, perPage)
	d.Table = t
	p.Title, p.Nav, p.Data = name, "worklets", d
	c.render(w, r, http.StatusOK, "worklet", p)
}

func readUpload(r *http.Request, field string) ([]byte, error) {
	f, _, err := r.FormFile(field)
	if err != nil {
		return nil, fmt.Errorf("%s: no file chosen", field)
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f.(multipart.File), maxUpload))
}

// uploadWorklet stores and signs a bundle from an uploaded worklet.toml
// and module, as `amplatform worklet add` does from a directory.
func (c *Console) uploadWorklet(w http.ResponseWriter, r *http.Request, p *page) {
	if c.cfg.SigningKey == nil {
		c.errorPage(w, r, p, http.StatusServiceUnavailable, "This platform has no signing key: use amplatform worklet add.")
		return
	}
	manifest, err := readUpload(r, "manifest")
	if err != nil {
		c.errorPage(w, r, p, http.StatusBadRequest, err.Error())
		return
	}
	module, err := readUpload(r, "module")
	if err != nil {
		c.errorPage(w, r, p, http.StatusBadRequest, err.Error())
		return
	}
	wk, err := fleet.BuildWorklet(manifest, module, c.cfg.SigningKey, c.cfg.Now())
	if err != nil {
		c.errorPage(w, r, p, http.StatusBadRequest, err.Error())
		return
	}
	if err := c.st.AddWorklet(r.Context(), wk); err != nil {
		c.dbError(w, r, p, err)
		return
	}
	c.log.Info("console: worklet added", "name", wk.Name, "version", wk.Version, "sha256", wk.SHA256)
	redirect(w, r, "/worklets/"+url.PathEscape(wk.Name), "added")
}

type groupsData struct {
	Groups   []store.Group
	Worklets []string
	Table    *Table
	Min, Max int
}

func (c *Console) groupsPage(w http.ResponseWriter, r *http.Request, p *page) {
	ctx := r.Context()
	gs, err := c.st.Groups(ctx)
	if err != nil {
		c.dbError(w, r, p, err)
		return
	}
	fleet.RedactGroups(ctx, c.st, gs)
	ws, err := c.st.Worklets(ctx)
	if err != nil {
		c.dbError(w, r, p, err)
		return
	}
	d := groupsData{Groups: gs, Min: store.MinScanInterval, Max: store.MaxScanInterval}
	for _, x := range ws {
		if !slices.Contains(d.Worklets, x.Name) {
			d.Worklets = append(d.Worklets, x.Name)
		}
	}
	t := &Table{ID: "g", Caption: "Groups", Columns: []Column{{Key: "name", Label: "Group"}, {Key: "interval", Label: "Scan every (h)", Num: true},
		{Key: "devices", Label: "Devices", Num: true}, {Key: "assigned", Label: "Assigned worklets", Num: true}}}
	for _, g := range gs {
		t.Rows = append(t.Rows, []Cell{{Text: g.Name, Href: "#group-" + g.Name}, num(g.ScanInterval),
			numLink(g.Devices, "/devices?group="+url.QueryEscape(g.Name), ""), num(len(g.Assignments))})
	}
	t.sortPage("/groups", r.URL.Query(), "name", false, perPage)
	d.Table = t
	p.Title, p.Nav, p.Data = "Groups", "groups", d
	c.render(w, r, http.StatusOK, "groups", p)
}

func (c *Console) addGroup(w http.ResponseWriter, r *http.Request, p *page) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	h, err := strconv.Atoi(r.PostFormValue("interval"))
	if err != nil {
		c.errorPage(w, r, p, http.StatusBadRequest, "The scan interval must be whole hours.")
		return
	}
	if !fleet.ValidName(name) {
		c.errorPage(w, r, p, http.StatusBadRequest, fmt.Sprintf("Group name %q: use lowercase letters, digits and dashes.", name))
		return
	}
	if err := store.ValidScanInterval(h); err != nil {
		c.errorPage(w, r, p, http.StatusBadRequest, err.Error())
		return
	}
	if err := c.st.AddGroup(r.Context(), name, h); err != nil {
		c.dbError(w, r, p, err)
		return
	}
	redirect(w, r, "/groups#group-"+name, "group")
}

func (c *Console) setInterval(w http.ResponseWriter, r *http.Request, p *page) {
	h, err := strconv.Atoi(r.PostFormValue("interval"))
	if err != nil {
		c.errorPage(w, r, p, http.StatusBadRequest, "The scan interval must be whole hours.")
		return
	}
	if err := store.ValidScanInterval(h); err != nil {
		c.errorPage(w, r, p, http.StatusBadRequest, err.Error())
		return
	}
	g := r.PathValue("group")
	if err := c.st.SetScanInterval(r.Context(), g, h); err != nil {
		c.dbError(w, r, p, err)
		return
	}
	redirect(w, r, "/groups#group-"+g, "interval")
}

// parseParams reads key=value lines; a value that parses as JSON is JSON
// (22, true, ["a"]), otherwise a string, as the CLI's --param.
func parseParams(s string, into map[string]any) error {
	for _, line := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return fmt.Errorf("parameter line %q: want key=value", line)
		}
		v = strings.TrimSpace(v)
		var x any
		if json.Unmarshal([]byte(v), &x) == nil {
			into[k] = x
		} else {
			into[k] = v
		}
	}
	return nil
}

func (c *Console) assign(w http.ResponseWriter, r *http.Request, p *page) {
	g := r.PathValue("group")
	remediate := strings.TrimSpace(r.PostFormValue("remediate"))
	if err := fleet.ValidateRemediate(remediate); err != nil {
		c.errorPage(w, r, p, http.StatusBadRequest, err.Error())
		return
	}
	params := map[string]any{}
	if err := parseParams(r.PostFormValue("params"), params); err != nil {
		c.errorPage(w, r, p, http.StatusBadRequest, err.Error())
		return
	}
	// Secret parameters come in a password field, one key=value per
	// "; " or line; they are never shown again.
	secret := strings.ReplaceAll(r.PostFormValue("secrets"), ";", "\n")
	if err := parseParams(secret, params); err != nil {
		c.errorPage(w, r, p, http.StatusBadRequest, "secret parameters: want key=value separated by ;")
		return
	}
	a := store.Assignment{Worklet: r.PostFormValue("worklet"), Version: strings.TrimSpace(r.PostFormValue("version")), Remediate: remediate}
	if len(params) > 0 {
		a.Params = params
	}
	got, err := c.st.Assign(r.Context(), g, a)
	if err != nil {
		c.dbError(w, r, p, err)
		return
	}
	c.log.Info("console: worklet assigned", "group", g, "worklet", got.Worklet, "version", got.Version, "params", slices.Sorted(maps.Keys(params)))
	redirect(w, r, "/groups#group-"+g, "assigned")
}

func (c *Console) unassign(w http.ResponseWriter, r *http.Request, p *page) {
	g := r.PathValue("group")
	if err := c.st.Unassign(r.Context(), g, r.PostFormValue("worklet")); err != nil {
		c.dbError(w, r, p, err)
		return
	}
	redirect(w, r, "/groups#group-"+g, "unassigned")
}

func (c *Console) moveDeviceByName(w http.ResponseWriter, r *http.Request, p *page) {
	d, err := c.st.FindDevice(r.Context(), strings.TrimSpace(r.PostFormValue("device")))
	if err != nil {
		c.dbError(w, r, p, err)
		return
	}
	if err := c.st.MoveDevice(r.Context(), d.ID, r.PostFormValue("group")); err != nil {
		c.dbError(w, r, p, err)
		return
	}
	redirect(w, r, "/groups", "moved")
}

// release lifts a worklet's quarantine on one device (device set) or on
// every device, as `amplatform worklet release` does.
func (c *Console) release(w http.ResponseWriter, r *http.Request, p *page) {
	name := r.PathValue("name")
	var devID int64
	devUUID := ""
	if ref := r.PostFormValue("device"); ref != "" {
		d, err := c.st.FindDevice(r.Context(), ref)
		if err != nil {
			c.dbError(w, r, p, err)
			return
		}
		devID, devUUID = d.ID, d.UUID
	}
	n, err := c.st.ReleaseWorklet(r.Context(), name, devID)
	if err != nil {
		c.dbError(w, r, p, err)
		return
	}
	c.log.Info("console: worklet quarantine released", "worklet", name, "device_uuid", devUUID, "release", n)
	back := "/worklets/" + url.PathEscape(name)
	if devUUID != "" && r.PostFormValue("back") == "device" {
		back = "/devices/" + url.PathEscape(devUUID)
	}
	redirect(w, r, back, "released")
}
