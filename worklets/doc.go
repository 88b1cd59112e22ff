// Package worklets holds the example worklets and policies, one folder
// each (manifest, source, built module, recorded-scan cases), and the Go
// code they share under internal/. The Go worklets themselves are
// GOOS=wasip1 programs (build tag wasip1); this package only has the test
// that runs every folder's cases through the agent's engine.
package worklets
