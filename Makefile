# apilens — see README.md. `make demo` runs the server with live simulated
# traffic; `make test` runs every test; `make bench` prints the figures.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
BIN     := bin/apilens

.PHONY: all build demo test test-short bench fuzz vet clean

all: build

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/apilens

demo: build
	./$(BIN) demo

vet:
	$(GO) vet ./...

test: vet
	$(GO) test -count=1 -timeout 20m ./...

test-short:
	$(GO) test -short ./...

# Micro-benchmarks of the hot paths, then the end-to-end figures of the
# README's Performance section (a real server over loopback).
bench: build
	$(GO) test -run '^$$' -bench . -benchtime 2s ./ ./ingest/ ./rollup/ ./sketch/ ./spool/ ./store/sqlite/ ./simulate/
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./bench/

# Run each fuzz target for a while (CI runs only their seed corpora).
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzDecodeBatch -fuzztime $(FUZZTIME) .
	$(GO) test -run '^$$' -fuzz FuzzDecodeEvent -fuzztime $(FUZZTIME) ./ingest/
	$(GO) test -run '^$$' -fuzz FuzzParseEvents -fuzztime $(FUZZTIME) ./ingest/
	$(GO) test -run '^$$' -fuzz FuzzDecode -fuzztime $(FUZZTIME) ./sketch/
	$(GO) test -run '^$$' -fuzz FuzzRecover -fuzztime $(FUZZTIME) ./spool/

clean:
	rm -rf bin
