package checkin

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/amagent/amagent/agent/protocol"
)

// Withheld stands for a value that is never logged.
const Withheld = "<withheld>"

// RedactAnswer renders a check-in answer for the log with no parameter
// value in it (PROTOCOL.md: the agent never logs a check-in answer's
// parameters; secret ones travel in the config). It keeps what an operator
// needs to follow the conversation: the id, the command, how many params
// it has, the intervals, and each assignment by name, version and kind
// with the names (not the values) of its parameters. An answer that does
// not decode is logged by its size only.
func RedactAnswer(body []byte) string {
	var a protocol.CheckinResponse
	if err := json.Unmarshal(body, &a); err != nil {
		return fmt.Sprintf("<%d bytes that do not decode as a check-in answer>", len(body))
	}
	type assignment struct {
		Name      string   `json:"name"`
		Version   string   `json:"version"`
		Kind      string   `json:"kind,omitempty"`
		Remediate string   `json:"remediate,omitempty"`
		Params    []string `json:"params,omitempty"` // names only
	}
	type config struct {
		CheckinInterval int          `json:"checkin_interval"`
		ScanInterval    int          `json:"scan_interval"`
		Worklets        []assignment `json:"worklets"`
	}
	out := struct {
		ID      int64    `json:"id"`
		Command string   `json:"command"`
		Params  []string `json:"params"`
		Config  *config  `json:"config,omitempty"`
	}{ID: a.ID, Command: a.Command, Params: []string{}}
	for range a.Params {
		out.Params = append(out.Params, Withheld)
	}
	if a.Config != nil {
		c := &config{CheckinInterval: a.Config.CheckinInterval, ScanInterval: a.Config.ScanInterval, Worklets: []assignment{}}
		if a.Config.Worklets == nil {
			c.Worklets = nil
		}
		for _, w := range a.Config.Worklets {
			x := assignment{Name: w.Name, Version: w.Version, Kind: w.Kind, Remediate: w.Remediate}
			for k := range w.Params {
				x.Params = append(x.Params, k)
			}
			sort.Strings(x.Params)
			c.Worklets = append(c.Worklets, x)
		}
		out.Config = c
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return fmt.Sprintf("<%d bytes>", len(body))
	}
	return strings.TrimSuffix(b.String(), "\n")
}
