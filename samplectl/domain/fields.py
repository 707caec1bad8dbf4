"""Every field of a sample, declared once.

What a field is called, its flag, its prompt, whether it is required, its choices and limits, what
a blank CSV cell means, whether and how it shows in tables, and whether it sorts and filters: all
here. The pydantic model (``domain.sample``), the create/update flags and prompts (``cli``), the
import's columns (``services.rowcheck``), the update plan and audit diff (``services.samples``),
the table columns and output fields (``output.kinds``) and the error messages are derived from it.

Adding a field is adding one ``Field`` to ``SAMPLE_FIELDS`` (and, for an engine that keeps fields
in columns, to that engine's schema). Records stored before a field existed simply lack it: every
reader uses ``record.get`` and shows nothing for it.

Standard library only: shell completion and `--help` read it without importing pydantic.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any, Literal

Kind = Literal["id", "text", "choice", "datetime", "number", "integer"]
# What an empty CSV cell (or a JSON null) means for a field: make one up, take the default, or
# it is missing (an error when the field is required, "not given" otherwise).
Blank = Literal["generate", "default", "missing"]


@dataclass(frozen=True)
class Table:
    """How a field shows in a terminal table."""

    header: str
    min_width: int = 6  # narrower than this, the column is dropped instead
    priority: int = 50  # lower is more important: kept longest on a narrow terminal
    wide_only: bool = False  # only with -o wide
    whole: bool = False  # never cut (ids are copied from the terminal): shown whole or left out


@dataclass(frozen=True)
class Field:
    name: str  # the JSON key and CSV column
    kind: Kind = "text"
    flag: str | None = None  # on create and update; None: not entered by people
    metavar: str = "TEXT"
    help: str = ""
    prompt: str | None = None  # create asks for it on a terminal when missing (required fields)
    prompt_default: str | None = None  # what Enter answers to that question
    required: bool = False
    choices: tuple[str, ...] = ()
    default: Any = None
    max_length: int | None = None
    minimum: float | None = None  # numbers
    maximum: float | None = None
    blank: Blank = "missing"
    table: Table | None = None
    sortable: bool = True
    filter: str | None = None  # the criteria flag that selects by it (filter, export, update --where)
    aliases: tuple[str, ...] = ()  # other CSV header names for it
    entered: bool = True  # False: kept by samplectl itself (created_at, version, ...)

    @property
    def label(self) -> str:
        """The field as a person reads it in a message: its flag when it has one."""
        return self.flag or self.name

    def describe_choices(self) -> str:
        return ", ".join(self.choices)


@dataclass(frozen=True)
class FieldRegistry:
    fields: tuple[Field, ...]

    def __iter__(self) -> Iterator[Field]:
        return iter(self.fields)

    def __getitem__(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def __contains__(self, name: object) -> bool:
        return any(f.name == name for f in self.fields)

    def where(self, test: Callable[[Field], bool]) -> tuple[Field, ...]:
        """The fields that pass ``test``, in order: `registry.where(lambda f: f.required)`."""
        return tuple(f for f in self.fields if test(f))

    @property
    def names(self) -> tuple[str, ...]:
        """Every field, in the order records are printed and exported."""
        return tuple(f.name for f in self.fields)

    @property
    def entered(self) -> tuple[Field, ...]:
        """The fields people and files enter (create, update, import), before the record's own."""
        return self.where(lambda f: f.entered)

    def column_names(self) -> dict[str, str]:
        """Every name a CSV header may use for a field (beside the field's own), normalised."""
        return {alias: f.name for f in self.fields for alias in (f.name, *f.aliases)}

    def with_field(self, new: Field, *, after: str | None = None) -> FieldRegistry:
        """This registry with one more field (after ``after``, else after the last entered field)."""
        names = self.names
        at = names.index(after) + 1 if after else len(self.entered)
        return FieldRegistry(self.fields[:at] + (new,) + self.fields[at:])

    def replacing(self, name: str, **changes: Any) -> FieldRegistry:
        return FieldRegistry(tuple(replace(f, **changes) if f.name == name else f for f in self.fields))


MAX_ID_LENGTH = 64
MAX_LOCATION_LENGTH = 128
MAX_POSITION_LENGTH = 110  # a container path (100) and a slot
SAMPLE_TYPES = ("blood", "saliva", "tissue")
STATUSES = ("collected", "processing", "archived")

SAMPLE_FIELDS = FieldRegistry((
    Field("sample_id", kind="id", flag="--id", metavar="ID", help="Sample id (generated when left out).",
          max_length=MAX_ID_LENGTH, blank="generate", table=Table("sample id", min_width=8, priority=0, whole=True)),
    Field("sample_type", kind="choice", flag="--type", metavar="TYPE", choices=SAMPLE_TYPES,
          help="blood, saliva or tissue.", prompt="Sample type", required=True, filter="--type",
          table=Table("type", min_width=6, priority=25)),
    Field("subject_id", flag="--subject", metavar="SUBJECT", help="Trial subject id.", prompt="Subject id",
          required=True, max_length=MAX_ID_LENGTH, filter="--subject", table=Table("subject", min_width=7, priority=15)),
    Field("collection_date", kind="datetime", flag="--collected", metavar="DATE",
          help="Collection date or date-time, ISO 8601 (local time unless an offset).",
          prompt="Collected (e.g. 2025-03-14T09:30, or now)", prompt_default="now", required=True,
          filter="--collected-from/--collected-to",
          table=Table("collected", min_width=16, priority=20)),
    Field("status", kind="choice", flag="--status", metavar="STATUS", choices=STATUSES, default="collected",
          help="collected, processing or archived.", blank="default", filter="--status",
          table=Table("status", min_width=6, priority=10)),
    Field("storage_location", flag="--location", metavar="LOCATION", help="Storage location, e.g. FRZ-2/R3/B14.",
          prompt="Storage location", required=True, max_length=MAX_LOCATION_LENGTH, filter="--location",
          table=Table("location", min_width=8, priority=5)),
    # BOX:SLOT of a placed sample (see domain.storage), resolved and checked against the box by
    # services.storage before validation; None when the sample has a free-text location only.
    Field("position", kind="id", flag="--position", metavar="BOX:SLOT", max_length=MAX_POSITION_LENGTH,
          help="Place the sample in a box position, e.g. FRZ-1/R2/B3:A5 (sets the storage location); "
               "a box or bag alone takes its next free place.",
          table=Table("position", min_width=8, priority=35)),
    # Kept by samplectl itself: printed and exported, never entered.
    Field("created_at", kind="datetime", entered=False, table=Table("created", min_width=16, wide_only=True)),
    Field("created_by", entered=False, table=Table("created by", wide_only=True)),
    Field("updated_at", kind="datetime", entered=False, table=Table("updated", min_width=16, wide_only=True)),
    Field("updated_by", entered=False, table=Table("updated by", wide_only=True)),
    Field("version", kind="integer", entered=False, table=Table("ver", min_width=3, wide_only=True)),
))

# The registry in use. A test may swap in one with an extra field (use()) before the rest of
# samplectl is imported: everything derived from it is derived once, at import.
_active: list[FieldRegistry] = [SAMPLE_FIELDS]


def fields() -> FieldRegistry:
    return _active[0]


def use(registry: FieldRegistry) -> None:
    """Make ``registry`` the sample's fields; call before importing anything else of samplectl."""
    _active[0] = registry
