"""A real headless Chromium that reports whether HTML runs script.

:class:`ScriptDetector` loads many documents per page, each isolated in its
own sandboxed ``<iframe srcdoc>`` frame with its own case id, so one broken
payload cannot hide another. A script installed in *every* new document
(Chrome DevTools Protocol ``Page.addScriptToEvaluateOnNewDocument``, so
nested frames, popups and ``javascript:`` navigations are covered) replaces
``alert``/``confirm``/``prompt``/``print`` and defines ``__probe()``; each
call is recorded against the case frame it happened in (``top.__probe(id)``
records against the id given). Calls from frames
with an opaque origin (``data:`` URLs) cannot name their case and are
recorded as ``unattributed`` through a beacon to the local server.

After the frames load, the page triggers interaction-only handlers itself:
for every element it dispatches each event named by an ``on*`` attribute
plus common pointer, focus, keyboard, form, animation and clipboard events,
focuses the element, then clicks links, buttons and inputs (which follows
``javascript:`` URLs and submits forms).

Usage::

    with ScriptDetector() as browser:
        result = browser.run({"c1": body_document("<img src=x onerror=alert(1)>")})
        assert result.executed == {"c1"}
"""

from __future__ import annotations

import contextlib
import html
import json
import shutil
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit

from securekit.testing._services import ServiceMissingError

__all__ = [
    "CHROMIUM_FLAGS",
    "BrowserResult",
    "ScriptDetector",
    "body_document",
    "find_chromium",
]

#: Flags for a quiet, isolated, offline-friendly headless Chromium.
CHROMIUM_FLAGS: Final = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--disable-extensions",
    "--mute-audio",
)

_HOOK: Final = """
(() => {
  const origin = %(origin)s;
  const caseId = () => {
    try {
      let w = window;
      while (w !== w.top && w.parent !== w.top) { w = w.parent; }
      if (w !== w.top && w.frameElement) { return w.frameElement.getAttribute('data-case'); }
    } catch (e) {}
    return null;
  };
  const report = (how) => {
    const id = caseId();
    try { if (id !== null) { window.top.__securekitHit(id, how); return; } } catch (e) {}
    const url = origin + '/__hit?how=' + encodeURIComponent(how);
    try { navigator.sendBeacon(url, 'x'); } catch (e) {}
  };
  for (const name of ['alert', 'confirm', 'prompt', 'print']) {
    try { Object.defineProperty(window, name, {value: () => report(name), configurable: false}); }
    catch (e) {}
  }
  if (window !== window.top) {
    try { Object.defineProperty(window, '__probe', {value: () => report('probe')}); } catch (e) {}
  }
})();
"""

_PAGE: Final = """<!doctype html>
<html><head><meta charset="utf-8"><title>securekit script detector</title>
<script>
window.__hits = [];
window.__done = false;
window.__securekitHit = (id, how) => { window.__hits.push([String(id), String(how)]); };
// top.__probe(id) from any frame: recorded against the id the caller names.
window.__probe = (id) => { window.__securekitHit(id, 'probe'); };
const EVENTS = ['mouseover', 'mouseenter', 'mousemove', 'mousedown', 'mouseup', 'mouseout',
  'mouseleave', 'click', 'dblclick', 'auxclick', 'contextmenu', 'pointerover', 'pointerenter',
  'pointerdown', 'pointerup', 'pointermove', 'pointerout', 'pointerleave', 'pointerrawupdate',
  'focus', 'focusin', 'blur', 'focusout', 'keydown', 'keypress', 'keyup', 'input',
  'beforeinput', 'change', 'select', 'search', 'invalid', 'submit', 'reset', 'wheel', 'scroll',
  'scrollend', 'copy', 'cut', 'paste', 'drag', 'dragstart', 'dragend', 'dragenter', 'dragover',
  'dragleave', 'drop', 'touchstart', 'touchend', 'animationstart', 'animationiteration',
  'animationend', 'transitionstart', 'transitionrun', 'transitionend', 'toggle',
  'beforetoggle', 'load', 'error', 'begin', 'end', 'repeat', 'show', 'cancel', 'close',
  'resize', 'hashchange', 'popstate', 'pageshow', 'message', 'securitypolicyviolation',
  'contentvisibilityautostatechange', 'selectstart', 'selectionchange', 'fullscreenchange'];
function interact(win, depth) {
  let doc;
  try { doc = win.document; doc.querySelectorAll('*'); } catch (e) { return; }
  const elements = Array.from(doc.querySelectorAll('*'));
  for (const target of [win, doc, ...elements]) {
    const names = new Set(EVENTS);
    for (const attr of Array.from(target.attributes || [])) {
      const name = attr.name.toLowerCase();
      if (name.startsWith('on')) { names.add(name.slice(2)); }
    }
    for (const type of names) {
      try { target.dispatchEvent(new Event(type, {bubbles: true, cancelable: true})); }
      catch (e) {}
    }
    try { if (target.focus) { target.focus(); } } catch (e) {}
  }
  if (depth < 3) {
    for (let i = 0; i < win.frames.length; i++) { interact(win.frames[i], depth + 1); }
  }
  for (const el of elements) {
    try {
      if (el.matches('a, area, button, input, summary, label, [onclick], [formaction]')) {
        el.click();
      }
    } catch (e) {}
  }
}
window.addEventListener('load', () => {
  for (const frame of document.querySelectorAll('iframe[data-case]')) {
    try { interact(frame.contentWindow, 0); } catch (e) {}
  }
  setTimeout(() => { window.__done = true; }, %(settle)d);
});
</script></head><body>
%(frames)s
</body></html>
"""

