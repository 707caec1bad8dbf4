"""Help text as a technician reads it: names of what to type, not Python types; examples kept whole.

Typer shows a parameter's Python type (`--limit <int>`, `--type <list[str]>`) and wraps a required
argument in braces (`{FILE}`); click rewraps every paragraph, which splits an example command
across lines so that it cannot be pasted. One pass over the command tree, when the root group is
built, fixes all three for every command, including those added later.
"""

from __future__ import annotations

import types
from typing import Any

EXAMPLE = "Example"
NO_REWRAP = "\b"  # click's marker: the paragraph after it is printed as written


def tidy_help(command: Any) -> None:
    """Apply the help conventions to ``command`` and everything under it (idempotent)."""
    for param in getattr(command, "params", ()):
        if getattr(param, "param_type_name", "") == "argument":
            _tidy_argument(param)
        elif getattr(param, "param_type_name", "") == "option":
            _tidy_option(param)
    if getattr(command, "help", None):
        command.help = keep_examples_whole(command.help)
    for sub in getattr(command, "commands", {}).values():
        tidy_help(sub)


def metavar_for(param: Any) -> str:
    """What to type, from the parameter: N for a number, else its own name in capitals."""
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is not None and descriptor.annotation in (int, float):
        return "N"
    longest = max(getattr(param, "opts", None) or [param.name], key=len)
    return longest.lstrip("-").replace("-", "_").upper()


def _tidy_option(param: Any) -> None:
    if param.metavar is None and not param.is_flag and not getattr(param, "count", False):
        param.metavar = metavar_for(param)


def _tidy_argument(param: Any) -> None:
    param.metavar = (param.metavar or param.name.upper()).strip("[]{}")

    def usage_name(self: Any) -> str:
        name = self.metavar if self.required else f"[{self.metavar}]"
        return name + ("..." if self.nargs != 1 else "")

    def help_name(self: Any) -> str:
        return self.metavar + ("..." if self.nargs != 1 else "")

    # Per parameter, not per class: only samplectl's own commands are changed.
    param._usage_display_name = types.MethodType(usage_name, param)
    param._rich_display_name = types.MethodType(help_name, param)
    param.display_type_rich = types.MethodType(lambda self, ctx: None, param)


def keep_examples_whole(text: str) -> str:
    """Each `Example: samplectl ...` paragraph as a heading and the command on a line of its own.

    ``Example: samplectl list -n 5`` becomes ``Example:`` and an indented ``samplectl list -n 5``,
    marked so that click never folds it, whatever the terminal's width.
    """
    paragraphs = text.split("\n\n")
    out = []
    for paragraph in paragraphs:
        stripped = paragraph.strip()
        if stripped.startswith(EXAMPLE) and ":" in stripped and not stripped.startswith(NO_REWRAP):
            head, _, rest = stripped.partition(":")
            lines = [line.strip() for line in rest.strip().splitlines() if line.strip()]
            if lines and all(line.startswith("samplectl ") or line.startswith("... | samplectl") or "| samplectl" in line
                             for line in lines):
                out.append(NO_REWRAP + "\n" + head + ":\n" + "\n".join("  " + line for line in lines))
                continue
        out.append(paragraph)
    return "\n\n".join(out)
