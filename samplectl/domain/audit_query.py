"""What `samplectl audit` asks of the trail, one value passed from the command line (or the HTTP query)
through the service to each engine, so the criteria are named once and not in every signature."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from samplectl.domain.criteria import parse_flag_date
from samplectl.domain.dates import day_end


@dataclass
class TimeRange:
    since: datetime | None = None  # inclusive
    before: datetime | None = None  # exclusive (an --until date covers its whole day)
    until: datetime | None = None  # inclusive (an --until date-time)


def parse_range(since: str | None, until: str | None, tz: tzinfo) -> TimeRange:
    """--since/--until as the criteria flags read dates: local time unless an offset, whole days."""
    found = TimeRange()
    for flag, text in (("--since", since), ("--until", until)):
        if text is None:
            continue
        when, bare = parse_flag_date(flag, text, tz)
        if flag == "--since":
            found.since = when
        elif bare:
            with contextlib.suppress(OverflowError):  # the last day that can be stored: no upper bound
                found.before = day_end(when, tz)
        else:
            found.until = when
    return found


def _stripped(values: Iterable[str] | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in values or ())


@dataclass(frozen=True)
class AuditQuery:
    """Records matching every given criterion (a repeated one ORs), oldest first; with ``limit``, only the
    newest ``limit`` of them (still oldest first)."""

    users: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()
    sample_ids: tuple[str, ...] = ()
    span: TimeRange = field(default_factory=TimeRange)
    limit: int | None = None

    @classmethod
    def of(cls, *, users: Iterable[str] | None = None, actions: Iterable[str] | None = None,
           sample_ids: Iterable[str] | None = None, span: TimeRange | None = None,
           limit: int | None = None) -> AuditQuery:
        """As typed by a person or a script: surrounding blanks are not part of a name."""
        return cls(_stripped(users), _stripped(actions), _stripped(sample_ids), span or TimeRange(), limit)

    def matches(self) -> Iterator[tuple[str, tuple[str, ...]]]:
        """(record field, accepted values) for each criterion given, in the stored records' field names."""
        for name, values in (("user", self.users), ("action", self.actions), ("sample_id", self.sample_ids)):
            if values:
                yield name, values
