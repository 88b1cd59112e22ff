// Package aptpolicy finds the pending updates of a Debian or Ubuntu machine
// from apt's own data, in Go: the installed packages (dpkg's status), the
// package lists apt downloaded (/var/lib/apt/lists/*_Packages, plain, gzip,
// xz or lz4) with their Release files, and apt's pinning rules
// (/etc/apt/preferences and preferences.d). Each installed package's
// candidate version is chosen as apt's policy chooses it; a package whose
// candidate is newer than the installed version is pending, which is what
// `apt list --upgradable` prints. It reads files only, takes no lock and
// runs no program, in a fraction of the time and memory of apt-get's
// dependency simulation.
//
// Where a configuration uses something this package does not implement
// (APT::Default-Release, a list format it cannot read, a pin it cannot
// parse), Pending returns an error wrapping ErrUnsupported that says
// what, and the caller falls back to the simulation.
package aptpolicy

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz"

	"github.com/amagent/amagent/wasm-modules/go/debver"
)

// ErrUnsupported marks a configuration this package does not implement.
var ErrUnsupported = errors.New("not implemented by the Go apt policy")

// Installed is one installed package (dpkg status "install ok installed").
type Installed struct {
	Name, Arch, Version string
}

// Update is one pending update.
type Update struct {
	Name           string
	Arch           string
	CurrentVersion string
	Version        string
	// Origins are the archives offering Version as apt-get prints them
	// ("Debian-Security:12/oldstable-security"), highest priority first.
	Origins []string
	// Security: one of the archives is a security archive (its label is
	// "Debian-Security" or its suite ends in "-security").
	Security bool
}

// Options says where apt's data is.
type Options struct {
	// FS is the machine's file system rooted at "/".
	FS fs.FS
	// Arch is dpkg's native architecture ("amd64"); "all" packages are
	// filed under it.
	Arch string
}

// release is one archive apt has lists for (its Release file's fields).
type release struct {
	origin, label, suite, codename, version string
	site                                    string // host part of the URI ("deb.debian.org")
	component                               string // of the list file ("main")
	notAutomatic, butAutomaticUpgrades      bool
	priority                                int
}

// offer is one version of one package in one list.
type offer struct {
	version string
	rel     *release
}

// Pending returns the installed packages whose candidate version (by
// apt's policy) is newer than the installed one, sorted by name.
func Pending(o Options, installed []Installed) ([]Update, error) {
	if o.Arch == "" {
		return nil, errors.New("aptpolicy: no native architecture")
	}
	if err := checkConfig(o.FS); err != nil {
		return nil, err
	}
	prefs, err := readPreferences(o.FS)
	if err != nil {
		return nil, err
	}
	want := make(map[string]*Installed, len(installed))
	for i := range installed {
		in := &installed[i]
		want[key(in.Name, in.Arch, o.Arch)] = in
	}
	rels, err := readLists(o.FS, o.Arch, want)
	if err != nil {
		return nil, err
	}
	// File priorities: 500, or 1 / 100 for NotAutomatic archives; the
	// first general pin (Package: *) that matches an archive sets it.
	for _, r := range rels.releases {
		r.priority = 500
		if r.notAutomatic {
			r.priority = 1
			if r.butAutomaticUpgrades {
				r.priority = 100
			}
		}
		for _, p := range prefs {
			if p.general && p.matchesRelease(r) {
				r.priority = p.priority
				break
			}
		}
	}
	var out []Update
	for k, in := range want {
		offers := rels.offers[k]
		if len(offers) == 0 {
			continue
		}
		cand, origins, ok := candidate(in, offers, prefs)
		if !ok || debver.Compare(cand, in.Version) <= 0 {
			continue
		}
		u := Update{Name: in.Name, Arch: in.Arch, CurrentVersion: in.Version, Version: cand}
		for _, r := range origins {
			u.Origins = append(u.Origins, r.label+":"+r.version+"/"+r.suite)
			if r.label == "Debian-Security" || strings.HasSuffix(r.suite, "-security") {
				u.Security = true
			}
		}
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Arch < out[j].Arch
	})
	return out, nil
}

func key(name, arch, native string) string {
	if arch == "all" || arch == "" {
		arch = native
	}
	return name + ":" + arch
}

