# dotm: see README.md. Every target works on a fresh clone with Go installed.
GO      ?= go
BIN     := bin/dotm
PKGS    := ./...
CI_FUZZTIME ?= 10s
SHELL   := bash
.SHELLFLAGS := -o pipefail -c

.PHONY: build demo serve test test-faults bench fuzz clean

build:
	$(GO) build -o $(BIN) ./cmd/dotm

## demo: a whole survey round on the embedded store (output in ./demo)
demo:
	@echo "building $(BIN) (on a fresh machine the first build compiles ~700 packages: several minutes on 2 cores)"
	@$(GO) build -v -o $(BIN) ./cmd/dotm 2>&1 | awk '/^[^ #:]+$$/ { n++; printf "\r  compiled %d packages", n; fflush(); next } { print } END { if (n) print "" }'
	./$(BIN) demo --out demo

## serve: the HTTP API on 127.0.0.1:8080 with the embedded store in ./data (data key made once in ./data.key)
serve: build
	test -f data.key || ./$(BIN) keys generate --out data.key
	./$(BIN) serve --data-dir data --key-file data.key

## test: vet, the race-enabled test suite and every fuzz target briefly (what CI runs)
test:
	@if command -v npm >/dev/null 2>&1 && [ ! -d questionnaire/testdata/odkengine/node_modules ]; then \
		echo "installing ODK's form engine for the XForm and OpenRosa tests (npm ci, once)"; \
		(cd questionnaire/testdata/odkengine && npm ci --no-audit --no-fund --loglevel=error); fi
	$(GO) vet $(PKGS)
	$(GO) test -race -timeout 20m $(PKGS)
	FUZZTIME=$(CI_FUZZTIME) ./scripts/fuzz.sh

## fuzz: every fuzz target for FUZZTIME (default 2m) each
fuzz:
	FUZZTIME=$(or $(FUZZTIME),2m) ./scripts/fuzz.sh

## test-faults: crash, database outage, bad input and security tests at full size (real dotm processes)
test-faults:
	DOTM_FAULTS_SIZE=full $(GO) test -count=1 -timeout 30m -v ./faults/

## bench: Go benchmarks, the store's request latency from 1k to 50k submissions, then dotm beside R on the same data (ratios printed; R optional)
bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./questionnaire ./sampling ./analysis ./collector
	$(GO) test -run '^$$' -bench 'Frequencies|SuppressHeavy' -benchmem ./exports
	./bench/release_curve.sh
	$(GO) test -run '^$$' -bench StoreGrowth -benchtime 20x -timeout 30m ./mongodb
	./bench/sampling_vs_r.sh
	./bench/analyze_vs_r.sh
	./bench/replicate_vs_r.sh
	./bench/calibrated_vs_r.sh

clean:
	rm -rf bin demo
