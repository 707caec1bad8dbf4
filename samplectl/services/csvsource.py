"""Reading an import file: bytes, encoding, format, physical lines and records, in passes.

Formats: CSV with its delimiter detected from the header among `,` `;` TAB `|` (spreadsheets
save with the one their locale uses; `--delimiter` overrides), JSON Lines and a JSON array of
objects (``jsonsource``). The format is given, else told by the file's name, else by its first
character (`[` or `{` is JSON).

An import reads its file more than once (validate everything first, then write), so a source
can be opened again: a named file is re-read (and must not change meanwhile); standard input is
copied to a temporary spool file as it is read. Every pass hashes what it reads (SHA-256
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
# A physical line of a CSV file is at most this long (bytes): the csv reader takes whole lines, and a
# file with no line break in it (binary data, /dev/zero) must be refused, not read into memory whole.
MAX_LINE = 1 << 24
# The lines before the header (or the JSON) are read in pieces of at most this many characters: a JSON
# file may be one long line, and only its first character is needed to tell the format. A CSV header
# (100,000 unknown columns are named, not refused unread) is at most this long. Well under MAX_LINE in
# bytes (a character is up to 4), so that the line limit, on while the lead is read, does not cut it.
LEAD_PIECE = 1 << 21
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
    """Hands the decoder bytes as they are read, hashing and counting them."""

    def __init__(self, source: IO[bytes]) -> None:
        self.source = source
        self.sha = hashlib.sha256()
        self.bytes = 0
        self.last = b""  # the chunk read last: a decoding error lies in it
        self.lines_before_last = 0
        self.max_line: int | None = MAX_LINE  # None: lines of any length (JSON)
        self.line_run = 0  # bytes since the last line break

    def readable(self) -> bool:
        return True

    def read1(self, size: int = -1) -> bytes:
        data = self.source.read(READ_CHUNK if size is None or size < READ_CHUNK else size)
        self.lines_before_last += self.last.count(b"\n")
        self.last = data
        self.sha.update(data)
        self.bytes += len(data)
        if self.max_line is not None:
            self._check_line_length(data)
        return data

    def _check_line_length(self, data: bytes) -> None:
        # Searched from the end, where a line break is near in any text file: cheap once a chunk.
        cut = max(data.rfind(b"\n"), data.rfind(b"\r"))
        self.line_run = self.line_run + len(data) if cut < 0 else len(data) - cut - 1
        if self.max_line is not None and self.line_run > self.max_line:
            line = self.lines_before_last + data.count(b"\n") + 1
            message = f"line {line} is longer than {self.max_line >> 20} MB with no line break"
            raise ValidationFailed(
                f"{message}: it is not a CSV file samplectl can read",
                hint="check that this is the file meant (not a binary, compressed or spreadsheet file); "
                "JSON on one line: --format json",
                details=[{"line": line, "column": None, "value": None, "message": message}],
            )

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
        self._spool: _StdinSpool | None = None
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

    def _open_bytes(self) -> IO[bytes]:
        """The bytes to read on this pass: the file, or standard input through its spool."""
        if self.path != STDIN:
            try:
                return open(self.path, "rb", buffering=0)  # noqa: SIM115 - closed by the pass
            except OSError as exc:
                raise ValidationFailed(f"cannot read {self.path}: {exc.strerror or exc}") from None
        if self._spool is not None:
            return self._spool.reader()
        stdin = self._stdin if self._stdin is not None else sys.stdin.buffer
        try:
            st = os.fstat(stdin.fileno())
            if stat.S_ISREG(st.st_mode):
                self.size = st.st_size
        except (OSError, ValueError, io.UnsupportedOperation):
            pass
        self._spool = _StdinSpool(stdin)
        return self._spool.reader()

    def read(self) -> CsvPass:
        """Start a pass over the file from its first byte."""
        return CsvPass(self, self._open_bytes())

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
            self._spool.file.close()
            self._spool = None


class _StdinSpool:
    """Standard input, kept in a temporary file as it is read, so that every pass reads it from its start.

    A pass may stop before the end (an import that finds it must check the whole file before writing
    stops its first try early): the next pass reads what was kept, then the rest of standard input,
    keeping that too. (Copying only during the first pass lost the rest: the next pass ended where it had.)
    """

    def __init__(self, stdin: IO[bytes]) -> None:
        self.stdin = stdin
        self.file = tempfile.TemporaryFile(prefix="samplectl-import-")  # noqa: SIM115 - closed by the source
        self.kept = 0  # bytes in the file
        self.ended = False  # standard input is read to its end

    def reader(self) -> IO[bytes]:
        return _SpoolReader(self)  # type: ignore[return-value]


class _SpoolReader(io.RawIOBase):
    """One pass over standard input: from the spool while it has what comes next, then from stdin."""

    def __init__(self, spool: _StdinSpool) -> None:
        self.spool = spool
        self.at = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        spool, size = self.spool, READ_CHUNK if size is None or size < 0 else size
        if self.at < spool.kept:
            spool.file.seek(self.at)
            data = spool.file.read(min(size, spool.kept - self.at))
        elif spool.ended:
            return b""
        else:
            data = spool.stdin.read(size)
            if not data:
                spool.ended = True
                return b""
            spool.file.seek(spool.kept)
            spool.file.write(data)
            spool.kept += len(data)
        self.at += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


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

    def __init__(self, source: CsvSource, raw: IO[bytes]) -> None:
        self.source = source
        self._raw = raw
        self.tap = _Tap(raw)
        self.text = io.TextIOWrapper(self.tap, encoding=source.encoding, errors="strict", newline="")  # type: ignore[type-var]
        self.header: list[str] | None = None
        self.header_line = 0
        self.reader: Any = None
        self.json: Any = None
        lead = self._lead()
        first = lead[-1].lstrip("\ufeff \t") if lead else ""
        if source.format is None:
            source.format = "json" if first[:1] in ("[", "{") else "csv"
        if source.format != "csv":
            self.tap.max_line = None  # JSON may be one line of any length; jsonsource bounds each object
        elif len(first) >= LEAD_PIECE - 4 and not first.endswith(("\n", "\r")):
            raise ValidationFailed(
                f"line {len(lead)} (the header) is longer than {LEAD_PIECE >> 20} MB: it is not a CSV header",
                hint="check that this is the file meant (not a binary, compressed or spreadsheet file)",
                details=[{"line": len(lead), "column": None, "value": None, "message": "header too long"}],
            )
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
            for line in iter(lambda: self.text.readline(LEAD_PIECE), ""):
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
            hint = ("check the quotes up to that line: a value with commas, quotes or line breaks is "
                    "enclosed in double quotes, and a quote inside it is doubled")
            if "field larger than field limit" in str(exc):  # a value of over 131,072 characters
                hint = (f"no sample field is that long: check the delimiter ({self.source.delimiter!r}; "
                        "--delimiter sets it), and " + hint[len("check "):])
            raise ValidationFailed(
                f"line {line}: the CSV cannot be read: {exc}", hint=hint,
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
