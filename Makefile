# ntmledger — two commands set everything up on a fresh machine with Go:
#   make demo   build, start the embedded NATS + projectors in ./data, load the demo data, serve :8080
#   make test   run the whole test suite (real embedded nats-server and Pebble)

GO        ?= go
BIN       := bin/ntmledger
PKGS      := ./...
TESTFLAGS ?= -count=1 -timeout 20m

.PHONY: all build demo serve test test-short fuzz bench gobench vet fmt clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/ntmledger

demo: build
	./$(BIN) demo

serve: build
	./$(BIN) serve

test:
	$(GO) vet $(PKGS)
	$(GO) test $(TESTFLAGS) $(PKGS)

test-short:
	$(GO) test -short $(TESTFLAGS) $(PKGS)

# Each fuzz target for a short while; FUZZTIME=5m for a longer run.
FUZZTIME ?= 20s
fuzz:
	$(GO) test ./events -run '^$$' -fuzz '^FuzzDecodeRequest$$' -fuzztime $(FUZZTIME)
	$(GO) test ./events -run '^$$' -fuzz '^FuzzCanonical$$' -fuzztime $(FUZZTIME)
	$(GO) test ./events -run '^$$' -fuzz '^FuzzStrictDecoders$$' -fuzztime $(FUZZTIME)
	$(GO) test ./events -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME)
	$(GO) test ./events -run '^$$' -fuzz '^FuzzDecodeSealed$$' -fuzztime $(FUZZTIME)
	$(GO) test ./events -run '^$$' -fuzz '^FuzzCanonicalAsIs$$' -fuzztime $(FUZZTIME)
	$(GO) test ./events -run '^$$' -fuzz '^FuzzCanonicalReorder$$' -fuzztime $(FUZZTIME)

# The ledger against the raw engines, in one run (issue: benchmarks). Writes
# bench/results.json and bench/results.md. BENCH_EVENTS=10000000 for the scale run.
BENCH_EVENTS ?= 1000000
bench: build
	./$(BIN) bench --events $(BENCH_EVENTS) --out bench

# Go micro-benchmarks of the packages (append path vs raw atomic batches, …).
gobench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

vet:
	$(GO) vet $(PKGS)

fmt:
	gofmt -w .

clean:
	rm -rf bin
