package wasmdata

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// TestMergeKeepsMemory instantiates the Go test module before and after
// the rewrite (without running it) and compares the initial memory.
func TestMergeKeepsMemory(t *testing.T) {
	orig, err := os.ReadFile("../../testdata/gomod.wasm")
	if err != nil {
		t.Fatal(err)
	}
	merged := Merge(orig)
	if bytes.Equal(merged, orig) {
		t.Fatalf("not rewritten: %d -> %d bytes", len(orig), len(merged))
	}
	ctx := context.Background()
	mem := func(wasm []byte) []byte {
		rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
		defer rt.Close(ctx)
		cm, err := rt.CompileModule(ctx, wasm)
		if err != nil {
			t.Fatal(err)
		}
		// Satisfy the imports with a stub host module per import module.
		stubs := map[string]wazero.HostModuleBuilder{}
		for _, f := range cm.ImportedFunctions() {
			m, n, _ := f.Import()
			if stubs[m] == nil {
				stubs[m] = rt.NewHostModuleBuilder(m)
			}
			results := f.ResultTypes()
			stubs[m].NewFunctionBuilder().WithGoFunction(stubFunc(len(results)), f.ParamTypes(), results).Export(n)
		}
		for _, b := range stubs {
			if _, err := b.Instantiate(ctx); err != nil {
				t.Fatal(err)
			}
		}
		mod, err := rt.InstantiateModule(ctx, cm, wazero.NewModuleConfig().WithStartFunctions())
		if err != nil {
			t.Fatal(err)
		}
		b, _ := mod.Memory().Read(0, mod.Memory().Size())
		return bytes.Clone(b)
	}
	if !bytes.Equal(mem(orig), mem(merged)) {
		t.Fatal("initial memory differs after the rewrite")
	}
	// Not a module, or a module without data: unchanged.
	for _, in := range [][]byte{nil, []byte("hello"), []byte("\x00asm\x01\x00\x00\x00")} {
		if !bytes.Equal(Merge(in), in) {
			t.Errorf("Merge(%q) changed it", in)
		}
	}
}

func TestSleb(t *testing.T) {
	for _, v := range []int32{0, 1, 63, 64, -1, -64, -65, 1677441, 1 << 30, -1 << 31, 1<<31 - 1} {
		b := appendSleb(nil, int64(v))
		got, n, ok := sleb32(b)
		if !ok || n != len(b) || got != v {
			t.Errorf("%d: %x -> %d", v, b, got)
		}
	}
}

func stubFunc(nresults int) api.GoFunc {
	return func(_ context.Context, stack []uint64) {
		for i := range nresults {
			stack[i] = 0
		}
	}
}
