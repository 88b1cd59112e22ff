// Package e2e runs the real amplatform and amagent binaries together on
// loopback: enrollment, check-ins, commands and their results, scans with
// signed worklets, a platform outage with nothing lost, device isolation,
// and a device's UUID that another key cannot take over.
package e2e
