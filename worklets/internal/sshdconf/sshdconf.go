// Package sshdconf reads OpenSSH server configuration the way sshd does for
// the settings the worklets check: keywords are case-insensitive, the first
// value obtained for a keyword wins, Include directives (with globs,
// relative to /etc/ssh) are expanded in place in lexical order, and settings
// inside Match blocks are kept apart because they apply only to some
// connections. It reads through an fs.FS rooted at "/" so that the worklets
// (under WASI) and the tests (fstest.MapFS) share it.
package sshdconf

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// MainPath is where sshd reads its configuration.
const MainPath = "/etc/ssh/sshd_config"

// maxDepth bounds Include nesting, as sshd does.
const maxDepth = 16

// Setting is one keyword occurrence.
type Setting struct {
	Keyword string // lower case
	Value   string // first argument, unquoted
	File    string // absolute path
	Line    int
	Match   string // the Match criteria when inside a Match block, "" when global
}

// Where formats the setting's location for messages.
func (s Setting) Where() string { return fmt.Sprintf("%s:%d", s.File, s.Line) }

// Config is the parsed configuration: every occurrence in the order sshd
// reads them, and the files that were read.
type Config struct {
	Settings []Setting
	Files    []string
}

// Global returns the effective global value of keyword (the first one
// outside any Match block), and whether it is set at all.
func (c *Config) Global(keyword string) (Setting, bool) {
	keyword = strings.ToLower(keyword)
	for _, s := range c.Settings {
		if s.Keyword == keyword && s.Match == "" {
			return s, true
		}
	}
	return Setting{}, false
}

// InMatch returns the occurrences of keyword inside Match blocks.
func (c *Config) InMatch(keyword string) []Setting {
	keyword = strings.ToLower(keyword)
	var out []Setting
	for _, s := range c.Settings {
		if s.Keyword == keyword && s.Match != "" {
			out = append(out, s)
		}
	}
	return out
}

// ErrNoConfig means the main configuration file does not exist (sshd is not
// installed, or not configured there).
var ErrNoConfig = errors.New(MainPath + " does not exist")

// Load reads the configuration starting at MainPath. Overlay, when not nil,
// supplies file contents that take precedence over fsys (keys are absolute
// paths), so a remediation can check the effect of a drop-in before writing it.
func Load(fsys fs.FS, overlay map[string]string) (*Config, error) {
	l := &loader{fsys: fsys, overlay: overlay, cfg: &Config{}}
	data, err := l.read(MainPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNoConfig
	}
	if err != nil {
		return nil, err
	}
	if err := l.parse(MainPath, data, "", 0); err != nil {
		return nil, err
	}
	return l.cfg, nil
}

type loader struct {
	fsys    fs.FS
	overlay map[string]string
	cfg     *Config
}

func rel(abs string) string { return strings.TrimPrefix(path.Clean(abs), "/") }

func (l *loader) read(abs string) ([]byte, error) {
	if s, ok := l.overlay[abs]; ok {
		return []byte(s), nil
	}
	return fs.ReadFile(l.fsys, rel(abs))
}

// glob expands an Include pattern: the files of fsys that match, plus
// overlay files that match, sorted, without duplicates.
func (l *loader) glob(pattern string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	if strings.ContainsAny(pattern, "*?[") {
		matches, err := fs.Glob(l.fsys, rel(pattern))
		if err != nil {
			return nil, fmt.Errorf("Include %s: %w", pattern, err)
		}
		for _, m := range matches {
			seen["/"+m] = true
		}
	} else if _, err := fs.Stat(l.fsys, rel(pattern)); err == nil {
		seen[path.Clean(pattern)] = true
	}
	for p := range l.overlay {
		if ok, _ := path.Match(pattern, p); ok {
			seen[p] = true
		}
	}
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out, nil
}

func (l *loader) parse(file string, data []byte, match string, depth int) error {
	l.cfg.Files = append(l.cfg.Files, file)
	for i, raw := range strings.Split(string(data), "\n") {
		line := strings.TrimSpace(strings.TrimSuffix(raw, "\r"))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		keyword, args := splitLine(line)
		if keyword == "" {
			continue
		}
		switch keyword {
		case "match":
			match = strings.Join(args, " ")
			if strings.EqualFold(match, "all") {
				// "Match all" returns to settings that apply to every connection.
				match = ""
			}
			continue
		case "include":
			if depth >= maxDepth {
				return fmt.Errorf("%s:%d: Include nested more than %d deep", file, i+1, maxDepth)
			}
			for _, pat := range args {
				if !strings.HasPrefix(pat, "/") {
					pat = "/etc/ssh/" + pat
				}
				files, err := l.glob(pat)
				if err != nil {
					return fmt.Errorf("%s:%d: %w", file, i+1, err)
				}
				for _, f := range files {
					inc, err := l.read(f)
					if err != nil {
						if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrInvalid) {
							continue
						}
						return fmt.Errorf("%s:%d: Include %s: %w", file, i+1, f, err)
					}
					// A Match block opened in an included file ends with it.
					if err := l.parse(f, inc, match, depth+1); err != nil {
						return err
					}
				}
			}
			continue
		}
		value := ""
		if len(args) > 0 {
			value = args[0]
		}
		l.cfg.Settings = append(l.cfg.Settings, Setting{Keyword: keyword, Value: value, File: file, Line: i + 1, Match: match})
	}
	return nil
}

// splitLine returns the lower-case keyword and the arguments of one line.
// The keyword ends at whitespace or '='; arguments may be double-quoted.
func splitLine(line string) (string, []string) {
	end := strings.IndexAny(line, " \t=")
	if end < 0 {
		return strings.ToLower(line), nil
	}
	keyword := strings.ToLower(line[:end])
	rest := strings.TrimLeft(line[end:], " \t")
	rest = strings.TrimPrefix(rest, "=")
	var args []string
	for {
		rest = strings.TrimLeft(rest, " \t")
		if rest == "" || strings.HasPrefix(rest, "#") {
			break
		}
		if rest[0] == '"' {
			j := strings.IndexByte(rest[1:], '"')
			if j < 0 {
				args = append(args, rest[1:])
				break
			}
			args = append(args, rest[1:1+j])
			rest = rest[2+j:]
			continue
		}
		j := strings.IndexAny(rest, " \t")
		if j < 0 {
			args = append(args, rest)
			break
		}
		args = append(args, rest[:j])
		rest = rest[j:]
	}
	return keyword, args
}
