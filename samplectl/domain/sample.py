"""The sample: validation of what people and files enter, and the lifecycle of its status."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from samplectl.domain.dates import MAX_OFFSET, MIN_OFFSET, OUT_OF_RANGE, parse_when, utc_now
from samplectl.domain.errors import ValidationFailed
from samplectl.domain.text import ONE_LINE_PATTERN, WORD_PATTERN, forbidden_character, shorten, shown
from samplectl.domain.vocab import (
    MAX_ID_LENGTH,
    MAX_LOCATION_LENGTH,
    MAX_POSITION_LENGTH,
    NEXT_STATUSES,
    SAMPLE_TYPES,
    STATUSES,
)

# The text rule of domain.text; ids also have no whitespace at all.
_ONE_LINE = ONE_LINE_PATTERN
_ID = WORD_PATTERN

SampleType = Literal["blood", "saliva", "tissue"]
Status = Literal["collected", "processing", "archived"]


class SampleInput(BaseModel):
    """The fields a person or a file enters for one sample."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid", frozen=True)

    sample_id: Annotated[
        str, Field(default=None, validate_default=True, min_length=1, max_length=MAX_ID_LENGTH, pattern=_ID)
    ]
    sample_type: SampleType
    subject_id: Annotated[str, Field(min_length=1, max_length=MAX_ID_LENGTH, pattern=_ONE_LINE)]
    collection_date: datetime
    status: Status = "collected"
    storage_location: Annotated[str, Field(min_length=1, max_length=MAX_LOCATION_LENGTH, pattern=_ONE_LINE)]
    # BOX:SLOT, resolved and checked against the box by services.storage before it gets here.
    position: Annotated[str | None, Field(default=None, max_length=MAX_POSITION_LENGTH, pattern=_ID)] = None

    @field_validator("sample_id", mode="before")
    @classmethod
    def _generate_missing_id(cls, value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            return str(uuid.uuid4())
        return value

    @field_validator("collection_date", mode="before")
    @classmethod
    def _parse_collection_date(cls, value: Any, info: ValidationInfo) -> Any:
        ctx = info.context or {}
        if isinstance(value, str):
            tz: tzinfo = ctx["tz"]
            try:
                return parse_when(value, tz, ctx.get("date_format"))[0]
            except ValueError:
                # `now` is the current time (--collected now, the prompt's default), checked only
                # after a date failed to parse: imports of real dates pay nothing for it.
                if value.strip().lower() == "now":
                    return ctx.get("now") or utc_now()
                raise
        return value

    @field_validator("collection_date")
    @classmethod
    def _not_in_future(cls, value: datetime, info: ValidationInfo) -> datetime:
        if value.tzinfo is None:
            value = value.replace(tzinfo=(info.context or {})["tz"])
        now: datetime = (info.context or {}).get("now") or utc_now()
        offset = value.utcoffset()
        if offset is not None and not MIN_OFFSET <= offset <= MAX_OFFSET:
            raise ValueError("has an offset no time zone uses (they run from -12:00 to +14:00)")
        try:
            value = value.astimezone(now.tzinfo)
        except (OverflowError, ValueError):  # year 1 east of UTC: pydantic would let OverflowError through
            raise ValueError(OUT_OF_RANGE) from None
        if value.microsecond:  # replace() is slow (half a microsecond): imports call this a million times
            value = value.replace(microsecond=0)
        if value > now:
            raise ValueError("is in the future")
        return value


def _allowed(field: str) -> str | None:
    if field == "sample_type":
        return ", ".join(SAMPLE_TYPES)
    if field == "status":
        return ", ".join(STATUSES)
    return None


def _describe(error: Mapping[str, Any]) -> str:
    """One plain sentence for a pydantic error: the field, the value given, what is allowed."""
    field = str(error["loc"][0]) if error["loc"] else "record"
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return f"{field} is required"
    if kind == "extra_forbidden":
        return f"{field} is not a sample field"
    value = error.get("input")
    text = value.strip() if isinstance(value, str) else value
    quoted = shown(text)
    if kind == "literal_error":
        return f"{field} {quoted} is not allowed; expected one of: {_allowed(field)}"
    if kind == "string_too_short":
        return f"{field} is empty; a value is required"
    if kind == "string_too_long":
        return f"{field} {quoted} is {len(str(value).strip())} characters long; at most {ctx.get('max_length')} allowed"
    if kind in ("string_pattern_mismatch", "string_unicode"):
        problem = forbidden_character(text) if isinstance(text, str) else None
        if field == "sample_id" and isinstance(text, str) and any(c.isspace() for c in text):
            return f"{field} {quoted} must be one word: no spaces, tabs, line breaks or control characters"
        if problem is not None:
            return f"{field} {quoted} must be a single line of visible text; it contains {problem}"
        return f"{field} {quoted} must be one word: no spaces"
    if kind == "value_error":
        reason = str(ctx.get("error") or error.get("msg", ""))
        return f"{field} {quoted} {reason}"
    if kind in ("datetime_parsing", "datetime_type", "datetime_from_date_parsing"):
        return f"{field} {quoted} is not an ISO 8601 date or date-time"
    if kind == "string_type":
        return f"{field} {quoted} must be text"
    return f"{field} {quoted}: {error.get('msg', 'is not valid')}"


def problems_of(exc: ValidationError) -> list[dict[str, Any]]:
    """The errors of one record as {column, value, message} dicts, in field order."""
    out = []
    for error in exc.errors(include_url=False):
        field = str(error["loc"][0]) if error["loc"] else ""
        value = error.get("input") if error["type"] != "missing" else None
        if isinstance(value, dict):  # a whole-record error has the record as input
            value = None
        # The value is echoed cut short: a 100 KB cell must not become 400 KB of error output.
        out.append({"column": field, "value": value if value is None else shorten(value), "message": _describe(error)})
    return out


def refuse_blank_id(fields: Mapping[str, Any]) -> None:
    """An id given explicitly but blank (`--id ""`) is refused, not generated.

    A blank CSV cell means "generate one" (the contract says so), but on the command line it is most
    likely a script's unset variable: generating an id, or renaming a sample to a generated one,
    would file the sample under an id nobody wrote down.
    """
    value = fields.get("sample_id")
    if isinstance(value, str) and not value.strip():
        raise ValidationFailed(
            "--id is empty",
            hint="give the sample's id, or leave --id out (create generates one; update keeps the current one)",
            details=[{"column": "sample_id", "value": value, "message": "is empty"}],
        )


def normalise_choices(data: Mapping[str, Any]) -> dict[str, Any]:
    """Fixed choices are matched like the filter flags: trimmed, case-insensitive.

    Done here rather than in a model validator, which would cost the import's hot loop a Python
    call per field; the importer normalises its columns the same way. A value that matches
    nothing is left as given, so the error shows what the user typed.
    """
    out = dict(data)
    for name, allowed in (("sample_type", SAMPLE_TYPES), ("status", STATUSES)):
        value = out.get(name)
        if isinstance(value, str) and value.strip().lower() in allowed:
            out[name] = value.strip().lower()
    return out


def validate_sample(
    data: Mapping[str, Any], *, tz: tzinfo, now: datetime | None = None, date_format: str | None = None
) -> SampleInput:
    """Validate one sample's fields, raising ValidationFailed (exit 6) with every problem."""
    data = normalise_choices(data)
    try:
        return SampleInput.model_validate(data, context={"tz": tz, "now": now, "date_format": date_format})
    except ValidationError as exc:
        problems = problems_of(exc)
        message = "; ".join(p["message"] for p in problems)
        raise ValidationFailed(message, hint=_hint_for(problems), details=problems) from None


def _hint_for(problems: list[dict[str, Any]]) -> str | None:
    columns = {p["column"] for p in problems}
    if "collection_date" in columns:
        return "dates look like 2025-03-14 or 2025-03-14T09:30:00+01:00 and cannot be in the future"
    if columns & {"sample_type", "status"}:
        return "see `samplectl create --help` for the allowed values"
    return None


def allowed_next(status: str) -> tuple[str, ...]:
    return NEXT_STATUSES.get(status, ())


def transition_allowed(before: str, after: str) -> bool:
    return before == after or after in allowed_next(before)
