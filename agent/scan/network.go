package scan

// Network facts computed the same way on every OS.

import (
	"io/fs"
	"strings"

	"github.com/amagent/amagent/agent/scan/internal/linux"
	"github.com/amagent/amagent/agent/scandoc"
)

// pathHostsFile is /etc/hosts on Linux and macOS.
const pathHostsFile = "etc/hosts"

// fqdn is what `hostname -f` and `hostname -d` print when the files
// source answers: the canonical name of the host name in /etc/hosts, else
// the host name itself when it has a dot, else the host name with the
// resolver's domain, else the bare host name (and no domain).
func fqdn(env *Env, dns scandoc.DNS) (string, string) {
	if env.Hostname == nil {
		return "", ""
	}
	host, err := env.Hostname()
	if err != nil || host == "" {
		return "", ""
	}
	name := host
	if b, err := fs.ReadFile(env.FS, pathHostsFile); err == nil {
		if f, ok := linux.HostsFQDN(b, host); ok {
			name = f
		}
	}
	if !strings.Contains(name, ".") && dns.Domain != "" {
		name += "." + dns.Domain
	}
	_, domain, _ := strings.Cut(name, ".")
	return name, domain
}
