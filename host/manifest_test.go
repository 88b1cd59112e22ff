package host

import (
	"strings"
	"testing"
	"time"
)

const goodManifest = `abi = 1
kind = "worklet"
name = "ssh-no-root-login"
version = "1.2.0"
description = "sshd refuses root logins"
module = "worklet.wasm"
sha256 = "` + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" + `"
os = ["linux"]

[evaluate]
read = ["/etc/ssh/sshd_config", "/etc/ssh/sshd_config.d/"]
exec = [["sshd", "-T"]]

[remediate]
read  = ["/etc/ssh/sshd_config"]
write = ["/etc/ssh/sshd_config.d/"]
exec  = [["systemctl", "reload", "ssh"]]

[limits]
memory = "64MiB"
timeout = "10s"
output = "64KiB"
exec_calls = 16

[params.port]
type = "int"
default = 22
secret = false

[params.users]
type = "list"
default = ["root"]

[params.token]
type = "string"
secret = true
`

func TestManifestGood(t *testing.T) {
	m, err := ParseManifest([]byte(goodManifest))
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "ssh-no-root-login" || m.Limits.Memory != 64<<20 || m.Limits.Timeout != 10*time.Second ||
		m.Limits.Output != 64<<10 || m.Limits.ExecCalls != 16 || len(m.Evaluate.Read) != 2 ||
		m.Remediate.Exec[0][2] != "ssh" || m.Params["port"].Default != int64(22) || !m.Params["token"].Secret {
		t.Fatalf("%+v", m)
	}
	p, err := m.ResolveParams(map[string]any{"port": float64(2222), "token": "x"})
	if err != nil || p["port"] != int64(2222) || p["token"] != "x" || len(p["users"].([]any)) != 1 {
		t.Fatalf("%v %v", p, err)
	}
	for over, want := range map[string]map[string]any{
		"params.port: want an int, got a string":                    {"port": "22"},
		"params.nope: ssh-no-root-login declares no such parameter": {"nope": 1},
		"params.users: want a list, got a bool":                     {"users": true},
		"params.port: want an int, got a number":                    {"port": 1.5},
	} {
		if _, err := m.ResolveParams(want); err == nil || err.Error() != over {
			t.Errorf("override %v: got %v, want %q", want, err, over)
		}
	}
	if caps := m.Caps(PhaseEvaluate); len(caps.Write) != 0 {
		t.Error("evaluate got write capabilities")
	}
}

func TestManifestErrors(t *testing.T) {
	base := "abi = 1\nkind = \"worklet\"\nname = \"x\"\nversion = \"1\"\nmodule = \"m.wasm\"\n"
	cases := []struct{ toml, want string }{
		{base + "colour = \"red\"\n", "unknown key colour"},
		{base + "[limits]\nmemroy = \"1MiB\"\n", "unknown key limits.memroy"},
		{base + "[evaluate]\nreed = []\n", "unknown key evaluate.reed"},
		{base + "[params.p]\ntype = \"int\"\ndefualt = 1\n", "unknown key params.p.defualt"},
		{strings.Replace(base, "abi = 1", "abi = 2", 1), "key abi"},
		{strings.Replace(base, "abi = 1\n", "", 1), "key abi is missing"},
		{strings.Replace(base, `kind = "worklet"`, `kind = "script"`, 1), "key kind"},
		{strings.Replace(base, `name = "x"`, `name = "Bad_Name"`, 1), "key name"},
		{strings.Replace(base, `version = "1"`+"\n", "", 1), "key version is missing"},
		{strings.Replace(base, `module = "m.wasm"`, `module = "../m.wasm"`, 1), "key module"},
		{base + "sha256 = \"xyz\"\n", "key sha256"},
		{base + "os = [\"plan9\"]\n", "key os[0]"},
		{base + "[evaluate]\nread = [\"etc/passwd\"]\n", "key evaluate.read[0]"},
		{base + "[evaluate]\nread = [\"/etc/../etc/passwd\"]\n", "key evaluate.read[0]"},
		{base + "[evaluate]\nread = [\"/\"]\n", "key evaluate.read[0]"},
		{base + "[evaluate]\nwrite = [\"/tmp/\"]\n", "key evaluate.write"},
		{base + "[evaluate]\nexec = [[]]\n", "key evaluate.exec[0]"},
		{base + "[evaluate]\nexec = [[\"./run\"]]\n", "key evaluate.exec[0][0]"},
		{base + "[evaluate]\nexec = [[\"id\"], [\"ls\", \"-l\", \"{file}\"]]\n", "key evaluate.exec[1][2]: unknown placeholder \"{file}\""},
		{base + "[remediate]\nexec = [[\"chmod\", \"{path}...\", \"o-w\"]]\n", "key remediate.exec[0][1]: \"{path}...\" must be the last element"},
		{base + "[evaluate]\nexec = [[\"kill\", \"{int}...\"]]\n", "key evaluate.exec[0][1]: \"{int}...\": only"},
		{base + "[evaluate]\nexec = [[\"{word}\", \"x\"]]\n", "key evaluate.exec[0][0]: the program must be literal"},
		{base + "[evaluate]\nexec = [[\"ls\", \"{PATH}\"]]\n", "key evaluate.exec[0][1]: unknown placeholder"},
		{base + "[limits]\nmemory = \"64 parsecs\"\n", "key limits.memory"},
		{base + "[limits]\nmemory = -1\n", "key limits.memory"},
		{base + "[limits]\ntimeout = \"soon\"\n", "key limits.timeout"},
		{base + "[limits]\ntimeout = 10\n", "key limits.timeout"},
		{base + "[limits]\noutput = \"0KiB\"\n", "key limits.output"},
		{base + "[limits]\nexec_calls = -1\n", "key limits.exec_calls"},
		{base + "[params.p]\ntype = \"float\"\n", "key params.p.type"},
		{base + "[params.p]\ndefault = 1\n", "key params.p.type is missing"},
		{base + "[params.p]\ntype = \"bool\"\ndefault = \"yes\"\n", "key params.p.default: want a bool, got a string"},
		{strings.Replace(base, "worklet", "policy", 1) + "[evaluate]\nexec = [[\"id\"]]\n", "key evaluate.exec: a policy declares no"},
		{strings.Replace(base, "worklet", "policy", 1) + "[evaluate]\nread = [\"/etc/x\"]\n", "key evaluate.read: a policy declares no"},
		{strings.Replace(base, "worklet", "policy", 1) + "[remediate]\n", "key remediate: a policy"},
		{"abi = ", "manifest:"},
	}
	for _, c := range cases {
		_, err := ParseManifest([]byte(c.toml))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %q", c.toml, err, c.want)
		}
	}
}

func TestExecPatternsLoad(t *testing.T) {
	// Placeholders and literals that merely contain braces or dots load.
	m, err := ParseManifest([]byte(`abi = 1
kind = "worklet"
name = "x"
version = "1"
module = "m.wasm"
[evaluate]
read = ["/etc/"]
exec = [["find", "/etc", "-name", "{}", "-print"], ["awk", "{print $1}", "{path}"], ["echo", "a..."],
        ["dpkg-query", "-W", "{word}..."], ["sleep", "{int}"], ["stat", "{path}..."]]
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Evaluate.Exec) != 6 {
		t.Fatalf("exec %v", m.Evaluate.Exec)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"64MiB": 64 << 20, "512KiB": 512 << 10, "1GiB": 1 << 30, "100KB": 100000, "2 MB": 2000000, "123": 123, "7B": 7} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d %v, want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "MiB", "1.5MiB", "10 mib", "-1", "99999999999999GiB"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) accepted", bad)
		}
	}
}