// candidate chooses the version apt would install: versions from highest
// to lowest, the first with the highest priority wins; below the installed
// version only a priority of 1000 or more may win (a downgrade). The
// installed version itself has the priority of dpkg's status file (100)
// or of its archives, whichever is higher.
func candidate(in *Installed, offers []offer, prefs []pin) (string, []*release, bool) {
	type ver struct {
		v    string
		rels []*release
	}
	byVer := map[string]*ver{}
	var vers []*ver
	for _, of := range offers {
		v, ok := byVer[of.version]
		if !ok {
			v = &ver{v: of.version}
			byVer[of.version] = v
			vers = append(vers, v)
		}
		v.rels = append(v.rels, of.rel)
	}
	if _, ok := byVer[in.Version]; !ok {
		vers = append(vers, &ver{v: in.Version})
	}
	sort.SliceStable(vers, func(i, j int) bool { return debver.Compare(vers[i].v, vers[j].v) > 0 })
	best, bestPrio := -1, 0
	for i, v := range vers {
		prio, pinned := versionPin(in.Name, v.v, v.rels, prefs)
		if !pinned {
			prio = 0
			if v.v == in.Version {
				prio = 100
			}
			for _, r := range v.rels {
				prio = max(prio, r.priority)
			}
		}
		if prio > 0 && (best < 0 || prio > bestPrio) {
			best, bestPrio = i, prio
		}
		if v.v == in.Version && bestPrio < 1000 {
			break
		}
	}
	if best < 0 {
		return "", nil, false
	}
	rels := vers[best].rels
	sort.SliceStable(rels, func(i, j int) bool { return rels[i].priority > rels[j].priority })
	return vers[best].v, rels, true
}

// versionPin applies the first specific pin (one naming the package) that
// matches the version or one of its archives.
func versionPin(name, version string, rels []*release, prefs []pin) (int, bool) {
	for _, p := range prefs {
		if p.general || !p.matchesName(name) {
			continue
		}
		switch p.kind {
		case pinVersion:
			if globMatch(p.value, version) {
				return p.priority, true
			}
		default:
			for _, r := range rels {
				if p.matchesRelease(r) {
					return p.priority, true
				}
			}
		}
	}
	return 0, false
}

// checkConfig refuses what this package does not implement.
func checkConfig(fsys fs.FS) error {
	files := []string{"etc/apt/apt.conf"}
	if ents, err := fs.ReadDir(fsys, "etc/apt/apt.conf.d"); err == nil {
		for _, e := range ents {
			files = append(files, "etc/apt/apt.conf.d/"+e.Name())
		}
	}
	for _, f := range files {
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			l := strings.ToLower(strings.TrimSpace(line))
			if strings.HasPrefix(l, "//") || strings.HasPrefix(l, "#") {
				continue
			}
			if strings.Contains(l, "default-release") {
				return fmt.Errorf("%w: /%s sets APT::Default-Release", ErrUnsupported, f)
			}
		}
	}
	return nil
}

type lists struct {
	releases []*release
	offers   map[string][]offer
}

// readLists reads every *_Packages list under var/lib/apt/lists with the
// Release file beside it, keeping only the packages in want.
func readLists(fsys fs.FS, native string, want map[string]*Installed) (*lists, error) {
	const dir = "var/lib/apt/lists"
	ents, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("%w: /%s: %v", ErrUnsupported, dir, err)
	}
	names := make(map[string]bool, len(ents))
	for _, e := range ents {
		names[e.Name()] = true
	}
	out := &lists{offers: map[string][]offer{}}
	wantNames := make(map[string]bool, len(want))
	for _, in := range want {
		wantNames[in.Name] = true
	}
	byPrefix := map[string]*release{}
	for _, e := range ents {
		n := e.Name()
		base, ext := splitExt(n)
		if !strings.HasSuffix(base, "_Packages") {
			continue
		}
		if ext == "diff_Index" || strings.Contains(n, ".diff") {
			continue
		}
		prefix, component := releasePrefix(strings.TrimSuffix(base, "_Packages"), names)
		if prefix == "" {
			return nil, fmt.Errorf("%w: no Release file for /%s/%s", ErrUnsupported, dir, n)
		}
		rel0, ok := byPrefix[prefix]
		if !ok {
			rel0, err = readRelease(fsys, dir, prefix, names)
			if err != nil {
				return nil, err
			}
			byPrefix[prefix] = rel0
		}
		rel := *rel0
		rel.component = component
		r := &rel
		out.releases = append(out.releases, r)
		f, err := fsys.Open(dir + "/" + n)
		if err != nil {
			return nil, fmt.Errorf("aptpolicy: %w", err)
		}
		rd, err := decompress(f, ext)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("/%s/%s: %w", dir, n, err)
		}
		err = scanPackages(rd, func(name, arch, version []byte) {
			if !wantNames[string(name)] { // no allocation for the thousands not installed
				return
			}
			k := key(string(name), string(arch), native)
			if _, ok := want[k]; ok {
				out.offers[k] = append(out.offers[k], offer{version: string(version), rel: r})
			}
		})
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("/%s/%s: %w", dir, n, err)
		}
	}
	return out, nil
}

