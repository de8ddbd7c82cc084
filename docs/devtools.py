"""devtools.py - headless Chromium driven over the DevTools protocol, with
Python's standard library alone: what docs/console_screenshot.py and
docs/trace_screenshot.py share.

    with Chromium(port=9334, width=1200, height=900) as page:
        page.call("Page.navigate", url=url)
        page.screenshot("out.png")

Chromium (apt-get install chromium) starts on about:blank with its own
throw-away profile; the first page tab's WebSocket carries the calls, one
masked text frame each (RFC 6455), answers matched by id.
"""
import base64, json, os, shutil, socket, struct, subprocess, tempfile, time, urllib.request


class Chromium:
    def __init__(self, port, width, height, flags=()):
        self.port = port
        self.profile = tempfile.mkdtemp(prefix="gort-devtools-")
        self.proc = subprocess.Popen(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             "--no-first-run", "--user-data-dir=" + self.profile,
             "--window-size=%d,%d" % (width, height), *flags,
             "--remote-debugging-port=%d" % port, "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        self.ids = 0

    def __enter__(self):
        try:
            self._connect()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        os.killpg(self.proc.pid, 9)
        self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)

    def _connect(self):
        tabs = None
        for _ in range(100):  # Chromium takes a while to listen
            try:
                tabs = json.load(urllib.request.urlopen("http://127.0.0.1:%d/json" % self.port))
                break
            except Exception:
                time.sleep(0.2)
        if tabs is None:
            raise RuntimeError("chromium did not open its DevTools port %d" % self.port)
        ws = [t for t in tabs if t["type"] == "page"][0]["webSocketDebuggerUrl"]
        path = ws.split(str(self.port), 1)[1]
        self.sock = socket.create_connection(("127.0.0.1", self.port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.send(("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                        "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                        "Sec-WebSocket-Version: 13\r\n\r\n" % (path, self.port, key)).encode())
        resp = b""
        while b"\r\n\r\n" not in resp:
            resp += self.sock.recv(1)

    def _send(self, obj):  # one masked text frame
        data = json.dumps(obj).encode()
        mask = os.urandom(4)
        n = len(data)
        if n < 126:
            hdr = bytes([0x81, 0x80 | n])
        elif n < 65536:
            hdr = bytes([0x81, 0x80 | 126]) + struct.pack(">H", n)
        else:
            hdr = bytes([0x81, 0x80 | 127]) + struct.pack(">Q", n)
        self.sock.sendall(hdr + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def _recvexact(self, n):
        b = b""
        while len(b) < n:
            c = self.sock.recv(n - len(b))
            if not c:
                raise EOFError("chromium closed its DevTools socket")
            b += c
        return b

    def _recv(self):  # one message, its frames joined
        msg = b""
        while True:
            h = self._recvexact(2)
            n = h[1] & 0x7f
            if n == 126:
                n = struct.unpack(">H", self._recvexact(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._recvexact(8))[0]
            msg += self._recvexact(n)
            if h[0] & 0x80:
                return json.loads(msg)

    def call(self, method, **params):
        """A DevTools method's answer; events before it are dropped."""
        self.ids += 1
        self._send({"id": self.ids, "method": method, "params": params})
        while True:
            m = self._recv()
            if m.get("id") == self.ids:
                return m

    def click(self, x, y):
        self.call("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)
        for t in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=t, x=x, y=y, button="left", clickCount=1)

    def key(self, key, code, vk):
        for t in ("keyDown", "keyUp"):
            self.call("Input.dispatchKeyEvent", type=t, key=key, code=code,
                      text=key if t == "keyDown" else "", windowsVirtualKeyCode=vk)

    def screenshot(self, path):
        r = self.call("Page.captureScreenshot", format="png")
        with open(path, "wb") as f:
            f.write(base64.b64decode(r["result"]["data"]))
