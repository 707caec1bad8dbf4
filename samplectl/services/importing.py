"""Importing samples from a CSV file: check every row first, then write them as one batch.

The file is read twice. The first pass validates every row (and, unless this is a dry run,
looks up ids that may already exist) without writing anything; only if it passes (or with
``--partial``) does the second pass write, re-validating each row on the way, so that no row
has to be held in memory between the passes. Ids repeated inside the file are found from
their hashes on the first pass and confirmed on a second one (see ``rowcheck.SeenIds``).

On the embedded store the whole write pass is one SQLite transaction: killed half-way, the
import leaves nothing behind. There a good file is read once (``_write_in_one_pass``): each row
is checked and written in that one transaction, which commits only if every row was good; at
the first problem it is dropped and the import runs in the two passes above, which report every
problem. On MongoDB, where a standalone server has no transactions, the batch is marked
``running`` while it writes; the next import finds it and rolls it back (``services.batchundo``).
"""

from __future__ import annotations

import heapq
import os
import secrets
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import IO, Any, Protocol

from samplectl.domain.dates import to_millisecond, utc_now
from samplectl.domain.errors import Conflict, SamplectlError, UsageError, ValidationFailed
from samplectl.domain.identity import Identity
from samplectl.domain.sample import transition_allowed
from samplectl.domain.storage import parse_path
from samplectl.domain.text import check_reason, shorten
from samplectl.services.batchundo import BatchUndo
from samplectl.services.batchwriter import BatchWriter, Valid
from samplectl.services.csvsource import CsvPass, CsvSource, is_blank
from samplectl.services.rejects import RejectedRows
from samplectl.services.rowcheck import (
    COLUMN_LIST,
    Problem,
    RepeatedIds,
    RowChecker,
    SeenIds,
    map_header,
    repeated_problem,
)
from samplectl.services.samples import diff
from samplectl.services.storage import Placer, place_fields
from samplectl.stores.audit import AuditLog
from samplectl.stores.batches import COMPLETE, ROLLED_BACK, BatchStore
from samplectl.stores.samples import SampleStore

CHUNK = 2000  # rows looked up and written together
MAX_PROBLEMS = 1000  # problems kept for the report; --errors FILE gets every rejected row
ON_CONFLICT = ("fail", "skip", "update")

ROW_BYTES = 100  # a row of a seed-shaped file (99 bytes): how many rows a file of its size holds, roughly
Rejected = tuple[int, list[str], list[Problem]]  # line, cells, what is wrong


class _TwoPasses(Exception):  # noqa: N818 - not an error: the one-pass import hands over to the usual two
    """The one-pass import met a problem: it keeps nothing, and the import is made in two passes."""


@dataclass
class Chunk:
    read: int
    valid: list[Valid]  # kept only when the caller needs them
    bad: list[Rejected]


class Progress(Protocol):
    """Where an import reports how far it got (the CLI draws a bar; tests and scripts ignore it)."""

    def phase(self, name: str, total_bytes: int | None) -> None: ...
    def update(self, rows: int, bytes_read: int) -> None: ...
    def done(self, finished: bool = True) -> None: ...  # finished=False: stopped early, shown where it stopped


class NoProgress:
    def phase(self, name: str, total_bytes: int | None) -> None:
        pass

    def update(self, rows: int, bytes_read: int) -> None:
        pass

    def done(self, finished: bool = True) -> None:
        pass


