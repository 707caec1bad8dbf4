"""JSON imports: a JSON array of objects, or JSON Lines (any stream of objects), read as rows of cells.

What `list -o json`, `filter -o jsonl`, `export -o json` and `get` print imports back. The file is
read in chunks and each object decoded as soon as it is whole, so memory holds one object and one
chunk however long the file is. Each object becomes a row of text cells under a header, so the
rows go through the same checks as a CSV file's; a row's line is where its object starts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import IO, Any

from samplectl.domain.errors import ValidationFailed

READ_CHUNK = 1 << 16
# One object is at most this long: a sample is well under a kilobyte, and a file that never completes an
# object (binary data, /dev/zero) must not be read into memory whole before it is refused.
MAX_OBJECT = 1 << 24
_SPACE = re.compile(r"[ \t\r\n]*")


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")  # Python's json reads NaN; a sample has no use for it


# Integers stay the digits written (a cell is text): no float rounding, and no limit on their length
# (int() refuses more than 4300 digits). NaN and Infinity, which are not JSON, are refused.
_DECODE = json.JSONDecoder(parse_int=str, parse_constant=_not_json).raw_decode


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False)  # an object or array: refused by the field's checks


def _problem(line: int, message: str, hint: str) -> ValidationFailed:
    return ValidationFailed(f"line {line}: {message}", hint=hint,
                            details=[{"line": line, "column": None, "value": None, "message": message}])


class JsonRecords:
    """Rows of cells from JSON objects; ``line_num`` follows the csv reader's meaning for the import loop.

    The import numbers each row ``line_num + 1`` from the row before; so that this gives the line
    where the next object starts, objects are decoded one ahead.
    """

    def __init__(self, lead: Iterable[str], text: IO[str], *, columns: tuple[str, ...], key: Any,
                 ignore_unknown: bool) -> None:
        self.text = text
        self.buf = "".join(lead)
        self.pos = 0
        self.line = 1  # the line at self.pos
        self.eof = False
        self.in_array: bool | None = None
        self.closed = False
        self.columns = columns  # the names every header carries, whether the first object has them
        self.key = key  # a key as a column name (case, spaces and hyphens ignored)
        self.ignore_unknown = ignore_unknown
        self.header: list[str] = []
        self.positions: dict[str, int] = {}
        self.line_num = 0
        self._ahead = self._decode()

    # -- the header, from the first object ------------------------------------------------------
    def read_header(self) -> tuple[list[str], int] | None:
        if self._ahead is None:
            return None
        start, first = self._ahead
        header = list(first)
        named = {self.key(name) for name in header}
        header += [name for name in self.columns if name not in named]
        self.header = header
        self.positions = {name: i for i, name in enumerate(header)}
        self.line_num = start - 1
        return header, start

    # -- rows ------------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[list[str]]:
        return self

    def __next__(self) -> list[str]:
        current = self._ahead
        if current is None:
            raise StopIteration
        self._ahead = self._decode()
        self.line_num = self._ahead[0] - 1 if self._ahead is not None else self.line
        start, obj = current
        cells = [""] * len(self.header)
        positions = self.positions
        for name, value in obj.items():
            at = positions.get(name)
            if at is None:
                at = self._new_key(name, start)
                if at is None:
                    continue
            cells[at] = _cell(value)
        return cells

    def _new_key(self, name: str, line: int) -> int | None:
        """A key the first object did not have: the same field spelt otherwise, or unknown."""
        key = self.key(name)
        for i, column in enumerate(self.header):
            if self.key(column) == key:
                self.positions[name] = i
                return i
        if self.ignore_unknown:
            return None
        raise _problem(line, f"the object has a key samplectl does not know: {name[:100]!r}",
                       "add --ignore-unknown to skip keys that are not sample fields")

    # -- decoding, a chunk at a time -------------------------------------------------------------
    def _fill(self) -> bool:
        """Read more after what is left undecoded; at least as much again, so that a long object is
        decoded a bounded number of times (not once a chunk)."""
        if self.eof:
            return False
        chunk = self.text.read(max(READ_CHUNK, len(self.buf) - self.pos))
        if not chunk:
            self.eof = True
            return False
        self.buf = self.buf[self.pos:] + chunk
        self.pos = 0
        return True

    def _advance(self, end: int) -> None:
        self.line += self.buf.count("\n", self.pos, end)
        self.pos = end

    def _decode(self) -> tuple[int, dict[str, Any]] | None:
        expect_value = False
        while True:
            self._advance(_SPACE.match(self.buf, self.pos).end())  # type: ignore[union-attr]
            if self.pos >= len(self.buf):
                if self._fill():
                    continue
                if self.in_array and not self.closed:
                    raise _problem(self.line, "the JSON array is not closed (no ])",
                                   "the file may be cut short: check its end")
                return None
            char = self.buf[self.pos]
            if self.closed:
                raise _problem(self.line, "there is more after the JSON array's closing ]",
                               "a JSON file holds one array, or one object per line (JSON Lines)")
            if self.in_array is None:
                self.in_array = char == "["
                if self.in_array:
                    self._advance(self.pos + 1)
                    continue
            if self.in_array and char == "]" and not expect_value:
                self.closed = True
                self._advance(self.pos + 1)
                continue
            if self.in_array and char == "," and not expect_value:
                expect_value = True
                self._advance(self.pos + 1)
                continue
            try:
                value, end = _DECODE(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                if len(self.buf) - self.pos <= MAX_OBJECT and self._fill():
                    continue  # most likely an object cut by the chunk's end: decode it again, whole
                # Cut short: name the line the unfinished object starts on; else where the mistake is.
                cut = not self.buf[exc.pos:].strip()
                line = self.line + (0 if cut else self.buf.count("\n", self.pos, exc.pos))
                raise _problem(line, f"the JSON cannot be read: {exc.msg}",
                               "check the JSON up to that line (a JSON array of objects, or one object per line)"
                               ) from None
            except (ValueError, RecursionError) as exc:  # NaN; arrays in arrays in arrays...
                message = str(exc) if isinstance(exc, ValueError) else "it is nested too deeply"
                raise _problem(self.line, f"the JSON cannot be read: {message}",
                               "each sample is one object of text values: {\"sample_type\": \"blood\", ...}") from None
            start = self.line
            self._advance(end)
            if not isinstance(value, dict):
                raise _problem(start, f"expected a JSON object (a sample), found {type(value).__name__}",
                               "each sample is one object: {\"sample_type\": \"blood\", ...}")
            return start, value
