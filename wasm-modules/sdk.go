// Package wasmmodules holds the guest SDKs' own files (the sources beside
// this file, embedded, never copied), so that `amagent worklet new` can
// vendor a language's SDK into a new worklet folder and the vendored copy
// is always exactly what this directory holds.
package wasmmodules

import (
	"embed"
	"io/fs"
	"path"
	"sort"
	"strings"
)

//go:embed go/build-worklet.sh go/amagent/*.go go/amagent/scanjson/*.go
//go:embed c/build-worklet.sh c/amagent.h
//go:embed rust/build-worklet.sh rust/amagent/Cargo.toml rust/amagent/src/*.rs
//go:embed assemblyscript/build-worklet.sh assemblyscript/assembly/*.ts assemblyscript/package.json assemblyscript/package-lock.json
//go:embed wat/build-worklet.sh wat/amagent.wat
var sdk embed.FS

// Languages are the SDKs, by directory name.
var Languages = []string{"go", "c", "rust", "assemblyscript", "wat"}

// SDKFiles returns the files of one language's SDK that a worklet needs to
// build (tests left out), keyed by their path inside the language's
// directory ("amagent.h", "assembly/amagent.ts"), sorted.
func SDKFiles(lang string) (map[string][]byte, []string, error) {
	files := map[string][]byte{}
	err := fs.WalkDir(sdk, lang, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, "_test.go") {
			return err
		}
		b, err := sdk.ReadFile(p)
		if err != nil {
			return err
		}
		files[strings.TrimPrefix(p, lang+"/")] = b
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	return files, names, nil
}

// IsExecutable says whether an SDK file is a script to be written with
// mode 0755.
func IsExecutable(name string) bool { return path.Ext(name) == ".sh" }
