package host

import (
	"strings"
	"testing"
)

func TestSafeMessage(t *testing.T) {
	long := strings.Repeat("é", 3000) // 6000 bytes
	cases := []struct {
		in, want string
		cut      bool
	}{
		{"ok\n\tfine", "ok\n\tfine", false},
		{"a\x00b\x1b[2Jc\x7fd\u009be", "ab[2Jcde", false},
		{"bad \xff utf8", "bad \uFFFD utf8", false},
		{long, strings.Repeat("é", 2048), true},
	}
	for _, c := range cases {
		got, cut := safeMessage(c.in)
		if got != c.want || cut != c.cut {
			t.Errorf("safeMessage(%.20q) = %.20q, %v; want %.20q, %v", c.in, got, cut, c.want, c.cut)
		}
	}
	if _, _, cut := parseOutput([]byte(`{"message": "` + long + `"}`)); !cut {
		t.Error("a long JSON message is not flagged as cut")
	}
}

// Finding 9: fact cached misses of huge keys, so that a module could make
// the host keep hundreds of megabytes. This test failed before the fix.
func TestFactCacheKeepsNoLongKeys(t *testing.T) {
	s, err := NewScan([]byte(`{"os": {"version": "12"}}`))
	if err != nil {
		t.Fatal(err)
	}
	key := []byte(strings.Repeat("x", 1<<20))
	for i := range 4 {
		key[0] = byte('a' + i)
		if _, ok := s.Fact(key); ok {
			t.Fatal("a miss was found")
		}
	}
	for k := range *s.cache.Load() {
		if len(k) > maxCachedKey {
			t.Fatalf("the cache keeps a %d-byte key", len(k))
		}
	}
}

func TestRedactor(t *testing.T) {
	m := &Manifest{Name: "r", Params: map[string]Param{
		"tok": {Type: ParamString, Secret: true}, "pin": {Type: ParamInt, Secret: true},
		"keys": {Type: ParamList, Secret: true}, "open": {Type: ParamString}}}
	r := newRedactor(m, map[string]any{"tok": `a"b<c`, "pin": int64(123456), "keys": []any{"k-one", "k2"}, "open": "shown"})
	if got := r.String(`x a"b<c y 123456 k-one k2 shown`); got != `x (secret) y (secret) (secret) k2 shown` {
		t.Errorf("String: %q", got)
	}
	if got := string(r.JSON([]byte(`{"t":"a\"b\u003cc","n":123456}`))); strings.Contains(got, "123456") || strings.Contains(got, `a\"b`) {
		t.Errorf("JSON keeps a secret: %s", got)
	}
	if newRedactor(m, map[string]any{"open": "shown"}) != nil {
		t.Error("a redactor without secret values")
	}
}
