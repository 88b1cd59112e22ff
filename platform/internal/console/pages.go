package console

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/amagent/amagent/platform/internal/store"
	"github.com/amagent/amagent/wasm-modules/go/debver"
)

const (
	perPage      = 50
	perPageSmall = 25
	trendDays    = 30
)

type fleetData struct {
	S          store.FleetSummary
	AsOf       time.Time
	Bar        Chart
	Trend      Chart
	Compliance *Table
	Updates    *Table
}

func (c *Console) fleetPage(w http.ResponseWriter, r *http.Request, p *page) {
	ctx := r.Context()
	c.summary.prefetch(ctx)
	c.updates.prefetch(ctx)
	sum, asOf, err := c.fleetSummary(ctx)
	if err != nil {
		c.dbError(w, r, p, err)
		return
	}
	trend, _, err := c.trend.get(ctx)
	if err != nil {
		c.dbError(w, r, p, err)
		return
	}
	updates, _, err := c.updates.get(ctx)
	if err != nil {
		c.dbError(w, r, p, err)
		return
	}
	q := r.URL.Query()
	d := fleetData{S: sum, AsOf: asOf, Bar: outcomeBar(sum.Outcomes), Trend: trendChart(trend, p.Now, trendDays)}
	d.Compliance = complianceTable(sum.Worklets)
	d.Compliance.sortPage("/", q, "worklet", false, perPageSmall)
	ut := &Table{ID: "u", Caption: "Pending updates, security first", Empty: "No pending updates in the devices' newest scans.",
		Columns: []Column{{Key: "name", Label: "Package"}, {Key: "security", Label: "Security"}, {Key: "severity", Label: "Severity"}, {Key: "devices", Label: "Devices", Num: true}}}
	for _, u := range updates {
		sec, secSort := "", 0
		if u.Security {
			sec, secSort = "security", 1
		}
		ut.Rows = append(ut.Rows, []Cell{
			{Text: u.Name, Href: "/software?name=" + url.QueryEscape(u.Name)},
			{Text: sec, Sort: secSort, Class: map[bool]string{true: "o-bad"}[u.Security]},
			text(u.Severity), num(u.Devices)})
	}
	ut.sortPage("/", q, "security", true, perPageSmall)
	d.Updates = ut
	p.Title, p.Nav, p.Data = "Fleet", "fleet", d
	c.render(w, r, http.StatusOK, "fleet", p)
}

// fleetSummary is the fleet-wide summary, from memory when fresh enough.
func (c *Console) fleetSummary(ctx context.Context) (store.FleetSummary, time.Time, error) {
	return c.summary.get(ctx)
}

// complianceTable is the per-worklet outcome table (fleet page, export).
func complianceTable(ws []store.WorkletOutcomes) *Table {
	t := &Table{ID: "c", Caption: "Compliance per worklet and policy (devices, from each device's newest scan)",
		Empty: "No results yet: assign worklets to a group and wait for a scan.",
		Columns: []Column{{Key: "worklet", Label: "Worklet"}, {Key: "kind", Label: "Kind"},
			{Key: "compliant", Label: "Compliant", Num: true}, {Key: "non_compliant", Label: "Non-compliant", Num: true},
			{Key: "error", Label: "Error", Num: true}, {Key: "quarantined", Label: "Quarantined", Num: true},
			{Key: "not_applicable", Label: "Not applicable", Num: true}, {Key: "pct", Label: "Compliant %", Num: true}},
		Exports: []Link{{"CSV", "/compliance.csv"}, {"JSON", "/compliance.json"}}}
	for _, w := range ws {
		o := w.Outcomes
		dev := func(outcome string) string {
			return "/devices?worklet=" + url.QueryEscape(w.Name) + "&outcome=" + url.QueryEscape(outcome)
		}
		applicable := o.Compliant + o.NonCompliant + o.Error + o.Quarantined
		share := -1.0
		if applicable > 0 {
			share = float64(o.Compliant) / float64(applicable)
		}
		t.Rows = append(t.Rows, []Cell{
			{Text: w.Name, Href: "/worklets/" + url.PathEscape(w.Name)}, text(w.Kind),
			numLink(o.Compliant, dev(store.OutcomeCompliant), "o-ok"),
			numLink(o.NonCompliant, dev(store.OutcomeNonCompliant), "o-bad"),
			numLink(o.Error, dev(store.OutcomeError), "o-err"),
			numLink(o.Quarantined, dev(store.OutcomeQuarantined), "o-q"),
			numLink(o.NotApplicable, dev(store.OutcomeNotApplicable), "o-na"),
			{Text: pct(o.Compliant, applicable), Sort: share, Class: "num"},
		})
	}
	return t
}

type devicesData struct {
	Q        store.DeviceQuery
	Groups   []string
	OSes     []string
	Worklets []string
	Table    *Table
	Outcomes []string
	Statuses []string
}

