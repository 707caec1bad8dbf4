"""Bridges between the event loop and the synchronous services: request bodies in, responses out.

The import service reads a binary file; ``BodyReader`` is that file over the request body, pulled
chunk by chunk from the event loop by the worker thread that runs the import, so an import starts
checking rows while the body is still arriving and memory does not grow with it. ``produce`` runs a
writer (an export) in a thread of its own — an embedded store's connection belongs to one thread —
and hands its output to the response through a small bounded queue.
"""

from __future__ import annotations

import contextlib
import io
import queue
import threading
from collections.abc import AsyncIterator, Callable
from typing import IO, Any

import anyio
import anyio.from_thread
from fastapi import Request
from fastapi.responses import StreamingResponse
from starlette.requests import ClientDisconnect

from samplectl.domain.errors import UsageError

IDLE_SECONDS = 60.0  # a client that sends nothing of its body for this long is cut off


class BodyReader(io.RawIOBase):
    def __init__(self, request: Request, idle_seconds: float = IDLE_SECONDS) -> None:
        self._chunks = request.stream().__aiter__()
        self._idle = idle_seconds
        self._pending = b""
        self._done = False
        self.received = 0

    def readable(self) -> bool:
        return True

    async def _next(self) -> bytes | None:
        try:
            with anyio.fail_after(self._idle):
                return await self._chunks.__anext__()
        except StopAsyncIteration:
            return None
        except ClientDisconnect:
            # Ctrl-C on `samplectl import` (or any client gone): its mistake to report, not the server's (500).
            raise UsageError("the client went away before the whole file arrived; nothing of it was imported",
                             hint="send the whole file again") from None
        except TimeoutError:
            raise UsageError(f"the request body stopped arriving (nothing for {int(self._idle)} s)",
                             hint="send the file in one go, e.g. curl --data-binary @file.csv") from None

    def readinto(self, buffer: Any) -> int:
        while not self._pending and not self._done:
            chunk = anyio.from_thread.run(self._next)
            if chunk is None:
                self._done = True
            else:
                self._pending = chunk
                self.received += len(chunk)
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


class _Writer(io.TextIOBase):
    """A text stream whose writes go, in pieces of about 64 KiB, to the response's queue."""

    def __init__(self, put: Callable[[bytes], None]) -> None:
        self._put = put
        self._parts: list[str] = []
        self._size = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._parts.append(text)
        self._size += len(text)
        if self._size >= 65536:
            self.flush()
        return len(text)

    def flush(self) -> None:
        if self._parts:
            self._put("".join(self._parts).encode("utf-8"))
            self._parts, self._size = [], 0


_END = object()


class Produced:
    """The output of ``write(out)``, run in its own thread, as an async iterator of bytes.

    A failure before the first byte is raised by ``first()`` (the route still answers with a proper
    error); a failure later ends the stream without its terminating chunk, so the client sees a
    broken transfer rather than a short export that looks whole.
    """

    def __init__(self, write: Callable[[IO[str]], Any]) -> None:
        self._pieces: queue.Queue[Any] = queue.Queue(maxsize=16)
        self._cancelled = threading.Event()
        self._write = write
        self._head: list[bytes] = []
        threading.Thread(target=self._run, name="samplectl-export", daemon=True).start()

    def _put(self, piece: Any) -> None:
        while not self._cancelled.is_set():
            try:
                self._pieces.put(piece, timeout=0.5)
                return
            except queue.Full:
                continue
        raise ConnectionAbortedError("the client went away")

    def _run(self) -> None:
        out = _Writer(self._put)
        try:
            self._write(out)  # type: ignore[arg-type]  # a text stream, as write_records takes
            out.flush()
        except ConnectionAbortedError:
            return
        except BaseException as exc:  # noqa: BLE001 - handed to the event loop's side, raised there
            with contextlib.suppress(ConnectionAbortedError):
                out.flush()
                self._put(exc)
            return
        with contextlib.suppress(ConnectionAbortedError):
            self._put(_END)

    async def _get(self) -> Any:
        piece = await anyio.to_thread.run_sync(self._pieces.get)
        if isinstance(piece, BaseException):
            raise piece
        return piece

    async def first(self) -> None:
        piece = await self._get()
        if piece is not _END:
            self._head.append(piece)
        else:
            self._head.append(b"")
            self._pieces.put(_END)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            for piece in self._head:
                yield piece
            while True:
                piece = await self._get()
                if piece is _END:
                    return
                yield piece
        finally:
            self._cancelled.set()

    def cancel(self) -> None:
        self._cancelled.set()


async def streamed(write: Callable[[IO[str]], Any], media_type: str, *, release: Callable[[], None]) -> StreamingResponse:
    """The response whose body ``write(out)`` produces in a thread of its own (exports, the audit trail, a plan).

    A failure before the first byte is raised here, so the route answers with a proper error; ``release``
    runs in that thread once it is done (it closes what the thread opened: an embedded store's connection).
    """

    def run(out: IO[str]) -> None:
        try:
            write(out)
        finally:
            release()

    produced = Produced(run)
    try:
        await produced.first()
    except BaseException:
        produced.cancel()
        raise
    return StreamingResponse(produced, media_type=media_type)
