#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# screenshots.sh - regenerate the README's pictures from a bundled example:
#   doc/graph.png   p2pdma --example xeon-8gpu graph --format png
#   doc/report.png  the HTML report in headless Chromium, after a click on a cell
# Usage: scripts/screenshots.sh [P2PDMA_BINARY]   (default build/cli/p2pdma)
# Needs the test packages (scripts/install-deps.sh test): chromium,
# chromium-driver, python3-selenium. Works offline.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$src/build/cli/p2pdma}
[ -x "$bin" ] || { echo "screenshots: no $bin (build first: meson setup build && ninja -C build)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$bin" --example xeon-8gpu graph --format png -o "$src/doc/graph.png"
"$bin" --example xeon-8gpu report --html "$tmp/report.html"
/usr/bin/python3 - "$tmp/report.html" "$src/doc/report.png" "$tmp" <<'PY'
import sys, tempfile
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
page, shot, tmp = sys.argv[1:4]
o = webdriver.ChromeOptions()
o.binary_location = '/usr/lib/chromium/chromium'
for f in ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
          '--disable-background-networking', '--disable-component-update', '--disable-sync',
          '--hide-scrollbars', '--window-size=1280,1000', '--user-data-dir=' + tempfile.mkdtemp(dir=tmp)]:
    o.add_argument(f)
d = webdriver.Chrome(service=Service('/usr/bin/chromedriver'), options=o)
try:
    d.get('file://' + page)
    d.find_element('id', 'cell-0-1').click()      # GPU0 -> GPU1: ACS redirect in one switch
    d.execute_script('window.scrollTo(0, document.getElementById("verdicts").offsetTop - 10)')
    d.save_screenshot(shot)
finally:
    d.quit()
PY
ls -l "$src/doc/graph.png" "$src/doc/report.png"
