"""Shared fixtures: a loopback site with the pages the journeys drive, the browser gate,
and a session check that no Chromium started by this test process outlives the suite."""

from __future__ import annotations

import html
import http.cookies
import http.server
import os
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

CHROMIUM = Path("/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() == "true"

LOGIN = """<!doctype html><html><head><title>Login page</title></head><body>
<h1>Welcome</h1>
<button id="login-button" onclick="document.getElementById('form').style.display='block'">
  Log in</button>
<form id="form" style="display:none" onsubmit="event.preventDefault();
  document.getElementById('out').textContent =
  'Hello ' + document.getElementById('username').value">
  <label for="username">User name</label><input id="username" name="username">
  <select id="color"><option value="r">Red</option><option value="g">Green</option></select>
  <input type="checkbox" id="agree">
  <button type="submit" data-testid="submit">Submit</button>
</form>
<div id="out"></div>
<button id="counter" onclick="window.clicks = (window.clicks || 0) + 1;
  document.getElementById('count').textContent = 'clicked ' + window.clicks">Count</button>
<span id="count">clicked 0</span>
<div id="dbl" ondblclick="this.textContent='double clicked'">double me</div>
<div id="hover" onmouseover="this.textContent='hovered'">hover me</div>
<input id="keys" onkeydown="document.getElementById('lastkey').textContent = event.key">
<span id="lastkey"></span>
<a id="next" href="/next.html">Next</a>
<div style="height: 3000px"></div>
<div id="bottom">bottom</div>
<script>
  console.log("login page loaded");
  window.addEventListener('scroll', () => { document.title = 'scrolled ' + window.scrollY; });
</script>
</body></html>"""

NEXT = """<!doctype html><html><head><title>Next page</title></head><body>
<p id="msg">You made it</p></body></html>"""

DELAYED = """<!doctype html><html><head><title>Delayed</title></head><body>
<div id="slot"></div>
<button id="late-enabled" disabled
  onclick="document.getElementById('status').textContent='enabled click'">Wait</button>
<span id="status">waiting</span>
<div id="spinner">loading</div>
<script>
  setTimeout(() => {
    document.getElementById('slot').innerHTML =
      '<button id="late" onclick="window.lateClicks = (window.lateClicks || 0) + 1;' +
      'document.getElementById(\\'status\\').textContent=' +
      '\\'late clicked \\' + window.lateClicks">' +
      'Late</button>';
  }, 300);
  setTimeout(() => { document.getElementById('late-enabled').disabled = false; }, 300);
  setTimeout(() => { document.getElementById('spinner').remove(); }, 300);
  setTimeout(() => { document.body.insertAdjacentHTML('beforeend', '<p>ready now</p>'); }, 300);
</script></body></html>"""

RERENDER = """<!doctype html><html><head><title>Rerender</title></head><body>
<div id="box"></div><span id="hits">0</span>
<script>
  let hits = 0;
  function render() {
    document.getElementById('box').innerHTML =
      '<button class="rr" onclick="hits++; ' +
      'document.getElementById(\\'hits\\').textContent = hits">Go</button>';
  }
  render();
  setInterval(render, 150);
</script></body></html>"""

SHADOW = """<!doctype html><html><head><title>Shadow</title></head><body>
<shadow-host></shadow-host><span id="shadow-out"></span>
<script>
  customElements.define('shadow-host', class extends HTMLElement {
    constructor() {
      super();
      this.attachShadow({mode: 'open'}).innerHTML =
        '<button id="inner" onclick="document.getElementById(\\'shadow-out\\')' +
        '.textContent=\\'inside\\'">In</button>';
    }
  });
</script></body></html>"""

SIGNIN = """<!doctype html><html><head><title>Sign in</title></head><body>
<form action="/do-login" method="get">
  <label for="user">User name</label><input id="user" name="user">
  <label for="pw">Password</label><input id="pw" name="pw" type="password">
  <input type="submit" value="Go">
</form></body></html>"""

NATIVE_DIALOG = """<!doctype html><html><head><title>Native dialog</title></head><body>
<button id="open" onclick="document.getElementById('dlg').showModal()">Open dialog</button>
<dialog id="dlg"><p id="dlg-text">Are you sure?</p>
  <button id="close" onclick="document.getElementById('dlg').close()">Close it</button></dialog>
</body></html>"""

FRAMES = """<!doctype html><html><head><title>Frames</title></head><body>
<p id="outer">outside</p>
<iframe id="frame" name="inner" src="/framed.html"></iframe>
</body></html>"""

FRAMED = """<!doctype html><html><head><title>Framed</title></head><body>
<button id="in-frame" onclick="this.textContent='pressed in frame'">Frame button</button>
<iframe id="nested" src="/nested.html"></iframe>
</body></html>"""

NESTED = """<!doctype html><html><head><title>Nested</title></head><body>
<p id="deep">deep inside</p>
</body></html>"""

UPLOAD = """<!doctype html><html><head><title>Upload</title></head><body>
<input type="file" id="file" multiple onchange="document.getElementById('picked').textContent =
  Array.from(this.files).map(f => f.name).join(',')">
<span id="picked">none</span>
<select id="size"><option value="s">Small</option><option value="l">Large</option></select>
</body></html>"""

TABS = """<!doctype html><html><head><title>Opener</title></head><body>
<a id="blank" href="/next.html" target="_blank">New tab</a>
<button id="popup" onclick="window.open('/next.html')">Popup</button>
<button id="late-popup" onclick="setTimeout(() => window.open('/popup.html'), 300)">Later</button>
</body></html>"""

POPUP = """<!doctype html><html><head><title>Popup</title></head><body>
<p id="popped">a popup</p>
</body></html>"""

CLICKS = """<!doctype html><html><head><title>Clicks</title></head><body>
<div id="zone" style="width: 200px; height: 100px; background: #eee">click zone</div>
<span id="clicked">none</span>
<script>
  const counts = {};
  const zone = document.getElementById('zone');
  function seen(kind, extra) {
    counts[kind] = (counts[kind] || 0) + 1;
    document.getElementById('clicked').textContent = kind + ' ' + counts[kind] + (extra || '');
  }
  zone.addEventListener('click', e => seen('left click', ' at ' + e.offsetX + ',' + e.offsetY));
  zone.addEventListener('contextmenu', e => { e.preventDefault(); seen('context menu'); });
  zone.addEventListener('auxclick', e => { if (e.button === 1) seen('middle click'); });
  zone.addEventListener('dblclick', e => seen('double click'));
</script></body></html>"""

DRAG = """<!doctype html><html><head><title>Drag</title></head><body>
<div id="card" draggable="true" style="width: 100px; height: 40px; background: #cde"
  ondragstart="event.dataTransfer.setData('text/plain', 'card-7')">card</div>
<div id="bin" style="width: 200px; height: 100px; background: #edc; margin-top: 20px"
  ondragover="event.preventDefault()"
  ondrop="event.preventDefault(); this.textContent = 'dropped ' +
    event.dataTransfer.getData('text/plain')">bin</div>
<div id="knob" style="width: 40px; height: 40px; background: #dce; margin-top: 20px">knob</div>
<div id="rail" style="width: 200px; height: 60px; background: #ccc; margin-top: 20px">rail</div>
<span id="moved">still</span>
<script>
  let held = false;
  document.getElementById('knob').addEventListener('mousedown', () => { held = true; });
  document.addEventListener('mouseup', e => {
    if (held && document.elementFromPoint(e.clientX, e.clientY).id === 'rail') {
      document.getElementById('moved').textContent = 'knob on rail';
    }
    held = false;
  });
</script></body></html>"""

FETCHING = """<!doctype html><html><head><title>Fetching</title></head><body>
<button id="fetch" onclick="fetch('/api/broken').then(r => {
  document.getElementById('result').textContent = 'status ' + r.status; })">Load</button>
<button id="fetch-down" onclick="fetch('http://127.0.0.1:9/').catch(() => {
  document.getElementById('result').textContent = 'network failed'; })">Load down</button>
<span id="result">idle</span>
</body></html>"""

DIALOGS = """<!doctype html><html><head><title>Dialogs</title></head><body>
<button id="alert" onclick="alert('careful'); document.getElementById('said').textContent =
  'alerted'">Alert</button>
<button id="confirm" onclick="document.getElementById('said').textContent =
  confirm('sure?') ? 'confirmed' : 'cancelled'">Confirm</button>
<button id="prompt" onclick="document.getElementById('said').textContent =
  'hello ' + prompt('name?')">Prompt</button>
<span id="said">nothing</span>
</body></html>"""

PAGES = {
    "/": LOGIN,
    "/signin.html": SIGNIN,
    "/native-dialog.html": NATIVE_DIALOG,
    "/frames.html": FRAMES,
    "/framed.html": FRAMED,
    "/nested.html": NESTED,
    "/popup.html": POPUP,
    "/clicks.html": CLICKS,
    "/drag.html": DRAG,
    "/upload.html": UPLOAD,
    "/tabs.html": TABS,
    "/fetching.html": FETCHING,
    "/dialogs.html": DIALOGS,
    "/index.html": LOGIN,
    "/next.html": NEXT,
    "/delayed.html": DELAYED,
    "/rerender.html": RERENDER,
    "/shadow.html": SHADOW,
}


_FLAGS: set[str] = set()


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        if path == "/do-login":
            # Sign in: set a session cookie, then redirect to the account page.
            user = urllib.parse.parse_qs(query).get("user", [""])[0]
            self.send_response(302)
            self.send_header("Set-Cookie", f"session={urllib.parse.quote(user)}; Path=/")
            self.send_header("Location", "/account.html")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if path == "/account.html":
            cookies = http.cookies.SimpleCookie(self.headers.get("Cookie", ""))
            user = urllib.parse.unquote(cookies["session"].value) if "session" in cookies else ""
            who = html.escape(f"Signed in as {user}" if user else "Signed out")
            self._send(200, f"<!doctype html><title>Account</title><p id='who'>{who}</p>")
            return
        if path.startswith("/flag/"):
            # Shared state for concurrency tests: /flag/set/<name> raises a flag,
            # /flag/<name> answers "set" once it is raised.
            name = path.removeprefix("/flag/")
            if name.startswith("set/"):
                _FLAGS.add(name.removeprefix("set/"))
                self._send(200, "<!doctype html><title>Flag raised</title><p>raised</p>")
            else:
                self._send(200, "set" if name in _FLAGS else "unset")
            return
        if path == "/api/broken":
            self._send(500, "broken")
            return
        body = PAGES.get(path)
        if body is None:
            self.send_response(404 if self.path != "/favicon.ico" else 204)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _send(self, status: int, body: str) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def site() -> Iterator[str]:
    """The base URL of a loopback HTTP server serving the test pages."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def _browser_gate(request: pytest.FixtureRequest) -> None:
    """Skip browser tests when Chromium is missing, except under CI=true where they fail."""
    if request.node.get_closest_marker("browser") is None:
        return
    if not CHROMIUM.exists():
        if IN_CI:
            pytest.fail(f"{CHROMIUM} is missing under CI=true: install chromium chromium-driver")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium chromium-driver)")


def _our_chromium() -> set[int]:
    """Pids of chromium / chromedriver processes descending from this test process."""
    pids = set()
    for child in psutil.Process().children(recursive=True):
        try:
            if "chrom" in child.name().lower():
                pids.add(child.pid)
        except psutil.NoSuchProcess:
            continue
    return pids


@pytest.fixture(scope="session", autouse=True)
def _no_leaked_chromium() -> Iterator[None]:
    """Fail the session if a Chromium it started is still running at the end."""
    before = _our_chromium()
    yield
    deadline = time.monotonic() + 15
    leaked = _our_chromium() - before
    while leaked and time.monotonic() < deadline:
        time.sleep(0.2)
        leaked = _our_chromium() - before
    assert not leaked, f"chromium processes leaked by the test session: {sorted(leaked)}"