// deviceColumns are the device list's columns; their keys are
// store.DeviceSorts keys.
var deviceColumns = []Column{
	{Key: "hostname", Label: "Hostname"}, {Key: "group", Label: "Group"}, {Key: "os", Label: "OS"},
	{Key: "last_seen", Label: "Status"}, {Key: "last_scan", Label: "Last scan"},
	{Key: "compliant", Label: "OK", Num: true}, {Key: "non_compliant", Label: "Non-compl.", Num: true},
	{Key: "error", Label: "Err", Num: true}, {Key: "quarantined", Label: "Quar.", Num: true},
	{Key: "not_applicable", Label: "N/A", Num: true}, {Key: "updates", Label: "Updates", Num: true},
	{Key: "reboot", Label: "Reboot", Num: true}, {Key: "agent", Label: "Agent"},
}

// deviceQuery reads the device list's filters from the query.
func (c *Console) deviceQuery(q url.Values, now time.Time) (store.DeviceQuery, tableState) {
	st := readState(q, "d", deviceColumns, "hostname", false)
	dq := store.DeviceQuery{
		Group: q.Get("group"), OS: q.Get("os"), Status: q.Get("status"), Worklet: q.Get("worklet"), Outcome: q.Get("outcome"),
		Search: strings.TrimSpace(q.Get("q")), OnlineSince: c.onlineSince(now), Sort: st.sort, Desc: st.desc,
		Offset: (st.page - 1) * perPage, Limit: perPage,
	}
	if !slices.Contains([]string{"", store.StatusOnline, store.StatusOffline, store.StatusNever}, dq.Status) {
		dq.Status = ""
	}
	return dq, st
}

func (c *Console) devicesPage(w http.ResponseWriter, r *http.Request, p *page) {
	ctx := r.Context()
	q := r.URL.Query()
	dq, st := c.deviceQuery(q, p.Now)
	rows, total, err := c.st.ListDevices(ctx, dq)
	if err != nil {
		c.dbError(w, r, p, err)
		return
	}
	if total > 0 && len(rows) == 0 && st.page > 1 { // past the last page
		st.page = (total + perPage - 1) / perPage
		dq.Offset = (st.page - 1) * perPage
		if rows, total, err = c.st.ListDevices(ctx, dq); err != nil {
			c.dbError(w, r, p, err)
			return
		}
	}
	d := devicesData{Q: dq, Outcomes: []string{store.OutcomeCompliant, store.OutcomeNonCompliant, store.OutcomeError, store.OutcomeQuarantined, store.OutcomeNotApplicable},
		Statuses: []string{store.StatusOnline, store.StatusOffline, store.StatusNever}}
	if d.Groups, d.OSes, d.Worklets, err = c.filterChoices(r); err != nil {
		c.dbError(w, r, p, err)
		return
	}
	t := &Table{ID: "d", Caption: "Devices", Columns: deviceColumns, Empty: "No device matches."}
	exp := url.Values{}
	for k, v := range q {
		if !strings.HasPrefix(k, "d.page") && k != "done" {
			exp[k] = v
		}
	}
	suffix := ""
	if e := exp.Encode(); e != "" {
		suffix = "?" + e
	}
	t.Exports = []Link{{"CSV", "/devices.csv" + suffix}, {"JSON", "/devices.json" + suffix}}
	for _, dv := range rows {
		t.Rows = append(t.Rows, c.deviceCells(dv, p.Now))
	}
	t.links("/devices", q, st, total, perPage)
	d.Table = t
	p.Title, p.Nav, p.Data = "Devices", "devices", d
	c.render(w, r, http.StatusOK, "devices", p)
}

func (c *Console) deviceCells(dv store.DeviceRow, now time.Time) []Cell {
	status := c.deviceStatus(dv.LastSeen, now)
	reboot := ""
	if dv.RebootRequired {
		reboot = "yes"
	}
	updates := strconv.Itoa(dv.PendingUpdates)
	if dv.SecurityUpdates > 0 {
		updates += fmt.Sprintf(" (%d sec.)", dv.SecurityUpdates)
	}
	lastScan := "never"
	if !dv.LastScan.IsZero() {
		lastScan = ago(now.Sub(dv.LastScan))
	}
	return []Cell{
		{Text: dv.Hostname, Href: "/devices/" + url.PathEscape(dv.UUID), Title: dv.UUID},
		text(dv.Group), text(dv.OS),
		{Text: status, Class: outcomeClass(status), Title: "last check-in " + when(dv.LastSeen, now)},
		{Text: lastScan, Title: when(dv.LastScan, now)},
		numLink(dv.Outcomes.Compliant, "", ""), numLinkBad(dv.Outcomes.NonCompliant, "o-bad"), numLinkBad(dv.Outcomes.Error, "o-err"),
		numLinkBad(dv.Outcomes.Quarantined, "o-q"), num(dv.Outcomes.NotApplicable),
		{Text: updates, Class: "num" + map[bool]string{true: " o-bad"}[dv.SecurityUpdates > 0]},
		{Text: reboot, Class: "num" + map[bool]string{true: " o-err"}[dv.RebootRequired]},
		text(dv.AgentVersion),
	}
}

