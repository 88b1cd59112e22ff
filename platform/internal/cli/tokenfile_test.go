package cli

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/amagent/amagent/platform/internal/fleet"
)

// serve --admin-token-file=false (the packaged unit): a new admin token is
// printed once, to standard output (the journal), and kept in no file; the
// access key is still kept. A second start prints neither again.
func TestServeAdminTokenPrintedOnly(t *testing.T) {
	dir := t.TempDir()
	start := func() []string {
		ctx, cancel := context.WithCancel(t.Context())
		pr, pw := io.Pipe()
		done := make(chan error, 1)
		go func() {
			done <- Run(ctx, []string{"serve", "--listen", "127.0.0.1:0", "--log-level", "error", "--data", dir, "--admin-token-file=false"}, pw, io.Discard)
			pw.Close()
		}()
		var lines []string
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines = append(lines, sc.Text())
			if strings.Contains(sc.Text(), "listening on") {
				break
			}
		}
		go io.Copy(io.Discard, pr)
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("serve: %v", err)
		}
		return lines
	}
	first := strings.Join(start(), "\n")
	m := regexp.MustCompile(`new admin token \([^)]*\): (\S+) \(not stored anywhere else: keep it now\)`).FindStringSubmatch(first)
	if m == nil {
		t.Fatalf("first start did not print the admin token once, unstored:\n%s", first)
	}
	if _, err := os.Stat(filepath.Join(dir, fleet.AdminTokenFile)); !os.IsNotExist(err) {
		t.Errorf("%s exists (%v); want the token in no file", fleet.AdminTokenFile, err)
	}
	if _, err := os.Stat(filepath.Join(dir, fleet.AccessKeyFile)); err != nil {
		t.Errorf("the access key is not kept: %v", err)
	}
	if again := strings.Join(start(), "\n"); strings.Contains(again, "admin token") || strings.Contains(again, m[1]) {
		t.Errorf("second start printed the token again:\n%s", again)
	}
}
