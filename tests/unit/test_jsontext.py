"""orjson is used only where it writes exactly the json module's text (stored and hashed audit JSON)."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from typing import Any

import pytest

from samplectl.domain.audit import canonical, canonical_bytes
from samplectl.domain.jsontext import compact, exact

TRICKY_TEXT = ["", "plain", 'q"uote', "back\\slash", "\n\r\t\b\f", "\x00\x01\x1f\x7f", "Zürich", "\u2028\u2029",
               "😀 emoji", "<script>&'", "/slash"]


def reference(value: Any, *, sort_keys: bool = False) -> bytes:
    return json.dumps(value, sort_keys=sort_keys, ensure_ascii=False, separators=(",", ":")).encode()


@pytest.mark.parametrize("sort_keys", [False, True])
def test_fast_text_is_the_json_module_text(sort_keys: bool) -> None:
    rnd = random.Random(4)
    leaves: list[Any] = [*TRICKY_TEXT, None, True, False, 0, -1, 2**63 - 1, -(2**63), 2**64 - 1]
    for _ in range(300):
        value = {rnd.choice(TRICKY_TEXT) + str(i): rnd.choice(leaves) for i in range(rnd.randrange(6))}
        value["nested"] = {"list": [rnd.choice(leaves) for _ in range(3)], "tuple": (1, "b"), "z": {"a": None}}
        assert compact(value, sort_keys=sort_keys) == reference(value, sort_keys=sort_keys)


@pytest.mark.parametrize("value", [
    {"x": 1.5}, {"x": 1e16}, {"x": float("nan")}, {"x": [0.1]},  # orjson writes some floats differently
    {"x": datetime(2025, 1, 1, tzinfo=UTC)},  # orjson would write its own date text
    {1: "int key"}, {"x": 2**64}, {"x": -(2**63) - 1},  # json converts the key; orjson refuses big ints
    {"x": "\ud800"},  # a lone surrogate: json writes it, orjson refuses
    {"x": type("Text", (str,), {})("subclass")},
])
def test_anything_else_falls_back_to_the_json_module(value: dict[Any, Any]) -> None:
    assert compact(value) is None


def test_canonical_bytes_match_canonical_with_and_without_orjson() -> None:
    content = {"seq": 3, "prev_hash": "0" * 64, "at": "2025-03-14T09:30:00.123Z", "user": "tech",
               "action": "import", "sample_id": "S-1", "reason": None, "import_batch": "b",
               "changes": {"status": {"before": None, "after": "collected"}, "subject_id": {"before": None,
                                                                                             "after": "Zürich"}}}
    assert exact(content)
    assert canonical_bytes(content) == canonical(content).encode("utf-8")
    assert canonical_bytes(content, checked=False) == canonical(content).encode("utf-8")
    odd = dict(content, extra=1.5, when=datetime(2025, 1, 1, tzinfo=UTC))
    assert not exact(odd)
    assert canonical_bytes(odd) == canonical(odd).encode("utf-8")
