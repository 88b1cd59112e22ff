//! SDK conformance worklet in Rust. Every SDK in wasm-modules/ has the same
//! worklet, and all of them pass the same cases in tests/: evaluate compares
//! param want_version with fact os.version (fact os.family other than
//! "linux": not applicable) and puts the output of `uname -r` in the
//! details; remediate runs `true`.

use amagent::Value;

fn main() {
    let input = match amagent::input() {
        Ok(i) => i,
        Err(e) => amagent::fatal(&e.to_string()),
    };
    amagent::log(amagent::Level::Info, &format!("conformance: {}", input.phase));
    if input.phase == "remediate" {
        remediate();
    }
    evaluate(&input);
}

fn or_fatal<T>(r: Result<T, amagent::Error>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => amagent::fatal(&e.to_string()),
    }
}

fn evaluate(input: &amagent::Input) -> ! {
    let want = input.param_str("want_version").unwrap_or("").to_string();
    if want.is_empty() {
        amagent::fatal("param want_version missing");
    }
    let family = or_fatal(amagent::fact_str("os.family"));
    if family != "linux" {
        amagent::not_applicable(
            &format!("os.family is {}, not linux", family),
            Value::object(vec![("os_family", Value::from(family.as_str()))]),
        );
    }
    let have = or_fatal(amagent::fact_str("os.version"));
    let res = or_fatal(amagent::exec(&["uname", "-r"], "", 5000));
    let details = Value::object(vec![
        ("want_version", Value::from(want.as_str())),
        ("os_version", Value::from(have.as_str())),
        ("uname_r", Value::from(res.stdout)),
    ]);
    if have == want {
        amagent::compliant(&format!("os.version {} matches want_version", have), details);
    }
    amagent::non_compliant(&format!("os.version {} differs from want_version {}", have, want), details)
}

fn remediate() -> ! {
    let res = or_fatal(amagent::exec(&["true"], "", 5000));
    let details = Value::object(vec![("exit_code", Value::from(res.exit_code))]);
    if res.exit_code != 0 {
        amagent::failed(&format!("true exited {}", res.exit_code), details);
    }
    amagent::succeeded(&format!("remediated: true exited {}", res.exit_code), details)
}
