package main

import (
	"strings"
	"testing"
	"time"
)

func TestParsePrograms(t *testing.T) {
	ps, err := parsePrograms([]string{"base", "dpkg-query", "-W", ":::", "scan", "amagent", "scan", "--once"})
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 || ps[0].label != "base" || strings.Join(ps[0].argv, " ") != "dpkg-query -W" ||
		ps[1].label != "scan" || strings.Join(ps[1].argv, " ") != "amagent scan --once" {
		t.Fatalf("got %+v %+v", ps[0], ps[1])
	}
	for _, bad := range [][]string{nil, {"only-a-label"}, {"a", "true", ":::"}, {":::", "b", "true"}} {
		if _, err := parsePrograms(bad); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
}

func TestReportRatiosOfFirstAgainstOthers(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		var out []time.Duration
		for _, x := range v {
			out = append(out, time.Duration(x)*time.Millisecond)
		}
		return out
	}
	slow := &program{label: "apt-get -s", walls: ms(1000, 3000, 2000), rss: []int64{80 * 1024, 81 * 1024, 82 * 1024}}
	lists := &program{label: "lists", walls: ms(100, 300, 250), rss: []int64{20 * 1024, 20 * 1024, 20 * 1024}, fails: 1, errMsg: "exit status 1: boom"}
	out := report([]*program{lists, slow}, 2560)
	for _, want := range []string{
		"median     2.00s  spread 1.00s..3.00s  peak RSS  81.0 MiB (max 82.0)",
		"lists vs apt-get -s: time 0.125x (8.0x faster) (paired per round 0.1x (10.0x faster)), memory 0.25x",
		"[exit non-zero in 1 of 3 runs: exit status 1: boom]",
		"floor of this launcher, /bin/true: 2.5 MiB",
		"RESULT lists wall_ns=250000000 peak_rss_kib=20480 fails=1",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

func TestRunOnceMeasuresAndReportsFailure(t *testing.T) {
	wall, rss, err := runOnce([]string{"sh", "-c", "echo out; echo first >&2; printf '\\033[31mlast words\\033[0m\\n' >&2; exit 3"})
	if err == nil || !strings.Contains(err.Error(), "exit status 3: last words") {
		t.Fatalf("err = %v, want exit status 3 with stderr's last line", err)
	}
	if wall <= 0 || rss <= 0 {
		t.Fatalf("wall %v rss %d KiB: want both measured", wall, rss)
	}
}
