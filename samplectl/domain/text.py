"""The one rule for text people and files enter: a single line of visible text, of bounded length.

Sample fields, reasons, user names and the cells of CSV and JSON files all follow it (the
contract's "Flags and shapes"). A value that passes can be printed on any terminal, in any log and
in any spreadsheet cell without moving the cursor, changing colours, reordering what is shown
around it or looking like another value: no C0 or C1 control characters (ESC starts terminal
sequences; U+009B is a one-byte CSI), no bidi controls (U+202E shows text backwards), no
zero-width characters (`S-1` and `S-1` + U+200B would be two samples that look the same), no
line or paragraph separators. Lone surrogates (undecodable bytes in argv) are not text either.

``FORBIDDEN`` is a regular-expression class body both Python's ``re`` and pydantic's Rust engine
read the same way, so the sample model checks its fields with it at full import speed;
``check_text`` is the same rule for values checked one at a time (reasons, names).
"""

from __future__ import annotations

import re
import unicodedata

from samplectl.domain.errors import ValidationFailed

FORBIDDEN = (
    r"\x00-\x1f\x7f-\x9f"  # C0 and C1 controls, DEL (U+0085, next line, is C1)
    r"\u200b-\u200d\u2060\ufeff"  # zero-width space, non-joiner, joiner, word joiner, BOM
    r"\u202a-\u202e\u2066-\u2069"  # bidi embeddings, overrides and isolates
    r"\u2028\u2029"  # line and paragraph separators
    r"\ud800-\udfff"  # lone surrogates (Python's re only; pydantic refuses them on its own)
)
# What pydantic's pattern= takes (the Rust engine cannot name surrogates: they are not characters).
_FORBIDDEN_RUST = FORBIDDEN.replace(r"\ud800-\udfff", "")
ONE_LINE_PATTERN = rf"^[^{_FORBIDDEN_RUST}]*$"
WORD_PATTERN = rf"^[^\s{_FORBIDDEN_RUST}]+$"  # ids: no whitespace at all
# ONE_LINE_PATTERN for text that needs no trimming: no whitespace at either end (Rust's \s is what
# pydantic's trimming takes off). Imports check text against it untrimmed (domain.sample.quick_check).
TRIMMED_LINE_PATTERN = rf"^(?:[^\s{_FORBIDDEN_RUST}](?:[^{_FORBIDDEN_RUST}]*[^\s{_FORBIDDEN_RUST}])?)?$"

_FORBIDDEN_RE = re.compile(f"[{FORBIDDEN}]")

MAX_REASON_LENGTH = 500
SHOWN_LENGTH = 100  # a value echoed in a message is cut to about this many characters


def forbidden_character(value: str) -> str | None:
    """What is wrong with ``value`` under the rule, for people (e.g. "a control character (U+001B)"); None if fine."""
    found = _FORBIDDEN_RE.search(value)
    if found is None:
        return None
    char = found.group()
    point = ord(char)
    code = f"U+{point:04X}"
    if 0xD800 <= point <= 0xDFFF:
        return f"bytes that are not valid text ({code})"
    if point in (0x85, 0x2028, 0x2029):
        return f"a line break ({code})"
    if point in (0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF):
        return f"an invisible zero-width character ({code})"
    if 0x202A <= point <= 0x202E or 0x2066 <= point <= 0x2069:
        return f"a text-direction control ({code})"
    if char in "\n\r":
        return f"a line break ({code})"
    return f"a control character ({code}{', ' + unicodedata.name(char) if unicodedata.name(char, '') else ''})"


def check_text(value: str, *, name: str, max_length: int, word: bool = False) -> str:
    """``value`` trimmed, when it is one line of visible text of 1 to ``max_length`` characters.

    Refused (exit 6) otherwise, naming ``name`` (a flag or a field) and what is wrong; ``word``
    also refuses inner whitespace (ids). An explicitly empty value is refused, never "not given".
    """
    trimmed = value.strip()
    if not trimmed:
        raise _refuse(name, value, "is empty; give a value or leave the option out")
    if word and any(c.isspace() for c in trimmed):
        raise _refuse(name, trimmed, "must be one word: no spaces, tabs or line breaks")
    problem = forbidden_character(trimmed)
    if problem is not None:
        raise _refuse(name, trimmed, f"must be a single line of visible text; it contains {problem}")
    if len(trimmed) > max_length:
        raise _refuse(name, trimmed, f"is {len(trimmed)} characters long; at most {max_length} allowed")
    return trimmed


def check_reason(reason: str | None) -> str | None:
    """A change's ``--reason``: optional, but when given, one line of at most 500 characters."""
    if reason is None:
        return None
    return check_text(reason, name="--reason", max_length=MAX_REASON_LENGTH)


def shorten(value: object, limit: int = SHOWN_LENGTH) -> str:
    """``value`` as text cut to about ``limit`` characters (with …), for echoing in messages."""
    text = value if isinstance(value, str) else str(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text)} characters)"


def shown(value: object, limit: int = SHOWN_LENGTH) -> str:
    """``repr`` of a value for a message, cut to about ``limit`` characters; escapes make controls visible."""
    text = value if isinstance(value, str) else str(value)
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}… ({len(text)} characters)"


def escape_invisible(text: str) -> str:
    """``text`` with every character the rule forbids written as a JSON-style escape (``\\u001b``).

    For what samplectl writes to a terminal whatever its origin (errors echo values; a driver's
    message may hold anything): the escapes are readable, valid inside a JSON string, and inert.
    """
    if _FORBIDDEN_RE.search(text) is None:
        return text
    return _FORBIDDEN_RE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _refuse(name: str, value: str, problem: str) -> ValidationFailed:
    return ValidationFailed(
        f"{name} {shown(value)} {problem}" if value.strip() else f"{name} {problem}",
        details=[{"column": name, "value": shorten(value), "message": problem}],
    )
