# pledgelog — see README.md. Every target installs what it needs.

GO          ?= go
GOBIN       := $(shell $(GO) env GOPATH)/bin
STATICCHECK := $(GOBIN)/staticcheck
GOTESTSUM   := $(GOBIN)/gotestsum
DATA        ?= ./pledgelog-data
ORIGIN      ?= localhost/pledgelog
LISTEN      ?= 127.0.0.1:8080
FUZZTIME    ?= 10s
BENCHTIME   ?= 1x
SOAK        ?= 10m
SOAK_PLOT   ?= docs/soak.png

.PHONY: run test lint fuzz bench chaos soak build tools interop

## build: the three binaries into ./bin
build:
	$(GO) build -o bin/ ./cmd/...

## run: the demo log in $(DATA), made on first use, served on $(LISTEN) with
## three local witnesses of which two must cosign (pledgelog demo)
run: build
	./bin/pledgelog demo --data $(DATA) --origin $(ORIGIN) --listen $(LISTEN)

## test: lint, then every test with the race detector (-short: the quick crash test);
## a line per package, the output of what failed, and at the end every skipped
## test with the reason it gave
test: lint $(GOTESTSUM)
	$(GOTESTSUM) --format pkgname-and-test-fails --format-hide-empty-pkg -- -race -short -timeout 15m ./...

## lint: gofmt, go vet, staticcheck
lint: tools
	@out=$$(gofmt -l .); \
	  if [ -n "$$out" ]; then echo "gofmt: not formatted:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...

tools: $(STATICCHECK) $(GOTESTSUM)
$(STATICCHECK):
	$(GO) install honnef.co/go/tools/cmd/staticcheck@v0.8.2
$(GOTESTSUM):
	$(GO) install gotest.tools/gotestsum@v1.13.0

## fuzz: every fuzz target for $(FUZZTIME)
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

## bench: the benchmarks that print the performance figures (docs/performance.md)
bench:
	$(GO) test -run '^$$' -bench . -benchtime $(BENCHTIME) -timeout 60m ./...

## soak: a pledgelog serve process under writers at half the maximum
## measured first and readers for $(SOAK) (SOAK=40s: about a minute in all);
## a table per 10 s, then the plot $(SOAK_PLOT) (docs/reliability.md)
soak: build
	./bin/pledgelog bench --soak $(SOAK) --soak-plot $(SOAK_PLOT)

## interop: builds cosign $(COSIGN_VERSION) from the Go module proxy into
## bin/interop (minutes, once) and verifies exported pledges with it
## (TestExportCosign; make test runs it too once cosign is built)
COSIGN_VERSION ?= v2.6.5
interop:
	@test -x bin/interop/cosign-$(COSIGN_VERSION) || { mkdir -p bin/interop/tmp && \
	  GOBIN=$(CURDIR)/bin/interop/tmp $(GO) install github.com/sigstore/cosign/v2/cmd/cosign@$(COSIGN_VERSION) && \
	  mv bin/interop/tmp/cosign bin/interop/cosign-$(COSIGN_VERSION); }
	PLEDGELOG_COSIGN=$(CURDIR)/bin/interop/cosign-$(COSIGN_VERSION) $(GO) test -count=1 -run 'TestExportCosign|TestExportSigstoreGo' -v ./cmd/pledge

## chaos: the long crash tests: 500 SIGKILLs of the log, 500 power losses,
## 500 SIGKILLs of the witness, the invariants checked after each (docs/reliability.md)
chaos:
	PLEDGELOG_CHAOS=1 $(GO) test -count=1 -run 'Crash|PowerLoss' -timeout 60m -v ./log/...
	PLEDGELOG_CHAOS=1 $(GO) test -count=1 -run 'TestWitnessCrash' -timeout 30m -v ./cmd/pledge-verify
