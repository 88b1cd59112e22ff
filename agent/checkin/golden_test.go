package checkin

import (
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestGoldenCheckinLog compares a full check-in's log with the seed's
// lines (testdata/*.golden; go test -run Golden -update rewrites them).
func TestGoldenCheckinLog(t *testing.T) {
	cases := []struct {
		name  string
		token string // "" means the first start: enroll and apply a config
		kept  bool   // the platform config is already kept in state
	}{
		{"checkin_seed", "tok-new", true},
		{"checkin_first_start", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := &fakePlatform{answers: []func(http.ResponseWriter){answer(200, nopAnswer)}}
			if tc.token != "" {
				p.tokens = map[string]bool{tc.token: true}
			}
			srv, hc := loopback(t, p)
			e := setup(t, srv, hc, tc.token, func(o *LoopOptions) {
				if tc.kept {
					o.Store.Write(KeyPlatformConfig, []byte(`{"checkin_interval":3600,"scan_interval":12,"worklets":[]}`))
				}
			})
			if wait := e.loop.cycle(t.Context()); wait != time.Hour {
				t.Fatalf("next wait %s, want 1h (rand 0.5 means no variance)", wait)
			}
			got := normalise(e.log.String(), srv)
			path := filepath.Join("testdata", tc.name+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Fatalf("log differs from %s\ngot:\n%s\nwant:\n%s", path, got, want)
			}
		})
	}
}

// TestGoldenMatchesSeed checks the golden file itself against the seed's
// lines (testdata/seed_checkin.txt, copied from the user's description),
// whose <placeholders> match any value.
func TestGoldenMatchesSeed(t *testing.T) {
	seed, err := os.ReadFile(filepath.Join("testdata", "seed_checkin.txt"))
	if err != nil {
		t.Fatal(err)
	}
	golden, err := os.ReadFile(filepath.Join("testdata", "checkin_seed.golden"))
	if err != nil {
		t.Fatal(err)
	}
	seedLines := strings.Split(strings.TrimSpace(string(seed)), "\n")
	gotLines := strings.Split(strings.TrimSpace(string(golden)), "\n")
	if len(seedLines) != 6 || len(gotLines) != len(seedLines) {
		t.Fatalf("seed has %d lines, golden %d", len(seedLines), len(gotLines))
	}
	placeholder := regexp.MustCompile(`<[a-z_]+>`)
	for i, s := range seedLines {
		re := regexp.QuoteMeta(s)
		re = strings.ReplaceAll(re, `https://api\.automox\.com`, `<server>`)
		re = strings.ReplaceAll(re, `\{\.\.\.\}`, `\{.*\}`)
		re = placeholder.ReplaceAllStringFunc(re, func(p string) string {
			if p == "<server>" {
				return p
			}
			return `[^ "&]+`
		})
		if !regexp.MustCompile("^" + re + "$").MatchString(gotLines[i]) {
			t.Errorf("line %d\n got: %s\nseed: %s", i+1, gotLines[i], s)
		}
	}
}
