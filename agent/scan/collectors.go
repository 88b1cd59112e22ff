package scan

import (
	"context"
	"errors"
	"fmt"

	"github.com/amagent/amagent/agent/scandoc"
)

// Collector is one built-in command of the scan. Run returns its part of the
// scan document; a collector that fails part-way returns what it has with
// the error, and the scan keeps that partial part.
type Collector struct {
	Name string
	Run  func(ctx context.Context, env *Env) (Part, error)
}

// Part is a collector's piece of the scan document. Encoded as JSON it is an
// object with the document's keys for that piece ({"os": {...}}), which is
// also the output of `execCmd <name>` sent by the platform.
type Part interface {
	apply(doc *scandoc.Document)
}

// Collectors is the one table of built-in collectors, in the order a scan
// runs them. Each reads the machine through the per-OS platform table
// (collect_linux.go, collect_windows.go, collect_darwin.go,
// collect_other.go).
func Collectors() []Collector {
	return []Collector{
		{Name: "GetOS", Run: getOS},
		{Name: "GetHostname", Run: getHostname},
		{Name: "GetAWSID", Run: getAWSID},
		{Name: "GetSystemDetail", Run: getSystemDetail},
		{Name: "GetInstalledSoftware", Run: getInstalledSoftware},
		{Name: "GetPatches", Run: getPatches},
		{Name: "GetRebootRequired", Run: getRebootRequired},
		{Name: "GetResources", Run: getResources},
		{Name: "GetNetwork", Run: getNetwork},
		{Name: "GetStorage", Run: getStorage},
		{Name: "GetVirtualization", Run: getVirtualization},
		{Name: "GetSecurity", Run: getSecurity},
		{Name: "GetServices", Run: getServices},
		{Name: "GetListeningPorts", Run: getListeningPorts},
	}
}

// OSPart is the output of GetOS: the OS, its time zone and the machine's
// identity (machine-id on Linux, MachineGuid on Windows, the platform
// UUID on macOS).
type OSPart struct {
	OS        scandoc.OS       `json:"os"`
	Timezone  scandoc.Timezone `json:"timezone"`
	MachineID string           `json:"machine_id"`
}

func (p OSPart) apply(d *scandoc.Document) {
	d.OS, d.Timezone, d.MachineID = p.OS, p.Timezone, p.MachineID
}

// ResourcesPart is the output of GetResources: memory and load.
type ResourcesPart struct {
	Memory scandoc.Memory `json:"memory"`
	Load   scandoc.Load   `json:"load"`
}

func (p ResourcesPart) apply(d *scandoc.Document) { d.Memory, d.Load = p.Memory, p.Load }

// NetworkPart is the output of GetNetwork.
type NetworkPart struct {
	Network scandoc.Network `json:"network"`
}

func (p NetworkPart) apply(d *scandoc.Document) { d.Network = p.Network }

// StoragePart is the output of GetStorage.
type StoragePart struct {
	Storage scandoc.Storage `json:"storage"`
}

func (p StoragePart) apply(d *scandoc.Document) { d.Storage = p.Storage }

// VirtualizationPart is the output of GetVirtualization.
type VirtualizationPart struct {
	Virtualization scandoc.Virtualization `json:"virtualization"`
}

func (p VirtualizationPart) apply(d *scandoc.Document) { d.Virtualization = p.Virtualization }

// SecurityPart is the output of GetSecurity.
type SecurityPart struct {
	Security scandoc.Security `json:"security"`
}

func (p SecurityPart) apply(d *scandoc.Document) { d.Security = p.Security }

// ServicesPart is the output of GetServices.
type ServicesPart struct {
	Services scandoc.Services `json:"services"`
}

func (p ServicesPart) apply(d *scandoc.Document) { d.Services = p.Services }

// ListeningPart is the output of GetListeningPorts.
type ListeningPart struct {
	Listening []scandoc.Listener `json:"listening"`
}

func (p ListeningPart) apply(d *scandoc.Document) { d.Listening = p.Listening }

// HostnamePart is the output of GetHostname.
type HostnamePart struct {
	Hostname string `json:"hostname"`
}

func (p HostnamePart) apply(d *scandoc.Document) { d.Hostname = p.Hostname }

// AWSPart is the output of GetAWSID: null off AWS.
type AWSPart struct {
	AWS *scandoc.AWS `json:"aws"`
}

func (p AWSPart) apply(d *scandoc.Document) { d.AWS = p.AWS }

// SystemPart is the output of GetSystemDetail: hardware, users and the
// current boot.
type SystemPart struct {
	Hardware scandoc.Hardware `json:"hardware"`
	LastUser scandoc.LastUser `json:"last_user"`
	Boot     scandoc.Boot     `json:"boot"`
}

func (p SystemPart) apply(d *scandoc.Document) {
	d.Hardware, d.LastUser, d.Boot = p.Hardware, p.LastUser, p.Boot
}

// SoftwarePart is the output of GetInstalledSoftware.
type SoftwarePart struct {
	Software []scandoc.Package `json:"software"`
}

func (p SoftwarePart) apply(d *scandoc.Document) { d.Software = p.Software }

// PatchesPart is the output of GetPatches: installed and pending updates.
type PatchesPart struct {
	Patches        []scandoc.Patch  `json:"patches"`
	PendingUpdates []scandoc.Update `json:"pending_updates"`
}

func (p PatchesPart) apply(d *scandoc.Document) {
	d.Patches, d.PendingUpdates = p.Patches, p.PendingUpdates
}

