"""The sample: validation of what people and files enter, and the lifecycle of its status.

The model is derived from the field registry (``domain.fields``): each entered field becomes a
pydantic field with its type, choices and limits, so a field added there is validated here.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, create_model, field_validator
from pydantic import Field as Rule

from samplectl.domain.dates import MAX_OFFSET, MIN_OFFSET, OUT_OF_RANGE, parse_when, utc_now
from samplectl.domain.errors import ValidationFailed
from samplectl.domain.fields import Field, FieldRegistry, fields
from samplectl.domain.text import ONE_LINE_PATTERN, TRIMMED_LINE_PATTERN, WORD_PATTERN, forbidden_character, shorten, shown
from samplectl.domain.vocab import NEXT_STATUSES, SAMPLE_TYPES, STATUSES

# The text rule of domain.text; ids also have no whitespace at all.
_ONE_LINE = ONE_LINE_PATTERN
_ID = WORD_PATTERN
_TRIMMED_LINE = TRIMMED_LINE_PATTERN

def _generate_missing(cls: type, value: Any) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        return str(uuid.uuid4())
    return value


def _parse_date(cls: type, value: Any, info: ValidationInfo) -> Any:
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


def _not_in_future(cls: type, value: datetime, info: ValidationInfo) -> datetime:
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


# A date written exactly as samplectl writes them (2025-03-14T09:30:00Z). [0-9], not \d: the pattern
# is pydantic-core's (Rust), where \d is any Unicode digit.
CANONICAL_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"


def _annotation(f: Field, *, quick: bool = False) -> Any:
    if f.kind == "choice":
        return Literal[f.choices]  # type: ignore[valid-type]
    if f.kind == "datetime":
        # quick: the text, checked for its form in pydantic-core; quick_check reads the date itself.
        return Annotated[str, Rule(pattern=CANONICAL_DATE)] if quick else datetime
    if f.kind in ("number", "integer"):
        base: type = float if f.kind == "number" else int
        return Annotated[base, Rule(ge=f.minimum, le=f.maximum)]
    # quick: text is not trimmed (a Python string made per field) but must need no trimming.
    text = _TRIMMED_LINE if quick else _ONE_LINE
    return Annotated[str, Rule(min_length=1, max_length=f.max_length, pattern=_ID if f.kind == "id" else text)]


def _definition(f: Field, *, quick: bool = False) -> tuple[Any, Any]:
    annotation = _annotation(f, quick=quick)
    if f.blank == "generate":
        return (annotation, ...) if quick else (annotation, Rule(default=None, validate_default=True))
    if f.default is not None:
        return annotation, f.default
    if not f.required:
        return annotation | None, None
    return annotation, ...


def build_model(registry: FieldRegistry, *, quick: bool = False) -> type[BaseModel]:
    """The pydantic model of what a person or a file enters for one sample, from the registry.

    ``quick``: the model of ``quick_check``, with no Python validator (see there).
    """
    entered = registry.entered
    validators: dict[str, Any] = {}
    if quick:
        return create_model(  # type: ignore[call-overload,no-any-return]
            "QuickSampleInput",
            __config__=ConfigDict(extra="forbid", frozen=True),
            **{f.name: _definition(f, quick=True) for f in entered},
        )
    generated = [f.name for f in entered if f.blank == "generate"]
    dates = [f.name for f in entered if f.kind == "datetime"]
    if generated:
        validators["_generate_missing"] = field_validator(*generated, mode="before")(_generate_missing)
    if dates:
        validators["_parse_date"] = field_validator(*dates, mode="before")(_parse_date)
        validators["_not_in_future"] = field_validator(*dates)(_not_in_future)
    model: type[BaseModel] = create_model(  # type: ignore[call-overload]
        "SampleInput",
        __config__=ConfigDict(str_strip_whitespace=True, extra="forbid", frozen=True),
        __doc__="The fields a person or a file enters for one sample.",
        __validators__=validators,
        **{f.name: _definition(f) for f in entered},
    )
    return model


if TYPE_CHECKING:
    class SampleInput(BaseModel):
        """For the type checker: the fields the services read by name (the model has them all)."""

        sample_id: str
        status: str
        position: str | None
else:
    SampleInput = build_model(fields())


def quick_check(now: datetime) -> Callable[[Mapping[str | None, Any]], dict[str, Any] | None]:
    """What ``SampleInput`` makes of a row that gives its id and writes its dates as samplectl does,
    as a plain dict, with no Python validator: an import checks a million rows, and the model's
    validators (Python calls, one per date and id) were half of its time.

    The quick schema accepts a subset of what ``SampleInput`` accepts, with the same values: text is
    checked alike but must need no trimming (trimming makes a new string per field), choices must be
    given exactly; a date must have the form YYYY-MM-DDTHH:MM:SSZ and is then read with
    datetime.fromisoformat, as ``dates.parse_when`` reads it. A row it refuses, or with a date after
    ``now`` (aware UTC), is for ``SampleInput`` to judge (None), so that the problems a row has are
    always that model's. A generated id is the caller's to give.
    """
    validate = _quick_validator()
    dates = tuple(f.name for f in fields().entered if f.kind == "datetime")
    parse = datetime.fromisoformat

    def check(data: Mapping[str | None, Any]) -> dict[str, Any] | None:
        try:
            sample: dict[str, Any] = validate(data)
        except ValidationError:
            return None
        for name in dates:
            text = sample[name]
            if text is not None:
                try:
                    when = parse(text)  # aware UTC: the text ends in Z
                except ValueError:  # the right form, but no such day or time (2025-02-30)
                    return None
                if when > now:
                    return None
                sample[name] = when
        return sample

    return check


@functools.cache
def _quick_validator() -> Callable[[Any], Any]:
    """The quick model's fields as a typed dict: the same checks, a dict out (no model instance to make)."""
    from pydantic_core import SchemaValidator, core_schema

    model = build_model(fields(), quick=True).__pydantic_core_schema__
    assert model["type"] == "model" and model["schema"]["type"] == "model-fields", model["type"]
    typed = core_schema.typed_dict_schema(
        {name: core_schema.typed_dict_field(field["schema"], required=field["schema"]["type"] != "default")
         for name, field in model["schema"]["fields"].items()},
        extra_behavior="forbid",
    )
    return SchemaValidator(typed).validate_python


def _allowed(field: str) -> str | None:
    registry = fields()
    return registry[field].describe_choices() or None if field in registry else None


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
