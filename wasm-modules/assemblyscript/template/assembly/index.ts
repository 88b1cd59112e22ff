// Worklet template in AssemblyScript: copy the directory, change the name
// in worklet.toml, fix the import paths and SDK in build.sh, and write the
// check. It reports compliant when no reboot is pending (fact
// reboot_required), or when param allow_pending is true; not applicable
// outside Linux. The result functions exit the instance: `return` after
// them only to satisfy the compiler.
import * as am from "../../assembly/amagent";
import { JSONValue } from "../../assembly/json";

function main(): void {
  const inp = am.input();
  if (inp === null) { am.fatal("cannot parse the input document"); return; }
  if (inp.phase == "remediate") {
    // Run allow-listed programs with am.exec(argv, stdin, timeoutMs),
    // then am.succeeded(...) or am.failed(...).
    am.failed("no remediation: reboot the device in a maintenance window");
    return;
  }
  const allow = inp.paramBool("allow_pending", false);
  const family = am.factString("os.family");
  if (family === null) { am.fatal("fact os.family: " + am.errorText(am.lastError())); return; }
  if (family != "linux") { am.notApplicable("only for linux, this is " + family); return; }
  const pending = am.fact("reboot_required");
  if (pending === null || !pending.isBool()) { am.fatal("fact reboot_required: " + am.errorText(am.lastError())); return; }
  am.log(am.DEBUG, "reboot_required=" + pending.b.toString() + " allow_pending=" + allow.toString());
  const details = JSONValue.obj().set("reboot_required", pending);
  if (!pending.b) am.compliant("no reboot pending", details);
  else if (allow) am.compliant("reboot pending, allowed by allow_pending", details);
  else am.nonCompliant("reboot pending", details);
}

main();
