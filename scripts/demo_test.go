// Package scripts holds the tests of the shell scripts behind make targets.
package scripts

import (
	"context"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Issue 10 finding 8: with its port taken, make run read the old database,
// said "The demo is running" and let the agent check in to whatever held
// the port. This test failed on the script before the fix.
func TestDemoFailsWhenPortTaken(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "demo.sh")
	cmd.Env = append(cmd.Environ(), "AMAGENT_DEMO_PORT="+port)
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("demo.sh succeeded with its port taken:\n%s", out)
	}
	if !strings.Contains(string(out), port) || !strings.Contains(string(out), "AMAGENT_DEMO_PORT") {
		t.Errorf("the message does not name the port and how to pick another:\n%s", out)
	}
	if strings.Contains(string(out), "demo is running") {
		t.Errorf("it claimed to run:\n%s", out)
	}
}
