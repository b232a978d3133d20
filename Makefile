# apilens — see README.md. `make demo` runs the server with live simulated
# traffic; `make test` runs every test; `make bench` prints the figures.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
BIN     := bin/apilens
UI      := web/ui
UI_SRC  := $(shell find $(UI)/src $(UI)/index.html $(UI)/vite.config.ts $(UI)/tsconfig.json -type f 2>/dev/null)

.PHONY: all build ui ui-test e2e demo test test-short bench pgo fuzz vet clean

all: build

# The binary embeds the dashboard (web/ui/dist), so the front end builds
# first; both steps are skipped when nothing changed.
build: ui
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/apilens

ui: $(UI)/dist/index.html

$(UI)/node_modules/.package-lock.json: $(UI)/package-lock.json
	cd $(UI) && npm ci --no-audit --no-fund

$(UI)/dist/index.html: $(UI)/node_modules/.package-lock.json $(UI_SRC)
	find $(UI)/dist -mindepth 1 ! -name .gitkeep -delete
	cd $(UI) && npm run build

$(UI)/e2e/node_modules/.package-lock.json: $(UI)/e2e/package-lock.json
	cd $(UI)/e2e && npm ci --no-audit --no-fund

ui-test: $(UI)/node_modules/.package-lock.json
	cd $(UI) && npm test

# The browser suite: the real binary, seeded by the simulator, driven in
# Debian's chromium by playwright-core. Screenshots land in web/ui/e2e/artifacts.
e2e: build $(UI)/e2e/node_modules/.package-lock.json
	cd $(UI)/e2e && APILENS_BIN=$(CURDIR)/$(BIN) npm test

demo: build
	./$(BIN) demo

vet: ui
	$(GO) vet ./...

test: vet ui-test
	$(GO) test -count=1 -timeout 20m ./...
	$(MAKE) e2e

test-short:
	$(GO) test -short ./...

# Micro-benchmarks of the hot paths, then the end-to-end figures of the
# README's Performance section (a real server over loopback).
bench: build
	$(GO) test -run '^$$' -bench . -benchtime 2s ./ ./ingest/ ./rollup/ ./sketch/ ./spool/ ./store/sqlite/ ./simulate/ ./loganalyzer/ ./databridge/
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./bench/

# The profile go build optimizes the server with (cmd/apilens/default.pgo):
# the server's CPU profile under the two ingest benchmarks, HTTP paced and
# data-bridge binary, merged. Refresh it when the hot paths change.
pgo:
	$(GO) build -pgo=off -o bin/apilens-nopgo ./cmd/apilens
	cd bench && APILENS_BENCH_BIN=$(CURDIR)/bin/apilens-nopgo APILENS_BENCH_PROFILE=/tmp/apilens-pgo-http.pprof \
		$(GO) test -run '^$$' -bench '^BenchmarkIngest$$/paced' -benchtime 1x .
	cd bench && APILENS_BENCH_BIN=$(CURDIR)/bin/apilens-nopgo APILENS_BENCH_PROFILE=/tmp/apilens-pgo-binary.pprof APILENS_BENCH_CONNS=32 \
		$(GO) test -run '^$$' -bench BinaryIngest -benchtime 1x .
	$(GO) tool pprof -proto /tmp/apilens-pgo-http.pprof /tmp/apilens-pgo-binary.pprof > cmd/apilens/default.pgo

# Run each fuzz target for a while (CI runs only their seed corpora).
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzDecodeBatch -fuzztime $(FUZZTIME) .
	$(GO) test -run '^$$' -fuzz FuzzDecodeEvent -fuzztime $(FUZZTIME) ./ingest/
	$(GO) test -run '^$$' -fuzz FuzzParseEvents -fuzztime $(FUZZTIME) ./ingest/
	$(GO) test -run '^$$' -fuzz FuzzDecode -fuzztime $(FUZZTIME) ./sketch/
	$(GO) test -run '^$$' -fuzz FuzzRecover -fuzztime $(FUZZTIME) ./spool/
	$(GO) test -run '^$$' -fuzz FuzzParser -fuzztime $(FUZZTIME) ./loganalyzer/
	$(GO) test -run '^$$' -fuzz FuzzParseJSON -fuzztime $(FUZZTIME) ./loganalyzer/
	$(GO) test -run '^$$' -fuzz FuzzDecodeFrame -fuzztime $(FUZZTIME) ./databridge/

clean:
	rm -rf bin $(UI)/node_modules $(UI)/e2e/node_modules
	find $(UI)/dist -mindepth 1 ! -name .gitkeep -delete
