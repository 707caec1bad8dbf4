"""Asking a technician for one value at a time, checking each answer as it is given.

``ask`` is the loop every prompt uses: show the question (with the choices, and a default such
as ``now``), check the answer with the domain's own rule for that one field, and on a bad answer
say why and ask again, so nothing typed before is lost. The questions themselves come from the
caller (today a table in cli/samples.py; the field registry once it declares prompts).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from samplectl.cli.context import AppContext
from samplectl.domain.errors import ValidationFailed

T = TypeVar("T")
MAX_TRIES = 5  # then give up as invalid input (6): a script feeding a terminal must not loop forever


def ask(
    app_ctx: AppContext,
    question: str,
    check: Callable[[str], T],
    *,
    choices: Sequence[str] = (),
    default: str | None = None,
    hide: bool = False,
) -> T:
    """Ask until ``check`` accepts the answer; return what it returns.

    ``check`` raises ValidationFailed with a message for people; the message is shown and the
    question asked again. An answer that is not one of ``choices`` is refused here already.
    """
    import typer

    shown = f"{question} ({', '.join(choices)})" if choices else question
    last: ValidationFailed | None = None
    for _ in range(MAX_TRIES):
        answer = typer.prompt(shown, default=default, show_default=default is not None, hide_input=hide, err=True)
        try:
            if choices and answer.strip().lower() not in choices:
                raise ValidationFailed(f"{answer.strip()[:100]!r} is not one of: {', '.join(choices)}")
            return check(answer)
        except ValidationFailed as exc:
            last = exc
            _complain(app_ctx, f"{exc.message}; try again")
    assert last is not None
    raise ValidationFailed(f"{question}: no valid answer after {MAX_TRIES} tries ({last.message})",
                           hint=last.hint, details=last.details)


def ask_new_password(app_ctx: AppContext, check: Callable[[str], Any], *, question: str = "Password") -> str:
    """A new password: checked (length, ...) before it is asked for again to confirm it."""
    for _ in range(MAX_TRIES):
        password = ask(app_ctx, question, lambda text: (check(text), text)[1], hide=True)
        import typer

        again = typer.prompt(f"{question} (again)", hide_input=True, err=True)
        if again == password:
            return password
        _complain(app_ctx, "the two passwords differ; enter the password again")
    raise ValidationFailed(f"no matching password after {MAX_TRIES} tries")


def _complain(app_ctx: AppContext, message: str) -> None:
    err = app_ctx.io.stderr
    prefix = "\x1b[31merror:\x1b[0m " if app_ctx.color("stderr") else "error: "
    err.write(f"{prefix}{message}\n")


def field_check(app_ctx: AppContext, name: str) -> Callable[[str], str]:
    """The domain's rule for one sample field as a check for ``ask``: the answer, once it passes."""
    from samplectl.domain.dates import utc_now
    from samplectl.domain.sample import validate_sample

    tz = app_ctx.settings.tzinfo()

    def check(text: str) -> str:
        # Every other field holds a valid placeholder, so only this field's problems can show.
        probe: dict[str, Any] = {"sample_type": "blood", "subject_id": "probe", "collection_date": "now",
                                 "status": "collected", "storage_location": "probe"}
        probe[name] = text
        validate_sample(probe, tz=tz, now=utc_now())
        return text

    return check
