"""A stand-in server that answers every GET with the same JSON and records what it was asked.

For the transport rules of remote mode (TLS verified, plain http:// only to loopback), which are the
clients' to keep and need no samplectl server: tests/remote/test_client.py (the commands' httpx client)
and tests/cli/test_completion_sources.py (a TAB's http.client request).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any


@contextmanager
def answering(body: Any, host: str = "127.0.0.1", authority: Any = None) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A server on ``host`` answering every GET with ``body``: (its URL, the requests it has seen so far).

    With ``authority`` (a ``trustme.CA``) it speaks https:// with a certificate that CA signed for ``host``.
    """
    seen: list[dict[str, Any]] = []
    data = json.dumps(body).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server interface
            seen.append({"path": self.path, "authorization": self.headers.get("Authorization")})
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer((host, 0), Handler)
    scheme = "http"
    if authority is not None:
        import ssl

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        authority.issue_cert(host).configure_cert(context)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"{scheme}://{host}:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
