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
import base64, json, os, socket, struct, subprocess, sys, time, urllib.request
url, outp, wait = sys.argv[1], sys.argv[2], float(sys.argv[3])
port = 9333
p = subprocess.Popen(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                      "--window-size=1600,900", "--enable-blink-features=ShadowDOMV0,CustomElementsV0,HTMLImports", "--remote-debugging-port=%d" % port, "about:blank"],
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
try:
    for _ in range(100):
        try:
            tabs = json.load(urllib.request.urlopen("http://127.0.0.1:%d/json" % port))
            break
        except Exception:
            time.sleep(0.2)
    ws = [t for t in tabs if t["type"] == "page"][0]["webSocketDebuggerUrl"]
    path = ws.split(str(port), 1)[1]
    s = socket.create_connection(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.send(("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (path, port, key)).encode())
    resp = b""
    while b"\r\n\r\n" not in resp:
        resp += s.recv(1)
    def send(obj):
        data = json.dumps(obj).encode()
        mask = os.urandom(4)
        hdr = bytes([0x81])
        n = len(data)
        if n < 126: hdr += bytes([0x80 | n])
        elif n < 65536: hdr += bytes([0x80 | 126]) + struct.pack(">H", n)
        else: hdr += bytes([0x80 | 127]) + struct.pack(">Q", n)
        s.sendall(hdr + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))
    def recvexact(n):
        b = b""
        while len(b) < n:
            c = s.recv(n - len(b))
            if not c: raise EOFError
            b += c
        return b
    def recv():
        msg = b""
        while True:
            h = recvexact(2)
            n = h[1] & 0x7f
            if n == 126: n = struct.unpack(">H", recvexact(2))[0]
            elif n == 127: n = struct.unpack(">Q", recvexact(8))[0]
            msg += recvexact(n)
            if h[0] & 0x80: return json.loads(msg)
    ids = [0]
    def call(method, **params):
        ids[0] += 1
        send({"id": ids[0], "method": method, "params": params})
        while True:
            m = recv()
            if m.get("id") == ids[0]:
                return m
    call("Page.enable")
    call("Page.navigate", url=url)
    time.sleep(wait)
    def click(x, y):
        call("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)
        for t in ("mousePressed", "mouseReleased"):
            call("Input.dispatchMouseEvent", type=t, x=x, y=y, button="left", clickCount=1)
        time.sleep(1)
    click(1573, 43)  # hide the polyfill banner
    zx = float(sys.argv[4]) if len(sys.argv) > 4 else 0
    zn = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    if zx:
        call("Input.dispatchMouseEvent", type="mouseMoved", x=zx, y=190)
        for _ in range(zn):
            for t in ("keyDown", "keyUp"):
                call("Input.dispatchKeyEvent", type=t, key="w", code="KeyW", text="w" if t == "keyDown" else "", windowsVirtualKeyCode=87)
            time.sleep(0.3)
        time.sleep(2)
    if len(sys.argv) > 7:
        for t in ("keyDown", "keyUp"):
            call("Input.dispatchKeyEvent", type=t, key="1", code="Digit1", text="1" if t == "keyDown" else "", windowsVirtualKeyCode=49)
        time.sleep(0.5)
        click(float(sys.argv[6]), float(sys.argv[7]))
    r = call("Page.captureScreenshot", format="png")
    open(outp, "wb").write(base64.b64decode(r["result"]["data"]))
finally:
    os.killpg(p.pid, 9)
