// Package e2e runs the real amplatform and amagent binaries together on
// loopback: enrollment, check-ins, commands and their results, scans with
// signed worklets, a platform outage with nothing lost, and device
// isolation.
package e2e
