# amagent — build, test, benchmark and demo.
# `make run` and `make test` are the two set-up commands (see README.md).

GO        ?= go
BIN       := bin
VERSION   ?= $(shell cat VERSION 2>/dev/null || echo 0.1.0-dev)
LDFLAGS   := -s -w -X github.com/amagent/amagent/agent/version.Version=$(VERSION)
GOFLAGS_B := -trimpath -ldflags '$(LDFLAGS)'

.PHONY: all build test soak bench wasm wasm-check run clean cross vet package package-test

all: build

build:
	$(GO) build $(GOFLAGS_B) -o $(BIN)/amagent ./agent/cmd/amagent
	$(GO) build $(GOFLAGS_B) -o $(BIN)/amplatform ./platform/cmd/amplatform

# Every test, Go only: the .wasm files are committed beside their sources.
test:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './node_modules/*')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	@rm -f $(BIN)/faults-table.txt
	AMAGENT_FAULTS_TABLE=$(CURDIR)/$(BIN)/faults-table.txt $(GO) test -count=1 ./...
	@cat $(BIN)/faults-table.txt 2>/dev/null || true

# Cross-builds so that Windows and macOS never silently break.
cross:
	GOOS=windows GOARCH=amd64 $(GO) build -o /dev/null ./agent/... ./host/...
	GOOS=darwin  GOARCH=arm64 $(GO) build -o /dev/null ./agent/... ./host/...
	GOOS=darwin  GOARCH=amd64 $(GO) build -o /dev/null ./agent/... ./host/...

# The fault-injection suite's long variants and a soak (AMAGENT_SOAK,
# default 30m) through a faulty network; see scripts/soak.sh.
soak:
	./scripts/soak.sh

# Reproducible .deb/.rpm/.apk (amd64, arm64) and the Windows MSI into dist/,
# with SHA256SUMS (see scripts/package.sh).
package:
	./scripts/package.sh

# Installs, enrolls, upgrades and purges the packages on this machine (root,
# dpkg), runs lintian and builds everything twice to compare the bytes:
# minutes, so not part of `make test`.
package-test: package
	cd packaging && AMAGENT_PACKAGE_TEST=1 $(GO) test -count=1 -timeout 40m -v ./pkgtest/

# Go benchmarks plus the side-by-side comparisons, printed as ratios.
bench: build
	./scripts/bench.sh

# Rebuilds every WebAssembly module from its source: each directory with a
# build.sh under wasm-modules/, worklets/ and testdata/ is one build unit.
wasm:
	./scripts/build-wasm.sh

# Fails when a committed .wasm differs from a fresh build of its source.
wasm-check: wasm
	git diff --exit-code --stat -- '*.wasm'

# The main job: a local platform with its embedded database plus an agent
# checking in and scanning, all under ./var/demo. Ctrl-C stops both.
run: build
	./scripts/demo.sh

clean:
	rm -rf $(BIN) var

# Which toolchain each guest language (Go, C, Rust, AssemblyScript, WAT)
# would build with here, or the packages to install; fails if one is missing.
.PHONY: doctor
doctor:
	@status=0; for l in go c rust assemblyscript wat; do bash wasm-modules/$$l/build-worklet.sh --check || status=1; done; exit $$status

# Rewrites the golden files after a change of the scan document: the
# recorded machines' golden scans, then the recordings built from them.
.PHONY: golden
golden:
	$(GO) test ./agent/scan/ -run TestRecordedMachines -update
	$(GO) test ./host/cli/ -run TestMachineRecordings -update
