# Switchboard — `make help` lists the targets.
SHELL := /bin/bash
GO ?= go
BIN := bin/switchboard
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
DATA ?= ./data

.PHONY: help deps build run test test-unit test-race fuzz bench lint clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

deps: ## install what the tests need (Debian packages, the npm SDK for the test app)
	@if ! command -v sipp >/dev/null || ! command -v baresip >/dev/null || ! command -v espeak-ng >/dev/null; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sip-tester baresip-core espeak-ng >/dev/null; \
		else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sip-tester baresip-core espeak-ng >/dev/null; fi; fi
	@cd test/node && npm ci --no-audit --no-fund --loglevel=error

build: ## build bin/switchboard
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/switchboard

run: build ## run the server with embedded defaults (HTTPS API on 127.0.0.1:8443, SIP on 5060)
	@command -v espeak-ng >/dev/null || { echo "installing espeak-ng for text-to-speech"; \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq espeak-ng >/dev/null; \
		else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq espeak-ng >/dev/null; fi; } || \
		echo "espeak-ng is not installed: text-to-speech plays will fail"
	@mkdir -p $(DATA)
	@[ -s $(DATA)/accesskey ] || ./$(BIN) keygen > $(DATA)/accesskey
	@echo "connection string: endpoint=https://127.0.0.1:8443/;accesskey=$$(cat $(DATA)/accesskey)"
	@echo "trust the API's CA with: NODE_EXTRA_CA_CERTS=$(DATA)/tls/ca.pem"
	SWITCHBOARD_DATADIR=$(DATA) SWITCHBOARD_AUTH_ACCESSKEYS=$$(cat $(DATA)/accesskey) ./$(BIN) serve $(if $(CONFIG),-config $(CONFIG))

test: deps ## run every test: unit, fuzz seeds, and integration with SIPp, baresip and the npm SDK (with -race)
	$(GO) vet ./...
	REQUIRE_TEST_PEERS=1 $(GO) test -race -count=1 -timeout 30m ./...

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

clean: ## remove build output
	rm -rf bin
