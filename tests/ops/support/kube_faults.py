"""Faults the real API server does not give on demand: a loopback HTTP proxy in front of it that fails or hangs
chosen requests and forwards every other one, unchanged, to the real server (as cluster-admin).

What the double of ops/cluster/kube.py's endpoints used to be, reduced to the one thing only a double can do. The
state (ConfigMaps, workloads, the answers, the errors) is always the real server's; a test asks for a fault:

    fail_next(count)                fail the next `count` requests, whatever they are
    fail_when(method, path_part)    fail requests matching a method and a part of the path
    hang_when(method, path_part)    accept the request and never answer (until the client gives up, or 5 s)

A failed request gets a Kubernetes Status with the chosen HTTP status and never reaches the server.
"""

from __future__ import annotations

import http.client
import json
import ssl
import threading
import urllib.parse
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# A hung request is released at the latest after this long, so a forgotten fault cannot wedge the test run.
_MAX_HANG_SECONDS = 5.0
_FORWARDED_HEADERS = ("accept", "content-type", "user-agent")


@dataclass
class Fault:
    status: int | None  # None: hang instead of answering
    method: str | None = None
    path_contains: str | None = None
    times: int = 1

    def matches(self, method: str, path: str) -> bool:
        return self.times > 0 and (self.method is None or self.method == method) and (
            self.path_contains is None or self.path_contains in path
        )


class KubeFaultProxy:
    def __init__(self, server_url: str, ssl_context: ssl.SSLContext) -> None:
        target = urllib.parse.urlsplit(server_url)
        self._target = (target.hostname or "127.0.0.1", target.port or 443)
        self._ssl_context = ssl_context
        self.faults: list[Fault] = []
        self._lock = threading.Lock()
        self._release_hangs = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="kube-fault-proxy", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> KubeFaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release_hangs.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # -- faults -------------------------------------------------------------------------------------------------

    def fail_next(self, count: int = 1, status: int = 500) -> None:
        self.faults.append(Fault(status, times=count))

    def fail_when(self, method: str, path_contains: str, status: int = 500, times: int = 1) -> None:
        self.faults.append(Fault(status, method, path_contains, times=times))

    def hang_when(self, method: str, path_contains: str, times: int = 1) -> None:
        self.faults.append(Fault(None, method, path_contains, times=times))

    # -- handling (server threads) ------------------------------------------------------------------------------

    def handle(self, method: str, raw_path: str, headers: dict[str, str],
               body: bytes) -> tuple[int, str, bytes] | None:
        path = urllib.parse.urlsplit(raw_path).path
        with self._lock:
            fault = next((f for f in self.faults if f.matches(method, path)), None)
            if fault is not None:
                fault.times -= 1
        if fault is not None:
            if fault.status is None:
                self._release_hangs.wait(_MAX_HANG_SECONDS)
                return None
            status = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": fault.status,
                      "reason": "InternalError", "message": f"injected fault on {method} {path}"}
            return fault.status, "application/json", json.dumps(status).encode()
        return self._forward(method, raw_path, headers, body)

    def _forward(self, method: str, raw_path: str, headers: dict[str, str],
                 body: bytes) -> tuple[int, str, bytes]:
        connection = http.client.HTTPSConnection(*self._target, context=self._ssl_context, timeout=30)
        try:
            forwarded = {name: value for name, value in headers.items() if name in _FORWARDED_HEADERS}
            connection.request(method, raw_path, body=body or None, headers=forwarded)
            response = connection.getresponse()
            return response.status, response.getheader("Content-Type", "application/json"), response.read()
        finally:
            connection.close()


def _handler_for(proxy: KubeFaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {key.lower(): value for key, value in self.headers.items()}
            answer = proxy.handle(self.command, self.path, headers, body)
            if answer is None:
                self.close_connection = True
                return
            status, content_type, payload = answer
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:  # the base class's signature
            pass

    return Handler
