#!/usr/bin/env python3
"""trace_screenshot.py - how docs/trace-timeline.png was taken: go tool
trace's "View trace" page in headless Chromium (apt-get install chromium),
driven over the DevTools protocol with Python's standard library alone.

    GORT_TRACE=/tmp/showcase.trace ./build/examples/showcase
    BROWSER=true go tool trace -http=127.0.0.1:47123 /tmp/showcase.trace &
    python3 docs/trace_screenshot.py 'http://127.0.0.1:47123/trace?start=0&end=20000' \
        docs/trace-timeline.png 40 440 5 954 147

Arguments: the page, the PNG, seconds to let the viewer import the trace,
then (optional) where to zoom (x) and how many times ("w"), and where to
click (x y) to select a slice, whose stacks show in the bottom pane.
"""
import os, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from devtools import Chromium

url, outp, wait = sys.argv[1], sys.argv[2], float(sys.argv[3])
# the trace viewer of Go 1.19 is built on web components v0
flags = ["--enable-blink-features=ShadowDOMV0,CustomElementsV0,HTMLImports"]
with Chromium(port=9333, width=1600, height=900, flags=flags) as page:
    page.call("Page.enable")
    page.call("Page.navigate", url=url)
    time.sleep(wait)
    page.click(1573, 43)  # hide the polyfill banner
    time.sleep(1)
    zx = float(sys.argv[4]) if len(sys.argv) > 4 else 0
    zn = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    if zx:
        page.call("Input.dispatchMouseEvent", type="mouseMoved", x=zx, y=190)
        for _ in range(zn):
            page.key("w", "KeyW", 87)  # zoom in around the mouse
            time.sleep(0.3)
        time.sleep(2)
    if len(sys.argv) > 7:
        page.key("1", "Digit1", 49)  # the selection tool
        time.sleep(0.5)
        page.click(float(sys.argv[6]), float(sys.argv[7]))
        time.sleep(1)
    page.screenshot(outp)
