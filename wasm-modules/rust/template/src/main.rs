//! Worklet template in Rust: copy the directory, change the name in
//! worklet.toml, fix the path to build-worklet.sh in build.sh, and write the
//! check. It reports compliant when no reboot is pending (fact
//! reboot_required), or when param allow_pending is true; not applicable
//! outside Linux.

use amagent::Value;

fn main() {
    let input = amagent::input().unwrap_or_else(|e| amagent::fatal(&e.to_string()));
    if input.phase == "remediate" {
        // Run allow-listed programs with amagent::exec(&argv, stdin, timeout_ms),
        // then amagent::succeeded(...) or amagent::failed(...).
        amagent::failed("no remediation: reboot the device in a maintenance window", Value::Null);
    }
    let allow = input.param_bool("allow_pending").unwrap_or(false);
    let family = amagent::fact_str("os.family").unwrap_or_else(|e| amagent::fatal(&e.to_string()));
    if family != "linux" {
        amagent::not_applicable(&format!("only for linux, this is {}", family), Value::Null);
    }
    let pending = match amagent::fact("reboot_required") {
        Ok(Value::Bool(b)) => b,
        Ok(_) => amagent::fatal("fact reboot_required is not a boolean"),
        Err(e) => amagent::fatal(&e.to_string()),
    };
    amagent::log(amagent::Level::Debug, &format!("reboot_required={} allow_pending={}", pending, allow));
    let details = Value::object(vec![("reboot_required", Value::from(pending))]);
    if !pending {
        amagent::compliant("no reboot pending", details);
    }
    if allow {
        amagent::compliant("reboot pending, allowed by allow_pending", details);
    }
    amagent::non_compliant("reboot pending", details)
}
