#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# kernel-replay.sh - replay the real-kernel goldens (tests/fixtures/kernel/,
# made by conformance/run.sh in QEMU: <scenario> from Linux 6.12,
# <scenario>@6.1 from Linux 6.1) without QEMU, each under the profile of the
# kernel that made it: our verdicts from the captured dump and the captured
# sysfs tree must equal the kernel's for every ordered pair (map type,
# distance), the predicted dmesg lines must equal what the kernel printed, and
# our what-if boot of the scenario's command line must give the ACS registers
# and boot-log lines the kernel gave.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || { skipped "python3 missing"; finish; }
exec python3 "$(dirname "$0")/kernel-replay.py" "$BIN" "$FIX/kernel"
