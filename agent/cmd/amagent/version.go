package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/amagent/amagent/agent/version"
)

// versionCommand is `amagent version [--json]`: the version alone, or
// every build fact (version, commit, commit date, Go, wazero) as JSON.
func versionCommand(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print version, commit, build date (the commit's), Go and wazero versions as JSON")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	in := version.Get()
	if !*asJSON {
		fmt.Fprintln(stdout, "amagent", in.Version)
		return nil
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(in)
}
