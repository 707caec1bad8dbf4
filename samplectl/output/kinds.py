"""What samplectl prints, kind by kind: samples, accounts, audit entries, whoami.

The sample's columns come from the field registry (``domain.fields``); the others are declared
here. Every kind is written by the same writers (``output.formats``) in every format.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from samplectl.domain.fields import FieldRegistry, fields
from samplectl.domain.vocab import ACCOUNT_FIELDS, ENTRY_FIELDS
from samplectl.output.formats import Kind, pick
from samplectl.output.table import Column


def sample_kind(registry: FieldRegistry) -> Kind:
    columns = tuple(
        Column(f.name, f.table.header, min_width=f.table.min_width, priority=f.table.priority,
               wide_only=f.table.wide_only, time=f.kind == "datetime", whole=f.table.whole,
               justify="right" if f.kind in ("number", "integer") else "left")
        for f in registry if f.table is not None
    )
    return Kind(name="samples", fields=registry.names, columns=columns, empty="no samples")


SAMPLES = sample_kind(fields())

ACCOUNTS = Kind(
    name="accounts",
    fields=ACCOUNT_FIELDS,
    columns=(
        Column("username", "user", min_width=6, priority=0, whole=True),
        Column("role", "role", min_width=10, priority=5),
        Column("active", "active", min_width=6, priority=10,
               value=lambda a: "yes" if a.get("active") else "no"),
        Column("created_at", "created", min_width=16, priority=30, time=True),
        Column("failed_logins", "failed", min_width=6, priority=40, justify="right", wide_only=True),
        Column("locked_until", "locked until", min_width=16, priority=20, time=True),
        Column("password_changed_at", "password changed", min_width=16, priority=35, time=True, wide_only=True),
    ),
    empty="no accounts",
)

WHOAMI = Kind(name="login", fields=("username", "role", "expires_at", "token_stored_in", "users_database"),
              pairs=True)


# -- audit entries ---------------------------------------------------------------------------
# A table is for reading at a terminal: a deleted sample's full last state is in -o json.
_TABLE_HIDDEN = ("created_at", "created_by", "updated_at", "updated_by")


def describe_changes(changes: Mapping[str, Any], sep: str = "; ") -> str:
    """Changes for a person: `status: collected -> processing`, `= value` when set, `was value` when removed."""
    parts = []
    for name, change in changes.items():
        if not isinstance(change, Mapping):
            parts.append(f"{name}: {change}")
            continue
        before, after = change.get("before"), change.get("after")
        if before is None:
            parts.append(f"{name} = {after}")
        elif after is None:
            parts.append(f"{name} was {before}")
        else:
            parts.append(f"{name}: {before} -> {after}")
    return sep.join(parts)


def _action(entry: Mapping[str, Any]) -> str:
    return str(entry.get("action")) + (" (forced)" if entry.get("forced") else "")


def _changes(entry: Mapping[str, Any]) -> str:
    changes = entry.get("changes")
    if not isinstance(changes, Mapping):
        return "" if changes is None else str(changes)
    return describe_changes({k: v for k, v in changes.items() if k not in _TABLE_HIDDEN})


def _entry_columns(sample_id_priority: int) -> tuple[Column, ...]:
    return (
        Column("at", "at", min_width=16, priority=0, time=True),
        Column("user", "user", min_width=5, priority=20),
        Column("action", "action", min_width=6, priority=5, value=_action),
        Column("sample_id", "sample id", min_width=8, priority=sample_id_priority, whole=True),
        Column("changes", "changes", min_width=10, priority=10, value=_changes),
        Column("reason", "reason", min_width=6, priority=30),
    )


# One sample's history: its id is in every row, so it is the first column to leave a narrow terminal.
HISTORY = Kind(name="history entries", fields=ENTRY_FIELDS, columns=_entry_columns(45), empty="no audit records",
               to_json=pick)

AUDIT_FIELDS = ("seq",) + ENTRY_FIELDS


def _audit_json(entry: Mapping[str, Any], names: Sequence[str]) -> dict[str, Any]:
    # Without --fields, `audit -o json` shows everything that was recorded (forced, account, ...).
    return dict(entry) if tuple(names) == AUDIT_FIELDS else pick(entry, names)


AUDIT = Kind(name="audit records", fields=AUDIT_FIELDS,
             columns=(Column("seq", "seq", min_width=3, priority=50, justify="right"), *_entry_columns(8)),
             empty="no audit records", to_json=_audit_json)