func splitExt(n string) (base, ext string) {
	for _, e := range []string{".lz4", ".gz", ".xz", ".zst", ".bz2", ".lzma"} {
		if b, ok := strings.CutSuffix(n, e); ok {
			return b, e[1:]
		}
	}
	return n, ""
}

// releasePrefix finds the Release file of a list: the longest prefix of
// its name, cut at '_', for which <prefix>_InRelease or <prefix>_Release
// exists. component is what lies between the prefix and "_binary-".
func releasePrefix(list string, names map[string]bool) (prefix, component string) {
	for i := len(list); i > 0; i-- {
		if i < len(list) && list[i] != '_' {
			continue
		}
		p := list[:i]
		if names[p+"_InRelease"] || names[p+"_Release"] {
			rest := strings.TrimPrefix(list[i:], "_")
			component, _, _ = strings.Cut(rest, "_binary-")
			return p, component
		}
	}
	return "", ""
}

func readRelease(fsys fs.FS, dir, prefix string, names map[string]bool) (*release, error) {
	name := prefix + "_InRelease"
	if !names[name] {
		name = prefix + "_Release"
	}
	b, err := fs.ReadFile(fsys, dir+"/"+name)
	if err != nil {
		return nil, fmt.Errorf("aptpolicy: %w", err)
	}
	if i := bytes.Index(b, []byte("-----BEGIN PGP SIGNED MESSAGE-----")); i >= 0 {
		b = b[i:]
		if j := bytes.Index(b, []byte("\n\n")); j >= 0 {
			b = b[j+2:]
		}
		if j := bytes.Index(b, []byte("-----BEGIN PGP SIGNATURE-----")); j >= 0 {
			b = b[:j]
		}
	}
	r := &release{site: strings.SplitN(prefix, "_", 2)[0]}
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" || line[0] == ' ' {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch strings.ToLower(k) {
		case "origin":
			r.origin = v
		case "label":
			r.label = v
		case "suite":
			r.suite = v
		case "codename":
			r.codename = v
		case "version":
			r.version = v
		case "notautomatic":
			r.notAutomatic = strings.EqualFold(v, "yes")
		case "butautomaticupgrades":
			r.butAutomaticUpgrades = strings.EqualFold(v, "yes")
		}
	}
	return r, nil
}

func decompress(r io.Reader, ext string) (io.Reader, error) {
	switch ext {
	case "":
		return r, nil
	case "gz":
		return gzip.NewReader(r)
	case "lz4":
		return lz4.NewReader(r), nil
	case "xz":
		return xz.NewReader(r)
	}
	return nil, fmt.Errorf("%w: lists compressed as .%s", ErrUnsupported, ext)
}

// scanPackages calls f with the Package, Architecture and Version of every
// stanza of a Packages list (slices of the reader's buffer, valid during
// the call).
func scanPackages(r io.Reader, f func(name, arch, version []byte)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 256<<10), 16<<20)
	var name, arch, version []byte
	flush := func() {
		if len(name) > 0 && len(version) > 0 {
			f(name, arch, version)
		}
		name, arch, version = name[:0], arch[:0], version[:0]
	}
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 {
			flush()
			continue
		}
		switch line[0] {
		case 'P':
			if v, ok := bytes.CutPrefix(line, []byte("Package: ")); ok {
				name = append(name[:0], bytes.TrimSpace(v)...)
			}
		case 'A':
			if v, ok := bytes.CutPrefix(line, []byte("Architecture: ")); ok {
				arch = append(arch[:0], bytes.TrimSpace(v)...)
			}
		case 'V':
			if v, ok := bytes.CutPrefix(line, []byte("Version: ")); ok {
				version = append(version[:0], bytes.TrimSpace(v)...)
			}
		}
	}
	flush()
	return sc.Err()
}

// Pins (apt_preferences(5)).
const (
	pinRelease = iota
	pinOrigin
	pinVersion
)

