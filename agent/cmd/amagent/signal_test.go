//go:build unix

package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// TestSecondSignalExitsAtOnce runs signalContext in a child process whose
// shutdown after the first signal would take a minute: the second signal
// must end it at once, by the signal.
func TestSecondSignalExitsAtOnce(t *testing.T) {
	if os.Getenv("AMAGENT_SIGNAL_CHILD") == "1" {
		ctx, _ := signalContext()
		fmt.Println("ready")
		<-ctx.Done()
		fmt.Println("shutting down")
		time.Sleep(time.Minute) // a slow shutdown
		os.Exit(0)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestSecondSignalExitsAtOnce$")
	cmd.Env = append(os.Environ(), "AMAGENT_SIGNAL_CHILD=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := bufio.NewScanner(out)
	expect := func(want string) {
		t.Helper()
		for lines.Scan() {
			if lines.Text() == want {
				return
			}
		}
		t.Fatalf("child never printed %q", want)
	}
	expect("ready")
	cmd.Process.Signal(syscall.SIGTERM)
	expect("shutting down")
	// The handler is removed right after the context is done.
	time.Sleep(100 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("child exit: %v, want death by SIGTERM", err)
		}
		ws, ok := ee.Sys().(syscall.WaitStatus)
		if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGTERM {
			t.Fatalf("child ended with %v, want killed by SIGTERM", ee)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the second SIGTERM did not end the process")
	}
}
