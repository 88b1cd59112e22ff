package main

// `amagent enroll`: the one line an admin pastes into a deployment tool.
// It writes server and access_key into amagent.toml (editing the text in
// place, so that comments and every other key survive), enrolls the device
// with its own identity in state_dir (the honest check that the platform
// is reachable and takes the key; the token it gets is kept, so the service
// does not enroll a second time) and restarts the installed service. The
// access key is never printed, nor left in an error message.

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/amagent/amagent/agent/config"
	"github.com/amagent/amagent/agent/identity"
	"github.com/amagent/amagent/agent/internal/httpx"
	"github.com/amagent/amagent/agent/state"
)

// enrollOptions are what enrollCommand needs from the machine; tests
// replace them.
type enrollOptions struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// http talks to the platform; nil means httpx.NewClient.
	http *http.Client
	// service is the installed agent service; nil means the system's.
	service systemService
	// hostname is sent at enrollment; nil means os.Hostname.
	hostname func() (string, error)
}

func enrollCommand(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	return enroll(ctx, args, enrollOptions{stdin: stdin, stdout: stdout, stderr: stderr})
}

// maxKeyBytes bounds an access key read from a file or stdin.
const maxKeyBytes = 4096

func enroll(ctx context.Context, args []string, o enrollOptions) error {
	fl := flag.NewFlagSet("enroll", flag.ContinueOnError)
	fl.SetOutput(o.stderr)
	path := fl.String("config", config.DefaultPath, "configuration `file` to write (created when missing)")
	server := fl.String("server", "", "the platform's base `URL` (https; http only to loopback)")
	key := fl.String("access-key", "", "the organisation's access `key`; \"-\" reads it from standard input")
	keyFile := fl.String("access-key-file", "", "read the access key from this `file`")
	noStart := fl.Bool("no-start", false, "do not start or restart the service")
	skipCheck := fl.Bool("skip-check", false, "write the configuration without enrolling now (the service enrolls when it starts)")
	if err := fl.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if fl.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fl.Arg(0))}
	}
	if *server == "" {
		return usageError{"--server is required"}
	}
	accessKey, err := readAccessKey(*key, *keyFile, o.stdin)
	if err != nil {
		return err
	}
	// Whatever goes wrong from here on, the key never reaches the output.
	scrub := func(err error) error {
		if err == nil || !strings.Contains(err.Error(), accessKey) {
			return err
		}
		return errors.New(strings.ReplaceAll(err.Error(), accessKey, "<access key>"))
	}

	old, err := os.ReadFile(*path)
	exists := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("reading %s: %w", *path, err)
	}
	if !exists {
		old = []byte(newConfigHeader)
	}
	text, err := setTopLevelKeys(old, []keyValue{{"server", *server}, {"access_key", accessKey}})
	if err != nil {
		return fmt.Errorf("%s: %w", *path, err)
	}
	cfg, err := config.Parse(text)
	if err != nil {
		return scrub(fmt.Errorf("%s with the new server and access key would not be valid: %w; nothing written", *path, err))
	}
	if cfg.Server != *server || cfg.AccessKey != accessKey {
		return fmt.Errorf("%s: could not set server and access_key in place (are they multi-line strings or inside a table?); edit the file by hand", *path)
	}

	if !*skipCheck {
		uuid, err := enrollNow(ctx, cfg, o)
		if err != nil {
			return scrub(fmt.Errorf("%w; %s not changed", err, *path))
		}
		fmt.Fprintf(o.stdout, "enrolled device %s with %s\n", uuid, cfg.Server)
	}

	if err := writeConfigFile(*path, text, exists); err != nil {
		return err
	}
	fmt.Fprintf(o.stdout, "wrote server and access_key to %s\n", *path)

	if *noStart {
		return nil
	}
	svc := o.service
	if svc == nil {
		svc = newSystemService(*path)
	}
	name, ok := svc.Installed(ctx)
	if !ok {
		fmt.Fprintf(o.stdout, "no amagent service is installed here: start the agent with `amagent run --config %s`\n", *path)
		return nil
	}
	if err := svc.Restart(ctx); err != nil {
		return fmt.Errorf("starting the service %s: %w", name, err)
	}
	fmt.Fprintf(o.stdout, "started the service %s\n", name)
	return nil
}

