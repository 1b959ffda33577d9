#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# html-browser.sh - the HTML report in headless Chromium (tests/cli/html-browser.py),
# with Debian's /usr/bin/python3 and python3-selenium. Skips (77) only when
# Chromium cannot start; the screenshot goes to the build directory.
. "$(dirname "$0")/lib.sh"
py=/usr/bin/python3
[ -x "$py" ] || { echo "FAIL: no $py (Debian's python3 runs the browser test)"; exit 1; }
out=${P2PDMA_BUILDDIR:-$SRC/build}/tests
mkdir -p "$out"
exec "$py" "$SRC/tests/cli/html-browser.py" "$BIN" "$out"
