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

// TestSplitKeepsMemory checks that the image Split returns, followed by
// zeros, is the initial memory of the module before the split.
func TestSplitKeepsMemory(t *testing.T) {
	for _, name := range []string{"gomod.wasm", "gomin.wasm", "check.wasm"} {
		orig, err := os.ReadFile("../../testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		mod, img := Split(orig, 64<<20)
		if img == nil || bytes.Equal(mod, orig) {
			t.Fatalf("%s: not split", name)
		}
		want := initialMemory(t, orig)
		got := initialMemory(t, mod)
		if len(got) != len(want) || len(img) > len(got) {
			t.Fatalf("%s: memory %d bytes, was %d; image %d", name, len(got), len(want), len(img))
		}
		if bytes.ContainsFunc(got, func(r rune) bool { return r != 0 }) {
			t.Errorf("%s: the split module still writes data", name)
		}
		copy(got, img)
		if !bytes.Equal(got, want) {
			t.Errorf("%s: image and zeros differ from the initial memory", name)
		}
	}
	// Data past the initial memory must keep failing at instantiation;
	// no data, or no module: unchanged.
	tooBig := []byte("\x00asm\x01\x00\x00\x00" +
		"\x05\x03\x01\x00\x01" + // memory 1 page
		"\x0b\x09\x01\x00\x41\x80\x80\x04\x0b\x01\x2a") // 1 byte at 65536
	for _, in := range [][]byte{nil, []byte("hello"), []byte("\x00asm\x01\x00\x00\x00"), tooBig} {
		if mod, img := Split(in, 64<<20); !bytes.Equal(mod, in) || img != nil {
			t.Errorf("Split(%q) split it", in)
		}
	}
	fits := bytes.Replace(tooBig, []byte("\x41\x80\x80\x04"), []byte("\x41\xff\xff\x03"), 1) // at 65535
	if _, img := Split(fits, 64<<20); len(img) != 65536 || img[65535] != 0x2a {
		t.Errorf("a segment that fits: image of %d bytes", len(img))
	}
	// Too large, or mostly zeros: not split.
	g, _ := os.ReadFile("../../testdata/gomod.wasm")
	if _, img := Split(g, 1<<20); img != nil {
		t.Error("an image over the maximum")
	}
	far := bytes.Replace(tooBig, []byte("\x05\x03\x01\x00\x01"), []byte("\x05\x03\x01\x00\x40"), 1) // 64 pages
	far = bytes.Replace(far, []byte("\x41\x80\x80\x04"), []byte("\x41\x80\x80\xf8\x01"), 1)         // at 3.875 MiB
	far[len(far)-11]++                                                                              // the section is a byte longer
	if mod, img := Split(far, 64<<20); img != nil || !bytes.Equal(mod, far) {
		t.Errorf("one byte near 4 MiB: image of %d bytes", len(img))
	}
	if mem := initialMemory(t, far); mem[0x3e0000] != 0x2a { // a valid module
		t.Error("the test module is not what it should be")
	}
}

// initialMemory instantiates a module without running it and returns its
// memory.
func initialMemory(t *testing.T, wasm []byte) []byte {
	t.Helper()
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer rt.Close(ctx)
	cm, err := rt.CompileModule(ctx, wasm)
	if err != nil {
		t.Fatal(err)
	}
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
