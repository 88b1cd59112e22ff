package scanjson

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestObjects(t *testing.T) {
	raw := []byte(` [ {"name": "openssl", "version":"3.0.15-1~deb12u1", "security": true, "nested": {"name": "x", "a": [1, {"b": "}"}]},
	  "arch": null},
	 "not an object", 12, {"name": "caf\u00e9 \"q\" \\ \/ \ud83d\ude00", "version": "1"}, {} ]`)
	got, err := Objects(raw, "name", "version", "security", "arch", "nested")
	if err != nil {
		t.Fatal(err)
	}
	want := []Fields{
		{"name": "openssl", "version": "3.0.15-1~deb12u1", "security": "true", "arch": ""},
		{"name": "café \"q\" \\ / 😀", "version": "1"},
		{},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Objects = %q\nwant %q", got, want)
	}
}

func TestObjectsMatchesEncodingJSON(t *testing.T) {
	type pkg struct {
		Name    string `json:"name"`
		Version string `json:"version"`
		Source  string `json:"source"`
	}
	var in []pkg
	for i := range 500 {
		in = append(in, pkg{Name: fmt.Sprintf("lib%d-<&>\t\"x\"", i), Version: fmt.Sprintf("1:%d.0-1~deb12u%d", i, i%7), Source: "dpkg"})
	}
	raw, _ := json.MarshalIndent(in, "", "  ")
	got, err := Objects(raw, "name", "version")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(in) {
		t.Fatalf("%d objects, want %d", len(got), len(in))
	}
	for i := range in {
		if got[i]["name"] != in[i].Name || got[i]["version"] != in[i].Version {
			t.Fatalf("object %d = %q, want %+v", i, got[i], in[i])
		}
	}
}

func TestObjectsErrors(t *testing.T) {
	if got, err := Objects([]byte("null"), "name"); err != nil || got != nil {
		t.Errorf("null: %v %v", got, err)
	}
	for _, bad := range []string{``, `{}`, `[`, `[{"name": "x"`, `[{"name" "x"}]`, `[{"name": "x"} {"name": "y"}]`, `[{"name": "\u12"}]`, `["open`} {
		if _, err := Objects([]byte(bad), "name"); err == nil {
			t.Errorf("Objects(%q): want an error", bad)
		} else if strings.Contains(err.Error(), "panic") {
			t.Error(err)
		}
	}
}

func TestEqual(t *testing.T) {
	for _, c := range []struct {
		raw, s string
		want   bool
	}{
		{`"apt"`, "apt", true},
		{`"apt"`, "apu", false},
		{`"apt-utils"`, "apt", false},
		{`"ap"`, "apt", false},
		{`"\u0061pt"`, "apt", true},
		{`"a\"b"`, `a"b`, true},
		{`"caf\u00e9"`, "café", true},
		{`"café"`, "café", true},
		{`"\u0061pu"`, "apt", false},
		{`""`, "", true},
		{`apt`, "a", false},
		{`"x"`, "", false},
	} {
		if got := Equal([]byte(c.raw), c.s); got != c.want {
			t.Errorf("Equal(%s, %q) = %v, want %v", c.raw, c.s, got, c.want)
		}
	}
}
