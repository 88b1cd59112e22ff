package scan

// The program-running parts of issue 15's macOS collectors (no build tag:
// tested on every OS with recorded outputs, macos_system_test.go):
// the platform UUID from ioreg, default gateways from route, services from
// launchctl, listening sockets from lsof. collect_darwin.go adds what needs
// darwin system calls (interfaces, memory, load, disks).

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/amagent/amagent/agent/scan/internal/linux"
	"github.com/amagent/amagent/agent/scan/internal/macparse"
	"github.com/amagent/amagent/agent/scandoc"
	"github.com/amagent/amagent/agent/sysexec"
)

// macMachineID is the hardware UUID (IOPlatformUUID), what macOS has for
// a machine id.
func macMachineID(ctx context.Context, env *Env) (string, error) {
	out, err := macRun(ctx, env, "ioreg", "-rd1", "-c", "IOPlatformExpertDevice")
	if err != nil {
		return "", err
	}
	return macparse.PlatformUUID(out)
}

// macTimezone is the zone named by the /etc/localtime link (macOS keeps
// it a link into /var/db/timezone/zoneinfo).
func macTimezone(env *Env) scandoc.Timezone {
	var tz scandoc.Timezone
	if target, err := fs.ReadLink(env.FS, pathLocaltimeLink); err == nil {
		tz.Name = zoneFromLink(target)
	}
	tz.Abbreviation, tz.OffsetS = zoneNow(env, tz.Name)
	return tz
}

// macRoutes adds the default gateways (`route -n get default`, and with
// -inet6) and the resolver (/etc/resolv.conf, which configd writes) to n.
// No default route is not an error (route exits 1: "not in table").
func macRoutes(ctx context.Context, env *Env, n *scandoc.Network) {
	if out, err := macRun(ctx, env, "route", "-n", "get", "default"); err == nil {
		if gw, ifc, err := macparse.RouteGet(out); err == nil {
			n.DefaultGateway, n.DefaultInterface = gw, ifc
			n.Routes = append(n.Routes, scandoc.Route{Family: "inet", Destination: "default", Gateway: gw, Interface: ifc})
		}
	}
	if out, err := macRun(ctx, env, "route", "-n", "get", "-inet6", "default"); err == nil {
		if gw, ifc, err := macparse.RouteGet(out); err == nil {
			n.DefaultGateway6 = gw
			n.Routes = append(n.Routes, scandoc.Route{Family: "inet6", Destination: "default", Gateway: gw, Interface: ifc})
		}
	}
	if b, err := fs.ReadFile(env.FS, "etc/resolv.conf"); err == nil {
		rc := linux.ParseResolvConf(b)
		n.DNS = scandoc.DNS{Servers: rc.Servers, Search: rc.Search, Domain: rc.Domain, Options: rc.Options}
	}
	n.FQDN, n.Domain = fqdn(env, n.DNS)
}

// macServices lists launchd's jobs (`launchctl list`: the system domain
// when run as root) and marks those `launchctl print-disabled system`
// turns off.
func macServices(ctx context.Context, env *Env) (scandoc.Services, error) {
	s := scandoc.Services{Manager: "launchd"}
	out, err := macRun(ctx, env, "launchctl", "list")
	if err != nil {
		return s, err
	}
	units, err := macparse.LaunchctlList(out)
	if err != nil {
		return s, err
	}
	var errs []error
	if out, err := macRun(ctx, env, "launchctl", "print-disabled", "system"); err != nil {
		errs = append(errs, err)
	} else {
		off := macparse.LaunchctlDisabled(out)
		for i := range units {
			if off[units[i].Name] {
				units[i].Enabled = "disabled"
			}
		}
	}
	sort.Slice(units, func(i, j int) bool { return units[i].Name < units[j].Name })
	s.Units = units
	return s, errors.Join(errs...)
}

// macListening runs lsof for listening TCP and bound UDP sockets. lsof
// exits 1 when it finds nothing, which is an empty list here.
func macListening(ctx context.Context, env *Env) ([]scandoc.Listener, error) {
	argv := macparse.LsofArgv
	if env.Exec == nil {
		return nil, fmt.Errorf("%s: no program runner", argv[0])
	}
	res, err := env.Exec(ctx, sysexec.Request{Argv: argv, Timeout: env.Timeout})
	switch {
	case err != nil:
		return nil, fmt.Errorf("%s: %w", strings.Join(argv, " "), err)
	case res.Truncated:
		return nil, fmt.Errorf("%s: output exceeded the cap and was truncated", strings.Join(argv, " "))
	case res.ExitCode == 1 && len(res.Stdout) == 0:
		return []scandoc.Listener{}, nil
	case res.ExitCode != 0:
		return nil, fmt.Errorf("%s: exit code %d: %s", strings.Join(argv, " "), res.ExitCode, strings.TrimSpace(string(res.Stderr)))
	}
	ls, err := macparse.Lsof(res.Stdout)
	sortListeners(ls)
	return ls, err
}

func sortListeners(ls []scandoc.Listener) {
	sort.SliceStable(ls, func(i, j int) bool {
		a, b := ls[i], ls[j]
		if a.Protocol != b.Protocol {
			return a.Protocol < b.Protocol
		}
		if a.Port != b.Port {
			return a.Port < b.Port
		}
		return a.Address < b.Address
	})
}
