"""The global options' names, without typer: the app hoists them, the completion fast path skips them."""

from __future__ import annotations

# Accepted before or after the command (`samplectl export --quiet`).
GLOBAL_FLAGS = frozenset({"--debug", "--verbose", "-v", "--quiet", "-q", "--no-color", "--no-pager", "--version"})
GLOBAL_WITH_VALUE = frozenset({"--log-file"})
