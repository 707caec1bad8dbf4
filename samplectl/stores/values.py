"""The stored values a TAB offers: which fields, one location level at a time, found by index seeks.

Each engine says how to seek its index (``seek``: the stored values of a field from a start, in
order, duplicates included); what is offered is decided here, once for every engine, so the embedded
store, MongoDB and the server (``GET /values/{field}``) offer exactly the same candidates.

It imports nothing of samplectl: a TAB on the embedded store uses it before anything else of samplectl is loaded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

# Fields that may be completed; each is the first column of an index on every engine.
FIELDS = ("sample_id", "subject_id", "storage_location")
SEPARATOR = "/"  # storage locations are paths (FRZ-1/R2/B3): offered one level at a time
LIMIT = 200  # candidates offered at most: a TAB is not a listing


def prefix_end(prefix: str) -> str | None:
    """The smallest text above every text that starts with ``prefix`` (None: no bound).

    Both engines compare text as UTF-8 bytes (SQLite's BINARY collation, MongoDB without a
    collation), which orders text as code points do, so the prefix's last code point, incremented,
    bounds the range.
    """
    while prefix:
        last = ord(prefix[-1]) + 1
        if 0xD800 <= last <= 0xDFFF:  # surrogates cannot be encoded: skip to the next real code point
            last = 0xE000
        if last <= 0x10FFFF:
            return prefix[:-1] + chr(last)
        prefix = prefix[:-1]
    return None


def check_field(field: str) -> None:
    if field not in FIELDS:
        raise ValueError(f"cannot complete {field!r}")


def distinct(seek: Callable[[str], Sequence[str]], field: str, prefix: str, limit: int = LIMIT, *,
             levels: bool | None = None) -> list[str]:
    """Distinct values of ``field`` starting with ``prefix``, sorted, at most ``limit``.

    ``seek(start)`` returns stored values ``>= start`` in ascending order (as many as the engine
    likes to read at once; none when there are no more). Each seek starts past the last value
    offered, so a subject with thousands of samples costs one seek, not a read of each of them.
    Locations are offered level by level: with ``FRZ-1/`` typed, ``FRZ-1/R1/`` and ``FRZ-1/R2/``
    rather than every box and position under them (``levels=False``: every location, as the
    MongoDB completion cache keeps them).
    """
    check_field(field)
    if levels is None:
        levels = field == "storage_location"
    found: list[str] = []
    start: str | None = prefix
    while start is not None and len(found) < limit:
        values = seek(start)
        if not values:
            break
        level = False
        for value in values:
            if not value.startswith(prefix):
                return found  # sorted: every value after it is outside the prefix too
            cut = value.find(SEPARATOR, len(prefix)) if levels else -1
            level = cut >= 0
            if level:
                value = value[:cut + 1]
            if not found or found[-1] != value:
                found.append(value)
                if len(found) == limit:
                    return found
        # Past the last value offered: past every location under it when it is a level; the next
        # distinct value otherwise (text never holds NUL).
        start = prefix_end(found[-1]) if level else found[-1] + "\0"
    return found
