// Command conformance is the SDK conformance worklet in Go. Every SDK in
// wasm-modules/ has the same worklet, and all of them pass the same cases
// in tests/: evaluate compares param want_version with fact os.version
// (fact os.family other than "linux": not applicable) and puts the output
// of `uname -r` in the details; remediate runs `true`.
package main

import (
	"fmt"
	"time"

	"github.com/amagent/amagent/wasm-modules/go/amagent"
)

func main() {
	in, err := amagent.Input()
	if err != nil {
		amagent.Fatal(err)
	}
	amagent.Log(amagent.LevelInfo, "conformance: "+in.Phase)
	if in.Phase == amagent.PhaseRemediate {
		remediate()
		return
	}
	evaluate(in)
}

func evaluate(in *amagent.Document) {
	want, err := in.ParamString("want_version", "")
	if err != nil {
		amagent.Fatal(err)
	}
	if want == "" {
		amagent.Fatal(fmt.Errorf("param want_version missing"))
	}
	family, err := amagent.FactString("os.family")
	if err != nil {
		amagent.Fatal(err)
	}
	if family != "linux" {
		amagent.NotApplicable("os.family is "+family+", not linux", map[string]string{"os_family": family})
	}
	have, err := amagent.FactString("os.version")
	if err != nil {
		amagent.Fatal(err)
	}
	res, err := amagent.Exec([]string{"uname", "-r"}, "", 5*time.Second)
	if err != nil {
		amagent.Fatal(err)
	}
	details := map[string]string{"want_version": want, "os_version": have, "uname_r": res.Stdout}
	if have == want {
		amagent.Compliant("os.version "+have+" matches want_version", details)
	}
	amagent.NonCompliant("os.version "+have+" differs from want_version "+want, details)
}

func remediate() {
	res, err := amagent.Exec([]string{"true"}, "", 5*time.Second)
	if err != nil {
		amagent.Fatal(err)
	}
	details := map[string]int{"exit_code": res.ExitCode}
	if res.ExitCode != 0 {
		amagent.Failed(fmt.Sprintf("true exited %d", res.ExitCode), details)
	}
	amagent.Succeeded(fmt.Sprintf("remediated: true exited %d", res.ExitCode), details)
}
