"""Rendering records and errors for people (Rich tables) and scripts (JSON, JSON Lines, CSV)."""
