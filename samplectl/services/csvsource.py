"""Reading an import file: bytes, encoding, format, physical lines and records, in passes.

Formats: CSV with its delimiter detected from the header among `,` `;` TAB `|` (spreadsheets
save with the one their locale uses; `--delimiter` overrides), JSON Lines and a JSON array of
objects (``jsonsource``). The format is given, else told by the file's name, else by its first
character (`[` or `{` is JSON).

An import reads its file more than once (validate everything first, then write), so a source
can be opened again: a named file is re-read (and must not change meanwhile); standard input is
copied to a temporary spool file on the first pass. Every pass hashes what it reads (SHA-256
identifies the file for its batch) and counts bytes for the progress bar. Lines are physical
lines of the file, as an editor numbers them: a quoted value spanning lines counts each one.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import hashlib
import io
import itertools
import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from typing import IO, Any

from samplectl.domain.errors import ValidationFailed

READ_CHUNK = 1 << 16
DEFAULT_ENCODING = "utf-8-sig"  # UTF-8 with or without a byte order mark
STDIN = "-"
FORMATS = ("csv", "jsonl", "json")
DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
_SUFFIXES = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json"}


def check_format(name: str | None) -> str | None:
    if name is None:
        return None
    fmt = name.strip().lower()
    if fmt not in FORMATS:
        raise ValidationFailed(f"--format {name!r} is not an import format", hint=f"use one of: {', '.join(FORMATS)}")
    return fmt


def check_delimiter(given: str | None) -> str | None:
    if given is None:
        return None
    delimiter = DELIMITER_NAMES.get(given.lower(), given)
    if len(delimiter) != 1 or delimiter in ('"', "\r", "\n") or delimiter.isalnum():
        raise ValidationFailed(f"--delimiter {given!r} is not one character", hint="for example ';', '|' or tab")
    return delimiter


def detect_delimiter(header_line: str) -> str:
    """The candidate the header line holds most often (a header of one column: a comma)."""
    counts = [(header_line.count(d), d) for d in DELIMITERS]
    best = max(counts, key=lambda c: c[0])
    return best[1] if best[0] else ","


def format_of_name(path: str) -> str | None:
    return None if path == STDIN else _SUFFIXES.get(os.path.splitext(path)[1].lower())


class _Tap(io.BufferedIOBase):
    """Hands the decoder bytes as they are read, hashing, counting and (for stdin) spooling them."""

    def __init__(self, source: IO[bytes], spool: IO[bytes] | None) -> None:
        self.source = source
        self.spool = spool
        self.sha = hashlib.sha256()
        self.bytes = 0
        self.last = b""  # the chunk read last: a decoding error lies in it
        self.lines_before_last = 0

    def readable(self) -> bool:
        return True

    def read1(self, size: int = -1) -> bytes:
        data = self.source.read(READ_CHUNK if size is None or size < READ_CHUNK else size)
        self.lines_before_last += self.last.count(b"\n")
        self.last = data
        self.sha.update(data)
        self.bytes += len(data)
        if self.spool is not None:
            self.spool.write(data)
        return data

    read = read1  # type: ignore[assignment]

    def line_of(self, exc: UnicodeDecodeError) -> int:
        """The physical line holding the byte a decoder refused.

        The decoder was working on the chunk just read, plus at most a few bytes of an
        incomplete character before it, so the failing offset is counted from the chunk's end.
        """
        offset = self.bytes - len(exc.object) + exc.start
        within = max(0, offset - (self.bytes - len(self.last)))
        return self.lines_before_last + self.last[:within].count(b"\n") + 1


class CsvSource:
    """A CSV file (or ``-`` for standard input) that can be read several times."""

    def __init__(self, path: str, *, encoding: str | None = None, stdin: IO[bytes] | None = None,
                 fmt: str | None = None, delimiter: str | None = None, ignore_unknown: bool = False,
                 name: str | None = None) -> None:
        self.path = path
        self.name = name or ("<stdin>" if path == STDIN else os.path.basename(path))
        self.encoding = _check_encoding(encoding or DEFAULT_ENCODING)
        self.format = check_format(fmt) or format_of_name(path)  # None: told by the first character
        self.delimiter = check_delimiter(delimiter)  # None: detected from the header
        self.ignore_unknown = ignore_unknown
        self._stdin = stdin
        self._spool: IO[bytes] | None = None
        self.sha256: str | None = None
        self.size: int | None = None
        self._check_readable()

    def _check_readable(self) -> None:
        if self.path == STDIN:
            return
        try:
            mode = os.stat(self.path).st_mode
        except OSError as exc:
            raise ValidationFailed(
                f"cannot read {self.path}: {exc.strerror or exc}",
                hint="check the file name; use - to read standard input",
            ) from None
        if stat.S_ISDIR(mode):
            raise ValidationFailed(f"{self.path} is a directory, not a CSV file", hint="name a .csv file")
        if stat.S_ISREG(mode):
            self.size = os.stat(self.path).st_size

    def _open_bytes(self) -> tuple[IO[bytes], IO[bytes] | None]:
        """The bytes to read on this pass, and a spool to copy them into (first pass of stdin)."""
        if self.path != STDIN:
            try:
                return open(self.path, "rb", buffering=0), None  # noqa: SIM115 - closed by the pass
            except OSError as exc:
                raise ValidationFailed(f"cannot read {self.path}: {exc.strerror or exc}") from None
        if self._spool is not None:
            self._spool.seek(0)
            return self._spool, None
        stdin = self._stdin if self._stdin is not None else sys.stdin.buffer
        try:
            st = os.fstat(stdin.fileno())
            if stat.S_ISREG(st.st_mode):
                self.size = st.st_size
        except (OSError, ValueError, io.UnsupportedOperation):
            pass
        self._spool = tempfile.TemporaryFile(prefix="samplectl-import-")  # noqa: SIM115 - closed in close()
        return stdin, self._spool

    def read(self) -> CsvPass:
        """Start a pass over the file from its first byte."""
        source, spool = self._open_bytes()
        return CsvPass(self, source, spool)

    def finished_pass(self, digest: str) -> None:
        if self.sha256 is None:
            self.sha256 = digest
        elif digest != self.sha256:
            raise ValidationFailed(
                f"{self.path} changed while it was being imported",
                hint="let whatever writes the file finish, then import it again",
            )

    def close(self) -> None:
        if self._spool is not None:
            self._spool.close()
            self._spool = None


def is_blank(cells: list[str]) -> bool:
    """A blank line reads as [], a spreadsheet's empty row as ['', '', ...]."""
    return not cells or (not cells[0].strip() and not any(c.strip() for c in cells))


