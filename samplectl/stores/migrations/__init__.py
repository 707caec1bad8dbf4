"""Alembic migrations of the users database, run by `samplectl init` (never by hand)."""
