"""Errors for people and scripts: `error:`/`hint:` lines, and the JSON envelope for scripts."""

from __future__ import annotations

import json
from typing import IO, Any

from samplectl.domain.text import escape_invisible


def write_error(
    err: IO[str], *, code: str, message: str, hint: str | None, details: list[Any], envelope: bool, color: bool
) -> None:
    # Whatever a message echoes, no control sequence reaches the terminal (nor a lone surrogate the stream).
    message, hint = escape_invisible(message), escape_invisible(hint) if hint else hint
    if color:
        err.write(f"\x1b[31merror:\x1b[0m {message}\n")
        if hint:
            err.write(f"\x1b[2mhint:\x1b[0m {hint}\n")
    else:
        err.write(f"error: {message}\n")
        if hint:
            err.write(f"hint: {hint}\n")
    if envelope:
        body = {"error": {"code": code, "message": message, "details": details}}
        if hint:
            body["error"]["hint"] = hint
        err.write(escape_invisible(json.dumps(body, ensure_ascii=False, default=str)) + "\n")