// newConfigHeader starts a configuration that enroll creates.
const newConfigHeader = `# amagent.toml, written by ` + "`amagent enroll`" + `. Every key left out has
# its default (README, Configuration); ` + "`amagent config check`" + ` validates the file.
`

// readAccessKey takes the key from exactly one of the flag, a file or
// standard input ("-"), trimmed; it must be one printable line.
func readAccessKey(flagValue, file string, stdin io.Reader) (string, error) {
	var raw []byte
	switch {
	case flagValue != "" && file != "":
		return "", usageError{"give --access-key or --access-key-file, not both"}
	case flagValue == "-":
		if stdin == nil {
			return "", errors.New("--access-key -: no standard input")
		}
		b, err := io.ReadAll(io.LimitReader(stdin, maxKeyBytes+1))
		if err != nil {
			return "", fmt.Errorf("reading the access key from standard input: %w", err)
		}
		raw = b
	case file != "":
		f, err := os.Open(file)
		if err != nil {
			return "", fmt.Errorf("access key file: %w", err)
		}
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, maxKeyBytes+1))
		if err != nil {
			return "", fmt.Errorf("access key file %s: %w", file, err)
		}
		raw = b
	case flagValue != "":
		raw = []byte(flagValue)
	default:
		return "", usageError{"--access-key KEY, --access-key-file FILE or --access-key - (standard input) is required"}
	}
	if len(raw) > maxKeyBytes {
		return "", fmt.Errorf("the access key is longer than %d bytes", maxKeyBytes)
	}
	k := strings.TrimSpace(string(raw))
	if k == "" {
		return "", errors.New("the access key is empty")
	}
	for _, r := range k {
		if r < ' ' || r == 0x7f {
			return "", errors.New("the access key has a control character or more than one line")
		}
	}
	return k, nil
}

