"""`build.py preview --serve`: the pages on http://127.0.0.1:<port>/ with live slicers.

One Engine stays open (its scan cache is reused across slicer changes) behind a lock,
since an Engine is not thread-safe. A slicer change posts every slicer's state to
/api/evaluate and gets the other visuals back re-evaluated. A watcher polls the mtimes of
semantic/ and measures/; an edit runs the pipeline's build, reopens the engine and bumps
the version the pages poll at /api/status, so they reload. A bad edit leaves the last good
build in place and shows the positioned error on the page instead of stopping the server.
"""
from __future__ import annotations

import json
import threading
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from generator.engine.runtime.engine import Engine
from generator.errors import ForgeError
from generator.preview.render import render_index, render_page, static_files
from generator.preview.report import read_report
from generator.preview.views import page_views

LOOPBACK = "127.0.0.1"
MAX_BODY = 1 << 20
POLL_SECONDS = 0.4
CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                 ".css": "text/css; charset=utf-8", ".json": "application/json"}


def check_host(host: str) -> None:
    if host != LOOPBACK:
        raise ForgeError(f"--host {host}: the preview server binds to {LOOPBACK} only; it is not for a network")


def _problems(exc: BaseException) -> str:
    if isinstance(exc, ForgeError):
        return "\n".join(str(p) for p in exc.problems)
    return f"{type(exc).__name__}: {exc}"