#: Frames run scripts and keep their origin (so hits reach the top page) but
#: may not navigate the top page or open modal dialogs that would block.
_SANDBOX: Final = "allow-scripts allow-same-origin allow-forms allow-popups"


def body_document(fragment: str) -> str:
    """Wrap an HTML fragment in a minimal UTF-8 document (body context)."""
    return f'<!doctype html><html><head><meta charset="utf-8"></head><body>{fragment}</body></html>'


def find_chromium() -> tuple[str, str]:
    """Return the paths of chromium and chromedriver.

    Raises:
        ServiceMissingError: either binary is missing.
    """
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    chromium = chromium or shutil.which("google-chrome")
    driver = shutil.which("chromedriver")
    if chromium is None or driver is None:
        raise ServiceMissingError("chromium and chromedriver are needed (apt-get install chromium)")
    return chromium, driver


@dataclass(frozen=True, slots=True)
class BrowserResult:
    """What ran in one :meth:`ScriptDetector.run`.

    Attributes:
        executed: ids of the cases in which script ran.
        hits: ``(case id, how)`` for every recorded call (``how`` is
            ``alert``, ``probe``...).
        unattributed: calls from frames that could not name their case
            (opaque origins such as ``data:`` iframes).
    """

    executed: frozenset[str]
    hits: tuple[tuple[str, str], ...]
    unattributed: tuple[str, ...] = field(default=())


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    pages: dict[str, bytes]
    beacons: list[str]
    lock: threading.Lock

    def handle_error(self, request: object, client_address: object) -> None:
        """Stay quiet: frames navigate away mid-response (broken pipes) by design."""


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Stay quiet."""

    def _beacon(self) -> bool:
        parts = urlsplit(self.path)
        if parts.path != "/__hit":
            return False
        how = parse_qs(parts.query).get("how", ["?"])[0]
        with self.server.lock:
            self.server.beacons.append(how)
        self.send_response(204)
        self.send_header("Access-Control-Allow-Origin", "*")
        self.end_headers()
        return True

    def do_GET(self) -> None:
        """Serve a batch page, or record a beacon."""
        if self._beacon():
            return
        # Each batch page is served once. A frame that navigates to a
        # relative URL ("#", "?q", "") resolves it against the batch page (the
        # base URL of a srcdoc document is its parent's) and would otherwise
        # load the whole batch again inside itself: the other cases' raw
        # payloads would then run and be recorded against the innocent frame.
        with self.server.lock:
            body = self.server.pages.pop(urlsplit(self.path).path, None)
        if body is None:
            self.send_response(404)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"not found")
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        """Record a beacon (``navigator.sendBeacon`` posts)."""
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(min(length, 65536))
        if not self._beacon():
            self.send_response(404)
            self.end_headers()


class ScriptDetector:
    """One headless Chromium (via selenium) and a local page server.

    Args:
        batch_size: documents per page load.
        settle_ms: how long the page waits after interaction, for timers,
            refreshes and animations.
        timeout: seconds allowed per page load.
        chromium: path to the browser (found on ``PATH`` by default).
        chromedriver: path to the driver (found on ``PATH`` by default).
    """

    def __init__(
        self,
        *,
        batch_size: int = 80,
        settle_ms: int = 400,
        timeout: float = 60.0,
        chromium: str | None = None,
        chromedriver: str | None = None,
    ) -> None:
        self.batch_size = batch_size
        self.settle_ms = settle_ms
        self.timeout = timeout
        self._chromium = chromium
        self._chromedriver = chromedriver
        self._driver: Any = None
        self._server: _Server | None = None
        self._profile: Path | None = None
        self._counter = 0

    def __enter__(self) -> ScriptDetector:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:<port>`` of the page server."""
        if self._server is None:
            raise RuntimeError("the detector is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> None:
        """Start the page server and the browser.

        Raises:
            ServiceMissingError: chromium, chromedriver or selenium is missing,
                or the browser did not start.
        """
        if self._driver is not None:
            return
        chromium, driver_path = self._chromium, self._chromedriver
        if chromium is None or driver_path is None:
            found = find_chromium()
            chromium, driver_path = chromium or found[0], driver_path or found[1]
        try:
            from selenium import webdriver  # noqa: PLC0415 - optional test dependency
            from selenium.webdriver.chrome.service import Service  # noqa: PLC0415
        except ImportError as exc:  # pragma: no cover - selenium is a dev dependency
            raise ServiceMissingError("selenium is not installed") from exc
        server = _Server(("127.0.0.1", 0), _Handler)
        server.pages, server.beacons, server.lock = {}, [], threading.Lock()
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self._server = server
        self._profile = Path(tempfile.mkdtemp(prefix="securekit-chromium-"))
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={self._profile}"):
            options.add_argument(flag)
        try:
            self._driver = webdriver.Chrome(options=options, service=Service(driver_path))
        except Exception as exc:
            self.close()
            raise ServiceMissingError(f"chromium did not start: {type(exc).__name__}") from exc
        self._driver.set_page_load_timeout(self.timeout)
        self._driver.set_script_timeout(self.timeout)
        hook = _HOOK % {"origin": json.dumps(self.origin)}
        self._driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": hook})

    def close(self) -> None:
        """Stop the browser and the server and remove the profile."""
        driver, self._driver = self._driver, None
        if driver is not None:
            with contextlib.suppress(Exception):  # best effort at shutdown
                driver.quit()
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._profile is not None:
            shutil.rmtree(self._profile, ignore_errors=True)
            self._profile = None

    def run(self, documents: Mapping[str, str]) -> BrowserResult:
        """Load every document in its own frame and report which ran script.

        Args:
            documents: case id -> a complete HTML document (see
                :func:`body_document`). Ids are plain strings.

        Returns:
            The ids whose frames ran script, and every recorded call.
        """
        if self._driver is None or self._server is None:
            self.start()
        items = list(documents.items())
        hits: list[tuple[str, str]] = []
        unattributed: list[str] = []
        for start in range(0, len(items), self.batch_size):
            batch_hits, batch_beacons = self._run_batch(items[start : start + self.batch_size])
            hits.extend(batch_hits)
            unattributed.extend(batch_beacons)
        known = {case_id for case_id, _ in items}
        executed = frozenset(case_id for case_id, _ in hits if case_id in known)
        return BrowserResult(executed=executed, hits=tuple(hits), unattributed=tuple(unattributed))

    def _run_batch(self, items: list[tuple[str, str]]) -> tuple[list[tuple[str, str]], list[str]]:
        server, driver = self._server, self._driver
        if server is None or driver is None:  # pragma: no cover - guarded by run()
            raise RuntimeError("the detector is not started")
        frames = "\n".join(
            f'<iframe data-case="{html.escape(case_id, quote=True)}" sandbox="{_SANDBOX}" '
            f'width="300" height="150" srcdoc="{html.escape(document, quote=True)}"></iframe>'
            for case_id, document in items
        )
        self._counter += 1
        path = f"/batch/{self._counter}"
        page = _PAGE % {"frames": frames, "settle": self.settle_ms}
        with server.lock:
            server.pages = {path: page.encode("utf-8")}
            server.beacons.clear()
        driver.get(self.origin + path)
        deadline = time.monotonic() + self.timeout
        while not driver.execute_script("return window.__done === true"):
            if time.monotonic() > deadline:
                raise TimeoutError("the batch page did not finish in time")
            time.sleep(0.05)
        raw = driver.execute_script("return window.__hits")
        # Let late beacons arrive before the next page replaces this one.
        driver.get("about:blank")
        with server.lock:
            beacons = list(server.beacons)
        return [(str(a), str(b)) for a, b in raw], beacons
