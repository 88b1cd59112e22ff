// Package host is the WebAssembly host: it loads worklets and policies
// (a worklet.toml manifest beside a WASI preview 1 command module), runs
// them sandboxed in wazero with the guest ABI of shared/ABI.md, and turns
// their exit codes and output into results.
//
// The public surface is small: an Engine (one wazero runtime per agent,
// compiled modules cached by sha256 in memory and on disk), Load/Run/
// Evaluate, the Environment a run sees (LiveEnv, ReplayEnv, recording for
// `amagent scan --record`), the manifest types and the command handler for
// runWorklet. Everything else is unexported or under host/internal. The
// choices a newcomer would question are explained in DESIGN.md.
package host
