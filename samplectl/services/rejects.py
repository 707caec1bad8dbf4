"""The rejected rows of an import, written as CSV (``--errors FILE``) so they can be fixed and re-imported.

Each row keeps the file's own columns, as they were, followed by the line it came from and the
reason it was rejected. Re-import the fixed file with ``--ignore-unknown`` (or drop the two
extra columns).
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from typing import IO, Any

from samplectl.domain.csvcells import neutralise
from samplectl.domain.errors import ValidationFailed
from samplectl.private_files import open_private
from samplectl.services.rowcheck import reason_of

EXTRA_COLUMNS = ("line", "reason")


class RejectedRows:
    def __init__(self, out: IO[str], header: Sequence[str]) -> None:
        self.out = out
        self.width = len(header)
        self.writer = csv.writer(out, lineterminator="\n")
        self.writer.writerow([*header, *EXTRA_COLUMNS])

    @classmethod
    def open(cls, path: str, header: Sequence[str]) -> RejectedRows:
        try:
            out = open_private(path)  # the rows of a lab's file: 0600 from the first byte
        except OSError as exc:
            raise ValidationFailed(
                f"cannot write the rejected rows to {path}: {exc.strerror or exc}",
                hint="give --errors a path in a writable directory",
            ) from None
        return cls(out, [h.replace("\ufeff", "") for h in header])

    def write(self, line: int, cells: Sequence[str], problems: Sequence[Mapping[str, Any]]) -> None:
        row = list(cells[: self.width]) + [""] * (self.width - len(cells))
        # Never a formula in a spreadsheet; the importer reads the marked cells back as they were.
        self.writer.writerow([neutralise(c) for c in (*row, str(line), reason_of(problems))])

    def close(self) -> None:
        self.out.close()
