package tomlkeys

import (
	"reflect"
	"testing"
)

func TestLines(t *testing.T) {
	doc := `# comment
server = "x"
[checkin]
interval = "1h"   # = not a key
  "quoted key" = 1
a.b = 2
[params.port]
type = "int"
text = """
fake = 1
"""
after = true
[[tables]]
x = 1
[worklets]
trusted_keys = [
  "k = v",
]
`
	want := map[string]int{"server": 2, "checkin": 3, "checkin.interval": 4, `checkin."quoted key"`: 5,
		"checkin.a": 6, "checkin.a.b": 6, "params.port": 7, "params.port.type": 8, "params.port.text": 9,
		"params.port.after": 12, "tables": 13, "tables.x": 14, "worklets": 15, "worklets.trusted_keys": 16}
	if got := Lines([]byte(doc)); !reflect.DeepEqual(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
}

func TestNearest(t *testing.T) {
	known := []string{"server", "checkin.interval", "checkin.variance", "sandbox.compile_timeout", "sandbox.max_timeout", "sandbox.max_memory", "scan.skip_pending", "scan.timeout"}
	for key, want := range map[string]string{
		"checkin.intervall":    "checkin.interval",
		"checkin.varaince":     "checkin.variance",
		"sandbox.max_memroy":   "sandbox.max_memory",
		"sandbox.timeout":      "sandbox.max_timeout",
		"checkin.timeout":      "scan.timeout", // the same name in another table
		"checkin.skip_pending": "scan.skip_pending",
		"sever":                "server",
		"colour":               "",
		"sandbox.colour":       "",
	} {
		if got := Nearest(key, known); got != want {
			t.Errorf("Nearest(%q) = %q, want %q", key, got, want)
		}
	}
}
