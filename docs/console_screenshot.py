#!/usr/bin/env python3
"""console_screenshot.py - how docs/console.png was taken: the live console
(/debug/gort/) of a running program in headless Chromium (apt-get install
chromium), left open for a while in real time - so the page's two-minute
history fills at one answer a second - then photographed over the DevTools
protocol, with Python's standard library alone.

    ./build/tests/console_prog 127.0.0.1:6060 /tmp/snap demo &
    python3 docs/console_screenshot.py http://127.0.0.1:6060/debug/gort/ docs/console.png 75

Arguments: the page, the PNG, and the seconds to leave it open.  The
window is 1200x900.
"""
import os, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from devtools import Chromium

url, outp, wait = sys.argv[1], sys.argv[2], float(sys.argv[3])
with Chromium(port=9334, width=1200, height=900) as page:
    page.call("Page.enable")
    # the page's viewport itself 1200x900 (the window's would be less)
    page.call("Emulation.setDeviceMetricsOverride", width=1200, height=900, deviceScaleFactor=1, mobile=False)
    page.call("Page.navigate", url=url)
    time.sleep(wait)
    page.screenshot(outp)