// enrollNow enrolls the device with the identity kept in cfg.StateDir
// (made there when this is its first start) and keeps the token.
func enrollNow(ctx context.Context, cfg config.Config, o enrollOptions) (string, error) {
	store, err := state.NewFileStore(cfg.StateDir)
	if err != nil {
		return "", err
	}
	// Only trouble with the identity is worth showing here.
	log := slog.New(slog.NewTextHandler(o.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	id, err := identity.Load(store, log)
	if err != nil {
		return "", err
	}
	hc := o.http
	if hc == nil {
		hc = httpx.NewClient(10*time.Second, 30*time.Second)
	}
	hostname := o.hostname
	if hostname == nil {
		hostname = os.Hostname
	}
	host, err := hostname()
	if err != nil {
		return "", fmt.Errorf("hostname: %w", err)
	}
	e := &identity.Enroller{Server: strings.TrimRight(cfg.Server, "/"), AccessKey: cfg.AccessKey, Hostname: host, HTTP: hc}
	switch err := e.Enroll(ctx, id); {
	case errors.Is(err, identity.ErrAccessDenied):
		return "", fmt.Errorf("the platform at %s refused the access key: %w", cfg.Server, err)
	case err != nil:
		return "", fmt.Errorf("enrolling with %s: %w", cfg.Server, err)
	}
	return id.UUID(), nil
}

// writeConfigFile replaces the file atomically. An existing file keeps its
// mode and owner; a new one is 0640 (it holds the access key).
func writeConfigFile(path string, text []byte, exists bool) error {
	mode := fs.FileMode(0o640)
	var st fs.FileInfo
	if exists {
		var err error
		if st, err = os.Stat(path); err != nil {
			return err
		}
		mode = st.Mode().Perm()
	}
	dir := filepath.Dir(path)
	if err := prepareConfigDir(dir); err != nil {
		return fmt.Errorf("configuration directory: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".amagent.toml-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if st != nil {
		if err := sameOwner(tmp, st); err != nil {
			tmp.Close()
			return fmt.Errorf("writing %s: keeping its owner: %w", path, err)
		}
	}
	if _, err := tmp.Write(text); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

type keyValue struct{ key, value string }

// setTopLevelKeys sets string keys of the top-level table in TOML text:
// a line that assigns the key is rewritten with the new value (its
// indentation and a trailing comment kept); a key that is missing is added
// after the last top-level assignment, or after the file's opening
// comments. Every other byte stays as it was.
func setTopLevelKeys(text []byte, kvs []keyValue) ([]byte, error) {
	lines := strings.SplitAfter(string(text), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	firstTable := len(lines)
	lastAssign := -1
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "[") {
			firstTable = i
			break
		}
		if t != "" && !strings.HasPrefix(t, "#") {
			lastAssign = i
		}
	}
	for _, kv := range kvs {
		done := false
		for i := 0; i < firstTable; i++ {
			indent, rest, ok := assignment(lines[i], kv.key)
			if !ok {
				continue
			}
			if done {
				return nil, fmt.Errorf("key %s is assigned twice", kv.key)
			}
			comment, err := trailingComment(rest)
			if err != nil {
				return nil, fmt.Errorf("key %s: %w", kv.key, err)
			}
			nl := ""
			if strings.HasSuffix(lines[i], "\n") {
				nl = "\n"
			}
			lines[i] = indent + kv.key + " = " + tomlString(kv.value) + comment + nl
			done = true
		}
		if done {
			continue
		}
		at := lastAssign + 1
		if lastAssign < 0 {
			at = 0
			for at < firstTable && strings.HasPrefix(strings.TrimSpace(lines[at]), "#") {
				at++
			}
		}
		if at > 0 && !strings.HasSuffix(lines[at-1], "\n") {
			lines[at-1] += "\n"
		}
		lines = append(lines[:at], append([]string{kv.key + " = " + tomlString(kv.value) + "\n"}, lines[at:]...)...)
		lastAssign = at
		firstTable++
	}
	return []byte(strings.Join(lines, "")), nil
}

// assignment reports whether line assigns key (bare or quoted) and returns
// its indentation and the text after "=".
func assignment(line, key string) (indent, rest string, ok bool) {
	t := strings.TrimLeft(line, " \t")
	indent = line[:len(line)-len(t)]
	for _, k := range []string{key, `"` + key + `"`, `'` + key + `'`} {
		if r, found := strings.CutPrefix(t, k); found {
			r = strings.TrimLeft(r, " \t")
			if after, isAssign := strings.CutPrefix(r, "="); isAssign {
				return indent, after, true
			}
		}
	}
	return "", "", false
}

// trailingComment returns the " # ..." after a one-line string value
// (without the newline), "" when there is none.
func trailingComment(rest string) (string, error) {
	v := strings.TrimRight(strings.TrimLeft(rest, " \t"), "\r\n")
	end := -1
	switch {
	case strings.HasPrefix(v, `"""`), strings.HasPrefix(v, `'''`):
		return "", errors.New("a multi-line string cannot be rewritten in place")
	case strings.HasPrefix(v, `"`):
		for i := 1; i < len(v); i++ {
			if v[i] == '\\' {
				i++
				continue
			}
			if v[i] == '"' {
				end = i + 1
				break
			}
		}
	case strings.HasPrefix(v, `'`):
		if i := strings.IndexByte(v[1:], '\''); i >= 0 {
			end = i + 2
		}
	default:
		// Not a string (the file is invalid for this key anyway): the
		// comment, if any, starts at the first #.
		if i := strings.IndexByte(v, '#'); i >= 0 {
			return " " + v[i:], nil
		}
		return "", nil
	}
	if end < 0 {
		return "", errors.New("unterminated string")
	}
	after := v[end:]
	if i := strings.IndexByte(after, '#'); i >= 0 {
		return " " + after[i:], nil
	}
	return "", nil
}

// tomlString quotes s as a TOML basic string.
func tomlString(s string) string {
	var b bytes.Buffer
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < ' ' || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
