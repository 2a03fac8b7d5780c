# Switchboard — `make help` lists the targets.
SHELL := /bin/bash
GO ?= go
BIN := bin/switchboard
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
DATA ?= ./data
# PocketSphinx (offline speech recognition) is compiled in when its library
# is installed (make deps installs it); without it the server still builds and
# speech recognize requests fail with a clear error.
TAGS ?= $(shell pkg-config --exists pocketsphinx sphinxbase 2>/dev/null && echo pocketsphinx)
GOFLAGS_TAGS := $(if $(TAGS),-tags $(TAGS))
DEB_RUN := espeak-ng libpocketsphinx-dev pocketsphinx-en-us pkg-config
DEB_TEST := sip-tester baresip-core $(DEB_RUN)

.PHONY: help deps build run test test-unit test-race fuzz bench lint clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

deps: ## install what the tests need (Debian packages, the npm SDK for the test app)
	@if ! command -v sipp >/dev/null || ! command -v baresip >/dev/null || ! command -v espeak-ng >/dev/null || \
		! command -v pkg-config >/dev/null || ! pkg-config --exists pocketsphinx || [ ! -d /usr/share/pocketsphinx/model/en-us ]; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEB_TEST) >/dev/null; \
		else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEB_TEST) >/dev/null; fi; fi
	@cd test/node && npm ci --no-audit --no-fund --loglevel=error

build: ## build bin/switchboard
	$(GO) build $(GOFLAGS_TAGS) -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/switchboard

run: ## run the server with embedded defaults (HTTPS API on 127.0.0.1:8443, SIP on 5060)
	@{ command -v espeak-ng >/dev/null && pkg-config --exists pocketsphinx 2>/dev/null && [ -d /usr/share/pocketsphinx/model/en-us ]; } || \
		{ echo "installing espeak-ng (text-to-speech) and PocketSphinx (speech recognition)"; \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEB_RUN) >/dev/null; \
		else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEB_RUN) >/dev/null; fi; } || \
		echo "could not install $(DEB_RUN): text-to-speech or speech recognition will fail"
	@$(MAKE) --no-print-directory build
	@mkdir -p $(DATA)
	@[ -s $(DATA)/accesskey ] || ./$(BIN) keygen > $(DATA)/accesskey
	@echo "connection string: endpoint=https://127.0.0.1:8443/;accesskey=$$(cat $(DATA)/accesskey)"
	@echo "trust the API's CA with: NODE_EXTRA_CA_CERTS=$(DATA)/tls/ca.pem"
	SWITCHBOARD_DATADIR=$(DATA) SWITCHBOARD_AUTH_ACCESSKEYS=$$(cat $(DATA)/accesskey) ./$(BIN) serve $(if $(CONFIG),-config $(CONFIG))

test: deps ## run every test: unit, fuzz seeds, and integration with SIPp, baresip and the npm SDK (with -race)
	$(GO) vet ./...
	$(GO) vet -tags pocketsphinx ./...
	REQUIRE_TEST_PEERS=1 $(GO) test -tags pocketsphinx -race -count=1 -timeout 30m ./...

test-unit: ## unit tests only (no external peers)
	$(GO) test -short -count=1 ./...

test-race: test ## same as test (it already runs with -race)

fuzz: ## run each fuzzer for 30 s
	@for pkg in $$($(GO) list ./internal/...); do \
		for f in $$($(GO) test -list 'Fuzz.*' $$pkg 2>/dev/null | grep ^Fuzz); do \
			echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime 30s $$pkg || exit 1; done; done

bench: ## micro-benchmarks with allocation counts
	$(GO) test -run '^$$' -bench . -benchmem ./internal/...

lint: ## go vet and gofmt check
	$(GO) vet ./...
	@test -z "$$(gofmt -l .)" || (gofmt -l . && exit 1)

load: deps build ## run the load harness and print the summary table (extra flags: LOADFLAGS="-runs ramp -json out.json")
	$(GO) run ./cmd/sbload -server $(BIN) $(LOADFLAGS)

load-smoke: ## a short run of the load harness (5 calls) as a test
	$(GO) test -count=1 -run Smoke -v ./internal/load/

speech-accuracy: ## speech recognition accuracy, WER and real-time factor over 1,672 synthesized utterances (docs/SPEECH.md; a few minutes)
	@command -v flite >/dev/null || { if [ "$$(id -u)" = 0 ]; then apt-get install -y -qq flite >/dev/null; \
		else sudo apt-get install -y -qq flite >/dev/null; fi; } || echo "no flite: the corpus will have espeak-ng voices only"
	STT_ACCURACY=1 $(GO) test -tags pocketsphinx -count=1 -timeout 30m -run TestAccuracyReport -v ./internal/speech/stt/sphinx/

.PHONY: load load-smoke speech-accuracy

clean: ## remove build output
	rm -rf bin
