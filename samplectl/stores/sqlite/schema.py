"""The embedded store's tables, in one place: one column per sample field, real indexes.

A new sample field is one line in ``SAMPLE_COLUMNS`` (and, for a criterion, one index in
``SAMPLE_INDEXES``) plus a step in ``MIGRATIONS`` that adds the column to existing stores.
Dates are INTEGER microseconds since the Unix epoch, UTC: exact, compact, and they sort.
Text compares with SQLite's BINARY collation, byte for byte: ids are found exactly, whatever they look like.
"""

from __future__ import annotations

from dataclasses import dataclass

# PRAGMA user_version of a store in this layout (neosqlite's stores have 0).
SCHEMA_VERSION = 3


@dataclass(frozen=True)
class Column:
    name: str
    sql: str  # type and constraints
    date: bool = False  # kept as integer microseconds, read back as an aware datetime
    optional: bool = False  # NULL means the record has no such key


SAMPLE_COLUMNS: tuple[Column, ...] = (
    Column("sample_id", "TEXT NOT NULL"),  # unique by ID_INDEX
    Column("sample_type", "TEXT NOT NULL"),
    Column("subject_id", "TEXT NOT NULL"),
    Column("collection_date", "INTEGER NOT NULL", date=True),
    Column("status", "TEXT NOT NULL"),
    Column("storage_location", "TEXT NOT NULL"),
    Column("created_at", "INTEGER NOT NULL", date=True),
    Column("created_by", "TEXT NOT NULL"),
    Column("updated_at", "INTEGER NOT NULL", date=True),
    Column("updated_by", "TEXT NOT NULL"),
    Column("version", "INTEGER NOT NULL"),
    Column("import_batch", "TEXT", optional=True),
    # BOX:SLOT of a placed sample (storage geometry); unique: see POSITION_INDEX.
    Column("position", "TEXT"),  # NULL: not placed (the record says position None, on every engine)
)
SAMPLE_NAMES = tuple(c.name for c in SAMPLE_COLUMNS)

# Each criterion, with the default sort (newest first, then id) behind it, so that a filtered,
# sorted, limited page is read off one index. The indexes leave the id out: rows point at the table
# by rowid (a few bytes, where a UUID id would take 37 in each of them), and ties on the date, few,
# are ordered by id after the index (SQLite's "temp b-tree for right part of order by").
# `import undo` finds a batch's samples by scanning the table: rare, and ~1 s per million samples,
# where an index would cost every sample ~60 bytes.
SAMPLE_INDEXES: dict[str, str] = {
    "samples_by_date": "samples(collection_date DESC)",
    "samples_by_subject": "samples(subject_id, collection_date DESC)",
    "samples_by_status": "samples(status, collection_date DESC)",
    "samples_by_type": "samples(sample_type, collection_date DESC)",
    "samples_by_location": "samples(storage_location, collection_date DESC)",
}

# The sample id's uniqueness, and how a sample is found by id. A named index rather than the column's
# UNIQUE (schema 2), so that a bulk load into an empty store can drop it and build it once after the
# load: at a million rows ~1.2 µs a sample, where keeping it up row by row costs ~4.5 (samples.bulk_load).
ID_INDEX = ("samples_by_id", "samples(sample_id)")

# Occupancy: two samples never hold one position. Kept apart from SAMPLE_INDEXES, which a bulk load
# drops and rebuilds: this one stays, so a taken position is refused at the row that takes it.
POSITION_INDEX = "CREATE UNIQUE INDEX IF NOT EXISTS samples_by_position ON samples(position) WHERE position IS NOT NULL"

# Storage containers (freezers, racks, boxes, bags), by path; see domain.storage.
CONTAINERS_TABLE = """
CREATE TABLE IF NOT EXISTS containers (
    path TEXT NOT NULL PRIMARY KEY,
    kind TEXT NOT NULL,
    parent TEXT,
    name TEXT NOT NULL,
    rows INTEGER,
    cols INTEGER,
    capacity INTEGER,
    created_at INTEGER NOT NULL,  -- microseconds since the epoch, UTC
    created_by TEXT NOT NULL
) WITHOUT ROWID"""
CONTAINER_STATEMENTS = (CONTAINERS_TABLE, "CREATE INDEX IF NOT EXISTS containers_by_parent ON containers(parent)")
GEOMETRY_STATEMENTS = (POSITION_INDEX, *CONTAINER_STATEMENTS)

