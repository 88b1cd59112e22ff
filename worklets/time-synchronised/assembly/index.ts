// time-synchronised: an amagent worklet in AssemblyScript. The system
// clock must be synchronised to a time source: systemd's view first
// (`timedatectl show -p NTPSynchronized --value` says yes; it covers
// systemd-timesyncd, chrony and ntpd through the kernel's sync flag), then
// chrony's own (`chronyc tracking` reports "Leap status : Normal").
// Remediation: when NTP is switched off in systemd (`timedatectl show -p NTP
// --value` says no), `timedatectl set-ntp true`.
import * as am from "../../../wasm-modules/assemblyscript/assembly/amagent";
import { JSONValue } from "../../../wasm-modules/assemblyscript/assembly/json";

const TIMEOUT_MS: i32 = 5000;

// run executes argv; null when the program is unavailable (not installed,
// or not in a recorded scan). A denial is a manifest bug: fatal.
function run(argv: Array<string>): am.ExecResult | null {
  const r = am.exec(argv, "", TIMEOUT_MS);
  if (r === null) {
    const code = am.lastError();
    if (code == am.ERR_DENIED || code == am.ERR_LIMIT) {
      am.fatal(argv.join(" ") + ": " + am.errorText(code));
    }
  }
  return r;
}

// field returns the value after "Name :" in chronyc's "Name : value" lines.
function field(text: string, name: string): string {
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    if (line.substring(0, colon).trim() == name) return line.substring(colon + 1).trim();
  }
  return "";
}

function firstLine(s: string): string {
  const t = s.trim();
  const nl = t.indexOf("\n");
  return nl < 0 ? t : t.substring(0, nl);
}

function main(): void {
  // No parameters: the phase is argv[1] (ABI section 2), so the input
  // document, with the whole scan, is not parsed on every run.
  const argv = process.argv;
  const phase = argv.length > 1 ? argv[1] : "";
  if (phase != "evaluate" && phase != "remediate") { am.fatal("argv[1] is \"" + phase + "\", not evaluate or remediate"); return; }
  const family = am.factString("os.family");
  if (family !== null && family != "linux") {
    am.notApplicable("time synchronisation is checked on Linux only, not " + family);
    return;
  }
  const details = JSONValue.obj();
  const remediate = phase == "remediate";

  if (remediate) {
    const synced = run(["timedatectl", "show", "-p", "NTPSynchronized", "--value"]);
    if (synced !== null && synced.exitCode == 0 && synced.stdout.trim() == "yes") {
      am.succeeded("already synchronised, nothing changed", details);
      return;
    }
    const ntp = run(["timedatectl", "show", "-p", "NTP", "--value"]);
    if (ntp === null || ntp.exitCode != 0) {
      am.failed("timedatectl is not available: configure chrony or ntpd by hand", details);
      return;
    }
    details.set("ntp", JSONValue.str(ntp.stdout.trim()));
    if (ntp.stdout.trim() == "yes") {
      am.failed("NTP is already enabled in systemd but the clock is not synchronised: check the time servers and the network", details);
      return;
    }
    const set = run(["timedatectl", "set-ntp", "true"]);
    if (set === null || set.exitCode != 0) {
      const why = set === null ? am.errorText(am.lastError()) : "exit " + set.exitCode.toString() + ": " + firstLine(set.stderr);
      am.failed("timedatectl set-ntp true failed (" + why + ")", details);
      return;
    }
    am.succeeded("enabled NTP with timedatectl set-ntp true", details);
    return;
  }

  let systemd = "unavailable";
  const td = run(["timedatectl", "show", "-p", "NTPSynchronized", "--value"]);
  if (td !== null && td.exitCode == 0) {
    systemd = td.stdout.trim();
    details.set("ntp_synchronized", JSONValue.str(systemd));
    if (systemd == "yes") {
      am.compliant("clock synchronised (timedatectl: NTPSynchronized=yes)", details);
      return;
    }
  } else if (td !== null) {
    // Without a running systemd (a container) timedatectl cannot answer.
    systemd = "unavailable (" + firstLine(td.stderr) + ")";
  }
  const systemdAnswered = td !== null && td.exitCode == 0;

  let chrony = "unavailable";
  const ch = run(["chronyc", "tracking"]);
  if (ch !== null) {
    if (ch.exitCode != 0) {
      chrony = "not running (" + firstLine(ch.stderr + ch.stdout) + ")";
    } else {
      const leap = field(ch.stdout, "Leap status");
      const ref = field(ch.stdout, "Reference ID");
      const offset = field(ch.stdout, "System time");
      details.set("chrony_leap_status", JSONValue.str(leap));
      details.set("chrony_reference", JSONValue.str(ref));
      details.set("chrony_system_time", JSONValue.str(offset));
      if (leap == "Normal" || leap == "Insert second" || leap == "Delete second") {
        am.compliant("clock synchronised (chrony: reference " + ref + ", " + offset + ")", details);
        return;
      }
      chrony = leap == "" ? "no leap status" : leap;
    }
  }
  details.set("timedatectl", JSONValue.str(systemd));
  details.set("chrony", JSONValue.str(chrony));
  if (!systemdAnswered && ch === null) {
    am.notApplicable("neither timedatectl nor chronyc can tell (no running systemd, no chrony): " + systemd, details);
    return;
  }
  am.nonCompliant("clock not synchronised (timedatectl: NTPSynchronized=" + systemd + "; chrony: " + chrony + ")", details);
}

main();
