"""Options shared by several commands, so every command spells and documents them the same."""

from __future__ import annotations

from typing import Annotated

import typer

from samplectl.domain.vocab import OUTPUT_FORMATS, ROLES, SAMPLE_TYPES, STATUSES


def _complete(values: tuple[str, ...]):  # -> completion callback
    def complete(incomplete: str) -> list[str]:
        return [v for v in values if v.startswith(incomplete)]

    return complete


Output = Annotated[
    str | None,
    typer.Option(
        "--output",
        "-o",
        metavar="FORMAT",
        help="table, json, jsonl or csv. Default: a table on a terminal, JSON in a pipe.",
        autocompletion=_complete(OUTPUT_FORMATS),
        show_default=False,
    ),
]

# Criteria (filter, export, update --where). Values are validated by the domain (exit 6), not by
# typer choices (exit 2), as the contract asks. Metavars name what a technician types, not Python types.
TypeCriteria = Annotated[
    list[str] | None,
    typer.Option("--type", metavar="TYPE", help=f"Sample type: {', '.join(SAMPLE_TYPES)} (repeat for OR).",
                 autocompletion=_complete(SAMPLE_TYPES)),
]
StatusCriteria = Annotated[
    list[str] | None,
    typer.Option("--status", metavar="STATUS", help=f"Status: {', '.join(STATUSES)} (repeat for OR).",
                 autocompletion=_complete(STATUSES)),
]
SubjectCriteria = Annotated[
    list[str] | None, typer.Option("--subject", metavar="SUBJECT", help="Subject id, exact (repeat for OR).")
]
LocationCriteria = Annotated[
    list[str] | None,
    typer.Option("--location", metavar="PREFIX", help="Storage location prefix, case-sensitive (repeat for OR)."),
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

# Sample fields as flags (create, update).
SampleIdFlag = Annotated[str | None, typer.Option("--id", metavar="ID", help="Sample id (generated when left out).")]
TypeFlag = Annotated[
    str | None,
    typer.Option("--type", metavar="TYPE", help="blood, saliva or tissue.", autocompletion=_complete(SAMPLE_TYPES)),
]
SubjectFlag = Annotated[str | None, typer.Option("--subject", metavar="SUBJECT", help="Trial subject id.")]
CollectedFlag = Annotated[
    str | None,
    typer.Option(
        "--collected", metavar="DATE", help="Collection date or date-time, ISO 8601 (local time unless an offset)."
    ),
]
StatusFlag = Annotated[
    str | None,
    typer.Option(
        "--status", metavar="STATUS", help="collected, processing or archived.", autocompletion=_complete(STATUSES)
    ),
]
LocationFlag = Annotated[
    str | None, typer.Option("--location", metavar="LOCATION", help="Storage location, e.g. FRZ-2/R3/B14.")
]
PositionFlag = Annotated[
    str | None,
    typer.Option("--position", metavar="BOX:SLOT",
                 help="Place the sample in a box position, e.g. FRZ-1/R2/B3:A5 (sets the storage location); "
                      "a box or bag alone takes its next free place."),
]
Reason = Annotated[str | None, typer.Option("--reason", metavar="TEXT", help="Why: recorded in the audit trail.")]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
RoleOption = Annotated[
    str, typer.Option("--role", metavar="ROLE", help="viewer, technician or admin.", autocompletion=_complete(ROLES))
]
