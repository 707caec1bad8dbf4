"""Records of any shape through the one output path (``output.formats``): for commands whose rows
are not one of the kinds in ``output.kinds`` (config, doctor, plans)."""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Any

from samplectl.domain.vocab import RECORD_FIELDS
from samplectl.output.formats import Kind, View, public, render
from samplectl.output.table import Column

__all__ = ["public", "write_records"]


def write_records(records: Iterable[Mapping[str, Any]], fmt: str, out: IO[str], *,
                  fields: Sequence[str] = RECORD_FIELDS, color: bool = True, single: bool = False) -> int:
    from samplectl.output.kinds import SAMPLES

    kind = SAMPLES if tuple(fields) == RECORD_FIELDS else Kind(
        name="records", fields=tuple(fields), columns=tuple(Column(n, n.replace("_", " ")) for n in fields))
    width = shutil.get_terminal_size((80, 24)).columns
    return render(kind, records, out, View(fmt=fmt, color=color, width=max(width, 20), single=single))
