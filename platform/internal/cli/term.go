package cli

import "github.com/amagent/amagent/platform/internal/safetext"

// Devices choose most of what amplatform prints (hostnames, results,
// messages, errors, scan documents). Every string that reaches stdout goes
// through termSafe (tables) or jsonSafe (--json); the rules, shared with
// the console, are in package safetext.

// termSafe returns s with every character a terminal could act on, and
// every byte that is not UTF-8, shown as a Go escape (\x1b, \u202e, \t).
func termSafe(s string) string { return safetext.Term(s) }

// jsonSafe rewrites encoded JSON so that it holds nothing a terminal acts
// on; the JSON stays valid and equal.
func jsonSafe(b []byte) []byte { return safetext.JSON(b) }
