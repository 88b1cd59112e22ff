package version

import (
	"runtime/debug"
	"testing"
)

func TestDepVersion(t *testing.T) {
	bi := &debug.BuildInfo{Deps: []*debug.Module{
		{Path: "github.com/google/uuid", Version: "v1.6.0"},
		{Path: WazeroModule, Version: "v1.12.0"},
		{Path: "example.com/replaced", Version: "v1.0.0", Replace: &debug.Module{Path: "../local", Version: "v1.0.1"}},
	}}
	for _, c := range []struct{ path, want string }{
		{WazeroModule, "v1.12.0"},
		{"example.com/replaced", "v1.0.1"},
		{"example.com/absent", ""},
	} {
		if got := depVersion(bi, c.path); got != c.want {
			t.Errorf("depVersion(%s) = %q, want %q", c.path, got, c.want)
		}
	}
}

func TestGetHasGoVersion(t *testing.T) {
	in := Get()
	if in.Go == "" || in.Version != Version || in.OS == "" || in.Arch == "" {
		t.Fatalf("Get() = %+v", in)
	}
}
