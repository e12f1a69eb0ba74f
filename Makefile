# Flotilla's developer entry points. Every target installs what it needs first (apt packages
# and npm modules), so `make test` and `make up` work on a fresh Debian machine as root.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

FLOTILLA := scripts/flotilla
TSX := node --import tsx
SEEDS ?= 300
SEED ?=
IMPL ?= both

.PHONY: help deps deps-npm typecheck lint unit sim sim-test integration chaos-smoke test bench-raft bench-store bench-scheduler bench-api bench-net bench-pods bench up down

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

deps: ## install Debian packages and npm modules that are missing
	@scripts/install-deps.sh all

deps-npm:
	@scripts/install-deps.sh npm

typecheck: deps-npm ## type-check every source and test file
	npx tsc --noEmit -p tsconfig.json

lint: deps-npm ## eslint with type information (no floating promises)
	npx eslint -c .eslint.config.js --max-warnings 0 .

unit: deps-npm ## unit tests beside the code
	npx vitest run --config test/vitest.config.ts

sim: deps-npm ## deterministic Raft simulation: make sim SEEDS=N [SEED=s]
	$(TSX) test/sim/main.ts --seeds $(SEEDS) $(if $(SEED),--seed $(SEED),)

sim-test: deps-npm
	$(TSX) test/sim/main.ts --seeds 300 --replicas 3
	$(TSX) test/sim/main.ts --seeds 300 --replicas 5

integration: deps ## integration suites: real processes, etcdctl, etcd 3.4, network namespaces (root)
	npx vitest run --config test/integration/vitest.config.ts

# A short chaos run in every `make test`: the default 5 scenarios at 15 s each against
# Flotilla's store, with the linearizability, watch and convergence checks.
chaos-smoke: deps
	$(TSX) test/chaos/main.ts --impl flotilla --seconds 15

test: deps typecheck lint unit sim-test integration chaos-smoke ## everything CI runs

up: deps ## a whole cluster on this machine: 3 servers, 2 agent hosts, a demo app (scripts/up.sh)
	scripts/up.sh up

down: ## remove everything `make up` made
	scripts/up.sh down

bench-raft: deps-npm ## entries/s through an in-memory 3-replica Raft cluster
	$(TSX) test/bench/raft.ts

bench-store: deps ## flotilla's store vs etcd 3.4, 3 members each: make bench-store [IMPL=etcd] [BENCH_SCALE=0.5]
	$(TSX) test/bench/store/main.ts --impl $(IMPL)

# The decision core alone (1 000 nodes, 30 000 pods), then the full path through a real
# `flotilla server` (informer, queue, decision, bind over HTTPS): SCHED_E2E_PODS pods on 1 000 nodes.
SCHED_E2E_PODS ?= 5000
bench-scheduler: deps-npm ## scheduler: decision core (1 000 nodes, 30 000 pods), then end to end through flotilla server [SCHED_E2E_PODS=5000]
	$(TSX) test/bench/scheduler/main.ts
	$(TSX) services/scheduler/bench-e2e.ts --nodes 1000 --pods $(SCHED_E2E_PODS)

bench-api: deps ## API server: 10 000 pods, 16 clients with watches, 1 and 3 replicas and etcd-backed: make bench-api [BENCH_SCALE=0.05]
	$(TSX) test/bench/api/main.ts $(if $(BENCH_SCALE),--scale $(BENCH_SCALE),)

# Issue 7's data path and control loops on this machine (root: namespaces and nftables).
BENCH_NET_SECONDS ?= 10
bench-net: deps ## ClusterIP vs pod IP (req/s, p99), DNS queries/s and p99, rule updates with 1 000 services x 10 endpoints: make bench-net [BENCH_NET_SECONDS=10]
	$(TSX) test/bench/net/main.ts --seconds $(BENCH_NET_SECONDS)

# Issue 6: pod startup on 2 real nodes (testbed), then hollow nodes (--runtime fake agents).
BENCH_PODS_NODES ?= 500
BENCH_PODS_PODS ?= 20000
bench-pods: deps ## pod startup p50/p99 (100 pods, 2 real nodes), agent memory, hollow 500 nodes x 20 000 pods: make bench-pods [BENCH_PODS_NODES=50] [BENCH_PODS_PODS=1000]
	$(TSX) test/bench/pods/main.ts --nodes $(BENCH_PODS_NODES) --pods $(BENCH_PODS_PODS)

bench: bench-raft bench-store bench-scheduler bench-api bench-net bench-pods ## every benchmark

# Store chaos: faults (kills, pauses, partitions, membership changes) under load, then the
# linearizability, watch and convergence checks. Needs root. CHAOS_FULL=1 runs every scenario;
# CHAOS_PLANT=stale-reads shows the checker catching planted stale reads.
CHAOS_IMPL ?= flotilla
CHAOS_SECONDS ?= 60
CHAOS_FULL ?=
CHAOS_PLANT ?= none
.PHONY: chaos-store
chaos-store: deps ## store fault injection + linearizability check: [CHAOS_IMPL=etcd] [CHAOS_SECONDS=60] [CHAOS_FULL=1] [CHAOS_PLANT=stale-reads]
	$(TSX) test/chaos/main.ts --impl $(CHAOS_IMPL) --seconds $(CHAOS_SECONDS) --plant $(CHAOS_PLANT) $(if $(filter 1 yes true,$(CHAOS_FULL)),--full,)

# Cluster chaos: a 3-server 2-agent testbed under load (ConfigMap writes, a NodePort Service
# called with curl) while store leaders are killed or paused, the controller replica is killed
# and the control plane is partitioned. Needs root. Not part of `make test` (minutes long).
CHAOS_CLUSTER_SECONDS ?= 30
.PHONY: chaos
chaos: deps ## cluster fault injection on the testbed: [CHAOS_CLUSTER_SECONDS=30] [CHAOS_ONLY=1,2,8]
	$(TSX) test/chaos/cluster/main.ts --seconds $(CHAOS_CLUSTER_SECONDS) $(if $(CHAOS_ONLY),--only $(CHAOS_ONLY),)
