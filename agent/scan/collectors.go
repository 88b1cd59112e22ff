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
	}
}

// OSPart is the output of GetOS.
type OSPart struct {
	OS scandoc.OS `json:"os"`
}

func (p OSPart) apply(d *scandoc.Document) { d.OS = p.OS }

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
	return OSPart{OS: o}, err
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
