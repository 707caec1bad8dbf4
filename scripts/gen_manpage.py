"""Write docs/samplectl.1, the man page, from the app itself: the same commands, help texts and options
that `--help` prints, in roff. tests/cli/test_manpage.py fails when the committed page is stale.

Usage: bash scripts/gen-manpage [OUTPUT]     (default: docs/samplectl.1)
Read it:  man ./docs/samplectl.1     Install:  cp docs/samplectl.1 ~/.local/share/man/man1/
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "samplectl.1"
EXAMPLE_MARK = "\b"  # click's "do not rewrap" marker, which samplectl puts before each example
def _roff(text: str) -> str:
    """Text safe in roff: backslashes doubled, a line never starting with a control character."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\n".join(("\\&" + line) if line.startswith((".", "'")) else line for line in text.splitlines())


def _paragraphs(help_text: str) -> list[str]:
    out = []
    for paragraph in help_text.strip().split("\n\n"):
        if paragraph.startswith(EXAMPLE_MARK):  # kept whole: an example to copy
            lines = paragraph[len(EXAMPLE_MARK):].strip("\n").splitlines()
            out.append(".PP\n" + _roff(lines[0]) + "\n.RS 4\n.nf\n" + _roff("\n".join(line.strip() for line in lines[1:]))
                       + "\n.fi\n.RE")
        else:
            out.append(".PP\n" + _roff(" ".join(paragraph.split())))
    return out


def _walk(command: Any, path: tuple[str, ...]) -> list[tuple[tuple[str, ...], Any]]:
    found = []
    for name in sorted(getattr(command, "commands", {})):
        sub = command.commands[name]
        if sub.hidden and name != getattr(command, "DEFAULT", None):
            continue
        found.append((path + ((name,) if name != getattr(command, "DEFAULT", None) else ()), sub))
        found.extend(_walk(sub, path + (name,)))
    return found


def render_manpage(root: Any, version: str) -> str:
    import typer

    lines = [
        f'.TH SAMPLECTL 1 "" "samplectl {version}" "User Commands"',
        ".SH NAME",
        "samplectl \\- " + _roff((root.help or "").strip().splitlines()[0].rstrip(".")),
        ".SH SYNOPSIS",
        ".B samplectl",
        "[\\fIGLOBAL OPTIONS\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR]...",
        ".SH DESCRIPTION",
        *_paragraphs("\n\n".join((root.help or "").strip().split("\n\n")[1:]) or " "),
        ".SH GLOBAL OPTIONS",
        ".PP",
        "Accepted before or after the command.",
    ]
    root_ctx = typer.Context(root, info_name="samplectl")
    lines += _options(root, root_ctx)
    lines.append(".SH COMMANDS")
    for path, command in _walk(root, ()):
        if not path or getattr(command, "commands", None) and not command.params:
            continue
        ctx = typer.Context(command, info_name=" ".join(("samplectl", *path)), parent=None)
        usage = " ".join(command.collect_usage_pieces(ctx))
        lines += [f'.SS "samplectl {" ".join(path)}"', ".PP", ".B samplectl " + _roff(" ".join(path)),
                  _roff(usage)]
        lines += _paragraphs(command.help or "")
        lines += _options(command, ctx)
    lines += [".SH EXIT STATUS", ".PP",
              "0 success, 2 usage, 3 login, 4 permission, 5 not found, 6 invalid input, 7 conflict, "
              "8 database unreachable, 1 unexpected, 130 interrupted.",
              ".SH ENVIRONMENT", ".PP",
              "SAMPLECTL_MONGODB_URI, SAMPLECTL_MONGODB_DB, SAMPLECTL_DATABASE_URL, SAMPLECTL_HOME, SAMPLECTL_TOKEN, "
              "SAMPLECTL_SERVER, SAMPLECTL_CONFIG; see \\fBsamplectl config list\\fR.",
              ".SH SEE ALSO", ".PP", "\\fBsamplectl doctor\\fR, the README."]
    return re.sub(r"\n{2,}", "\n", "\n".join(lines)) + "\n"


def _options(command: Any, ctx: Any) -> list[str]:
    out = []
    for param in command.params:
        if getattr(param, "param_type_name", "") != "option" or param.hidden:
            continue
        record = param.get_help_record(ctx)
        if record is None:
            continue
        names, help_text = record
        out += [".TP", "\\fB" + _roff(names) + "\\fR", _roff(" ".join(help_text.split())) or "\\&"]
    return out


def render() -> str:
    import typer

    from samplectl import __version__
    from samplectl.cli.app import app

    return render_manpage(typer.main.get_command(app), __version__)


def main() -> None:
    output = Path(sys.argv[1]) if len(sys.argv) > 1 else OUTPUT
    output.write_text(render())
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
