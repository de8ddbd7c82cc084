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
import base64, json, os, socket, struct, subprocess, sys, tempfile, time, urllib.request

url, outp, wait = sys.argv[1], sys.argv[2], float(sys.argv[3])
port = 9334
profile = tempfile.mkdtemp(prefix="gort-console-shot-")
p = subprocess.Popen(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                      "--no-first-run", "--user-data-dir=" + profile, "--window-size=1200,900",
                      "--remote-debugging-port=%d" % port, "about:blank"],
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

    def send(obj):  # one masked text frame (RFC 6455)
        data = json.dumps(obj).encode()
        mask = os.urandom(4)
        n = len(data)
        hdr = bytes([0x81]) + (bytes([0x80 | n]) if n < 126 else
                               bytes([0x80 | 126]) + struct.pack(">H", n) if n < 65536 else
                               bytes([0x80 | 127]) + struct.pack(">Q", n))
        s.sendall(hdr + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def recvexact(n):
        b = b""
        while len(b) < n:
            c = s.recv(n - len(b))
            if not c:
                raise EOFError
            b += c
        return b

    def recv():  # one message, its frames joined
        msg = b""
        while True:
            h = recvexact(2)
            n = h[1] & 0x7f
            if n == 126:
                n = struct.unpack(">H", recvexact(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", recvexact(8))[0]
            msg += recvexact(n)
            if h[0] & 0x80:
                return json.loads(msg)

    ids = [0]

    def call(method, **params):
        ids[0] += 1
        send({"id": ids[0], "method": method, "params": params})
        while True:
            m = recv()
            if m.get("id") == ids[0]:
                return m

    call("Page.enable")
    # the page's viewport itself 1200x900 (the window's would be less)
    call("Emulation.setDeviceMetricsOverride", width=1200, height=900, deviceScaleFactor=1, mobile=False)
    call("Page.navigate", url=url)
    time.sleep(wait)
    r = call("Page.captureScreenshot", format="png")
    open(outp, "wb").write(base64.b64decode(r["result"]["data"]))
finally:
    os.killpg(p.pid, 9)
    subprocess.run(["rm", "-rf", profile])