@dataclass(frozen=True)
class ImportOptions:
    path: str
    dry_run: bool = False
    partial: bool = False
    on_conflict: str = "fail"
    allow_repeat: bool = False
    ignore_unknown: bool = False
    date_format: str | None = None
    encoding: str | None = None
    errors_path: str | None = None
    reason: str | None = None
    format: str | None = None  # csv, jsonl or json; None: from the file name, else its first character
    delimiter: str | None = None  # None: detected from the header
    name: str | None = None  # the file's name in the batch and in messages, when path is "-" (the server's body)

    fill: tuple[str, ...] = ()  # import --fill BOX...: rows placed in the next free positions, in order

    def check(self) -> None:
        if self.fill and self.on_conflict == "update":
            raise UsageError("--fill places new samples; it cannot go with --on-conflict update",
                             hint="use --on-conflict fail or skip, or give positions in a position column")
        if self.reason is not None:
            object.__setattr__(self, "reason", check_reason(self.reason))  # frozen: trimmed once, here
        if self.on_conflict not in ON_CONFLICT:
            raise ValidationFailed(
                f"--on-conflict {self.on_conflict!r} is not allowed; expected one of: {', '.join(ON_CONFLICT)}",
                details=[{"line": None, "column": "--on-conflict", "value": self.on_conflict, "message": "not allowed"}],
            )
        if self.date_format is not None and "%" not in self.date_format:
            raise ValidationFailed(
                f"--date-format {self.date_format!r} has no strftime codes",
                hint="for example --date-format %d/%m/%Y or --date-format '%d/%m/%Y %H:%M'",
            )
        if (self.errors_path and os.path.exists(self.errors_path) and os.path.exists(self.path)
                and os.path.samefile(self.errors_path, self.path)):
            raise UsageError("--errors names the file being imported", hint="write the rejected rows elsewhere")


@dataclass
class ImportReport:
    """What an import did; ``summary()`` is the contract's closing summary."""

    batch_id: str | None = None
    read: int = 0
    valid: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    invalid_rows: int = 0  # rejected for what they hold (exit 6)
    conflict_rows: int = 0  # rejected because of what is stored (exit 7)
    seconds: float = 0.0
    dry_run: bool = False
    problems: list[Problem] = field(default_factory=list)  # the first MAX_PROBLEMS, in line order
    problem_count: int = 0
    error: SamplectlError | None = None  # raised by the CLI once the summary is out
    notices: list[str] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return self.invalid_rows + self.conflict_rows

    def summary(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "read": self.read,
            "created": self.created,
            "updated": self.updated,
            "skipped": self.skipped,
            "rejected": self.rejected,
            "seconds": round(self.seconds, 3),
            "dry_run": self.dry_run,
        }

    def reject(self, problems: list[Problem]) -> None:
        self.problem_count += len(problems)
        room = MAX_PROBLEMS - len(self.problems)
        if room > 0:
            self.problems.extend(problems[:room])


