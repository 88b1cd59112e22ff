package protocol

import (
	"bytes"
	"strings"
	"testing"
)

func TestScanSections(t *testing.T) {
	report := []byte(` { "scan_id" : "s1", "scan" : { "os" : {"name":"Debian", "x":[1,2,{"scan":3}]} ,
		"software":[{"name":"a"}],"hostname":"h", "n": 12.5e3 }, "results": [] }` + "\n")
	secs, err := ScanSections(report)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"os": `{"name":"Debian", "x":[1,2,{"scan":3}]}`, "software": `[{"name":"a"}]`, "hostname": `"h"`, "n": `12.5e3`}
	if len(secs) != len(want) {
		t.Fatalf("sections = %+v", secs)
	}
	for _, s := range secs {
		if got := string(s.Value(report)); got != want[s.Key] {
			t.Errorf("section %s = %q, want %q", s.Key, got, want[s.Key])
		}
	}
	// Splicing a placeholder in and the bytes back gives the report again.
	d := SectionDigest(secs[1].Value(report))
	withPH := Splice(report, secs, func(i int) []byte {
		if i == 1 {
			return Placeholder(d)
		}
		return nil
	})
	if !bytes.Contains(withPH, []byte(`"software":{"$digest":"sha256:`)) {
		t.Fatalf("placeholder not spliced in: %s", withPH)
	}
	secs2, err := ScanSections(withPH)
	if err != nil {
		t.Fatal(err)
	}
	got, ok, err := PlaceholderDigest(secs2[1].Value(withPH))
	if err != nil || !ok || got != d {
		t.Fatalf("PlaceholderDigest = %q %v %v, want %q", got, ok, err, d)
	}
	back := Splice(withPH, secs2, func(i int) []byte {
		if i == 1 {
			return secs[1].Value(report)
		}
		return nil
	})
	if !bytes.Equal(back, report) {
		t.Fatalf("rebuilt report differs:\n%s\n%s", back, report)
	}
}

func TestScanSectionsEdges(t *testing.T) {
	for _, tc := range []struct {
		name, report string
		n            int
		err          string
	}{
		{"no scan", `{"scan_id":"s"}`, 0, ""},
		{"null scan", `{"scan":null}`, 0, ""},
		{"empty scan", `{"scan":{}}`, 0, ""},
		{"not an object", `[1]`, 0, "not a JSON object"},
		{"trailing data", `{"scan":{}} {}`, 0, "trailing data"},
		{"truncated", `{"scan":{"os":{`, 0, "EOF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			secs, err := ScanSections([]byte(tc.report))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || len(secs) != tc.n {
				t.Fatalf("ScanSections = %+v, %v", secs, err)
			}
		})
	}
}

func TestPlaceholderDigest(t *testing.T) {
	good := SectionDigest([]byte(`[1,2,3]`))
	for _, tc := range []struct {
		value string
		ok    bool
		err   string
	}{
		{`{"$digest":"` + good + `"}`, true, ""},
		{`{ "$digest" : "` + good + `" }`, true, ""},
		{`{"$digest":"` + good + `","x":1}`, false, ""},
		{`{"name":"$digest"}`, false, ""},
		{`"$digest"`, false, ""},
		{`{"$digest":"md5:abc"}`, false, "is not sha256:"},
		{`{"$digest":"` + strings.ToUpper(good) + `"}`, false, "is not sha256:"},
		{`{"$digest":12}`, false, "must be a string"},
	} {
		d, ok, err := PlaceholderDigest([]byte(tc.value))
		if ok != tc.ok || (tc.err == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("PlaceholderDigest(%s) = %q, %v, %v", tc.value, d, ok, err)
		}
	}
}
