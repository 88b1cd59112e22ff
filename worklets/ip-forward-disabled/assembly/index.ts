// ip-forward-disabled: IPv4 forwarding is off in the running kernel
// (/proc/sys/net/ipv4/ip_forward is 0) and is not turned on at boot by
// /etc/sysctl.d/*.conf or /etc/sysctl.conf (CIS "Ensure IP forwarding is
// disabled"). Remediation writes 0 to the running kernel's setting and a
// drop-in, /etc/sysctl.d/90-amagent-ip-forward.conf, that keeps it at boot.
//
// The result functions end the instance: `return` after them only for the
// compiler.
import * as am from "../../../wasm-modules/assemblyscript/assembly/amagent";
import { JSONValue } from "../../../wasm-modules/assemblyscript/assembly/json";

const RUNTIME = "/proc/sys/net/ipv4/ip_forward";
const SYSCTL_D = "/etc/sysctl.d";
const SYSCTL_CONF = "/etc/sysctl.conf";
const DROPIN_NAME = "90-amagent-ip-forward.conf";
const DROPIN = SYSCTL_D + "/" + DROPIN_NAME;
const DROPIN_TEXT = "# Written by the amagent worklet ip-forward-disabled: IPv4 forwarding stays off at boot.\nnet.ipv4.ip_forward = 0\n";

/** One net.ipv4.ip_forward assignment: where, and its value. */
class Setting {
  constructor(public file: string, public line: i32, public value: string, public afterDropin: bool) {}
  where(): string { return this.file + ":" + this.line.toString(); }
}

/** Appends the assignments of net.ipv4.ip_forward in text (sysctl.conf syntax). */
function parse(file: string, text: string, afterDropin: bool, out: Array<Setting>): void {
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    let l = lines[i].trim();
    if (l.length == 0 || l.startsWith("#") || l.startsWith(";")) continue;
    const eq = l.indexOf("=");
    if (eq < 0) continue;
    let key = l.substring(0, eq).trim();
    if (key.startsWith("-")) key = key.substring(1).trim(); // "-key = v": errors ignored, still set
    if (key.replaceAll("/", ".") != "net.ipv4.ip_forward") continue;
    out.push(new Setting(file, i + 1, l.substring(eq + 1).trim(), afterDropin));
  }
}

/** Every assignment in the order sysctl applies them (the last one wins at boot). */
function settings(): Array<Setting> {
  const out = new Array<Setting>();
  const names = am.listDir(SYSCTL_D);
  if (names === null && am.lastError() != am.ERR_NOT_FOUND) {
    am.fatal("list " + SYSCTL_D + ": " + am.errorText(am.lastError()));
  }
  if (names !== null) {
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      if (!name.endsWith(".conf")) continue;
      const p = SYSCTL_D + "/" + name;
      // Debian's 99-sysctl.conf is a link to ../sysctl.conf, read below.
      const st = am.stat(p);
      if (st !== null && st.type != "file") continue;
      const text = am.readFile(p);
      if (text === null) { am.fatal("read " + p + ": " + am.errorText(am.lastError())); continue; }
      parse(p, text, name > DROPIN_NAME, out);
    }
  }
  const conf = am.readFile(SYSCTL_CONF); // applied after sysctl.d (procps), or as 99-sysctl.conf (systemd)
  if (conf !== null) parse(SYSCTL_CONF, conf, true, out);
  else if (am.lastError() != am.ERR_NOT_FOUND) am.fatal("read " + SYSCTL_CONF + ": " + am.errorText(am.lastError()));
  return out;
}

function main(): void {
  const inp = am.input();
  if (inp === null) { am.fatal("cannot parse the input document"); return; }
  const now = am.readFile(RUNTIME);
  if (now === null) {
    if (am.lastError() == am.ERR_NOT_FOUND) { am.notApplicable("no IPv4 forwarding setting in this kernel (" + RUNTIME + " does not exist)"); return; }
    am.fatal("read " + RUNTIME + ": " + am.errorText(am.lastError()));
    return;
  }
  const running = now.trim();
  const all = settings();
  const atBoot = all.length > 0 ? all[all.length - 1] : null;
  const details = JSONValue.obj().set("running", JSONValue.str(running))
    .set("at_boot", atBoot !== null ? JSONValue.str(atBoot.value) : JSONValue.nul())
    .set("set_in", atBoot !== null ? JSONValue.str(atBoot.where()) : JSONValue.nul());

  if (inp.phase == "remediate") {
    // A later file would turn it back on at boot: the drop-in cannot win.
    for (let i = 0; i < all.length; i++) {
      const s = all[i];
      if (s.afterDropin && s.value != "0") {
        am.failed("net.ipv4.ip_forward = " + s.value + " in " + s.where() + " is applied after " + DROPIN + ": change it there", details);
        return;
      }
    }
    if (!am.writeFile(DROPIN, DROPIN_TEXT)) { am.failed("write " + DROPIN + ": " + am.errorText(am.lastError()), details); return; }
    if (running != "0") {
      if (!am.writeFile(RUNTIME, "0\n")) { am.failed("write " + RUNTIME + ": " + am.errorText(am.lastError()), details); return; }
      const again = am.readFile(RUNTIME);
      if (again === null || again.trim() != "0") { am.failed(RUNTIME + " is still not 0 after writing it", details); return; }
      am.succeeded("IPv4 forwarding turned off now and at boot (" + DROPIN + ")", details);
      return;
    }
    am.succeeded("IPv4 forwarding kept off at boot (" + DROPIN + "); it was already off", details);
    return;
  }

  if (running != "0") {
    am.nonCompliant("IPv4 forwarding is on: " + RUNTIME + " is " + running, details);
    return;
  }
  if (atBoot !== null && atBoot.value != "0") {
    am.nonCompliant("IPv4 forwarding comes back on at boot: net.ipv4.ip_forward = " + atBoot.value + " in " + atBoot.where(), details);
    return;
  }
  if (atBoot !== null) { am.compliant("IPv4 forwarding is off, and kept off at boot by " + atBoot.where(), details); return; }
  am.compliant("IPv4 forwarding is off (not set at boot: the kernel's default, off)", details);
}

main();