def _check_encoding(name: str) -> str:
    try:
        info = codecs.lookup(name)
        # rot13, base64, hex, zlib... are codecs but not text encodings (io refuses them: exit 1);
        # punycode and idna decode host names, not files.
        if not getattr(info, "_is_text_encoding", True) or info.name in ("punycode", "idna"):
            raise LookupError(name)
    except LookupError:
        raise ValidationFailed(
            f"--encoding {name!r} is not a known text encoding",
            hint="for example utf-8, cp1252 (Excel on Windows), latin-1 or utf-16",
            details=[{"line": None, "column": "--encoding", "value": name, "message": "unknown encoding"}],
        ) from None
    return name


class CsvPass:
    """One pass: the header, then ``(line, cells)`` for every record that is not blank.

    ``reader`` yields each record's cells and counts physical lines in ``line_num``, as a csv
    reader does, whatever the file's format.
    """

    def __init__(self, source: CsvSource, raw: IO[bytes], spool: IO[bytes] | None) -> None:
        self.source = source
        self._raw = raw
        self.tap = _Tap(raw, spool)
        self.text = io.TextIOWrapper(self.tap, encoding=source.encoding, errors="strict", newline="")  # type: ignore[type-var]
        self.header: list[str] | None = None
        self.header_line = 0
        self.reader: Any = None
        self.json: Any = None
        lead = self._lead()
        first = lead[-1].lstrip("\ufeff \t") if lead else ""
        if source.format is None:
            source.format = "json" if first[:1] in ("[", "{") else "csv"
        if source.format == "csv":
            if source.delimiter is None:
                source.delimiter = detect_delimiter(first)
            # The lines read to find the header are handed back to the reader in front of the rest.
            self.reader = csv.reader(itertools.chain(lead, self.text) if lead else self.text,
                                     delimiter=source.delimiter)
        else:
            from samplectl.services.jsonsource import JsonRecords
            from samplectl.services.rowcheck import IMPORT_COLUMNS, column_key

            with self.errors():
                self.json = JsonRecords(lead, self.text, columns=IMPORT_COLUMNS, key=column_key,
                                        ignore_unknown=source.ignore_unknown)
            self.reader = self.json

    def _lead(self) -> list[str]:
        """The lines up to the first one that is not blank (the header, or JSON's first line)."""
        lead: list[str] = []
        with self.errors():
            for line in iter(self.text.readline, ""):
                lead.append(line)
                if line.strip("\ufeff \t\r\n"):
                    break
        return lead

    @property
    def bytes_read(self) -> int:
        return self.tap.bytes

    def read_header(self) -> list[str] | None:
        """The first record that is not blank, or None for a file with no records at all."""
        if self.json is not None:
            with self.errors():
                found = self.json.read_header()
            if found is not None:
                self.header, self.header_line = found
            return self.header
        for line, cells in self._records():
            self.header, self.header_line = cells, line
            return cells
        return None

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """The records after the header, with the line each starts on.

        Blank lines (and a spreadsheet's rows of empty cells) are skipped. An import's hot loop
        reads ``reader`` itself the same way, inside ``errors()``, to save a generator step a row.
        """
        return self._records()

    def _records(self) -> Iterator[tuple[int, list[str]]]:
        reader = self.reader
        previous = reader.line_num
        with self.errors():
            for cells in reader:
                line = previous + 1
                previous = reader.line_num
                if is_blank(cells):
                    continue
                yield line, cells

    @contextlib.contextmanager
    def errors(self) -> Iterator[None]:
        """Turns what the decoder and the CSV parser refuse into one error naming the line."""
        try:
            yield
        except UnicodeDecodeError as exc:
            raise self._decode_error(exc) from None
        except UnicodeError as exc:  # a codec that fails in its own way
            line = self.reader.line_num + 1
            raise ValidationFailed(
                f"line {line} cannot be read as {self.source.encoding} text ({exc})",
                hint="name the file's real encoding with --encoding, e.g. utf-8 or cp1252",
                details=[{"line": line, "column": None, "value": None, "message": str(exc)}],
            ) from None
        except csv.Error as exc:
            line = self.reader.line_num if self.reader is not None else 1
            raise ValidationFailed(
                f"line {line}: the CSV cannot be read: {exc}",
                hint="check the quotes up to that line: a value with commas, quotes or line breaks is "
                "enclosed in double quotes, and a quote inside it is doubled",
                details=[{"line": line, "column": None, "value": None, "message": str(exc)}],
            ) from None

    def _decode_error(self, exc: UnicodeDecodeError) -> ValidationFailed:
        line = self.tap.line_of(exc)
        byte = exc.object[exc.start : exc.start + 1].hex().upper()
        label = "UTF-8" if codecs.lookup(self.source.encoding).name.startswith("utf-8") else self.source.encoding
        message = f"line {line} is not valid {label} text (byte 0x{byte})"
        if self.tap.bytes and exc.object[:2] in (b"\xff\xfe", b"\xfe\xff") and line == 1:
            hint = "the file looks like UTF-16: add --encoding utf-16"
        else:
            hint = "save the file as UTF-8 (Excel: CSV UTF-8), or name its encoding, e.g. --encoding cp1252"
        return ValidationFailed(
            message, hint=hint, details=[{"line": line, "column": None, "value": None, "message": message}]
        )

    def finish(self) -> None:
        """After the last record: the file is read to its end, so its hash is complete."""
        self.source.finished_pass(self.tap.sha.hexdigest())

    def close(self) -> None:
        # Standard input and the spool belong to the source; a named file's handle to this pass.
        if self.source.path != STDIN:
            self._raw.close()

    def __enter__(self) -> CsvPass:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
