"""Options shared by several commands, so every command spells and documents them the same."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, TypeVar

import typer

from samplectl.cli.completion import OPTION_FIELDS, stored_completion
from samplectl.domain.fields import Field, fields
from samplectl.domain.vocab import OUTPUT_FORMATS, ROLES, SAMPLE_TYPES, STATUSES

F = TypeVar("F", bound=Callable[..., Any])


def complete_from(values: Sequence[str]) -> Callable[[str], list[str]]:
    def complete(incomplete: str) -> list[str]:
        return [v for v in values if v.startswith(incomplete)]

    return complete


Output = Annotated[
    str | None,
    typer.Option(
        "--output",
        "-o",
        metavar="FORMAT",
        help="table, wide, json, jsonl or csv (any case). Default: a table on a terminal, JSON in a pipe.",
        autocompletion=complete_from(OUTPUT_FORMATS),
        show_default=False,
    ),
]

FieldsOption = Annotated[
    str | None,
    typer.Option("--fields", metavar="A,B,C",
                 help="Only these fields, in this order: the table's and CSV's columns, the keys of JSON."),
]

# Criteria (filter, export, update --where). Values are validated by the domain (exit 6), not by
# typer choices (exit 2), as the contract asks. Metavars name what a technician types, not Python types.
TypeCriteria = Annotated[
    list[str] | None,
    typer.Option("--type", metavar="TYPE", help=f"Sample type: {', '.join(SAMPLE_TYPES)} (repeat for OR).",
                 autocompletion=complete_from(SAMPLE_TYPES)),
]
StatusCriteria = Annotated[
    list[str] | None,
    typer.Option("--status", metavar="STATUS", help=f"Status: {', '.join(STATUSES)} (repeat for OR).",
                 autocompletion=complete_from(STATUSES)),
]
SubjectCriteria = Annotated[
    list[str] | None, typer.Option("--subject", metavar="SUBJECT", help="Subject id, exact (repeat for OR).",
                                   autocompletion=stored_completion("subject_id"))
]
LocationCriteria = Annotated[
    list[str] | None,
    typer.Option("--location", metavar="PREFIX", help="Storage location prefix, case-sensitive (repeat for OR).",
                 autocompletion=stored_completion("storage_location")),
]
CollectedFrom = Annotated[
    str | None, typer.Option("--collected-from", metavar="DATE", help="Collected on or after this date or date-time.")
]
CollectedTo = Annotated[
    str | None,
    typer.Option("--collected-to", metavar="DATE", help="Collected on or before this date (whole day) or date-time."),
]
SortOption = Annotated[
    str | None,
    typer.Option(
        "--sort", metavar="FIELD", help="Sort by FIELD ascending or -FIELD descending. Default: -collection_date."
    ),
]

# Sample fields as flags: derived from the field registry (domain.fields), see field_flags().
def flag_option(f: Field) -> Any:
    """One field's flag: `--type TYPE`, its help, and completion of its choices (or of the stored values)."""
    extra: dict[str, Any] = {}
    if f.choices:
        extra["autocompletion"] = complete_from(f.choices)
    elif OPTION_FIELDS.get(f.flag or "") == f.name:  # --subject, --location: what is stored
        extra["autocompletion"] = stored_completion(f.name)
    return Annotated[str | None, typer.Option(f.flag, metavar=f.metavar, help=f.help, show_default=False, **extra)]


CollectedFlag = flag_option(fields()["collection_date"])
FieldValues = dict[str, Any]  # {field name: the text given}, for the flags given


def flags_in_place_of(param: str, flags: Mapping[str, Any]) -> Callable[[F], F]:
    """Replace the command's parameter ``param`` by the options ``flags`` ({name: annotation}).

    The command receives the values given as one dict in ``param``; typer reads the generated
    signature like a hand-written one (the flags appear in `--help` where ``param`` stood).
    """

    def decorate(command: F) -> F:
        signature = inspect.signature(command, eval_str=True)
        params = list(signature.parameters.values())
        at = [p.name for p in params].index(param)
        params[at:at + 1] = [inspect.Parameter(name, params[at].kind, default=None, annotation=annotation)
                             for name, annotation in flags.items()]

        @functools.wraps(command)
        def run(*args: Any, **kwargs: Any) -> Any:
            given = {name: kwargs.pop(name) for name in flags}
            return command(*args, **{param: {k: v for k, v in given.items() if v is not None}}, **kwargs)

        run.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
        run.__annotations__ = {p.name: p.annotation for p in params}
        return run  # type: ignore[return-value]

    return decorate


def field_flags(chosen: Sequence[Field]) -> Callable[[F], F]:
    """One flag per field (`--type`, `--subject`, ...) in place of the command's ``values: FieldValues``.

    A field added to the registry is a flag of the command with no change to it.
    """
    return flags_in_place_of("values", {f.name: flag_option(f) for f in chosen if f.flag})


SampleIds = Annotated[list[str], typer.Argument(metavar="ID", help="One or more sample ids.",
                                                autocompletion=stored_completion("sample_id"))]
Reason = Annotated[str | None, typer.Option("--reason", metavar="TEXT", help="Why: recorded in the audit trail.")]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
RoleOption = Annotated[
    str, typer.Option("--role", metavar="ROLE", help="viewer, technician or admin.", autocompletion=complete_from(ROLES))
]


CriteriaFlags = dict[str, Any]  # {build_criteria's argument: the values given}
# The criteria flags of filter and export, in place of a ``criteria: CriteriaFlags`` parameter.
criteria_flags = flags_in_place_of("criteria", {
    "sample_types": TypeCriteria, "statuses": StatusCriteria, "subject_ids": SubjectCriteria,
    "location_prefixes": LocationCriteria, "collected_from": CollectedFrom, "collected_to": CollectedTo,
})