AUDIT_TABLE = """
CREATE TABLE audit (
    seq INTEGER PRIMARY KEY,      -- the chain's order
    record_id,                    -- 16 bytes when the id is 32 hex digits (the usual), else the text
    at INTEGER,                   -- milliseconds since the epoch, UTC
    user TEXT,
    action TEXT,
    sample_id TEXT,
    renamed_from TEXT,
    reason TEXT,
    samplectl_version TEXT,
    import_batch TEXT,
    changes TEXT,                 -- JSON (see sqlite.audit for its compact forms)
    extra TEXT,                   -- JSON: every other key that was hashed, or NULL
    prev_hash BLOB,               -- 32 bytes
    hash BLOB                     -- 32 bytes
)"""
AUDIT_INDEXES: dict[str, str] = {
    "audit_by_sample": "audit(sample_id)",
    "audit_by_renamed_from": "audit(renamed_from) WHERE renamed_from IS NOT NULL",
    "audit_by_time": "audit(at)",
}

OTHER_TABLES = (
    # started_at, state and sha256 are copied out of the record for the queries that need them.
    """CREATE TABLE import_batches (
        batch_id TEXT NOT NULL PRIMARY KEY, state TEXT NOT NULL, sha256 TEXT, started_at INTEGER,
        record TEXT NOT NULL)""",
    "CREATE INDEX batches_by_sha256 ON import_batches(sha256)",
    "CREATE TABLE import_journal (batch_id TEXT NOT NULL, sample_id TEXT NOT NULL, record TEXT NOT NULL)",
    "CREATE INDEX journal_by_batch ON import_journal(batch_id)",
    # What the store knows about itself (its id, where it came from).
    "CREATE TABLE meta (key TEXT NOT NULL PRIMARY KEY, value TEXT) WITHOUT ROWID",
)


def samples_table(name: str = "samples") -> str:
    columns = ",\n    ".join(f"{c.name} {c.sql}" for c in SAMPLE_COLUMNS)
    return f"CREATE TABLE {name} (\n    {columns}\n)"


def create_index(name: str, spec: str, *, unique: bool = False) -> str:
    table, _, rest = spec.partition("(")
    return f"CREATE {'UNIQUE ' if unique else ''}INDEX IF NOT EXISTS {name} ON {table}({rest}"


def sample_index_statements() -> list[str]:
    """Every index of the samples table."""
    return [create_index(*ID_INDEX, unique=True), *(create_index(n, s) for n, s in SAMPLE_INDEXES.items()),
            POSITION_INDEX]


def schema_statements() -> list[str]:
    statements = [samples_table(), AUDIT_TABLE, *OTHER_TABLES]
    statements += sample_index_statements()
    statements += [create_index(n, s) for n, s in AUDIT_INDEXES.items()]
    statements += CONTAINER_STATEMENTS
    return statements


def rebuild_samples() -> list[str]:
    """Schema 2 to 3: the samples table without the column's UNIQUE, which SQLite cannot drop from a
    table, so the table is made anew by SQLite's documented procedure (sqlite.org/lang_altertable.html,
    "Making Other Kinds Of Table Schema Changes"): a new table, every row copied with its rowid, the old
    table dropped (its indexes with it), the new one renamed, every index made again. No trigger or view
    refers to samples. Runs inside the upgrade's one transaction: a store is upgraded whole or not at all.
    (A later change to SAMPLE_COLUMNS that adds a column by a step of its own must keep this step's
    table at schema 3's columns.)"""
    columns = ", ".join(c.name for c in SAMPLE_COLUMNS)
    return [samples_table("samples_v3"),
            f"INSERT INTO samples_v3 (rowid, {columns}) SELECT rowid, {columns} FROM samples",
            "DROP TABLE samples",
            "ALTER TABLE samples_v3 RENAME TO samples",
            *sample_index_statements()]


# Steps from one SCHEMA_VERSION to the next (index = the version they start from), e.g. a new column:
# ["ALTER TABLE samples ADD COLUMN position TEXT", "CREATE UNIQUE INDEX ..."]. Version 0 is neosqlite's
# layout, which sqlite.migrate converts.
MIGRATIONS: dict[int, list[str]] = {
    1: ["ALTER TABLE samples ADD COLUMN position TEXT", *GEOMETRY_STATEMENTS],
    2: rebuild_samples(),
}
