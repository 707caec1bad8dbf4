"""The root command: global options, command registration, and typed errors to exit codes."""

from __future__ import annotations

import itertools
import os
import sys
import time
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from samplectl import __version__
from samplectl.cli.context import AppContext
from samplectl.cli.globalopts import GLOBAL_FLAGS, GLOBAL_WITH_VALUE
from samplectl.domain.errors import ExitCode, SamplectlError


def _is_global(token: str) -> bool:
    if token in GLOBAL_FLAGS or token.split("=", 1)[0] in GLOBAL_WITH_VALUE:
        return True
    return len(token) > 2 and token[0] == "-" and token[1] != "-" and set(token[1:]) <= {"v", "q"}  # -vv, -qv


def hoist_global_options(group: Any, args: list[str]) -> list[str]:
    """Move global options given after the command to the front, where click expects them.

    The command line is walked with click's own knowledge of each command's options, so a
    value that only looks like a flag (`--reason -q`) stays where it is; `--` ends the walk.
    """
    hoisted: list[str] = []
    rest: list[str] = []
    command: Any = None  # the root's own options come first; they are left alone
    tokens = iter(args)
    for token in tokens:
        if token == "--":
            rest.append(token)
            rest.extend(tokens)
            break
        if command is None:
            if not token.startswith("-"):
                command = group.commands.get(token) or False
            rest.append(token)
            if token in GLOBAL_WITH_VALUE:
                rest.extend(itertools.islice(tokens, 1))
            continue
        if hasattr(command, "commands") and not token.startswith("-"):  # a group: descend
            sub = command.commands.get(token)
            default = getattr(command, "DEFAULT", None)  # `import FILE`: the group's default command
            if sub is None and default is not None:
                sub = command.commands.get(default)
            command = sub or False
            rest.append(token)
            continue
        if token.startswith("-") and _is_global(token) and not _own_option(command, token):
            hoisted.append(token)
            if token in GLOBAL_WITH_VALUE:
                hoisted.extend(itertools.islice(tokens, 1))
            continue
        rest.append(token)
        if token.startswith("-") and "=" not in token and _takes_value(command, token):
            rest.extend(itertools.islice(tokens, 1))  # its value, whatever it looks like
    return hoisted + rest


def _option(command: Any, token: str) -> Any:
    for param in getattr(command, "params", ()) if command else ():
        if token in getattr(param, "opts", ()) or token in getattr(param, "secondary_opts", ()):
            return param
    return None


def _own_option(command: Any, token: str) -> bool:
    return _option(command, token) is not None


def _takes_value(command: Any, token: str) -> bool:
    param = _option(command, token)
    return param is not None and not getattr(param, "is_flag", False) and not getattr(param, "count", False)


class ReaderGone(Exception):  # noqa: N818 - what happened, not an error of samplectl's
    """stdout's reader went away (`samplectl list | head -1`). Not an OSError, so that typer's main,
    which turns a broken pipe into exit 1, lets it through to ours."""


