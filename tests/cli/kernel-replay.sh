#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# kernel-replay.sh - replay the real-kernel goldens (tests/fixtures/kernel/,
# made by conformance/run.sh in QEMU) without QEMU: our verdicts from the
# captured dump and the captured sysfs tree must equal the kernel's for every
# ordered pair (map type, distance) and the predicted dmesg lines must equal
# what the kernel printed.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || { skipped "python3 missing"; finish; }
exec python3 "$(dirname "$0")/kernel-replay.py" "$BIN" "$FIX/kernel"
