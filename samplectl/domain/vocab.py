"""The fixed vocabularies, importable without pydantic (shell completion and help use them).

The sample's own fields and choices are declared in ``domain.fields``; these names are derived
from it for the modules that only need a list.
"""

from samplectl.domain.fields import MAX_ID_LENGTH, MAX_LOCATION_LENGTH, MAX_POSITION_LENGTH, fields

_FIELDS = fields()
SAMPLE_TYPES = _FIELDS["sample_type"].choices
STATUSES = _FIELDS["status"].choices
ROLES = ("viewer", "technician", "admin")
# -o/--output: read by output.formats (one parser, any case); wide is the table with every column.
OUTPUT_FORMATS = ("table", "wide", "json", "jsonl", "csv")
EXPORT_FORMATS = ("csv", "jsonl", "json")  # export streams: no table

# Fields in the order they are printed and exported; the entered ones first.
INPUT_FIELDS = tuple(f.name for f in _FIELDS.entered)
RECORD_FIELDS = _FIELDS.names
SORTABLE_FIELDS = tuple(f.name for f in _FIELDS.where(lambda f: f.sortable))

# The shape of one entry of `history` (and the core of `audit`), in the contract's order.
ENTRY_FIELDS = ("at", "user", "action", "sample_id", "changes", "reason")
# What `users list` and `whoami` print, in order (never the password hash).
ACCOUNT_FIELDS = ("username", "role", "active", "created_at", "failed_logins", "locked_until", "password_changed_at")

# Lifecycle: which status may follow which. Anything else needs an admin's --force --reason.
NEXT_STATUSES: dict[str, tuple[str, ...]] = {
    "collected": ("processing", "archived"),
    "processing": ("archived",),
    "archived": (),
}

__all__ = ["ACCOUNT_FIELDS", "ENTRY_FIELDS", "INPUT_FIELDS", "MAX_ID_LENGTH", "MAX_LOCATION_LENGTH", "MAX_POSITION_LENGTH",
           "NEXT_STATUSES", "OUTPUT_FORMATS", "EXPORT_FORMATS",
           "RECORD_FIELDS", "ROLES",
           "SAMPLE_TYPES", "SORTABLE_FIELDS", "STATUSES"]
