"""Selection criteria shared by filter, export and update --where."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime, tzinfo

from samplectl.domain.dates import day_end, parse_when
from samplectl.domain.errors import ValidationFailed
from samplectl.domain.vocab import SAMPLE_TYPES, SORTABLE_FIELDS, STATUSES


@dataclass(frozen=True)
class Criteria:
    """Repeated values of one criterion are ORed; different criteria are ANDed.

    Every value is literal data: prefixes are escaped before they reach a query.
    """

    sample_types: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    subject_ids: tuple[str, ...] = ()
    location_prefixes: tuple[str, ...] = ()
    collected_from: datetime | None = None  # inclusive, UTC
    collected_before: datetime | None = None  # exclusive, UTC
    collected_to: datetime | None = None  # inclusive, UTC (a to with a time of day)

    @property
    def is_empty(self) -> bool:
        return self == Criteria()


@dataclass(frozen=True)
class Sort:
    field: str = "collection_date"
    descending: bool = True

    @classmethod
    def parse(cls, text: str | None) -> Sort:
        if not text:
            return cls()
        descending = text.startswith("-")
        name = text.lstrip("-+").strip()
        if name not in SORTABLE_FIELDS:
            raise ValidationFailed(
                f"--sort {text!r} is not a sample field",
                hint=f"sort by one of: {', '.join(SORTABLE_FIELDS)} (prefix - for descending)",
                details=[{"column": "sort", "value": text, "message": "unknown field"}],
            )
        return cls(field=name, descending=descending)


MAX_LIMIT = 1_000_000_000  # beyond what any store holds, and far inside every engine's integers


def check_limit(limit: int) -> int:
    """``--limit N``: 1 to a billion (a larger number would overflow the engines' integers: exit 6, not 1)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(f"--limit {limit} must be between 1 and {MAX_LIMIT:,}", hint="or use --all")
    return limit


def _check_choices(flag: str, values: list[str], allowed: tuple[str, ...]) -> tuple[str, ...]:
    cleaned = tuple(v.strip().lower() for v in values)
    bad = [v for v in cleaned if v not in allowed]
    if bad:
        raise ValidationFailed(
            f"{flag} {bad[0]!r} is not allowed; expected one of: {', '.join(allowed)}",
            details=[{"column": flag, "value": v, "message": "not allowed"} for v in bad],
        )
    return cleaned


def build_criteria(
    *,
    sample_types: list[str] | None = None,
    statuses: list[str] | None = None,
    subject_ids: list[str] | None = None,
    location_prefixes: list[str] | None = None,
    collected_from: str | None = None,
    collected_to: str | None = None,
    tz: tzinfo,
) -> Criteria:
    """Validate criteria flags (exit 6 on a bad value) into a Criteria."""
    start = end_exclusive = end_inclusive = None
    # An empty value is refused, never read as "no criterion" or as a prefix that matches everything.
    for flag, values in (("--subject", subject_ids), ("--location", location_prefixes)):
        for value in values or []:
            if not value.strip():
                raise ValidationFailed(f"{flag} is empty", hint=f"give a value, or leave {flag} out",
                                       details=[{"column": flag, "value": value, "message": "is empty"}])
    if collected_from is not None:
        start, _ = parse_flag_date("--collected-from", collected_from, tz)
    if collected_to is not None:
        end, bare = parse_flag_date("--collected-to", collected_to, tz)
        if bare:  # a date without a time covers that whole day
            # After the last day that can be stored nothing lies: no upper bound then.
            with contextlib.suppress(OverflowError):
                end_exclusive = day_end(end, tz)
        else:
            end_inclusive = end
    return Criteria(
        sample_types=_check_choices("--type", sample_types or [], SAMPLE_TYPES),
        statuses=_check_choices("--status", statuses or [], STATUSES),
        subject_ids=tuple(s.strip() for s in subject_ids or []),
        location_prefixes=tuple(location_prefixes or []),
        collected_from=start,
        collected_before=end_exclusive,
        collected_to=end_inclusive,
    )


def parse_flag_date(flag: str, text: str, tz: tzinfo) -> tuple[datetime, bool]:
    """A date or date-time flag: the instant (UTC) and whether it was a bare date; exit 6 if not."""
    try:
        return parse_when(text, tz)
    except ValueError as exc:
        raise ValidationFailed(
            f"{flag} {text!r} {exc}",
            hint="use a date like 2025-03-14 or a date-time like 2025-03-14T09:30",
            details=[{"column": flag, "value": text, "message": str(exc)}],
        ) from None
