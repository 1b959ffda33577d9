# SPDX-License-Identifier: LGPL-2.1-or-later
# A thin wrapper over Meson and the scripts behind the README's two commands
# (a fresh Debian has no make: the README runs the scripts directly):
#   make run     = bash scripts/run.sh    install, build, print the P2P report
#   make check   = bash scripts/check.sh  install, build, run every test (unit,
#                  CLI, sanitizers, clang, real-kernel conformance in QEMU)
BUILD ?= build
MESON_OPTS ?=

.PHONY: all deps build run report check conformance bench install clean

all: build

deps:
	@bash scripts/install-deps.sh build

$(BUILD)/build.ninja:
	@bash scripts/install-deps.sh build
	meson setup $(BUILD) $(MESON_OPTS)

build: $(BUILD)/build.ninja
	ninja -C $(BUILD)

run report:
	@bash scripts/run.sh

check:
	@bash scripts/check.sh

conformance: build
	P2PDMA_BIN=$(CURDIR)/$(BUILD)/cli/p2pdma bash conformance/run.sh

bench: build
	$(BUILD)/bench/bench-matrix

install: build
	meson install -C $(BUILD)

clean:
	rm -rf $(BUILD) build-asan build-clang