// RebootPart is the output of GetRebootRequired.
type RebootPart struct {
	RebootRequired bool           `json:"reboot_required"`
	Reboot         scandoc.Reboot `json:"reboot"`
}

func (p RebootPart) apply(d *scandoc.Document) {
	d.RebootRequired, d.Reboot = p.RebootRequired, p.Reboot
}

func getOS(ctx context.Context, env *Env) (Part, error) {
	o, err := platform.OS(ctx, env)
	tz, id, err2 := platform.Identity(ctx, env)
	return OSPart{OS: o, Timezone: tz, MachineID: id}, errors.Join(err, err2)
}

func getResources(ctx context.Context, env *Env) (Part, error) {
	m, l, err := platform.Resources(ctx, env)
	return ResourcesPart{Memory: m, Load: l}, err
}

func getNetwork(ctx context.Context, env *Env) (Part, error) {
	n, err := platform.Network(ctx, env)
	return NetworkPart{Network: normNetwork(n)}, err
}

func getStorage(ctx context.Context, env *Env) (Part, error) {
	s, err := platform.Storage(ctx, env)
	if s.Mounts == nil {
		s.Mounts = []scandoc.Mount{}
	}
	if s.BlockDevices == nil {
		s.BlockDevices = []scandoc.BlockDevice{}
	}
	for i := range s.BlockDevices {
		if s.BlockDevices[i].Partitions == nil {
			s.BlockDevices[i].Partitions = []scandoc.Partition{}
		}
	}
	for i := range s.Mounts {
		if s.Mounts[i].Options == nil {
			s.Mounts[i].Options = []string{}
		}
	}
	return StoragePart{Storage: s}, err
}

func getVirtualization(ctx context.Context, env *Env) (Part, error) {
	v, err := platform.Virtualization(ctx, env)
	if v.Evidence == nil {
		v.Evidence = []string{}
	}
	return VirtualizationPart{Virtualization: v}, err
}

func getSecurity(ctx context.Context, env *Env) (Part, error) {
	s, err := platform.Security(ctx, env)
	return SecurityPart{Security: s}, err
}

func getServices(ctx context.Context, env *Env) (Part, error) {
	s, err := platform.Services(ctx, env)
	if s.Units == nil {
		s.Units = []scandoc.Service{}
	}
	return ServicesPart{Services: s}, err
}

func getListeningPorts(ctx context.Context, env *Env) (Part, error) {
	l, err := platform.Listening(ctx, env)
	if l == nil {
		l = []scandoc.Listener{}
	}
	return ListeningPart{Listening: l}, err
}

// normNetwork makes the network part's lists [] rather than null.
func normNetwork(n scandoc.Network) scandoc.Network {
	if n.Interfaces == nil {
		n.Interfaces = []scandoc.Interface{}
	}
	for i := range n.Interfaces {
		if n.Interfaces[i].IPv4 == nil {
			n.Interfaces[i].IPv4 = []scandoc.Address{}
		}
		if n.Interfaces[i].IPv6 == nil {
			n.Interfaces[i].IPv6 = []scandoc.Address{}
		}
	}
	if n.Routes == nil {
		n.Routes = []scandoc.Route{}
	}
	if n.DNS.Servers == nil {
		n.DNS.Servers = []string{}
	}
	if n.DNS.Search == nil {
		n.DNS.Search = []string{}
	}
	return n
}

func getHostname(ctx context.Context, env *Env) (Part, error) {
	if env.Hostname == nil {
		return HostnamePart{}, errors.New("no hostname source")
	}
	h, err := env.Hostname()
	if err != nil {
		return HostnamePart{}, fmt.Errorf("hostname: %w", err)
	}
	return HostnamePart{Hostname: h}, nil
}

// getAWSID asks the metadata service only when local evidence says EC2:
// off AWS no packet is sent.
func getAWSID(ctx context.Context, env *Env) (Part, error) {
	on, _ := platform.OnAWS(ctx, env)
	if !on {
		return AWSPart{}, nil
	}
	a, err := fetchAWS(ctx, env)
	return AWSPart{AWS: a}, err
}

func getSystemDetail(ctx context.Context, env *Env) (Part, error) {
	var p SystemPart
	var errs []error
	var err error
	if p.Hardware, err = platform.Hardware(ctx, env); err != nil {
		errs = append(errs, err)
	}
	if p.LastUser, err = platform.Users(ctx, env); err != nil {
		errs = append(errs, err)
	}
	if p.LastUser.Current == nil {
		p.LastUser.Current = []scandoc.Session{}
	}
	if p.Boot, err = platform.Boot(ctx, env); err != nil {
		errs = append(errs, err)
	}
	if p.Hardware.Disks == nil {
		p.Hardware.Disks = []scandoc.Disk{}
	}
	return p, errors.Join(errs...)
}

func getInstalledSoftware(ctx context.Context, env *Env) (Part, error) {
	s, err := platform.Software(ctx, env)
	if s == nil {
		s = []scandoc.Package{}
	}
	return SoftwarePart{Software: s}, err
}

func getPatches(ctx context.Context, env *Env) (Part, error) {
	installed, pending, err := platform.Patches(ctx, env)
	if installed == nil {
		installed = []scandoc.Patch{}
	}
	if pending == nil {
		pending = []scandoc.Update{}
	}
	return PatchesPart{Patches: installed, PendingUpdates: pending}, err
}

func getRebootRequired(ctx context.Context, env *Env) (Part, error) {
	r, err := platform.Reboot(ctx, env)
	if r.Reasons == nil {
		r.Reasons = []string{}
	}
	return RebootPart{RebootRequired: r.Required, Reboot: r}, err
}