@dataclass
class ImportService:
    store: SampleStore
    audit: AuditLog
    batches: BatchStore
    identity: Identity
    tz: tzinfo
    clock: Callable[[], datetime] = utc_now
    progress: Progress = field(default_factory=NoProgress)
    notify: Callable[[str], None] = lambda message: None  # warnings for the person, as they happen
    placer: Placer | None = None  # positions and --fill (storage geometry)
    _positions: dict[str, int] = field(default_factory=dict)  # position -> first line, in one pass

    # -- the whole import -------------------------------------------------------------------
    def run(self, options: ImportOptions, stdin: IO[bytes] | None = None) -> ImportReport:
        self.identity.require("technician", "importing samples")
        options.check()
        if options.fill:
            for box in options.fill:  # unknown boxes and non-boxes are refused before any reading
                self._placer().holder(parse_path(box, what="--fill box"))
        started = time.perf_counter()
        now = to_millisecond(self.clock())
        source = CsvSource(options.path, encoding=options.encoding, stdin=stdin, fmt=options.format,
                           delimiter=options.delimiter, ignore_unknown=options.ignore_unknown, name=options.name)
        finished = False
        try:
            notices = self._prepare() if not options.dry_run else []
            done = self._write_in_one_pass(source, options, now) if self._one_pass(options) else None
            if done is not None:
                report = done
            else:
                report, checker, repeated = self._check_file(source, options, now)
                if not options.dry_run:
                    self._refuse_repeat(source, options)
                    if report.valid and (not report.rejected or options.partial):
                        self._write(source, options, checker, repeated, now, report)
            report.notices = notices
            finished = True
        finally:
            source.close()
            self.progress.done(finished)  # interrupted or failed: the bar stays where it stopped
        report.seconds = time.perf_counter() - started
        report.error = _outcome(report, options)
        return report

    def _prepare(self) -> list[str]:
        """Before writing: indexes in place, and batches that an earlier process left half-done rolled back."""
        for store in (self.store, self.audit, self.batches):
            store.ensure_indexes()
        undo = BatchUndo(self.store, self.audit, self.batches, self.identity, self.clock)
        notices = []
        for batch, removed in undo.recover_interrupted():
            notices.append(
                f"import batch {batch['batch_id']} of {batch.get('file')} (started {batch['started_at']:%Y-%m-%d %H:%M} "
                f"by {batch.get('user')}) was interrupted; rolled back"
                + (f", removing the {removed} samples it had written" if removed else ": nothing of it was kept")
            )
            self.notify(notices[-1])  # now: the import that follows may fail for reasons of its own
        return notices

    # -- pass 1: check ----------------------------------------------------------------------
    def _check_file(
        self, source: CsvSource, options: ImportOptions, now: datetime
    ) -> tuple[ImportReport, RowChecker, set[int]]:
        seen = SeenIds()
        report = ImportReport(dry_run=options.dry_run)
        try:
            checker = self._scan(source, options, now, report, seen=seen)
            repeated = seen.repeated()
        finally:
            seen.close()
        if repeated:
            # Some ids (or at least their hashes) repeat: read again, comparing those ids exactly.
            report = ImportReport(dry_run=options.dry_run)
            checker = self._scan(source, options, now, report, repeated=RepeatedIds(repeated), make_id=checker.make_id)
        return report, checker, repeated

    def _scan(
        self,
        source: CsvSource,
        options: ImportOptions,
        now: datetime,
        report: ImportReport,
        *,
        seen: SeenIds | None = None,
        repeated: RepeatedIds | None = None,
        make_id: Any = None,
    ) -> RowChecker:
        self.progress.phase("checking" if repeated is None else "rechecking", source.size)
        # A dry run looks ids up under every --on-conflict, to count what the import would do; into an
        # empty store every valid row would be created, which needs no look-up at all.
        empty_dry_run = options.dry_run and self._store_is_empty()
        lookups = (options.dry_run or options.on_conflict != "skip") and not empty_dry_run
        self._positions = {}
        with source.read() as csv_pass:
            checker = self._checker(csv_pass, options, now, make_id)
            placed = "position" in checker.fields
            rejects = RejectedRows.open(options.errors_path, csv_pass.header or []) if options.errors_path else None
            try:
                for chunk in self._chunks(csv_pass, checker, seen=seen, repeated=repeated,
                                          keep_valid=lookups or placed):
                    refused = self._conflicts(chunk.valid, options, report) if lookups else []
                    if placed:
                        refused = self._occupied(chunk, refused)
                    report.read += chunk.read
                    report.invalid_rows += len(chunk.bad)
                    report.conflict_rows += len(refused)
                    report.valid += chunk.read - len(chunk.bad) - len(refused)
                    for line, cells, problems in heapq.merge(chunk.bad, refused) if refused else chunk.bad:
                        report.reject(problems)
                        if rejects is not None:
                            rejects.write(line, cells, problems)
            finally:
                if rejects is not None:
                    rejects.close()
        if empty_dry_run:
            report.created = report.valid
        return checker

    def _store_is_empty(self) -> bool:
        from samplectl.domain.criteria import Criteria, Sort

        return next(iter(self.store.find(Criteria(), Sort("sample_id", descending=False), 1)), None) is None

    def _checker(self, csv_pass: CsvPass, options: ImportOptions, now: datetime, make_id: Any) -> RowChecker:
        header = csv_pass.read_header()
        if header is None:
            raise ValidationFailed(
                f"{_named(csv_pass.source.path)} is empty: an import needs at least a header row",
                hint=f"the first line names the columns: {COLUMN_LIST}",
            )
        columns = map_header(header, ignore_unknown=options.ignore_unknown, line=csv_pass.header_line,
                             filled=bool(options.fill))
        place = None
        if options.fill:
            if "position" in columns.fields:
                raise UsageError("--fill places every row: the file cannot have a position column as well",
                                 hint="drop --fill to use the file's positions, or drop the column")
            place = _filled(parse_path(options.fill[0], what="--fill box"))
        elif "position" in columns.fields:
            place = _resolver(self._placer())
        return RowChecker(columns, tz=self.tz, now=now, date_format=options.date_format, make_id=make_id,
                          place=place)

    def _placer(self) -> Placer:
        if self.placer is None:
            raise UsageError("positions need the storage containers, which this import was built without")
        return self.placer

    def _occupied(self, chunk: Chunk, refused: list[Rejected]) -> list[Rejected]:
        """Rows whose position another sample holds (7), or an earlier row of the file takes (6).

        Told now, with every other problem; the store's unique index still refuses a position taken
        between this check and the write (the whole import then stops: 7).
        """
        skip = {line for line, _cells, _problems in refused}
        rows = [(line, cells, sample) for line, cells, sample in chunk.valid if sample.get("position") and line not in skip]
        if not rows:
            return refused
        held = self.store.occupants([str(sample["position"]) for _l, _c, sample in rows])
        found = list(refused)
        moved_in = 0
        for line, cells, sample in rows:
            position = str(sample["position"])
            occupant = held.get(position)
            first = self._positions.setdefault(position, line)
            if first != line:
                problem = {"line": line, "column": "position", "value": position,
                           "message": f"position {position} is also on line {first}: one sample per position"}
                chunk.bad.append((line, cells, [problem]))
                moved_in += 1
            elif occupant is not None and occupant != sample["sample_id"]:
                found.append((line, cells, [{"line": line, "column": "position", "value": position,
                                             "message": f"position {position} is taken by sample {occupant}"}]))
        if moved_in:
            chunk.bad.sort(key=lambda r: r[0])
        return sorted(found, key=lambda r: r[0])

    def _chunks(
        self,
        csv_pass: CsvPass,
        checker: RowChecker,
        *,
        seen: SeenIds | None = None,
        repeated: RepeatedIds | None = None,
        keep_valid: bool = True,
    ) -> Iterator[Chunk]:
        """The rows of the file, checked, CHUNK at a time.

        The hot loop of an import, run once or twice per row of a file of millions: it reads the
        CSV reader itself and inlines the id bookkeeping, since each Python call here costs
        about 1% of the whole dry run.
        """
        reader = csv_pass.reader
        check = checker.check
        buckets = seen.buckets if seen is not None else None
        mask = SeenIds.BUCKETS - 1
        earlier = repeated.earlier_line if repeated is not None else None
        valid: list[Valid] = []
        bad: list[Rejected] = []
        count = 0
        previous = reader.line_num
        with csv_pass.errors():
            for cells in reader:
                line = previous + 1
                previous = reader.line_num
                if not cells or (not cells[0].strip() and is_blank(cells)):
                    continue
                count += 1
                sample, problems, given = check(line, cells)
                if given is not None:
                    if buckets is not None:
                        h = hash(given)
                        buckets[h & mask].append(h)
                    elif earlier is not None and (first := earlier(given, line)) is not None:
                        problems = [*(problems or ()), repeated_problem(line, given, first)]
                if problems is not None:
                    bad.append((line, cells, problems))
                elif keep_valid:
                    valid.append((line, cells, sample))  # type: ignore[arg-type]
                if count >= CHUNK:
                    yield self._chunk(csv_pass, seen, count, valid, bad)
                    valid, bad, count = [], [], 0
        if count:
            yield self._chunk(csv_pass, seen, count, valid, bad)
        csv_pass.finish()

    def _chunk(self, csv_pass: CsvPass, seen: SeenIds | None, count: int, valid: list[Valid],
               bad: list[Rejected]) -> Chunk:
        if seen is not None:
            seen.added(count)
        self.progress.update(count, csv_pass.bytes_read)
        return Chunk(count, valid, bad)

    def _conflicts(self, valid: list[Valid], options: ImportOptions, report: ImportReport) -> list[Rejected]:
        """Rows the store refuses: an existing id under ``fail``, a lifecycle break under ``update``.

        A dry run also counts what the import would do with the others: create, update or skip.
        """
        on_conflict = options.on_conflict
        given = {sample["sample_id"]: (line, cells, sample) for line, cells, sample in valid}
        existing = self.store.existing(list(given)) if given else {}
        refused: list[Rejected] = []
        if options.dry_run:
            report.created += len(given) - len(existing)
        for sample_id, current in existing.items():
            line, cells, sample = given[sample_id]
            if on_conflict == "skip":
                report.skipped += 1
                continue
            if on_conflict == "fail":
                problem = {"line": line, "column": "sample_id", "value": sample_id,
                           "message": f"sample_id {sample_id!r} already exists"}
            elif not transition_allowed(current["status"], sample["status"]):
                problem = {"line": line, "column": "status", "value": sample["status"],
                           "message": f"status cannot change from {current['status']} to {sample['status']} "
                                      f"(sample {sample_id!r})"}
            else:
                if options.dry_run:  # as the writer decides: an update that changes nothing is a skip
                    changed = diff(current, sample)
                    report.updated += bool(changed)
                    report.skipped += not changed
                continue
            refused.append((line, cells, [problem]))
        return sorted(refused, key=lambda r: r[0])

    def _refuse_repeat(self, source: CsvSource, options: ImportOptions) -> None:
        earlier = self.batches.completed_with_sha256(source.sha256 or "")
        if earlier is None or options.allow_repeat:
            return
        counts = earlier.get("counts") or {}
        raise Conflict(
            f"this file was already imported: batch {earlier['batch_id']} on {earlier['started_at']:%Y-%m-%d %H:%M} "
            f"by {earlier.get('user')} ({counts.get('created', 0)} created)",
            hint="to import it again anyway, add --allow-repeat (with --on-conflict skip, rows already there "
            f"are left alone); `samplectl import undo {earlier['batch_id']}` removes the earlier batch",
        )

    # -- the embedded store: check and write in one pass --------------------------------------
    def _one_pass(self, options: ImportOptions) -> bool:
        """Whether to check and write in one pass (see ``_write_in_one_pass``): on a store whose
        transaction is all-or-nothing, for an import that refuses every existing id (the default) and
        writes nothing unless every row is good (no --partial); --fill and positions place rows
        in the order of the whole file, checked first."""
        return self.store.atomic and not options.dry_run and options.on_conflict == "fail" \
            and not options.partial and not options.fill

    def _write_in_one_pass(self, source: CsvSource, options: ImportOptions, now: datetime) -> ImportReport | None:
        """Check and write each row in one pass, in one transaction; None: nothing was kept, import in two.

        "Every row is validated before anything is written": inside the transaction nothing is
        written for anyone else until it commits, which it does only when every row was good. At
        the first problem of any kind (an invalid row, an id that exists or repeats, a file read
        before, an unreadable line) the transaction and the batch record are dropped and the import
        starts again the usual way, whose first pass finds and reports every problem. A good file is
        read, parsed and checked once instead of twice; a bad one costs the rows up to its first problem.
        """
        report = ImportReport()
        with source.read() as csv_pass:
            checker = self._checker(csv_pass, options, now, None)
            if "position" in checker.fields:
                return None
            batch_id = self._start_batch(source, options, now, report)
            writer = BatchWriter(self.store, self.audit, self.batches, self.identity.username, self.clock,
                                 options, batch_id, now, report)
            incoming = (source.size or 0) // ROW_BYTES  # a guess: indexes may be rebuilt after (bulk_load)
            try:
                # The writer looks no id up (an existing or repeated id is refused by the store): into
                # an empty store, even the id index is built after the load, which then refuses a repeat.
                with (self.store.transaction(), self.store.bulk_load(incoming, lookups=writer.look_up),
                      self.audit.bulk_load(incoming)):
                    self.progress.phase("importing", source.size)
                    for chunk in self._chunks(csv_pass, checker):
                        if chunk.bad:
                            raise _TwoPasses
                        report.read += chunk.read
                        report.valid += chunk.read
                        writer.write(chunk.valid)
                    earlier = self.batches.completed_with_sha256(source.sha256 or "")
                    if not report.read or writer.refused or earlier is not None and not options.allow_repeat:
                        raise _TwoPasses
                    self._complete(batch_id, report, sha256=source.sha256)  # known now the file is read
            except (_TwoPasses, ValidationFailed, Conflict):
                self.batches.forget(batch_id)  # it wrote nothing: the two passes tell what the file holds
                return None
            except BaseException:
                self._abandon(batch_id)
                raise
        return report

    def _start_batch(self, source: CsvSource, options: ImportOptions, now: datetime, report: ImportReport) -> str:
        """The batch's record, marked running (committed before the first write: see BatchUndo)."""
        batch_id = f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"
        self.batches.start(
            {
                "batch_id": batch_id, "user": self.identity.username, "started_at": now, "heartbeat_at": now,
                "file": source.name, "path": os.path.abspath(source.path) if source.path != "-" else "-",
                "sha256": source.sha256, "size": source.size, "on_conflict": options.on_conflict,
                "partial": options.partial, "host": socket.gethostname(), "pid": os.getpid(),
            }
        )
        report.batch_id = batch_id
        return batch_id

    def _complete(self, batch_id: str, report: ImportReport, **fields: Any) -> None:
        self.batches.update(
            batch_id, state=COMPLETE, finished_at=to_millisecond(self.clock()),
            counts={"read": report.read, "created": report.created, "updated": report.updated,
                    "skipped": report.skipped, "rejected": report.rejected}, **fields,
        )

    # -- pass 2: write ----------------------------------------------------------------------
    def _write(
        self,
        source: CsvSource,
        options: ImportOptions,
        checker: RowChecker,
        repeated: set[int],
        now: datetime,
        report: ImportReport,
    ) -> None:
        batch_id = self._start_batch(source, options, now, report)
        writer = BatchWriter(self.store, self.audit, self.batches, self.identity.username, self.clock,
                             options, batch_id, now, report)
        if options.fill:
            # Where each new sample goes, decided before the write (7 if the boxes have too little room).
            writer.placements = iter(self._placer().fill(options.fill, report.valid))
        try:
            with (self.store.transaction(), self.store.bulk_load(report.valid, lookups=writer.look_up),
                  self.audit.bulk_load(report.valid)):
                self.progress.phase("importing", source.size)
                with source.read() as csv_pass:
                    self._checker(csv_pass, options, now, checker.make_id)
                    again = RepeatedIds(repeated) if repeated else None
                    placed = "position" in checker.fields
                    self._positions = {}
                    for chunk in self._chunks(csv_pass, checker, repeated=again):
                        if placed:  # --partial: rows refused for their position in pass 1 stay out
                            refused = {line for line, _c, _p in self._occupied(chunk, [])}
                            chunk.valid = [row for row in chunk.valid if row[0] not in refused
                                           and self._positions.get(str(row[2].get("position")), row[0]) == row[0]]
                        writer.write(chunk.valid)
                report.conflict_rows = writer.refused
                self._complete(batch_id, report)
        except BaseException:
            self._abandon(batch_id)
            raise

    def _abandon(self, batch_id: str) -> None:
        """After a failed write: take back what the batch wrote (nothing is left on the embedded store)."""
        try:
            if not self.store.atomic:
                BatchUndo(self.store, self.audit, self.batches, self.identity, self.clock).roll_back(batch_id)
            self.batches.update(batch_id, state=ROLLED_BACK)
        except Exception:  # noqa: BLE001 - the next import rolls it back; report the first failure
            pass


