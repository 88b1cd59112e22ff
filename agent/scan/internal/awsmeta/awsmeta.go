// Package awsmeta decides from local evidence whether the machine is an
// Amazon EC2 instance, and reads the instance's identity from the instance
// metadata service (IMDSv2) only then. The decision is a pure function of
// DMI values (or the Windows registry's copy of them), so that a machine
// that is not on AWS never sends a packet to the metadata address.
package awsmeta

import (
	"io/fs"
	"path"
	"regexp"
	"strings"
)

// DMI holds the firmware strings the decision reads. Linux has them under
// /sys/class/dmi/id (product_uuid readable by root only) and
// /sys/hypervisor; Windows under HKLM\HARDWARE\DESCRIPTION\System\BIOS,
// which has no asset tag and no UUID.
type DMI struct {
	SysVendor      string // sys_vendor / SystemManufacturer
	ProductName    string // product_name / SystemProductName
	BIOSVendor     string // bios_vendor / BIOSVendor
	BIOSVersion    string // bios_version / BIOSVersion
	BoardAssetTag  string // board_asset_tag (Nitro: the instance id)
	ProductUUID    string // product_uuid
	HypervisorType string // /sys/hypervisor/type
	HypervisorUUID string // /sys/hypervisor/uuid (Xen)
}

// ReadDMI reads DMI from a file system rooted at "/". Missing or unreadable
// files leave their field empty.
func ReadDMI(fsys fs.FS) DMI {
	get := func(p string) string {
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(b))
	}
	dmi := func(f string) string { return get(path.Join("sys/class/dmi/id", f)) }
	return DMI{
		SysVendor:      dmi("sys_vendor"),
		ProductName:    dmi("product_name"),
		BIOSVendor:     dmi("bios_vendor"),
		BIOSVersion:    dmi("bios_version"),
		BoardAssetTag:  dmi("board_asset_tag"),
		ProductUUID:    dmi("product_uuid"),
		HypervisorType: get("sys/hypervisor/type"),
		HypervisorUUID: get("sys/hypervisor/uuid"),
	}
}

var instanceIDRe = regexp.MustCompile(`^i-[0-9a-f]{8}([0-9a-f]{9})?$`)

// Decide says whether d describes an EC2 instance, and why (or why not).
// The rules, in order, are those AWS documents for telling an instance
// from inside:
//  1. Nitro instances: sys_vendor or bios_vendor is "Amazon EC2", or the
//     board asset tag is an instance id (i-...).
//  2. Xen instances: the BIOS version carries "amazon" ("4.11.amazon").
//  3. Xen instances: the hypervisor UUID or the product UUID starts with
//     "ec2". A random UUID starts so once in 4096, so this rule counts only
//     on a Xen guest: a VMware machine with such a UUID is not taken for
//     EC2.
func Decide(d DMI) (bool, string) {
	eq := func(s, want string) bool { return strings.EqualFold(strings.TrimSpace(s), want) }
	switch {
	case eq(d.SysVendor, "Amazon EC2"):
		return true, `DMI sys_vendor is "Amazon EC2" (Nitro)`
	case eq(d.BIOSVendor, "Amazon EC2"):
		return true, `DMI bios_vendor is "Amazon EC2" (Nitro)`
	case instanceIDRe.MatchString(strings.TrimSpace(d.BoardAssetTag)):
		return true, "DMI board_asset_tag is an EC2 instance id (" + strings.TrimSpace(d.BoardAssetTag) + ")"
	case strings.Contains(strings.ToLower(d.BIOSVersion), "amazon"):
		return true, "DMI bios_version " + quote(d.BIOSVersion) + " is Amazon's Xen"
	}
	xen := eq(d.HypervisorType, "xen") || strings.Contains(strings.ToLower(d.SysVendor), "xen")
	if xen && hasEC2Prefix(d.HypervisorUUID) {
		return true, "Xen guest whose /sys/hypervisor/uuid starts with ec2"
	}
	if xen && hasEC2Prefix(d.ProductUUID) {
		return true, "Xen guest whose DMI product_uuid starts with ec2"
	}
	why := "no EC2 evidence in DMI"
	if d.SysVendor != "" {
		why += " (sys_vendor " + quote(d.SysVendor) + ")"
	} else {
		why += " (no DMI data)"
	}
	return false, why
}

func hasEC2Prefix(uuid string) bool {
	return len(uuid) >= 3 && strings.EqualFold(uuid[:3], "ec2")
}

func quote(s string) string { return `"` + strings.TrimSpace(s) + `"` }
