# clusterctl — see README.md. Targets that touch the machine (deps, lab*,
# e2e, test-all, demo) need root.
GO        ?= go
BIN       := bin/clusterctl
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X github.com/clusterctl/clusterctl/internal/cli.Version=$(VERSION)
LAB_INV   := lab/inventory.yaml

# Real MSM jars for the lab (lab up --msm-jars), where the team's shared
# folder has them beside the clone (developers' machines and CI); without
# them the lab runs the stand-in. Set it to a directory of your own jars.
CLUSTERCTL_MSM_JARS ?= $(abspath $(wildcard $(CURDIR)/../shared/msm))
export CLUSTERCTL_MSM_JARS

.PHONY: all build man test lint e2e e2e-faults bench bench-unit bench-lab deps lab lab-down demo test-all clean

all: build

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/clusterctl

# Unit and in-process integration tests (loopback only).
test:
	$(GO) test -count=1 ./...

lint:
	$(GO) vet ./...
	$(GO) vet -tags e2e ./e2e/...
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# End-to-end tests against the local lab (root; brings the lab up and down).
e2e: build
	$(GO) test -tags e2e -count=1 -timeout 60m -v ./e2e/...

# The whole fault matrix (every boundary x every fault; about 40 minutes).
e2e-faults: build
	CLUSTERCTL_E2E_FAULTS=all $(GO) test -tags e2e -count=1 -timeout 90m -v -run 'FaultMatrix' ./e2e/...

# Benchmarks: the unit ones, then (root) the lab's pristine and no-op apply.
bench: bench-unit bench-lab

# Unit benchmarks (no root, no lab).
bench-unit:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# apply on the lab (root; brings the lab up and down): a pristine apply,
# then no-op applies, each split by play; then rolling Tomcat restarts under
# load, split by phase, with the sessions' failed/lost/stale counts. On a shared machine wrap it in the
# lab lock: flock /tmp/clusterctl-e2e.lock make bench-lab
bench-lab:
	$(GO) test -tags e2e -count=1 -run '^$$' -bench 'BenchmarkApply|BenchmarkRollout|BenchmarkAppRollout|BenchmarkUploadThroughBastion|BenchmarkStatus' -benchtime 5x -timeout 30m -v ./e2e/

# Man pages for every command, generated from the binary's own help: man -l man/clusterctl.1
man:
	$(GO) run ./cmd/clusterctl gen-man man

deps:
	./scripts/install-deps.sh

lab: build
	./$(BIN) lab up

lab-down: build
	./$(BIN) lab down

# The README's first command: lab up, then the main job against it. The
# lab stays up for a look around: make lab-down removes it.
demo: deps build
	./$(BIN) lab up
	./$(BIN) -i $(LAB_INV) apply
	./$(BIN) -i $(LAB_INV) apply
	./$(BIN) -i $(LAB_INV) verify

# The README's second command, and what .ci/run calls: everything.
test-all: deps lint test e2e

clean:
	rm -rf bin
