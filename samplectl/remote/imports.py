"""Imports and their undo through the server: the file streams up as the request body.

The client reads the file in 64 KiB pieces and sends each as it is read (chunked transfer), so its
memory does not grow with the file; the server checks rows as they arrive and answers with the
same summary and problems a local import reports.
"""

from __future__ import annotations

import sys
import tempfile
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
MEDIA_TYPES = {"csv": "text/csv", "jsonl": "application/x-ndjson", "json": "application/json"}


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


class Upload:
    """The file in pieces, counting lines (rows, near enough) and bytes for the progress bar.

    ``whole`` says whether every piece was handed over: until then the server has not begun to write
    (it checks every row of the whole file first), so an interrupted upload leaves nothing behind.
    """

    def __init__(self, source: IO[bytes], progress: Progress, copy: IO[bytes] | None = None) -> None:
        self.source, self.progress, self.copy = source, progress, copy
        self.whole = False

    def __iter__(self) -> Iterator[bytes]:
        sent = 0
        while True:
            piece = self.source.read(PIECE)
            if not piece:
                self.whole = True
                return
            sent += len(piece)
            if self.copy is not None:
                self.copy.write(piece)
            self.progress.update(piece.count(b"\n"), sent)
            yield piece


class SentWholeInterrupted(KeyboardInterrupt):
    """Ctrl-C after the whole file reached the server: the server may still complete the import."""

    kept = ("the whole file had reached the server, which may still complete the import; run the same import "
            "again to find out: a file imported before is refused (exit 7), so nothing is imported twice")


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
        source = CsvSource(options.path, encoding=options.encoding, stdin=stdin, fmt=options.format,
                           delimiter=options.delimiter)
        params = [(name, value) for name, value in (
            ("dry_run", _flag(options.dry_run)), ("partial", _flag(options.partial)),
            ("on_conflict", options.on_conflict), ("allow_repeat", _flag(options.allow_repeat)),
            ("ignore_unknown", _flag(options.ignore_unknown)), ("date_format", options.date_format),
            ("encoding", options.encoding), ("reason", options.reason), ("file", source.name),
            # Dates without an offset are in this machine's zone, as a local import reads them.
            ("timezone", getattr(self.tz, "key", None)),
            # --format, else the file name's (None: the server tells it by the first character, as locally).
            ("format", source.format), ("delimiter", source.delimiter),
        ) if value is not None] + [("fill", box) for box in options.fill]
        from_stdin = options.path == "-"
        raw: IO[bytes] = (stdin or sys.stdin.buffer) if from_stdin else _open(options.path)
        # Standard input is read once; --errors FILE needs its rows again afterwards.
        spool = (tempfile.TemporaryFile(prefix="samplectl-import-")  # noqa: SIM115 - closed below
                 if from_stdin and options.errors_path else None)
        try:
            progress.phase("sending", source.size)
            upload = Upload(raw, progress, spool)
            try:
                response = self.client.request(
                    "POST", "/imports", params=params, content=iter(upload), long=True,
                    headers={"Content-Type": MEDIA_TYPES.get(source.format or "", "application/octet-stream")},
                    raise_errors=False,
                )
            except KeyboardInterrupt:
                if upload.whole and not options.dry_run:
                    raise SentWholeInterrupted from None
                raise  # the server had not begun to write: nothing of this import was kept
            report = self._report(response)
            if options.errors_path:
                _write_rejected(options, spool, report)
        finally:
            progress.done()
            if not from_stdin:
                raw.close()
            if spool is not None:
                spool.close()
        return report

    def _report(self, response: Any) -> RemoteImportReport:
        body = response.json()
        error = None
        if response.is_error:
            error = self.client.error_of(response)
            if not isinstance(body.get("summary"), dict):
                raise error  # the file itself was refused (empty, unreadable): no summary, as locally
            body = body["summary"]
        problems = list(body.get("problems") or [])
        summary = {key: body[key] for key in SUMMARY_KEYS if key in body}
        if not summary.get("dry_run"):
            summary.pop("dry_run", None)
        for notice in body.get("notices") or []:
            if self.notify is not None:
                self.notify(str(notice))
        return RemoteImportReport(summary, problems, int(body.get("problem_count") or len(problems)), error)


# How the server's hint offers --errors, and what a local import says instead once it was given.
ERRORS_OFFER = " (--errors FILE saves the rejected rows with their reasons)"


def _write_rejected(options: ImportOptions, spool: IO[bytes] | None, report: RemoteImportReport) -> None:
    """--errors FILE: the rejected rows as they are in the file, with line and reason (services.rejects).

    The server reports each rejected row's line and problems; the rows themselves are read again
    here, from the file (or from the copy of standard input kept while it was sent).
    """
    from samplectl.services.csvsource import CsvSource
    from samplectl.services.rejects import RejectedRows

    assert options.errors_path is not None
    by_line: dict[int, list[dict[str, Any]]] = {}
    for problem in report.problems:
        if isinstance(problem.get("line"), int):
            by_line.setdefault(problem["line"], []).append(problem)
    if spool is not None:
        spool.seek(0)
    source = CsvSource(options.path, encoding=options.encoding, stdin=spool)
    try:
        with source.read() as csv_pass:
            header = csv_pass.read_header() or []
            rejects = RejectedRows.open(options.errors_path, header)
            try:
                for line, cells in csv_pass.rows() if by_line else ():
                    if line in by_line:
                        rejects.write(line, cells, by_line[line])
            finally:
                rejects.close()
    finally:
        source.close()
    if report.error is not None and report.error.hint:
        # The server offered --errors, which it cannot write here: the hint a local run gives with it.
        from samplectl.services.importing import PARTIAL_HINT, reimport_hint

        if report.error.hint == PARTIAL_HINT:
            report.error.hint = reimport_hint(options.errors_path)
        keep = f"; the rejected rows are in {options.errors_path}"
        report.error.hint = report.error.hint.replace(ERRORS_OFFER, keep)
    if report.problem_count > len(report.problems) and report.error is not None:
        report.error.message += f" (--errors holds the first {len(report.problems)} the server listed)"


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
        return {key: value for key, value in self.body.items() if key != "already"}


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