class PreviewState:
    """The open engine and report, the build version and the last build error."""

    def __init__(self, project: Path, out: Path, as_of: str | None = None, rows: int | None = None,
                 seed: int | None = None):
        self.project, self.out, self.as_of, self.rows, self.seed = project, out, as_of, rows, seed
        self.lock = threading.RLock()
        self.version = 0
        self.error: str | None = None
        self._load()

    def _load(self) -> None:
        engine = Engine.open(self.project, out=self.out, as_of=self.as_of)
        engine.validate_date_table()
        report = read_report(self.out, engine.model.name)
        self.engine, self.report = engine, report
        self.static = static_files(report.theme)

    def rebuild(self) -> None:
        """The pipeline's build (no TOM check: seconds matter while editing), then reopen."""
        from generator.pipeline import build

        with self.lock:
            try:
                build(self.project, self.out, rows=self.rows, seed=self.seed, tom=False)
                self._load()
            except Exception as exc:  # noqa: BLE001 - any failure is shown on the page, the server stays up
                self.error = _problems(exc)
                return
            self.error = None
            self.version += 1

    def status(self) -> dict[str, Any]:
        return {"version": self.version, "error": self.error}

    def page(self, page_id: str) -> str | None:
        with self.lock:
            pdef = self.report.page(page_id)
            if pdef is None:
                return None
            return render_page(self.engine, self.report, pdef, serve=True, version=self.version, error=self.error)

    def index(self) -> str:
        with self.lock:
            return render_index(self.engine, self.report, serve=True, version=self.version)

    def evaluate(self, page_id: str, selections: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            pdef = self.report.page(page_id)
            if pdef is None:
                return {"error": f"no page {page_id!r} in the report"}
            page = next((p for p in self.engine.model.pages if p.id == page_id), None)
            try:
                views = page_views(self.engine, pdef, page, self.report.theme, selections, slicers=False)
            except Exception as exc:  # noqa: BLE001 - a failed query is an error on the page
                return {"error": _problems(exc)}
            return {"visuals": {name: v.payload() for name, v in views.items()}}


def _selections(body: Any) -> dict[str, Any]:
    """The posted slicer states, checked: {slicer: {"selected": [...]} | {"range": [from, to]} | {}}."""
    raw = body.get("selections", {}) if isinstance(body, dict) else None
    if not isinstance(raw, dict):
        raise ValueError("selections must be an object")
    out: dict[str, Any] = {}
    for name, state in raw.items():
        if not isinstance(state, dict):
            raise ValueError(f"slicer {name}: state must be an object")
        if "range" in state:
            lo, hi = state["range"]
            out[name] = {"range": [str(lo)[:10], str(hi)[:10]]}
        elif "selected" in state:
            values = state["selected"]
            out[name] = {"selected": list(values) if isinstance(values, list) else [values]}
        else:
            out[name] = {}
    return out


def make_handler(state: PreviewState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "pbi-forge-preview"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
            pass

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # the browser left (a reload, a closed tab)
                pass

        def _json(self, data: Any, status: int = 200) -> None:
            self._send(status, json.dumps(data, allow_nan=False).encode(), CONTENT_TYPES[".json"])

        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            path = self.path.split("?", 1)[0].lstrip("/") or "index.html"
            try:
                if path == "api/status":
                    return self._json(state.status())
                if path == "index.html":
                    return self._send(200, state.index().encode(), CONTENT_TYPES[".html"])
                if path in state.static:
                    return self._send(200, state.static[path], CONTENT_TYPES[Path(path).suffix])
                if path.endswith(".html"):
                    html = state.page(path[:-5])
                    if html is not None:
                        return self._send(200, html.encode(), CONTENT_TYPES[".html"])
                self._send(404, b"not found", "text/plain")
            except Exception:  # noqa: BLE001 - report, keep serving
                self._send(500, traceback.format_exc().encode(), "text/plain; charset=utf-8")

        def do_POST(self) -> None:  # noqa: N802
            if self.path.split("?", 1)[0] != "/api/evaluate":
                return self._send(404, b"not found", "text/plain")
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                return self._json({"error": "request too large"}, 413)
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
                selections = _selections(body)
                page_id = str(body.get("page", ""))
            except (ValueError, TypeError) as exc:
                return self._json({"error": f"bad request: {exc}"}, HTTPStatus.BAD_REQUEST)
            self._json(state.evaluate(page_id, selections))

    return Handler


class Watcher(threading.Thread):
    """Polls the YAML under semantic/ and measures/; a change rebuilds."""

    def __init__(self, state: PreviewState):
        super().__init__(name="pbi-forge-preview-watch", daemon=True)
        self.state = state
        self.stopped = threading.Event()
        self.seen = self.snapshot()

    def snapshot(self) -> dict[str, tuple[int, int]]:
        out = {}
        for part in ("semantic", "measures"):
            for path in sorted((self.state.project / part).rglob("*")):
                try:
                    st = path.stat()
                except OSError:  # removed while we looked (an editor's save-and-rename)
                    continue
                if path.is_file():
                    out[str(path)] = (st.st_mtime_ns, st.st_size)
        return out

    def run(self) -> None:
        while not self.stopped.wait(POLL_SECONDS):
            now = self.snapshot()
            if now != self.seen:
                self.seen = now
                self.state.rebuild()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:  # noqa: ANN001 - the stdlib's signature
        """A browser that drops a connection is not an error worth a traceback."""
        import sys

        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


class PreviewServer:
    """The HTTP server, its serving thread and the watcher: start() and stop()."""

    def __init__(self, state: PreviewState, port: int = 8765, host: str = LOOPBACK, watch: bool = True):
        check_host(host)
        self.state = state
        self.httpd = _Server((LOOPBACK, port), make_handler(state))
        self.watcher = Watcher(state) if watch else None
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.httpd.server_address[1]}/"

    def start(self) -> "PreviewServer":
        if self.watcher:
            self.watcher.start()
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="pbi-forge-preview", daemon=True)
        self.thread.start()
        return self

    def serve_forever(self) -> None:
        if self.watcher:
            self.watcher.start()
        self.httpd.serve_forever()

    def stop(self) -> None:
        if self.watcher:
            self.watcher.stopped.set()
            if self.watcher.is_alive():
                self.watcher.join(timeout=10)
        self.httpd.shutdown()
        self.httpd.server_close()
        if self.thread:
            self.thread.join(timeout=10)
