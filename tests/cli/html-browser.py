#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""html-browser.py - the HTML report in a real browser (headless Chromium), offline.

Opens 'p2pdma --example xeon-8gpu report --html' twice:
  1. with JavaScript: the number of matrix cells, the verdict a known pair
     shows, the explanation and the command line after a click, the
     picture, and that nothing was fetched; a screenshot is saved;
  2. with JavaScript disabled: the script did not run, and the static page
     still holds every cell and every explanation, reachable by its link.
Exit 0 pass, 1 fail, 77 skip (only when Chromium cannot start at all).
Usage: html-browser.py P2PDMA_BIN OUTDIR
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync',
         '--window-size=1280,1000', '--hide-scrollbars']
failures = []


def check(cond, what):
    print(('ok: ' if cond else 'FAIL: ') + what)
    if not cond:
        failures.append(what)


def skip(why):
    print('SKIP: ' + why)
    sys.exit(77)


def find(*names):
    for n in names:
        p = n if os.path.isabs(n) else shutil.which(n)
        if p and os.access(p, os.X_OK):
            return p
    return None


def start(webdriver, Service, chrome, driver, profile, javascript):
    o = webdriver.ChromeOptions()
    o.binary_location = chrome
    for f in FLAGS + ['--user-data-dir=' + profile]:
        o.add_argument(f)
    if not javascript:
        o.add_experimental_option('prefs', {'profile.managed_default_content_settings.javascript': 2})
    # chromedriver's own log beside the profile: when the browser cannot
    # start, its tail says why (the skip prints it)
    log = os.path.join(profile, 'chromedriver.log')
    return webdriver.Chrome(service=Service(driver, service_args=['--verbose'], log_path=log),
                            options=o)


def driver_log_tail(profile, n=15):
    try:
        with open(os.path.join(profile, 'chromedriver.log'), errors='replace') as f:
            return ''.join(f.readlines()[-n:])
    except OSError as e:
        return '(no chromedriver log: %s)\n' % e


def cell_of(d, provider, client):
    """The matrix cell of a pair, found by the addresses in the headers."""
    rows = d.find_elements('css selector', '#heat tbody tr')
    cols = [th.get_attribute('title') for th in d.find_elements('css selector', '#heat thead th[scope=col]')]
    for r in rows:
        if r.find_element('css selector', 'th').get_attribute('title') == provider:
            return r.find_elements('css selector', 'td')[cols.index(client)]
    raise LookupError(provider)


def with_javascript(d, page, shot):
    t = time.time()
    d.get(page)
    print('page loaded in %.2f s' % (time.time() - t))
    check(d.execute_script('return document.documentElement.className') == 'js', 'the script ran')
    cells = d.find_elements('css selector', '#heat td.cell')
    check(len(cells) == 16 * 15, '%d matrix cells (16 devices, every ordered pair)' % len(cells))
    c = cell_of(d, '0000:18:00.0', '0000:19:00.0')
    check(c.text == 'HB 4' and c.get_attribute('data-verdict') == 'THRU_HOST_BRIDGE',
          'GPU 18:00.0 -> 19:00.0 shows THRU_HOST_BRIDGE, distance 4 (%r)' % c.text)
    b = cell_of(d, '0000:aa:00.0', '0000:ab:00.0')
    check(b.text == 'BUS 4', 'GPU aa:00.0 -> ab:00.0 shows BUS_ADDR, distance 4 (%r)' % b.text)
    c.click()
    text = d.find_element('id', 'explain-text').text
    cmd = d.find_element('id', 'explain-cmdline').text
    check(d.find_element('id', 'explain-verdict').text == 'THRU_HOST_BRIDGE, distance 4',
          'the panel names the verdict after the click')
    check('ACS redirect' in text and '0000:17:00.0' in text and 'common upstream bridge 0000:16:00.0' in text,
          'the panel explains the pair (ACS redirect below 0000:16:00.0)')
    check(cmd.startswith('pci=disable_acs_redir=') and '0000:17:00.0;0000:17:01.0' in cmd,
          'the panel gives the command line to paste: ' + cmd)
    check('#' not in d.current_url, 'the click stayed on the page (no jump to the static list)')
    b.click()
    check(d.find_element('id', 'explain-cmdline').text.startswith('nothing to change'),
          'a BUS_ADDR pair needs no command line')
    c.click()
    check(len(d.find_elements('css selector', '#picture svg g.node')) > 10, 'the picture is inline SVG')
    check(d.find_element('id', 'machine-cmdline').text.startswith('pci=disable_acs_redir='),
          'the machine advice is on the page')
    fetched = d.execute_script("return performance.getEntriesByType('resource').length")
    check(fetched == 0, 'nothing was fetched (%d resources)' % fetched)
    d.execute_script('window.scrollTo(0, document.getElementById("verdicts").offsetTop - 10)')
    d.save_screenshot(shot)
    check(os.path.getsize(shot) > 10000, 'screenshot saved: ' + shot)