class SamplectlGroup(TyperGroup):
    """Runs the command and maps every outcome to the contract's exit codes and error lines."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from samplectl.cli.helptext import tidy_help

        super().__init__(*args, **kwargs)
        tidy_help(self)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError as exc:
            raise ReaderGone from exc

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        from samplectl.cli import coercion

        coercion.install(self, ctx)  # plain values checked without importing pydantic (start-up time)
        return super().parse_args(ctx, hoist_global_options(self, args))

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,  # always handled here: errors become exit codes below
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        from typer import _click
        from typer.exceptions import Abort

        started = time.perf_counter()
        _this_run["argv"] = list(sys.argv[1:] if args is None else args)
        app_ctx = AppContext()
        extra.setdefault("obj", app_ctx)
        app_ctx = extra["obj"]
        code = int(ExitCode.UNEXPECTED)
        try:
            refuse_empty_values(_this_run["argv"])
            result = super().main(
                args=args,
                prog_name=prog_name or "samplectl",
                complete_var=complete_var,
                standalone_mode=False,
                windows_expand_args=windows_expand_args,
                **extra,
            )
            code = result if isinstance(result, int) else 0
        except SamplectlError as exc:
            # A store that says only that it cannot go on (8), when the disk is full: say that instead.
            code = report(app_ctx, (disk_full(exc) if int(exc.exit_code) == int(ExitCode.DATABASE) else None) or exc)
        except Abort:
            app_ctx.io.stderr.write("\naborted\n")
            code = 130
        except _click.exceptions.NoArgsIsHelpError as exc:
            # `samplectl` (or a group such as `samplectl users`) alone asks for the help: printed on
            # stdout as `--help` prints it, and a success.
            if exc.format_message().strip():
                app_ctx.io.stdout.write(exc.format_message() + "\n")
            code = 0
        except _click.exceptions.BadParameter as exc:
            # A value that fails conversion (`--limit abc`) is invalid input (6), as the contract says;
            # a missing argument is the command line's shape (2).
            command = exc.ctx.command_path if exc.ctx else "samplectl"
            code = report(app_ctx, _bad_value(exc, command))
        except _click.exceptions.UsageError as exc:
            command = exc.ctx.command_path if exc.ctx else "samplectl"
            code = report(app_ctx, _usage(exc.format_message(), f"see `{command} --help`"))
        except _click.exceptions.ClickException as exc:
            code = report(app_ctx, _usage(exc.format_message(), None))
        except (BrokenPipeError, ReaderGone):
            # A pipe reader (head, less) went away: stop quietly, as Unix tools do; but a command that
            # failed (an import that rejected rows) still says so.
            sys.stdout = None  # type: ignore[assignment]
            code = report(app_ctx, app_ctx.pending_error) if app_ctx.pending_error is not None else 0
        except KeyboardInterrupt:
            app_ctx.io.stderr.write("\ninterrupted\n")
            code = 130
        except Exception as exc:  # noqa: BLE001 - the one place unexpected errors become exit 1
            known = disk_full(exc) or not_text(exc)
            if known is not None:
                code = report(app_ctx, known)
            elif app_ctx.debug:
                write_traceback(app_ctx, exc)
            else:
                code = report(
                    app_ctx,
                    SamplectlError(f"unexpected {type(exc).__name__}: {exc}",
                                   hint="run again with --debug for details"),
                )
        finally:
            app_ctx.close()
            _end_logs(code, started)
        sys.exit(code)


# The command line of the run in progress, for its log (click keeps no copy of the root's arguments).
_this_run: dict[str, list[str]] = {"argv": []}


def refuse_empty_values(argv: Sequence[str]) -> None:
    """A value given explicitly empty (`--location ""`, `--reason=`) is refused (6) for every flag.

    In a script an empty value is almost always an unset variable: read as "not given" it falls
    back to a default, read as a prefix it matches every sample. Checked on the command line as
    typed, before any command runs, so no command can forget it. (Values of only spaces are
    refused where they are validated: a TAB is a real --delimiter.)
    """
    from samplectl.domain.errors import ValidationFailed

    for i, arg in enumerate(argv):
        if arg == "--":
            return
        if arg.startswith("--") and arg.endswith("=") and len(arg) > 3:
            flag = arg[:-1]
        elif arg == "":
            before = argv[i - 1] if i else ""
            flag = before if before.startswith("-") and "=" not in before else "an argument"
        else:
            continue
        raise ValidationFailed(
            f"{flag} is empty",
            hint="give a value, or leave the option out (in a script: is the variable set?)",
            details=[{"column": flag, "value": "", "message": "is empty"}],
        )


def disk_full(exc: BaseException) -> SamplectlError | None:
    """A full disk (or quota), however a driver reports it, as exit 8 with a line that says so."""
    import errno

    from samplectl.domain import errors

    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 10:
        seen.append(current)
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    for problem in seen:
        full = isinstance(problem, OSError) and problem.errno in (errno.ENOSPC, errno.EDQUOT)
        if full or "database or disk is full" in str(problem):
            return errors.disk_full()
    return None


def not_text(exc: BaseException) -> SamplectlError | None:
    """A value holding bytes that are not UTF-8 reached a database or the server, which only take text: 6.

    Python reads such bytes in a command line as lone surrogates (`get $'X\\xff'`). Values that are
    stored are refused by the text rule first; this is for what is only looked up (ids, criteria).
    File names may hold such bytes, and are opened as they are.
    """
    from samplectl.domain.errors import ValidationFailed

    if isinstance(exc, UnicodeEncodeError) and exc.reason == "surrogates not allowed":
        code = ord(exc.object[exc.start])
        return ValidationFailed(f"a value given is not valid text: it holds bytes that are not UTF-8 (U+{code:04X})",
                                hint="check what was typed, or the encoding of the script that built the command")
    return None


def _usage(message: str, hint: str | None) -> SamplectlError:
    from samplectl.domain.errors import UsageError

    return UsageError(message, hint=hint)


def _bad_value(exc: Exception, command: str) -> SamplectlError:
    from typer import _click

    from samplectl.domain.errors import UsageError, ValidationFailed

    hint = f"see `{command} --help`"
    if isinstance(exc, _click.exceptions.MissingParameter):
        return UsageError(exc.format_message(), hint=hint)
    return ValidationFailed(exc.format_message(), hint=hint)  # type: ignore[attr-defined]


def write_traceback(app_ctx: AppContext, exc: BaseException) -> None:
    """--debug: the traceback, with secrets masked like everything else samplectl prints."""
    import traceback

    from samplectl.logs import redact

    app_ctx.io.stderr.write(redact("".join(traceback.format_exception(exc))))


def report(app_ctx: AppContext, exc: SamplectlError) -> int:
    from samplectl.logs import log_reported_error, redact
    from samplectl.output.errors import write_error

    if app_ctx.debug:
        write_traceback(app_ctx, exc)
    # A driver's message can echo a URI or a token: nothing secret reaches the terminal either.
    message, hint = redact(exc.message, pairs=False), redact(exc.hint, pairs=False) if exc.hint else None
    log_reported_error(exc.code, int(exc.exit_code), message)
    write_error(
        app_ctx.io.stderr,
        code=exc.code,
        message=message,
        hint=hint,
        details=exc.details,
        envelope=app_ctx.wants_json_errors,
        color=app_ctx.color("stderr"),
    )
    return int(exc.exit_code)


def _print_version(value: bool) -> None:
    if value:
        sys.stdout.write(f"samplectl {__version__}\n")
        raise typer.Exit(0)


def root(
    ctx: typer.Context,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for unexpected errors.")] = False,
    verbose: Annotated[
        int,
        typer.Option("--verbose", "-v", count=True, show_default=False,
                     help="Log to stderr: -v progress, -vv debugging, -vvv the database drivers too."),
    ] = 0,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Only data and errors: no messages or progress.")
    ] = False,
    no_color: Annotated[bool, typer.Option("--no-color", help="No colours (NO_COLOR is honoured too).")] = False,
    no_pager: Annotated[
        bool, typer.Option("--no-pager", help="Print long tables straight to the terminal (no SAMPLECTL_PAGER/PAGER).")
    ] = False,
    version: Annotated[
        bool | None,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = None,
    log_file: Annotated[
        str | None,
        typer.Option("--log-file", metavar="PATH", help="Append a JSON-lines log to PATH (setting: log_file)."),
    ] = None,
) -> None:
    """Manage biological samples collected in clinical trials.

    Example: samplectl filter --status collected --type blood -o json
    """
    app_ctx: AppContext = ctx.ensure_object(AppContext)
    app_ctx.debug, app_ctx.verbose, app_ctx.quiet, app_ctx.no_color = debug, verbose, quiet, no_color
    app_ctx.no_pager = no_pager
    _start_logs(ctx, app_ctx, log_file)


def _start_logs(ctx: typer.Context, app_ctx: AppContext, log_file: str | None) -> None:
    from samplectl import logs

    try:
        settings = app_ctx.settings
    except SamplectlError:
        settings = None  # a broken config file is reported by the command that needs it
    if log_file is None and settings is not None:
        log_file = settings.log_file
    if log_file and ctx.invoked_subcommand in REPAIR_COMMANDS:
        try:
            logs.check_log_file(log_file)
        except SamplectlError as exc:  # the commands that repair it must not be locked out by it
            app_ctx.warn(f"{exc.message}; this command runs without it")
            log_file = None
    logs.start(verbose=app_ctx.verbose, quiet=app_ctx.quiet, stderr=app_ctx.io.stderr, log_file=log_file,
               command=ctx.invoked_subcommand, settings=settings, argv=_this_run["argv"],
               commands=_command_words(ctx))


# What a broken setting is mended with: they run, with a warning, when the log file cannot be written.
REPAIR_COMMANDS = ("config", "doctor")


def _command_words(ctx: typer.Context) -> list[str]:
    """The words of argv that name the command (`users add`): the only words a debug log shows."""
    name = ctx.invoked_subcommand
    if not name:
        return []
    command = getattr(ctx.command, "commands", {}).get(name)
    return [name, *getattr(command, "commands", {})]


def _end_logs(code: int, started: float) -> None:
    logs = sys.modules.get("samplectl.logs")  # not imported at all by --help or --version
    if logs is not None and logs.active():
        logs.log.info("exit %d after %.3f s", code, time.perf_counter() - started)
        logs.stop()


# The modules of the commands, in the order `samplectl --help` lists them, and which module registers
# each command: `samplectl get ID` imports and builds cli.samples alone rather than all twelve (~30 ms
# of CPU at every start-up). tests/cli/test_startup.py checks the table against what the modules register.
MODULES = ("init", "auth", "samples", "changes", "importing", "export", "audit", "users", "serve", "config",
           "doctor", "storage")
COMMAND_MODULES = {
    "init": "init", "login": "auth", "logout": "auth", "whoami": "auth",
    "create": "samples", "get": "samples", "list": "samples", "filter": "samples", "delete": "samples",
    "update": "changes", "import": "importing", "export": "export", "history": "audit", "audit": "audit",
    "users": "users", "serve": "serve", "config": "config", "doctor": "doctor", "storage": "storage",
}


def build_app(modules: Sequence[str] = MODULES, command: str | None = None) -> typer.Typer:
    """The root command with the commands of ``modules`` (all of them by default).

    ``command`` names the one command a command line runs: of the modules' plain commands only that
    one is built (their groups are kept), since typer turns every registered command into a click
    command at each start, from its signature (`samplectl get` built alone: ~4 ms less CPU).
    """
    import importlib

    new = typer.Typer(
        cls=SamplectlGroup,
        name="samplectl",
        no_args_is_help=True,
        # --install-completion / --show-completion for technicians; completions/ has the same scripts.
        add_completion=True,
        pretty_exceptions_enable=False,
        # Plain help: Rich's help renderer alone costs more than the whole start-up budget of --help.
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    new.callback()(root)
    for name in modules:
        importlib.import_module(f"samplectl.cli.{name}").register(new)
    if command is not None:
        # typer's list of the plain commands (tests/cli/test_startup.py fails should a release rename it).
        new.registered_commands = [c for c in new.registered_commands if c.name == command]
    return new


def invoked_command(args: Sequence[str]) -> str | None:
    """The command a command line names, when it names one (not: no command, a typo, `--help` first)."""
    words = iter(args)
    for word in words:
        if word in GLOBAL_WITH_VALUE:
            next(words, None)
        elif not _is_global(word):
            return word if word in COMMAND_MODULES else None
    return None


def __getattr__(name: str) -> typer.Typer:
    """``app``: the whole app (every command), built on first use (docs, tests, scripts)."""
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    whole = globals()["app"] = build_app()
    return whole


def main() -> None:
    # A TAB that reached typer may complete any command: it gets the whole app.
    command = None if "_SAMPLECTL_COMPLETE" in os.environ else invoked_command(sys.argv[1:])
    (build_app((COMMAND_MODULES[command],), command) if command else __getattr__("app"))(prog_name="samplectl")


if __name__ == "__main__":
    main()
