// Package redteam holds the sandbox's red-team suite: one test (or more)
// for every way a module, a peer or a race was found to break a promise of
// ABI.md revision 2 or PROTOCOL.md. Each test runs live on this machine
// where replay would hide the attack (a real clock, real files, real
// processes), and each says once in its comment that it failed on the code
// before the fix. SECURITY.md names the test that holds each promise.
//
// The modules live in testdata/redteam/<name>/ (source, build.sh, the built
// worklet.wasm and a worklet.toml), rebuilt by `make wasm`.
package redteam
