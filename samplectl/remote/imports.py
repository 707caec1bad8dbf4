"""Imports and their undo through the server: the file streams up as the request body.

The client reads the file in 64 KiB pieces and sends each as it is read (chunked transfer), so its
memory does not grow with the file; the server checks rows as they arrive and answers with the
same summary and problems a local import reports.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import quote

from samplectl.domain.errors import SamplectlError
from samplectl.domain.identity import Identity
from samplectl.remote.client import ApiClient
from samplectl.remote.records import parse_time

if TYPE_CHECKING:
    from samplectl.services.importing import ImportOptions, Progress

PIECE = 64 * 1024


@dataclass
class RemoteImportReport:
    """What the server reported, in the shape the `import` command prints (services.importing.ImportReport)."""

    summary_body: dict[str, Any]
    problems: list[dict[str, Any]] = field(default_factory=list)
    problem_count: int = 0
    error: SamplectlError | None = None

    def summary(self) -> dict[str, Any]:
        return self.summary_body


SUMMARY_KEYS = ("batch_id", "read", "created", "updated", "skipped", "rejected", "seconds", "dry_run")


def _upload(source: IO[bytes], progress: Progress) -> Iterator[bytes]:
    """The file in pieces, counting lines (rows, near enough) and bytes for the progress bar."""
    sent = 0
    while True:
        piece = source.read(PIECE)
        if not piece:
            return
        sent += len(piece)
        progress.update(piece.count(b"\n"), sent)
        yield piece


@dataclass
class RemoteImportService:
    client: ApiClient
    identity: Identity
    tz: tzinfo
    progress: Progress | None = None
    notify: Callable[[str], None] | None = None

    def run(self, options: ImportOptions, stdin: IO[bytes] | None = None) -> RemoteImportReport:
        from samplectl.services.csvsource import CsvSource
        from samplectl.services.importing import NoProgress

        self.identity.require("technician", "importing samples")
        options.check()
        progress = self.progress or NoProgress()
        # The same checks of the file (exists, not a directory, known encoding) as a local import.
        source = CsvSource(options.path, encoding=options.encoding, stdin=stdin)
        params = [(name, value) for name, value in (
            ("dry_run", _flag(options.dry_run)), ("partial", _flag(options.partial)),
            ("on_conflict", options.on_conflict), ("allow_repeat", _flag(options.allow_repeat)),
            ("ignore_unknown", _flag(options.ignore_unknown)), ("date_format", options.date_format),
            ("encoding", options.encoding), ("reason", options.reason), ("file", source.name),
        ) if value is not None]
        raw: IO[bytes] = stdin if options.path == "-" and stdin is not None else _open(options.path)
        try:
            progress.phase("sending", source.size)
            response = self.client.request(
                "POST", "/imports", params=params, content=_upload(raw, progress), long=True,
                headers={"Content-Type": "text/csv"}, raise_errors=False,
            )
        finally:
            progress.done()
            if raw is not stdin:
                raw.close()
        return self._report(response)

    def _report(self, response: Any) -> RemoteImportReport:
        body = response.json()
        error = None
        if response.is_error:
            error = self.client.error_of(response)
            body = body.get("summary") or {}
        problems = list(body.get("problems") or [])
        summary = {key: body[key] for key in SUMMARY_KEYS if key in body}
        if not summary.get("dry_run"):
            summary.pop("dry_run", None)
        for notice in body.get("notices") or []:
            if self.notify is not None:
                self.notify(str(notice))
        return RemoteImportReport(summary, problems, int(body.get("problem_count") or len(problems)), error)


def _flag(value: bool) -> str | None:
    return "true" if value else None


def _open(path: str) -> IO[bytes]:
    from samplectl.domain.errors import ValidationFailed

    try:
        return open(path, "rb")  # noqa: SIM115 - closed once sent
    except OSError as exc:
        raise ValidationFailed(f"cannot read {path}: {exc.strerror or exc}") from None


@dataclass
class RemoteUndoResult:
    body: dict[str, Any]

    @property
    def already(self) -> str | None:
        return self.body.get("already")

    @property
    def kept(self) -> list[Any]:
        return list(self.body.get("kept") or [])

    @property
    def removed(self) -> int:
        return int(self.body.get("removed") or 0)

    def summary(self) -> dict[str, Any]:
        return self.body


@dataclass
class RemoteBatchUndo:
    client: ApiClient
    identity: Identity

    def batch(self, batch_id: str) -> dict[str, Any]:
        """The batch as the confirmation names it (``GET /imports/{id}``)."""
        body = dict(self.client.json("GET", f"/imports/{quote(batch_id.strip(), safe='')}"))
        body["started_at"] = parse_time(body.get("started_at"))
        return body

    def undo(self, batch_id: str, reason: str | None) -> RemoteUndoResult:
        params = {"reason": reason} if reason is not None else None
        return RemoteUndoResult(self.client.json("DELETE", f"/imports/{quote(batch_id.strip(), safe='')}",
                                                 params=params, long=True))

