"""Use cases: plain values in, records out. No typer, no rich."""
