"""Random command lines (the bad-input sweep as a property): whatever words follow a command, never exit 1 and
never a traceback; every failure is one `error:` line with its documented exit code.

Hypothesis picks a command, then a mix of its own flags, flags of other commands, values that are hard to read
(empty, spaces, control characters, bytes that are not UTF-8 as a command line carries them, dates that do not
exist, numbers out of range, 100,000 characters) and random text. The number of examples is bounded so CI
stays fast; `HYPOTHESIS_PROFILE=deep` (tests/cli/test_fuzz_text.py registers it) runs many more.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests.cli import test_fuzz_text  # noqa: F401 - registers and loads the hypothesis profiles
from tests.conftest import CliRun

COMMANDS = [["get"], ["list"], ["filter"], ["export"], ["history"], ["audit"], ["storage", "free"],
            ["storage", "show"], ["storage", "tree"], ["update"], ["delete"], ["import", "--dry-run"], ["config", "get"],
            ["users", "list"]]
FLAGS = ["--type", "--status", "--subject", "--location", "--collected-from", "--collected-to", "--limit", "-n", "--all",
         "--sort", "--fields", "-o", "--count", "--user", "--action", "--sample", "--since", "--until", "--under",
         "--need", "--together", "--where", "--set-location", "--set-location-prefix", "--if-version", "--reason",
         "--yes", "--dry-run", "--format", "--delimiter", "--encoding", "--date-format", "--on-conflict", "--fill",
         "--no-pager", "-q", "-v", "--no-color", "--", "-", "--bogus"]
HARD = ["", " ", "\t", "\x01", "\x1b[2J", "\u202e", "\udcff", "x\udcfe", "0000-00-00", "2025-02-30",
        "9999-12-31T23:59:60Z", "0001-01-01T00:00:00+05:00", "-1", "0", "1e20", "99999999999999999999", "nan",
        "-collection_date", "sample_id,,", "json", "TABLE", "blood", "collected", "FRZ-1/", "S-1", "%d/%m/%Y", "utf-16",
        "/dev/null", "x" * 100_000]
WORD = st.one_of(st.sampled_from(FLAGS), st.sampled_from(HARD),
                 st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), max_size=12))


@given(command=st.sampled_from(COMMANDS), words=st.lists(WORD, max_size=6))
def test_random_words_after_a_command_never_exit_1_or_a_traceback(cli: CliRun, command: list[str],
                                                                   words: list[str]) -> None:
    out = cli(*command, *words, input="")
    assert out.exit_code in (0, 2, 3, 4, 5, 6, 7), (command, words, out.exit_code, out.stderr[-500:])
    assert "Traceback" not in out.stderr + out.stdout
    if out.exit_code != 0:
        assert "\nerror: " in "\n" + out.stderr, (command, words, out.stderr[:300])  # after -v's lines, if any
