# Orrery's build. `make test` sets up a fresh machine (make deps) and runs every test;
# `make ci` is what .ci/run runs.

GO ?= go
PKGS ?= ./...
SEEDS ?= 1-200

.PHONY: deps build test test-short lint sim bench bench-sim bench-pod ci fmt etcdctl-check jepsen mutate

deps:
	bash scripts/deps.sh
	$(GO) mod download

build:
	$(GO) build $(PKGS)
	$(GO) build -o bin/orrery ./cmd/orrery

test: deps
	$(GO) test -count=1 $(PKGS)

test-short:
	$(GO) test -short $(PKGS)

# gofmt, go vet and the determinism linter (internal/lint/determinism).
lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) run ./internal/lint/cmd/detlint $(PKGS)

fmt:
	gofmt -w $$(git ls-files '*.go')

# A short seeded sweep of the default workload under every fault.
sim:
	$(GO) run ./cmd/orrery sim sweep --seeds $(SEEDS)

# Mutation testing (orrery mutate, internal/mutate): a deterministic sample of MUTATE_SAMPLE
# mutants from each of MUTATE_PKGS, each built with go build -overlay (the tree is never
# modified), swept over the package's workloads with MUTATE_SEEDS, then run against the
# package's tests; prints a MUTANT / CHANGE / KILLED BY table and a score per package.
# The defaults should take about 30 minutes on a busy 2-core machine (an estimate from the
# README's run, not measured: a mutant's build is ~15-30 s, and a mutant no sweep kills
# costs a full sweep of every workload plus the tests). MUTATE_SAMPLE=0 runs every mutant;
# MUTATE_ARGS passes more flags (--equivalent FILE, --json OUT, --timeout D, --workloads ...).
MUTATE_PKGS ?= ./node/raft ./node/rsm ./node/kv ./node/kvserver
MUTATE_SAMPLE ?= 8
MUTATE_SAMPLE_SEED ?= 1
MUTATE_SEEDS ?= 1-100
MUTATE_JOBS ?= 1
MUTATE_ARGS ?=
mutate:
	$(GO) run ./cmd/orrery mutate $(foreach p,$(MUTATE_PKGS),--package $(p)) --sample $(MUTATE_SAMPLE) \
		--sample-seed $(MUTATE_SAMPLE_SEED) --seeds $(MUTATE_SEEDS) --jobs $(MUTATE_JOBS) $(MUTATE_ARGS)

# Simulator and hot-path microbenchmarks (raft append, MVCC, watch dispatch, codecs, disk sync).
bench-sim:
	$(GO) test -run '^$$' -bench . -benchmem ./sim/... ./node/kv/ ./bench/ ./host/tcp/ ./host/disk/

# Orrery against etcd v3.7.3 (built once into ${XDG_CACHE_HOME:-$$HOME/.cache}/orrery),
# 3 members each on loopback, the same workloads in alternation; prints the ratio table.
# ROUNDS, FILL_KEYS, SCALE and BENCH_OUT tune it (see scripts/bench.sh); < 15 minutes.
bench:
	GO=$(GO) bash scripts/bench.sh

# Pod start-to-exit latency against unshare+chroot on the same rootfs (root only).
bench-pod:
	bash scripts/bench-pod.sh

# The stock etcdctl v3.7.3 (built once into ${XDG_CACHE_HOME:-$HOME/.cache}/orrery) against
# a 3-member `orrery cluster up`. `ORRERY_ETCDCTL_CHECK=1 go test ./e2e/` runs it too.
etcdctl-check:
	GO=$(GO) bash scripts/etcdctl-check.sh

# A short combined Jepsen run against real nodes in network namespaces (needs root): 3
# nodes, every nemesis, the register workload; about 2 minutes. The results folder
# (history, summary.json, timeline, plots, logs) is left in $(JEPSEN_OUT).
JEPSEN_OUT ?= results/jepsen-ci
jepsen: build
	./bin/orrery jepsen run --nodes 3 --time 30s --fault-interval 3s --nemesis all --workload register --out $(JEPSEN_OUT)

ci: test lint jepsen etcdctl-check
