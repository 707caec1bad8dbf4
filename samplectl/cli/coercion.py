"""Typer's value checks without pydantic for the plain values samplectl's parameters take.

typer (0.29) converts every parameter's value through a pydantic TypeAdapter built on first use: for
any command, ~70 ms of CPU importing pydantic and building adapters, half of what `samplectl get`
may cost in all (issue 13). samplectl's parameters are ``str``, ``int``, ``bool`` and ``list[str]``,
and most values arrive already as what the adapter would return (text, a flag's bool, a count's int,
a default); those are passed through here unchanged, and a decimal number is read with ``int``.
Anything else (``--limit abc``, ``--limit 1e20``, bytes) goes to typer's own coercion, built when
first needed, so its rules and messages stay typer's.

This sets typer's private ``_runtime_param`` slot (the lazily built coercion of each parameter). Should
a typer release drop it, nothing is installed and typer coerces as before, only slower: a test in
tests/cli/test_startup.py fails then, since `get` would load pydantic again.
"""

from __future__ import annotations

import re
from typing import Any

PLAIN = {str: str, int: int, bool: bool, list[str]: str}
DECIMAL = re.compile(r"[+-]?[0-9]{1,18}")  # what int() reads exactly as pydantic does (no '_', spaces or '1.0')


class PlainValues:
    """A parameter's coercion: plain values here, the rest by typer's (pydantic's) own."""

    def __init__(self, param: Any) -> None:
        self.param = param
        self.annotation = param.type_descriptor.annotation
        self._typer: Any = None

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        multiple = param.multiple or param.nargs == -1
        if value is None:
            return () if multiple else None
        if multiple:
            if isinstance(value, list | tuple) and all(type(v) is str for v in value):
                return list(value)
        elif self.annotation is int and type(value) is str and DECIMAL.fullmatch(value):
            return int(value)
        elif type(value) is self.annotation:  # exactly: a bool is no int here
            return value
        return self.typer().coerce(value, param, ctx)

    def typer(self) -> Any:
        if self._typer is None:
            from typer._coercion import build_runtime_param

            self._typer = build_runtime_param(self.param.type_descriptor)
        return self._typer


def install(command: Any, ctx: Any) -> None:
    """Give every plain parameter of ``command`` and its subcommands the pydantic-free coercion.

    Called as the root parses its arguments: by then typer has added ``--install-completion`` and
    ``--show-completion``, and ``get_params`` makes each command's ``--help`` (click keeps it).
    """
    for param in command.get_params(ctx):
        descriptor = getattr(param, "type_descriptor", None)
        if descriptor is None or getattr(param, "_runtime_param", False) is not None:
            continue
        if descriptor.file_annotation is None and _plain(descriptor):
            param._runtime_param = PlainValues(param)
    for sub in getattr(command, "commands", {}).values():
        install(sub, ctx)


def _plain(descriptor: Any) -> bool:
    info = descriptor.parameter_info
    constrained = any(getattr(info, name, None) is not None for name in ("parser", "min", "max", "formats"))
    try:
        return descriptor.annotation in PLAIN and not constrained
    except TypeError:  # an unhashable annotation: not one of ours
        return False
