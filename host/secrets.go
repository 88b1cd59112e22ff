package host

import (
	"encoding/json"
	"strings"
)

// secretRedacted stands in for a secret parameter's value wherever a run's
// output would otherwise show it.
const secretRedacted = "(secret)"

// minSecret is the shortest value redacted: a one- or two-character value
// would erase unrelated text and hides nothing worth hiding.
const minSecret = 3

// redactor removes the values of a run's secret parameters (ABI.md
// section 5: a secret appears nowhere but the module's stdin) from what
// the host shows of the run: its message and details, its stderr and log
// lines, and the argv of the programs it asked for. A module that prints
// its secret therefore does not put it in a result or a log.
type redactor struct {
	r *strings.Replacer
}

// newRedactor collects the secret values among resolved params (strings,
// numbers, and the strings of a list).
func newRedactor(m *Manifest, params map[string]any) *redactor {
	var pairs []string
	add := func(s string) {
		if len(s) < minSecret {
			return
		}
		pairs = append(pairs, s, secretRedacted)
		// The value as it appears inside a JSON string (details).
		if b, err := json.Marshal(s); err == nil {
			if esc := string(b[1 : len(b)-1]); esc != s {
				pairs = append(pairs, esc, secretRedacted)
			}
		}
	}
	for _, name := range m.SecretParams() {
		switch v := params[name].(type) {
		case string:
			add(v)
		case []any:
			for _, x := range v {
				if s, ok := x.(string); ok {
					add(s)
				}
			}
		case nil:
		default:
			if b, err := json.Marshal(v); err == nil {
				add(string(b))
			}
		}
	}
	if len(pairs) == 0 {
		return nil
	}
	return &redactor{r: strings.NewReplacer(pairs...)}
}

// String redacts s.
func (r *redactor) String(s string) string {
	if r == nil {
		return s
	}
	return r.r.Replace(s)
}

// JSON redacts raw JSON text; the result stays valid JSON since only the
// inside of strings (or a whole number) is replaced by a string's text.
func (r *redactor) JSON(raw json.RawMessage) json.RawMessage {
	if r == nil || len(raw) == 0 {
		return raw
	}
	out := json.RawMessage(r.r.Replace(string(raw)))
	if !json.Valid(out) {
		// A replaced number: quote nothing, drop the details rather
		// than show the secret or invalid JSON.
		return json.RawMessage(`"` + secretRedacted + `"`)
	}
	return out
}

// Strings redacts each element.
func (r *redactor) Strings(in []string) []string {
	if r == nil {
		return in
	}
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = r.String(s)
	}
	return out
}
