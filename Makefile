# fedchain orchestrator — developer entry points. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

GO        ?= go
BIN       := $(CURDIR)/.bin
PROTOC    ?= protoc
# Tests that need a CouchDB server carry the `couchdb` build tag; `make test`
# runs them on $COUCHDB_URL, else on a throw-away Apache CouchDB from
# ../shared/couchdb, else (a machine with neither) on pouchdb-server, and says
# which (scripts/couchdb/with-couchdb.sh).
TEST_TAGS ?= couchdb
TEST_FLAGS ?= -count=1 -timeout 20m

PROTO_FILES := $(wildcard protos/*.proto)
FACADE_PKG  := github.com/fedchain/orchestrator/facade
MODULE      := github.com/fedchain/orchestrator

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

.PHONY: run
run: ## run the orchestrator in solo mode (embedded store in ./data, 127.0.0.1:9000)
	$(GO) run ./cmd/orchestrator solo

# The binaries' build version (QueryVersion, `orchestrator version`): the tag
# at HEAD if there is one (else they say "dev"), the commit, and whether the
# work tree has uncommitted changes.
GIT_TAG      := $(shell git describe --tags --exact-match 2>/dev/null)
GIT_COMMIT   := $(shell git rev-parse HEAD 2>/dev/null)
GIT_MODIFIED := $(shell test -n "$$(git status --porcelain --untracked-files=no 2>/dev/null)" && echo true)
LDFLAGS      := -X main.version=$(GIT_TAG) -X main.commit=$(GIT_COMMIT) -X main.modified=$(GIT_MODIFIED)

.PHONY: build
build: ## build every package and the two binaries into ./bin
	$(GO) build ./...
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/ ./cmd/orchestrator ./cmd/chaincode

.PHONY: tools
tools: ## install the pinned code-generation tools into ./.bin
	GOBIN=$(BIN) $(GO) install tool
	$(GO) build -o $(BIN)/protoc-gen-facade ./tools/protoc-gen-facade

.PHONY: generate
generate: tools ## regenerate protos/, facade/ and the contracts' *.gen.go from the .proto files
	@command -v $(PROTOC) >/dev/null || { echo "protoc not found: apt-get install protobuf-compiler" >&2; exit 1; }
	$(PROTOC) -I protos \
		--plugin=protoc-gen-go=$(BIN)/protoc-gen-go \
		--plugin=protoc-gen-go-grpc=$(BIN)/protoc-gen-go-grpc \
		--go_out=protos --go_opt=paths=source_relative \
		--go-grpc_out=protos --go-grpc_opt=paths=source_relative \
		$(PROTO_FILES) protos/txoption/txoption.proto
	$(PROTOC) -I protos \
		--plugin=protoc-gen-go-vtproto=$(BIN)/protoc-gen-go-vtproto \
		--go-vtproto_out=protos --go-vtproto_opt=paths=source_relative,features=unmarshal \
		$(PROTO_FILES)
	rm -f facade/*.gen.go
	$(PROTOC) -I protos \
		--plugin=protoc-gen-facade=$(BIN)/protoc-gen-facade \
		--facade_out=facade --facade_opt=package=$(FACADE_PKG) \
		$(PROTO_FILES)
	rm -f contracts/*/*.gen.go
	$(PROTOC) -I protos \
		--plugin=protoc-gen-facade=$(BIN)/protoc-gen-facade \
		--facade_out=contracts --facade_opt=contracts=$(MODULE)/contracts,ledger=$(MODULE)/ledger \
		$(PROTO_FILES)

.PHONY: lint
lint: ## gofmt, go vet and staticcheck (with and without the test tags)
	@out=$$(gofmt -l $$(git ls-files '*.go') 2>/dev/null); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags $(TEST_TAGS) ./...
	$(GO) tool staticcheck ./...
	$(GO) tool staticcheck -tags $(TEST_TAGS) ./...

.PHONY: test
test: ## run every test; the CouchDB suites on $COUCHDB_URL, else Apache CouchDB from ../shared/couchdb, else pouchdb-server
	scripts/couchdb/with-couchdb.sh $(GO) test -tags $(TEST_TAGS) $(TEST_FLAGS) ./...

.PHONY: test-short
test-short: ## unit tests only, no CouchDB server, no end-to-end binary runs
	$(GO) test -short ./...

FUZZTIME ?= 60s

.PHONY: fuzz
fuzz: ## fuzz request sequences against the contracts for $(FUZZTIME) (invariants: rejected calls change nothing, legal task transitions, events = state, indexes = records)
	@count=$$(mktemp); \
	FEDCHAIN_FUZZ_COUNT=$$count $(GO) test -run '^$$' -fuzz FuzzRequestSequences -fuzztime $(FUZZTIME) ./contracts/computetask/ || { rm -f $$count; exit 1; }; \
	line=$$(awk -v t=$(FUZZTIME) '{s+=$$1; c+=$$2} END {printf "fuzz (contracts, %s): %d request sequences, %d calls tried, 0 invariant violations", t, s, c}' $$count); \
	rm -f $$count; echo "$$line"; if [ -n "$$FEDCHAIN_REPORT" ]; then echo "$$line" >>"$$FEDCHAIN_REPORT"; fi

BENCH_ADDR  ?=
BENCH_FLAGS ?=

.PHONY: bench
bench: ## benchmarks: stores, stub, contracts and the chaincode on solo (go test -bench), the load tool against $(BENCH_ADDR) or an in-process solo server, then the Fabric mode (SKIPPED without binaries)
	$(GO) test -run '^$$' -bench . -benchtime 200x ./solo/memstore ./solo/pebblestore
	$(GO) test -run '^$$' -bench 'RegisterTasks|QueryTasksPages' -benchtime 3x ./contracts/computetask/
	$(GO) test -run '^$$' -bench . ./solo/solobench
	$(GO) run ./cmd/orchestrator bench $(if $(BENCH_ADDR),--addr $(BENCH_ADDR),--self) $(BENCH_FLAGS)
	fabric-network/scripts/bench-fabric.sh

.PHONY: bench-couchdb
bench-couchdb: ## the CouchDB store's benchmarks, then the load tool on CouchDB and on the embedded store, alternated (scripts/couchdb/bench.sh; server as for make test: $COUCHDB_URL, ../shared/couchdb, pouchdb-server)
	scripts/couchdb/with-couchdb.sh sh -c '$(GO) test -tags couchdb -run "^$$" -bench . -benchtime 50x ./solo/couchstore/ && \
		BENCH_FLAGS="$(BENCH_FLAGS)" scripts/couchdb/bench.sh' 

# Fabric: native binaries from $(FABRIC_BIN) or PATH; state outside the repo.
FABRIC_BIN ?=
export FABRIC_BIN

.PHONY: fabric-up
fabric-up: ## start a local Fabric 3.1 network (two orgs, TLS, ccaas chaincode) and one facade per org
	fabric-network/scripts/network-up.sh

.PHONY: fabric-down
fabric-down: ## stop everything fabric-up started and remove its state
	fabric-network/scripts/network-down.sh

.PHONY: test-fabric
test-fabric: ## fabric-up, the parity and end-to-end suites against the facades, fabric-down (SKIPPED without binaries)
	fabric-network/scripts/test-fabric.sh

.PHONY: chaincode-package
chaincode-package: ## write the chaincode-as-a-service package bin/orchestrator-ccaas.tar.gz and print its package id
	fabric-network/scripts/package-chaincode.sh -o bin/orchestrator-ccaas.tar.gz

.PHONY: bench-fabric
bench-fabric: ## Fabric throughput at BatchTimeout 100ms: RegisterTasks x50 and RegisterDataManager, c=1 and 32, CPU per submit by process (SKIPPED without binaries)
	fabric-network/scripts/bench-fabric.sh