type pin struct {
	general  bool     // Package: *
	names    []string // exact names, globs, or /regex/
	kind     int
	value    string            // version glob, or origin host
	fields   map[string]string // release a= n= o= l= c= v= b=
	priority int
}

func (p pin) matchesName(name string) bool {
	for _, n := range p.names {
		switch {
		case len(n) > 2 && n[0] == '/' && n[len(n)-1] == '/':
			if re, err := regexp.Compile(n[1 : len(n)-1]); err == nil && re.MatchString(name) {
				return true
			}
		case globMatch(n, name):
			return true
		}
	}
	return false
}

func (p pin) matchesRelease(r *release) bool {
	switch p.kind {
	case pinOrigin:
		return p.value == r.site || (p.value == "" && r.site == "")
	case pinRelease:
		for k, v := range p.fields {
			var got string
			switch k {
			case "a":
				got = r.suite
			case "n":
				got = r.codename
			case "o":
				got = r.origin
			case "l":
				got = r.label
			case "c":
				got = r.component
			case "v":
				got = r.version
			default:
				return false
			}
			if !globMatch(v, got) {
				return false
			}
		}
		return true
	}
	return false
}

func globMatch(pattern, s string) bool {
	if len(pattern) > 2 && pattern[0] == '/' && pattern[len(pattern)-1] == '/' {
		re, err := regexp.Compile(pattern[1 : len(pattern)-1])
		return err == nil && re.MatchString(s)
	}
	ok, err := path.Match(pattern, s)
	return err == nil && ok
}

// readPreferences reads /etc/apt/preferences and the files of
// preferences.d that apt reads (no extension or ".pref"), in order.
func readPreferences(fsys fs.FS) ([]pin, error) {
	files := []string{"etc/apt/preferences"}
	if ents, err := fs.ReadDir(fsys, "etc/apt/preferences.d"); err == nil {
		var names []string
		for _, e := range ents {
			n := e.Name()
			if e.IsDir() || strings.HasPrefix(n, ".") {
				continue
			}
			if strings.Contains(n, ".") && !strings.HasSuffix(n, ".pref") {
				continue
			}
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			files = append(files, "etc/apt/preferences.d/"+n)
		}
	}
	var out []pin
	for _, f := range files {
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			continue
		}
		pins, err := parsePreferences(string(b))
		if err != nil {
			return nil, fmt.Errorf("%w: /%s: %v", ErrUnsupported, f, err)
		}
		out = append(out, pins...)
	}
	return out, nil
}

func parsePreferences(s string) ([]pin, error) {
	var out []pin
	for _, stanza := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n\n") {
		fields := map[string]string{}
		for _, line := range strings.Split(stanza, "\n") {
			line = strings.TrimSpace(line)
			if line == "" || line[0] == '#' {
				continue
			}
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				return nil, fmt.Errorf("line %q is not a field", line)
			}
			fields[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
		}
		if len(fields) == 0 {
			continue
		}
		pkg, pinText, prio := fields["package"], fields["pin"], fields["pin-priority"]
		if pkg == "" && pinText == "" && prio == "" {
			continue // an Explanation-only stanza
		}
		if pkg == "" || pinText == "" || prio == "" {
			return nil, fmt.Errorf("a stanza needs Package, Pin and Pin-Priority (got %v)", fields)
		}
		n, err := strconv.Atoi(prio)
		if err != nil {
			return nil, fmt.Errorf("Pin-Priority %q is not a number", prio)
		}
		p := pin{priority: n, names: strings.Fields(pkg)}
		p.general = pkg == "*"
		kind, val, _ := strings.Cut(pinText, " ")
		val = strings.TrimSpace(val)
		switch kind {
		case "version":
			p.kind, p.value = pinVersion, val
			if p.general {
				return nil, fmt.Errorf("a version pin for every package (%q)", pinText)
			}
		case "origin":
			p.kind, p.value = pinOrigin, strings.Trim(val, `"`)
		case "release":
			p.kind, p.fields = pinRelease, map[string]string{}
			for _, part := range strings.Split(val, ",") {
				part = strings.TrimSpace(part)
				k, v, ok := strings.Cut(part, "=")
				if !ok {
					// "release 12" is a version (v=).
					k, v = "v", part
				}
				p.fields[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `"`)
			}
		default:
			return nil, fmt.Errorf("Pin %q is not a release, origin or version pin", pinText)
		}
		out = append(out, p)
	}
	return out, nil
}
