"""CSV cells that a spreadsheet never runs as a formula, and that import back unchanged.

Excel, LibreOffice and Google Sheets treat a cell starting with = + - @ (and TAB or CR, which they
skip before looking) as a formula: `=HYPERLINK(...)` in a location would become a live link on the
auditor's screen. Every CSV samplectl writes prefixes such a text cell with an apostrophe, the
spreadsheets' own "this is text" mark, and the importer takes exactly one apostrophe off again.

To keep the round trip exact, a value that already starts with apostrophes followed by one of those
characters gets one more: `'=x` is written `''=x` and read back as `'=x`. Other values are untouched.
"""

from __future__ import annotations

import re

FORMULA_START = "=+-@\t\r"
_NEEDS_MARK = re.compile(r"'*[=+\-@\t\r]")
_MARKED = re.compile(r"'+[=+\-@\t\r]")
_MAY_NEED_MARK = frozenset(FORMULA_START + "'")


def neutralise(value: str) -> str:
    """A text cell as samplectl writes it into CSV."""
    # The first character decides most cells without the pattern (an export checks millions).
    return "'" + value if value[:1] in _MAY_NEED_MARK and _NEEDS_MARK.match(value) else value


def restore(cell: str) -> str:
    """A CSV cell as samplectl wrote it, back to the value (what neutralise() did, undone)."""
    return cell[1:] if cell[:1] == "'" and _MARKED.match(cell) else cell
