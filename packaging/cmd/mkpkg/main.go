// Command mkpkg builds the amagent and amplatform Linux packages (.deb,
// .rpm, .apk) with the nfpm library from the nfpm configurations in
// packaging/ and binaries built beforehand (scripts/package.sh builds
// them). Every time in a package is the commit's time (-mtime, from
// SOURCE_DATE_EPOCH), so that two builds of one commit are identical.
//
//	mkpkg -config amagent.yaml -format deb -arch amd64 -version 0.1.0 \
//	      -bin dist/build/linux_amd64 -mtime 1700000000 -out dist
package main

import (
	"bytes"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/apk"
	_ "github.com/goreleaser/nfpm/v2/deb"
	_ "github.com/goreleaser/nfpm/v2/rpm"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "mkpkg:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fl := flag.NewFlagSet("mkpkg", flag.ContinueOnError)
	cfgPath := fl.String("config", "", "nfpm configuration `file` (amagent.yaml, amplatform.yaml)")
	format := fl.String("format", "deb", "deb, rpm or apk")
	arch := fl.String("arch", "amd64", "Go architecture: amd64 or arm64")
	version := fl.String("version", "", "package version (VERSION)")
	commit := fl.String("commit", "", "commit, named in the Debian changelog")
	bin := fl.String("bin", "", "`folder` with the built binaries")
	mtime := fl.Int64("mtime", -1, "every time in the package, Unix seconds (the commit's)")
	out := fl.String("out", "dist", "output `folder`")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if *cfgPath == "" || *version == "" || *bin == "" || *mtime < 0 {
		return errors.New("-config, -version, -bin and -mtime are required")
	}
	pkgDir, err := filepath.Abs(filepath.Dir(*cfgPath))
	if err != nil {
		return err
	}
	binDir, err := filepath.Abs(*bin)
	if err != nil {
		return err
	}
	when := time.Unix(*mtime, 0).UTC()
	docDir, err := os.MkdirTemp("", "mkpkg-doc-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(docDir)
	name := strings.TrimSuffix(filepath.Base(*cfgPath), filepath.Ext(*cfgPath))
	if err := writeChangelog(filepath.Join(docDir, name+".changelog.gz"), name, *version, *commit, when); err != nil {
		return err
	}
	vars := map[string]string{"VERSION": *version, "ARCH": *arch, "BIN": binDir, "PKG": pkgDir, "DOC": docDir}
	// The variables are filled in here, over the whole file (nfpm expands
	// only some fields itself).
	raw, err := os.ReadFile(*cfgPath)
	if err != nil {
		return err
	}
	var unknown []string
	text := os.Expand(string(raw), func(k string) string {
		v, ok := vars[k]
		if !ok {
			unknown = append(unknown, k)
		}
		return v
	})
	if len(unknown) > 0 {
		// A typo in the YAML must not become an empty path.
		return fmt.Errorf("%s: unknown variables %v", *cfgPath, unknown)
	}
	cfg, err := nfpm.ParseWithEnvMapping(strings.NewReader(text), func(k string) string {
		return "" // nothing left to expand (nfpm asks for its NFPM_* signing passphrases)
	})
	if err != nil {
		return fmt.Errorf("%s: %w", *cfgPath, err)
	}
	info, err := cfg.Get(*format)
	if err != nil {
		return err
	}
	info.MTime = when
	info.Target = ""
	// Maintainer scripts are read from disk, and apk keeps their mtimes
	// (a checkout's time): use copies dated like everything else.
	for i, p := range []*string{&info.Scripts.PreInstall, &info.Scripts.PostInstall, &info.Scripts.PreRemove, &info.Scripts.PostRemove,
		&info.APK.Scripts.PreUpgrade, &info.APK.Scripts.PostUpgrade, &info.RPM.Scripts.PreTrans, &info.RPM.Scripts.PostTrans} {
		if *p == "" {
			continue
		}
		cp := filepath.Join(docDir, fmt.Sprintf("script-%d", i))
		b, err := os.ReadFile(*p)
		if err != nil {
			return err
		}
		if err := os.WriteFile(cp, b, 0o755); err != nil {
			return err
		}
		if err := os.Chtimes(cp, when, when); err != nil {
			return err
		}
		*p = cp
	}
	// Files from disk would keep their own mtimes (a checkout's time).
	for _, c := range info.Contents {
		if c.FileInfo == nil {
			continue
		}
		c.FileInfo.MTime = when
	}
	info = nfpm.WithDefaults(info)
	if err := nfpm.PrepareForPackager(info, *format); err != nil {
		return err
	}
	for _, c := range info.Contents {
		if c.FileInfo != nil {
			c.FileInfo.MTime = when
		}
	}
	pkgr, err := nfpm.Get(*format)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	dst := filepath.Join(*out, pkgr.ConventionalFileName(info))
	var buf bytes.Buffer
	if err := pkgr.Package(info, &buf); err != nil {
		return fmt.Errorf("%s %s: %w", name, *format, err)
	}
	if err := os.WriteFile(dst, buf.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Println(dst)
	return nil
}

// writeChangelog writes the Debian changelog of a native package, gzipped
// with no name or time in the gzip header.
func writeChangelog(path, name, version, commit string, when time.Time) error {
	what := "  * Release " + version + "."
	if commit != "" {
		what += "\n  * Built from commit " + commit + "."
	}
	text := fmt.Sprintf("%s (%s) stable; urgency=medium\n\n%s\n\n -- amagent maintainers <maintainers@amagent.example>  %s\n",
		name, version, what, when.Format("Mon, 02 Jan 2006 15:04:05 -0700"))
	var b bytes.Buffer
	zw, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		return err
	}
	if _, err := zw.Write([]byte(text)); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}