def without_javascript(d, page):
    d.get(page)
    check(d.execute_script is not None and
          d.find_element('tag name', 'html').get_attribute('class') == 'nojs',
          'JavaScript is off (the page kept class "nojs")')
    check(len(d.find_elements('css selector', '#heat td.cell')) == 240, 'the matrix is static HTML')
    check(len(d.find_elements('css selector', 'details[id^=pair-]')) == 240, 'every pair has its <details>')
    check(d.find_element('css selector', '#explain .nojs-only').is_displayed() and
          not d.find_element('css selector', '#explain .js-only').is_displayed(),
          'the panel says where the explanations are')
    c = cell_of(d, '0000:18:00.0', '0000:19:00.0')
    target = c.find_element('tag name', 'a').get_attribute('href').split('#')[1]
    c.find_element('tag name', 'a').click()
    check(d.current_url.endswith('#' + target), 'the cell links to its explanation')
    det = d.find_element('id', target)
    det.find_element('tag name', 'summary').click()
    text = det.find_element('css selector', 'pre.explanation').text
    check('ACS redirect' in text and 'pci=disable_acs_redir=' in det.text,
          'the explanation and the command line are there without the script')


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    binary, outdir = sys.argv[1], sys.argv[2]
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        print('FAIL: python3-selenium is missing: scripts/install-deps.sh test installs it')
        return 1
    chrome = find('/usr/lib/chromium/chromium', 'chromium', 'chromium-browser', 'google-chrome')
    driver = find('/usr/bin/chromedriver', 'chromedriver')
    if not chrome or not driver:
        skip('no Chromium or chromedriver (scripts/install-deps.sh test installs chromium, chromium-driver)')
    tmp = tempfile.mkdtemp(prefix='p2pdma-html-')
    try:
        page = os.path.join(tmp, 'report.html')
        t = time.time()
        subprocess.run([binary, '--example', 'xeon-8gpu', 'report', '--html', page], check=True)
        print('report --html took %.2f s, %d bytes' % (time.time() - t, os.path.getsize(page)))
        for js in (True, False):
            t = time.time()
            profile = tempfile.mkdtemp(dir=tmp)
            try:
                d = start(webdriver, Service, chrome, driver, profile, js)
            except Exception as e:
                why = str(e).strip().splitlines()[0]
                print("chromedriver's log, last lines:\n" + driver_log_tail(profile))
                if 'Can not connect to the Service' in why:
                    # chromedriver runs but cannot be reached: this machine's
                    # setup, not a missing browser; not a reason to skip
                    check(False, 'chromedriver started but is unreachable at localhost after '
                          '%.1f s (does "localhost" resolve? /etc/hosts): %s' % (time.time() - t, why))
                    break
                # the browser itself could not start
                skip('Chromium cannot start after %.1f s: %s' % (time.time() - t, why))
            print('Chromium started in %.2f s (JavaScript %s)' % (time.time() - t, 'on' if js else 'off'))
            try:
                if js:
                    with_javascript(d, 'file://' + page, os.path.join(outdir, 'html-report.png'))
                else:
                    without_javascript(d, 'file://' + page)
            except Exception as e:
                check(False, 'the page as expected: %r' % e)
            finally:
                d.quit()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print('%d failure%s' % (len(failures), '' if len(failures) == 1 else 's'))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
