"""The root command: global options, command registration, and typed errors to exit codes."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from samplectl import __version__
from samplectl.cli.context import AppContext
from samplectl.domain.errors import ExitCode, SamplectlError


class SamplectlGroup(TyperGroup):
    """Runs the command and maps every outcome to the contract's exit codes and error lines."""

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
            code = report(app_ctx, exc)
        except Abort:
            app_ctx.io.stderr.write("\naborted\n")
            code = 130
        except _click.exceptions.NoArgsIsHelpError as exc:
            # `samplectl` (or a group) alone: the help, on stdout as `--help` prints it; usage exit 2.
            # (Rich help printed itself; plain help comes back as the message.)
            if exc.format_message().strip():
                app_ctx.io.stdout.write(exc.format_message() + "\n")
            code = int(ExitCode.USAGE)
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
        except BrokenPipeError:
            # A pipe reader (head, less) went away: stop quietly, as Unix tools do.
            sys.stdout = None  # type: ignore[assignment]
            code = 0
        except KeyboardInterrupt:
            app_ctx.io.stderr.write("\ninterrupted\n")
            code = 130
        except Exception as exc:  # noqa: BLE001 - the one place unexpected errors become exit 1
            if app_ctx.debug:
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


app = typer.Typer(
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


def _print_version(value: bool) -> None:
    if value:
        sys.stdout.write(f"samplectl {__version__}\n")
        raise typer.Exit(0)


@app.callback()
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
    logs.start(verbose=app_ctx.verbose, quiet=app_ctx.quiet, stderr=app_ctx.io.stderr, log_file=log_file,
               command=ctx.invoked_subcommand, settings=settings, argv=_this_run["argv"])


def _end_logs(code: int, started: float) -> None:
    logs = sys.modules.get("samplectl.logs")  # not imported at all by --help or --version
    if logs is not None and logs.active():
        logs.log.info("exit %d after %.3f s", code, time.perf_counter() - started)
        logs.stop()


def _register() -> None:
    from samplectl.cli import audit, auth, changes, export, importing, init, samples, serve, users

    for module in (init, auth, samples, changes, importing, export, audit, users, serve):
        module.register(app)


_register()


def main() -> None:
    app(prog_name="samplectl")


if __name__ == "__main__":
    main()
