"""The fixed vocabularies, importable without pydantic (shell completion and help use them)."""

SAMPLE_TYPES = ("blood", "saliva", "tissue")
STATUSES = ("collected", "processing", "archived")
ROLES = ("viewer", "technician", "admin")
OUTPUT_FORMATS = ("table", "json", "jsonl", "csv")
EXPORT_FORMATS = ("csv", "jsonl", "json")  # export streams: no table

# Fields in the order they are printed and exported; the first seven are the ones a person enters
# (position: BOX:SLOT of a placed sample, see domain.storage; None when it has a free-text location).
INPUT_FIELDS = ("sample_id", "sample_type", "subject_id", "collection_date", "status", "storage_location",
                "position")
RECORD_FIELDS = INPUT_FIELDS + ("created_at", "created_by", "updated_at", "updated_by", "version")
SORTABLE_FIELDS = RECORD_FIELDS
# A terminal table shows what a technician scans for; -o json/csv carry every field.
TABLE_FIELDS = INPUT_FIELDS + ("version",)

# Lifecycle: which status may follow which. Anything else needs an admin's --force --reason.
NEXT_STATUSES: dict[str, tuple[str, ...]] = {
    "collected": ("processing", "archived"),
    "processing": ("archived",),
    "archived": (),
}

MAX_ID_LENGTH = 64
MAX_LOCATION_LENGTH = 128
MAX_POSITION_LENGTH = 110  # a container path (100) and a slot
