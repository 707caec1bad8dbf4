"""Compact JSON text, fast: orjson where its bytes are exactly what the json module would write.

Imports store one audit record per sample and hash its canonical form first: two JSON texts per
sample, on which the json module spends ~5 µs each and orjson under 1 µs.
The stored text and the hashed text must not change, so orjson is used only for values made of
the types where both libraries agree byte for byte: str, int, bool, None, and dicts (str keys)
and lists of those. Floats (orjson writes 1e16 where json writes 1e+16), datetimes, subclasses
and anything else go to the json module, as does an int orjson refuses (beyond 64 bits).
Strings agree: both escape only '"', '\\' and control characters, the same way (checked in
tests/unit/test_jsontext.py). Only ensure_ascii=False text: neosqlite's own documents (samples) are
written with ensure_ascii and ", " separators, which orjson cannot write.
"""

from __future__ import annotations

from typing import Any

try:
    import orjson
except ImportError:  # pragma: no cover - orjson is a dependency; stay correct without it
    orjson = None  # type: ignore[assignment]

_LEAVES = frozenset((str, int, bool, type(None)))


def exact(value: Any) -> bool:
    """Whether ``value`` holds only types that orjson and json encode identically."""
    kind = type(value)
    if kind in _LEAVES:
        return True
    if kind is dict:
        for key, item in value.items():  # noqa: SIM110 - a plain loop beats all() on a generator here
            if type(key) is not str or not (type(item) in _LEAVES or exact(item)):
                return False
        return True
    if kind is list or kind is tuple:
        return all(type(item) in _LEAVES or exact(item) for item in value)
    return False


def compact(value: Any, *, sort_keys: bool = False, checked: bool | None = None) -> bytes | None:
    """``value`` as json.dumps(separators=(",", ":"), ensure_ascii=False, sort_keys=sort_keys)
    would write it, UTF-8 encoded; None when only the json module can say (the caller falls back).

    ``checked`` is ``exact(value)`` when the caller already knows it (the check is a third of the cost).
    """
    if orjson is None or not (exact(value) if checked is None else checked):
        return None
    try:
        text = orjson.dumps(value, option=orjson.OPT_SORT_KEYS if sort_keys else 0)
    except orjson.JSONEncodeError:  # e.g. an int beyond 64 bits, a lone surrogate
        return None
    return text
