// SDK conformance worklet in AssemblyScript. Every SDK in wasm-modules/ has
// the same worklet, and all of them pass the same cases in tests/: evaluate
// compares param want_version with fact os.version (fact os.family other
// than "linux": not applicable) and puts the output of `uname -r` in the
// details; remediate runs `true`.
import * as am from "../../assembly/amagent";
import { JSONValue } from "../../assembly/json";

function evaluate(inp: am.Input): void {
  const want = inp.paramString("want_version", "");
  if (want.length == 0) { am.fatal("param want_version missing"); return; }
  const family = am.factString("os.family");
  if (family === null) { am.fatal("fact os.family: " + am.errorText(am.lastError())); return; }
  if (family != "linux") {
    am.notApplicable("os.family is " + family + ", not linux", JSONValue.obj().set("os_family", JSONValue.str(family)));
    return;
  }
  const have = am.factString("os.version");
  if (have === null) { am.fatal("fact os.version: " + am.errorText(am.lastError())); return; }
  const res = am.exec(["uname", "-r"], "", 5000);
  if (res === null) { am.fatal("exec uname -r: " + am.errorText(am.lastError())); return; }
  const details = JSONValue.obj()
    .set("want_version", JSONValue.str(want))
    .set("os_version", JSONValue.str(have))
    .set("uname_r", JSONValue.str(res.stdout));
  if (have == want) am.compliant("os.version " + have + " matches want_version", details);
  else am.nonCompliant("os.version " + have + " differs from want_version " + want, details);
}

function remediate(): void {
  const res = am.exec(["true"], "", 5000);
  if (res === null) { am.fatal("exec true: " + am.errorText(am.lastError())); return; }
  const details = JSONValue.obj().set("exit_code", JSONValue.num(<f64>res.exitCode));
  if (res.exitCode != 0) am.failed("true exited " + res.exitCode.toString(), details);
  else am.succeeded("remediated: true exited " + res.exitCode.toString(), details);
}

function main(): void {
  const inp = am.input();
  if (inp === null) { am.fatal("cannot parse the input document"); return; }
  am.log(am.INFO, "conformance: " + inp.phase);
  if (inp.phase == "remediate") remediate();
  else evaluate(inp);
}

main();
