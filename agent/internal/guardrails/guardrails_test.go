package guardrails

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// allowed is the reviewed list of direct dependencies and why each is here.
var allowed = map[string]string{
	"github.com/tetratelabs/wazero":    "the WebAssembly runtime (design card)",
	"github.com/shirou/gopsutil/v4":    "CPU, memory, disks, users on every OS (design card; v4 is the maintained line)",
	"github.com/cenkalti/backoff/v4":   "the one exponential backoff (design card)",
	"github.com/BurntSushi/toml":       "configuration and manifests (design card)",
	"modernc.org/sqlite":               "the platform's embedded database, pure Go (no cgo)",
	"github.com/jackc/pgx/v5":          "the platform's PostgreSQL store",
	"github.com/google/uuid":           "device UUIDs",
	"gopkg.in/natefinch/lumberjack.v2": "size-based rotation of amagent.log",
	"golang.org/x/sys":                 "uname, Windows registry",
	"github.com/pierrec/lz4/v4":        "reading apt's package lists, which Debian images keep lz4-compressed (pending updates in Go)",
	"github.com/ulikunitz/xz":          "reading apt's package lists kept xz-compressed",
	// Tests only (TestTestOnlyDependencies): no binary links it.
	"github.com/chromedp/chromedp": "drives a headless chromium in the fleet console's browser test",
}

// testOnly are dependencies no non-test file may import: they stay out of
// every binary, the agent's above all.
var testOnly = []string{"github.com/chromedp/"}

func TestTestOnlyDependencies(t *testing.T) {
	root := moduleRoot(t)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			n := d.Name()
			if p != root && (n == "testdata" || n == "node_modules" || n == "vendor" || n == "var" || n == "bin" || strings.HasPrefix(n, ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, im := range f.Imports {
			for _, prefix := range testOnly {
				if strings.HasPrefix(strings.Trim(im.Path.Value, `"`), prefix) {
					rel, _ := filepath.Rel(root, p)
					t.Errorf("%s imports %s, which only tests may use", rel, im.Path.Value)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func moduleRoot(t *testing.T) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found")
		}
		dir = parent
	}
}

func TestDirectDependenciesAreReviewed(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(moduleRoot(t), "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	inRequire := false
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "require (":
			inRequire = true
			continue
		case line == ")":
			inRequire = false
			continue
		case strings.HasPrefix(line, "require "):
			line = strings.TrimPrefix(line, "require ")
		case !inRequire:
			continue
		}
		if line == "" || strings.Contains(line, "// indirect") {
			continue
		}
		mod := strings.Fields(line)[0]
		if _, ok := allowed[mod]; !ok {
			t.Errorf("go.mod requires %s directly, but it is not in the reviewed list in %s: add it there with the reason, or drop it", mod, "agent/internal/guardrails/guardrails_test.go")
		}
	}
}

func TestEveryPackageHasADocComment(t *testing.T) {
	root := moduleRoot(t)
	pkgs := map[string][]string{} // dir -> non-test .go files
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			n := d.Name()
			if p != root && (n == "testdata" || n == "node_modules" || n == "vendor" || n == "var" || n == "bin" || strings.HasPrefix(n, ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") {
			pkgs[filepath.Dir(p)] = append(pkgs[filepath.Dir(p)], p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	for dir, files := range pkgs {
		documented := false
		for _, f := range files {
			af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.PackageClauseOnly|parser.ParseComments)
			if err != nil {
				t.Errorf("%s: %v", f, err)
				continue
			}
			if af.Doc != nil && strings.TrimSpace(af.Doc.Text()) != "" {
				documented = true
				break
			}
		}
		if !documented {
			rel, _ := filepath.Rel(root, dir)
			missing = append(missing, rel)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("packages without a doc comment:\n  %s", strings.Join(missing, "\n  "))
	}
}
