"""Completion of stored values (sample ids, subjects, locations), answered before typer loads.

A TAB runs samplectl with ``_SAMPLECTL_COMPLETE`` set (completions/ holds the shell scripts). Typer
would answer it after importing itself, pydantic and every command (~0.2 s of CPU); a technician
pressing TAB on `samplectl get ` expects the ids at once. So ``answer`` is asked first, from
``cli.entry``: when the word being completed is a sample id or the value of ``--subject`` or
``--location``, it prints the candidates itself. Anything else (command names, other options, the
vocabularies) returns False and typer answers as usual; the same words reach ``stored`` there, through
each parameter's ``autocompletion``, so both ways offer the same values.

``stored`` asks wherever the samples are, importing only what that needs: the embedded store read-only
with plain sqlite3 (no login: the file is private to its owner; it never creates or changes a file),
MongoDB (from the store's completion cache when it has one, ``stores.mongo.completion_cache``,
else with pymongo), or the server (``GET /values/{field}`` through ``remote.values``, with the login
token). What is offered is decided once for all of them (``stores.values``). A TAB never prints an
error or asks anything: a store or server that cannot be reached, a missing login, a timeout offer
nothing, within ``TIMEOUT_MS`` at most.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TextIO

from samplectl.cli.globalopts import GLOBAL_WITH_VALUE

COMPLETE_VAR = "_SAMPLECTL_COMPLETE"
# Commands whose arguments are stored sample ids.
ID_COMMANDS = frozenset({"get", "update", "delete", "history"})
# Options whose values are stored values of a field, on every command that has them.
OPTION_FIELDS = {"--subject": "subject_id", "--location": "storage_location"}
# The longest a TAB waits for MongoDB or the server (or server_timeout_ms, when shorter): a person is
# waiting at the prompt, and offering nothing is better than a hang.
TIMEOUT_MS = 1000


def field_for(args: Sequence[str], incomplete: str) -> str | None:
    """The field whose stored values complete ``incomplete`` after ``args``; None: ask typer.

    Without click's knowledge of each command's options this is only sure in two cases: the word
    follows ``--subject`` or ``--location``, or it is an argument of an id command and follows a
    word that is not an option (an option that takes a value might be waiting for it).
    """
    if incomplete.startswith("-"):
        return None
    words = iter(args)
    command = None
    for word in words:
        if word in GLOBAL_WITH_VALUE:
            next(words, None)
        elif not word.startswith("-"):
            command = word
            break
    if command is None:
        return None  # the command's own name is being typed: typer knows the commands
    rest = list(words)
    previous = rest[-1] if rest else command
    if previous.startswith("-"):
        return OPTION_FIELDS.get(previous)
    return "sample_id" if command in ID_COMMANDS else None


def stored(field: str, incomplete: str, env: Mapping[str, str] | None = None) -> list[str]:
    """Stored values of ``field`` starting with ``incomplete``, from wherever the samples are; [] on any failure."""
    import contextlib
    import io

    from samplectl.config import load_settings
    from samplectl.stores.values import LIMIT

    # Nothing may reach the terminal from a TAB: a driver's warning or log line would land in the
    # middle of the command line being typed.
    with contextlib.redirect_stderr(io.StringIO()):
        try:
            settings = load_settings(dict(os.environ if env is None else env))
            timeout_ms = min(TIMEOUT_MS, settings.server_timeout_ms)
            if settings.remote:
                from samplectl.remote.values import server_values

                return server_values(settings, field, incomplete, LIMIT, timeout_ms / 1000)
            if not settings.embedded:
                from samplectl.stores.mongo import completion_cache

                cached, refresh = completion_cache.cached_values(settings, field, incomplete, LIMIT, env)
                if cached is not None:
                    return cached
                from samplectl.stores.mongo.values import completion_values

                values = completion_values(settings.mongodb_uri or "", settings.mongodb_db, field, incomplete,
                                           timeout_ms, LIMIT)
                if refresh:
                    completion_cache.refresh_after(settings, env)
                return values
            from samplectl.stores.sqlite.values import stored_values

            return stored_values(settings.samples_path, field, incomplete, LIMIT)
        except Exception:  # noqa: BLE001 - a broken setting, a server down, no login: the commands say so, a TAB does not
            return []


def stored_completion(field: str) -> Callable[[str], list[str]]:
    """The ``autocompletion`` of a typer parameter holding stored values of ``field``."""

    def complete(incomplete: str) -> list[str]:
        return stored(field, incomplete)

    complete.stored_field = field  # type: ignore[attr-defined]  # for the tests: which field it offers
    return complete


# -- the shells' protocols, as typer's completion classes speak them --------------------------------------
def _split(line: str) -> list[str]:
    """Words of a partial command line, a trailing open quote kept as typed (click's split_arg_string)."""
    import shlex

    lex = shlex.shlex(line, posix=True)
    lex.whitespace_split = True
    lex.commenters = ""
    out: list[str] = []
    try:
        out.extend(lex)
    except ValueError:
        out.append(lex.token)
    return out


def _words(shell: str, env: Mapping[str, str]) -> tuple[list[str], str]:
    """(arguments before the word being completed, that word), as each shell's script passes them."""
    if shell == "bash":
        words = _split(env.get("COMP_WORDS", ""))
        cword = int(env.get("COMP_CWORD", "0"))
        return words[1:cword], words[cword] if cword < len(words) else ""
    line = env.get("_TYPER_COMPLETE_ARGS", "")
    words = _split(line)[1:]
    if shell in ("powershell", "pwsh"):
        incomplete = env.get("_TYPER_COMPLETE_WORD_TO_COMPLETE", "")
        return (words[:-1] if incomplete else words), incomplete
    if words and not line.endswith(" "):
        return words[:-1], words[-1]
    return words, ""


def _zsh_quote(value: str) -> str:
    for old, new in (('"', '""'), ("'", "''"), ("$", "\\$"), ("`", "\\`"), (":", r"\\:")):
        value = value.replace(old, new)
    return f'"{value}"'


def answer(env: Mapping[str, str], out: TextIO) -> bool:
    """Print the candidates for a TAB when they are stored values; False when typer should answer."""
    instruction, _, shell = env.get(COMPLETE_VAR, "").partition("_")
    if instruction != "complete" or shell not in ("bash", "zsh", "fish", "powershell", "pwsh"):
        return False  # source_bash and the like: the scripts themselves come from typer
    try:
        args, incomplete = _words(shell, env)
    except ValueError:  # a COMP_CWORD that is not a number: typer's answer to it is the same as ever
        return False
    field = field_for(args, incomplete)
    if field is None:
        return False
    values = stored(field, incomplete, env)
    if shell == "zsh":
        joined = "\n".join(_zsh_quote(v) for v in values)
        text = f"_arguments '*: :(({joined}))'" if values else "_files"
    elif shell == "fish" and env.get("_TYPER_COMPLETE_FISH_ACTION") == "is-args":
        sys.exit(0 if values else 1)  # fish asks first whether there are candidates at all
    elif shell in ("powershell", "pwsh"):
        text = "\n".join(f"{v}::: " for v in values)
    else:
        text = "\n".join(values)
    out.write(text + "\n")
    return True