// numLinkBad is a number cell marked with class when not zero.
func numLinkBad(n int, class string) Cell {
	c := num(n)
	if n > 0 {
		c.Class += " " + class
	}
	return c
}

// filterChoices lists the groups, operating systems and worklets to
// filter by.
func (c *Console) filterChoices(r *http.Request) (groups, oses, worklets []string, err error) {
	ctx := r.Context()
	if groups, err = c.st.GroupNames(ctx); err != nil {
		return nil, nil, nil, err
	}
	ws, err := c.st.Worklets(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	for _, w := range ws {
		if !slices.Contains(worklets, w.Name) {
			worklets = append(worklets, w.Name)
		}
	}
	oses, _, err = c.oses.get(ctx)
	return groups, oses, worklets, err
}

type softwareData struct {
	Name, Below string
	BelowErr    string
	Names       []store.NameCount
	Versions    *Table
	Devices     *Table
	Count       int
}

func (c *Console) softwarePage(w http.ResponseWriter, r *http.Request, p *page) {
	ctx := r.Context()
	q := r.URL.Query()
	d := softwareData{Name: strings.TrimSpace(q.Get("name")), Below: strings.TrimSpace(q.Get("below"))}
	if d.Name != "" {
		counts, err := c.st.SoftwareVersions(ctx, d.Name)
		if err != nil {
			c.dbError(w, r, p, err)
			return
		}
		// "Below V" is decided on the few distinct versions, then the
		// database pages the devices at those versions.
		var versions []string
		if d.Below != "" {
			if _, err := debver.Parse(d.Below); err != nil {
				c.errorPage(w, r, p, http.StatusBadRequest, fmt.Sprintf("version %q: %v", d.Below, err))
				return
			}
			versions = []string{}
			for _, v := range counts {
				if debver.Compare(v.Name, d.Below) < 0 {
					versions = append(versions, v.Name)
				}
			}
		}
		vt := &Table{ID: "v", Caption: "Versions of " + d.Name, Empty: "No device has this package.",
			Columns: []Column{{Key: "version", Label: "Version"}, {Key: "devices", Label: "Devices", Num: true}, {Key: "below", Label: "Below " + d.Below}}}
		for _, v := range counts {
			below := ""
			if d.Below != "" && slices.Contains(versions, v.Name) {
				below = "yes"
			}
			vt.Rows = append(vt.Rows, []Cell{{Text: v.Name, Sort: versionKey(v.Name)}, num(v.Devices), {Text: below, Class: map[bool]string{true: "o-bad"}[below != ""]}})
		}
		if d.Below == "" {
			vt.Columns = vt.Columns[:2]
			for i := range vt.Rows {
				vt.Rows[i] = vt.Rows[i][:2]
			}
		}
		vt.sortPage("/software", q, "version", true, perPageSmall)
		d.Versions = vt
		exp := url.Values{"name": {d.Name}}
		if d.Below != "" {
			exp.Set("below", d.Below)
		}
		dt := &Table{ID: "s", Caption: "Devices with " + d.Name, Empty: "No device has this package" + map[bool]string{true: " below " + d.Below}[d.Below != ""] + ".",
			Columns: []Column{{Key: "hostname", Label: "Hostname"}, {Key: "group", Label: "Group"}, {Key: "version", Label: "Version"},
				{Key: "arch", Label: "Architecture"}, {Key: "source", Label: "Source"}},
			Exports: []Link{{"CSV", "/software.csv?" + exp.Encode()}, {"JSON", "/software.json?" + exp.Encode()}}}
		st := readState(q, "s", dt.Columns, "hostname", false)
		rows, total, err := c.st.SoftwarePage(ctx, d.Name, versions, st.sort, st.desc, (st.page-1)*perPage, perPage)
		if err != nil {
			c.dbError(w, r, p, err)
			return
		}
		d.Count = total
		for _, x := range rows {
			dt.Rows = append(dt.Rows, []Cell{{Text: x.Hostname, Href: "/devices/" + url.PathEscape(x.UUID)}, text(x.Group),
				{Text: x.Version, Sort: versionKey(x.Version)}, text(x.Architecture), text(x.Source)})
		}
		dt.links("/software", q, st, total, perPage)
		d.Devices = dt
		if len(counts) == 0 {
			names, err := c.st.SoftwareNames(ctx, d.Name, 30)
			if err != nil {
				c.dbError(w, r, p, err)
				return
			}
			d.Names = names
		}
	}
	p.Title, p.Nav, p.Data = "Software", "software", d
	c.render(w, r, http.StatusOK, "software", p)
}
