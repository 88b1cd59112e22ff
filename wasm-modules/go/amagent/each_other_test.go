//go:build !wasip1

package amagent

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestEachElement(t *testing.T) {
	long := `"` + strings.Repeat("x", 300) + `"` // larger than the first buffer
	testFacts = map[string]string{
		"software.0": `{"name":"a"}`, "software.0.name": `"a"`,
		"software.1": `{"version":"1"}`, // no name
		"software.2": `{}`, "software.2.name": long,
		"software.3": `{}`, "software.3.name": `"d"`,
	}
	defer func() { testFacts = nil }()
	var got []string
	err := EachElement("software", "name", func(i int, v json.RawMessage) bool {
		got = append(got, fmt.Sprintf("%d=%s", i, v))
		return true
	})
	want := []string{`0="a"`, `1=`, `2=` + long, `3="d"`}
	if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("EachElement = %v %v, want %v", got, err, want)
	}
	got = nil
	_ = EachElement("software", "", func(i int, v json.RawMessage) bool {
		got = append(got, string(v))
		return i < 1 // stop after the second
	})
	if fmt.Sprint(got) != `[{"name":"a"} {"version":"1"}]` {
		t.Fatalf("elements %v", got)
	}
	n := 0
	if err := EachElement("absent", "name", func(int, json.RawMessage) bool { n++; return true }); err != nil || n != 0 {
		t.Fatalf("absent list: %d elements, %v", n, err)
	}
	if v, err := FactAt("software", 3, "name"); err != nil || string(v) != `"d"` {
		t.Fatalf("FactAt = %s %v", v, err)
	}
	testFacts = nil
	if err := EachElement("software", "name", func(int, json.RawMessage) bool { return true }); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("no host: %v", err)
	}
}
