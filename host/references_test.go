package host

import (
	"slices"
	"strings"
	"testing"
)

// The optional references key is kept as written and changes nothing
// else; an empty or spaced id is a load error that names the key.
func TestManifestReferences(t *testing.T) {
	base := "abi = 1\nkind = \"worklet\"\nname = \"r\"\nversion = \"1\"\nmodule = \"m.wasm\"\n"
	m, err := ParseManifest([]byte(base + `references = ["xccdf_org.ssgproject.content_rule_file_owner_etc_passwd"]` + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m.References, []string{"xccdf_org.ssgproject.content_rule_file_owner_etc_passwd"}) {
		t.Errorf("references %q", m.References)
	}
	if m, err := ParseManifest([]byte(base)); err != nil || m.References != nil {
		t.Errorf("no references: %v %q", err, m.References)
	}
	for _, bad := range []string{`references = [""]`, `references = ["a b"]`} {
		if _, err := ParseManifest([]byte(base + bad + "\n")); err == nil || !strings.Contains(err.Error(), "references[0]") {
			t.Errorf("%s: error %v does not name the key", bad, err)
		}
	}
}
