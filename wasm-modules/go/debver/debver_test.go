package debver

import "testing"

func TestCompare(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1.0", "1.0", 0},
		{"1.0", "1.0-0", 0},
		{"1.0", "1.1", -1},
		{"1.10", "1.9", 1},
		{"1.0~rc1", "1.0", -1},
		{"1.0~rc1", "1.0~rc2", -1},
		{"1.0~~", "1.0~", -1},
		{"1.0a", "1.0", 1},
		{"1.0+b1", "1.0", 1},
		{"1.0+b1", "1.0a", 1},
		{"1:0.9", "2.0", 1},
		{"0:2.0", "2.0", 0},
		{"3.0.11-1~deb12u2", "3.0.11-1", -1},
		{"3.0.13-1~deb12u1", "3.0.11-1~deb12u2", 1},
		{"9.2p1-2+deb12u3", "9.2p1-2+deb12u2", 1},
		{"1:9.2p1-2", "9.3p1-1", 1},
		{"2.36-9+deb12u4", "2.36-9+deb12u10", -1},
		{"1.001", "1.1", 0},
		{"5.14.0-362.8.1.el9_3", "5.14.0-284.30.1.el9_2", 1},
	}
	for _, tt := range tests {
		t.Run(tt.a+"_vs_"+tt.b, func(t *testing.T) {
			got, err := CompareStrings(tt.a, tt.b)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Compare(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
			}
			back, _ := CompareStrings(tt.b, tt.a)
			if back != -tt.want {
				t.Errorf("Compare(%q, %q) = %d, want %d", tt.b, tt.a, back, -tt.want)
			}
		})
	}
}

func TestParse(t *testing.T) {
	v, err := Parse("1:2.3-4ubuntu1")
	if err != nil {
		t.Fatal(err)
	}
	if v.Epoch != 1 || v.Upstream != "2.3" || v.Revision != "4ubuntu1" {
		t.Errorf("Parse = %+v", v)
	}
	if v.String() != "1:2.3-4ubuntu1" {
		t.Errorf("String = %q", v.String())
	}
	for _, bad := range []string{"", "x:1.0", "1:", "-1", "1.0 beta"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) succeeded, want error", bad)
		}
	}
}

// Compare (on any strings) agrees with CompareStrings on valid versions
// and still orders what Parse refuses, without failing.
func TestCompareLoose(t *testing.T) {
	pairs := [][2]string{
		{"1.0", "1.1"}, {"1.0~rc1", "1.0"}, {"1:0.9", "2.0"}, {"3.0.11-1~deb12u2", "3.0.11-1"},
		{"2.36-9+deb12u4", "2.36-9+deb12u10"}, {"1.001", "1.1"}, {"6.1.0-17-amd64", "6.1.0-9-amd64"},
		{"99999999999999999999999", "99999999999999999999998"}, {"1.0", "1.0"},
	}
	for _, p := range pairs {
		want, err := CompareStrings(p[0], p[1])
		if err != nil {
			t.Fatal(err)
		}
		if got := Compare(p[0], p[1]); got != want {
			t.Errorf("Compare(%q, %q) = %d, CompareStrings says %d", p[0], p[1], got, want)
		}
	}
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"x:1.0", "1.0", 0}, // a non-numeric epoch counts as 0
		{"", "0", 0},        // an empty digit run is 0, as in dpkg
		{"", "", 0},
		{"1.0 beta", "1.0", 1},
		{"1:", "0:9", 1},
	} {
		if got := Compare(c.a, c.b); got != c.want {
			t.Errorf("Compare(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := Compare(c.b, c.a); got != -c.want {
			t.Errorf("Compare(%q, %q) = %d, want %d", c.b, c.a, got, -c.want)
		}
	}
}
