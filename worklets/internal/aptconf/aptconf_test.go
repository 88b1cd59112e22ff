package aptconf

import (
	"slices"
	"testing"
)

func TestParse(t *testing.T) {
	c := Config{}
	files := []struct{ name, text string }{
		{"10periodic", "APT::Periodic::Update-Package-Lists \"0\";\n// comment\nAPT::Periodic::Unattended-Upgrade \"0\";\n"},
		{"20auto-upgrades", "APT::Periodic::Update-Package-Lists \"1\";\nAPT::Periodic::Unattended-Upgrade \"1\";\n"},
		{"50unattended-upgrades", `// Unattended-Upgrade::Origins-Pattern controls which packages are upgraded.
Unattended-Upgrade::Origins-Pattern {
        // Codename based matching:
        "origin=Debian,codename=${distro_codename},label=Debian";
        "origin=Debian,codename=${distro_codename},label=Debian-Security";
/*      "o=Debian,a=proposed-updates";  */
};
# hash comment
Unattended-Upgrade::Automatic-Reboot "false";
APT {
  Periodic {
    AutocleanInterval "7";
  };
};
`},
	}
	for _, f := range files {
		if err := c.Parse(f.name, f.text); err != nil {
			t.Fatal(err)
		}
	}
	if got := c.Get("apt::periodic::unattended-upgrade"); got != "1" {
		t.Errorf("Unattended-Upgrade = %q, want 1", got)
	}
	if got := c.Get("APT::Periodic::AutocleanInterval"); got != "7" {
		t.Errorf("AutocleanInterval = %q, want 7", got)
	}
	want := []string{"origin=Debian,codename=${distro_codename},label=Debian", "origin=Debian,codename=${distro_codename},label=Debian-Security"}
	if got := c.List("Unattended-Upgrade::Origins-Pattern"); !slices.Equal(got, want) {
		t.Errorf("Origins-Pattern = %q", got)
	}
	if err := c.Parse("x", "#clear Unattended-Upgrade::Origins-Pattern;\n"); err != nil {
		t.Fatal(err)
	}
	if got := c.List("Unattended-Upgrade::Origins-Pattern"); len(got) != 0 {
		t.Errorf("after #clear: %q", got)
	}
}

func TestParseErrors(t *testing.T) {
	for _, bad := range []string{"A { B \"1\";", "}", "A \"unterminated;", "/* open"} {
		if err := (Config{}).Parse("bad", bad); err == nil {
			t.Errorf("Parse(%q): want an error", bad)
		}
	}
}

func TestPartFiles(t *testing.T) {
	got := PartFiles([]string{"50unattended-upgrades", "20auto-upgrades", "20auto-upgrades.dpkg-old", "99x.disabled", "a b", "01autoremove"})
	want := []string{"01autoremove", "20auto-upgrades", "50unattended-upgrades"}
	if !slices.Equal(got, want) {
		t.Errorf("PartFiles = %q, want %q", got, want)
	}
}
