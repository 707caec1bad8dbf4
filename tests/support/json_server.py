"""Stand-in HTTP servers on loopback for remote mode's client, which need no samplectl server.

``serving`` runs a real HTTP/1.1 server (keep-alive, as uvicorn) whose every request is answered by a
function of the test: the client's transport, timeouts and error mapping are tested on real sockets
(tests/remote/test_client.py). ``answering`` answers every GET with the same JSON, for the transport
rules of remote mode (TLS verified, plain http:// only to loopback) as a TAB keeps them
(tests/cli/test_completion_sources.py).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Seen:
    """One request as the server read it (the body only when the test's function read it)."""

    method: str
    path: str
    headers: Message
    client_port: int  # which connection it came on
    body: bytes = b""


Respond = Callable[[BaseHTTPRequestHandler, Seen], None]


@contextmanager
def serving(respond: Respond, host: str = "127.0.0.1", authority: Any = None) -> Iterator[tuple[str, list[Seen]]]:
    """A server on ``host`` where ``respond(handler, seen)`` answers each request: (its URL, the requests so far).

    With ``authority`` (a ``trustme.CA``) it speaks https:// with a certificate that CA signed for ``host``.
    """
    seen: list[Seen] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # connections are kept alive unless the answer says otherwise

        def answer(self) -> None:
            request = Seen(self.command, self.path, self.headers, self.client_address[1])
            seen.append(request)
            respond(self, request)

        do_GET = do_POST = do_PATCH = do_DELETE = answer  # noqa: N815 - the http.server interface

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((host, 0), Handler)
    scheme = "http"
    if authority is not None:
        import ssl

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        authority.issue_cert(host).configure_cert(context)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()  # shut down quickly
    try:
        yield f"{scheme}://{host}:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def reply(handler: BaseHTTPRequestHandler, status: int, body: Any = None, *, text: str | None = None,
          headers: dict[str, str] | None = None) -> None:
    """A whole answer: ``body`` as JSON, or ``text`` as it is."""
    data = text.encode() if text is not None else json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "text/html" if text is not None else "application/json")
    handler.send_header("Content-Length", str(len(data)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(data)
    handler.wfile.flush()


def read_body(handler: BaseHTTPRequestHandler, request: Seen) -> bytes:
    """The request's body, whole (Content-Length) or as its chunks arrive (chunked), kept in ``request.body``."""
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        request.body = b"".join(read_chunks(handler))
    else:
        request.body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
    return request.body


def read_chunks(handler: BaseHTTPRequestHandler) -> Iterator[bytes]:
    """The pieces of a chunked request body, each as soon as it has arrived (HTTP/1.1 chunked coding)."""
    while True:
        size = int(handler.rfile.readline().split(b";")[0], 16)
        if size == 0:
            handler.rfile.readline()  # the blank line after the last chunk (no trailers are sent)
            return
        piece = handler.rfile.read(size)
        handler.rfile.readline()
        yield piece


@contextmanager
def answering(body: Any, host: str = "127.0.0.1", authority: Any = None) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A server on ``host`` answering every GET with ``body``: (its URL, the requests it has seen so far)."""
    asked: list[dict[str, Any]] = []

    def respond(handler: BaseHTTPRequestHandler, request: Seen) -> None:
        asked.append({"path": request.path, "authorization": request.headers.get("Authorization")})
        reply(handler, 200, body)

    with serving(respond, host, authority) as (url, _):
        yield url, asked
