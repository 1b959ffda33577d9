#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# run.sh - the README's main job (also `make run`): install what is missing,
# build, and print the P2P report of this machine, or of a bundled example
# when this machine has nothing to pair.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh build
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
exec bash scripts/report.sh build/cli/p2pdma