def _filled(stand_in: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """import --fill, while checking: a row's place is chosen at the write; until then its location is the first box."""
    def place(data: dict[str, Any]) -> dict[str, Any]:
        data["storage_location"] = stand_in
        return data

    return place


def _resolver(placer: Placer) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A file's position column: a blank cell leaves the row unplaced (its storage_location stands)."""
    def place(data: dict[str, Any]) -> dict[str, Any]:
        position = data.get("position")
        if position is None or not position.strip():
            data.pop("position", None)
            return data
        location = data.get("storage_location")
        if location is not None and not location.strip():
            del data["storage_location"]
        return place_fields(placer, data)

    return place


def _named(path: str) -> str:
    # The path as given: `import <(cmd)` reads /dev/fd/63, and "63 is empty" names nothing anyone typed.
    return "standard input" if path == "-" else shorten(path)


def _quoted(path: str) -> str:
    import shlex

    return shlex.quote(path)


PARTIAL_HINT = "fix the rejected rows and import them (--errors FILE saves them with their reasons)"


def reimport_hint(errors_path: str) -> str:
    """After --partial --errors FILE: how to import the rejected rows once fixed."""
    # The rejected rows' file carries two more columns (line, reason): --ignore-unknown skips them.
    return f"fix the rows in {errors_path}, then import it: samplectl import {_quoted(errors_path)} --ignore-unknown"


def _outcome(report: ImportReport, options: ImportOptions) -> SamplectlError | None:
    """The error (and exit code) an import ends with, once its summary is printed."""
    if not report.rejected:
        return None
    kind: type[SamplectlError] = ValidationFailed if report.invalid_rows else Conflict
    n, read = report.rejected, report.read
    rows = "rows" if read != 1 else "row"
    if report.invalid_rows:
        what = f"{n} of {read} {rows} {'is' if n == 1 else 'are'} invalid"
    elif options.on_conflict == "update":
        what = f"{n} of {read} {rows} would break the status lifecycle"
    else:
        what = f"{n} of {read} {rows} {'has an id that' if n == 1 else 'have ids that'} already exist"
    listed = "" if report.problem_count <= len(report.problems) else f" (the first {len(report.problems)} problems are listed)"
    keep = f"; the rejected rows are in {options.errors_path}" if options.errors_path else ""
    if options.dry_run:
        message, hint = f"{what}{listed}", "fix them, or import with --partial to write only the valid rows"
    elif options.partial and report.batch_id:
        written = report.created + report.updated
        message = f"{what}; the other rows were imported ({written} written, batch {report.batch_id}){listed}"
        hint = reimport_hint(options.errors_path) if options.errors_path else PARTIAL_HINT
    else:
        message = f"{what}; nothing was imported{listed}"
        if report.invalid_rows:
            hint = f"fix them and import again, or add --partial to import the {report.valid} valid rows"
        elif options.on_conflict == "update":
            hint = "an admin can change those statuses with `samplectl update --force --reason`"
        else:
            hint = "add --on-conflict skip to keep the stored samples, or --on-conflict update to overwrite them"
        hint += keep or " (--errors FILE saves the rejected rows with their reasons)"
    return kind(message, hint=hint, details=report.problems)
