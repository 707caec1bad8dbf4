"""Ctrl-C during `samplectl import` in remote mode, as locally (issue 14 item 8, issue 13; the contract's
"CSV import": exit 130 and a line saying what was kept; nothing half-done reported as success).

The local behaviour is tested in tests/cli/test_import_formats.py. Through a server there are two
moments: while the file is still being sent the server has written nothing (it checks every row of
the whole file before it writes), so nothing is kept; once the whole file has reached it, the server
may complete the import by itself, and the line says so, with how to find out.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.cli.csvfiles import HEADER, row, write
from tests.conftest import CliRun
from tests.remote_support import LiveServer
from tests.support import logins

ROWS = 50


def _ctrl_c_as_at_a_terminal() -> None:
    """Ctrl-C reaches the child as it does a command typed at a terminal. A suite started in the
    background of a script (`.ci/run &`) runs with SIGINT ignored, which its children inherit, and a
    Python started with SIGINT ignored never turns it into KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _count(cli: CliRun) -> int:
    counted = cli("filter", "--type", "blood", "--count")
    assert counted.exit_code == 0, counted.stderr
    return int(counted.stdout)


@pytest.mark.parametrize("partial", [False, True])
def test_ctrl_c_while_the_file_is_sent_exits_130_and_keeps_nothing(
        cli: CliRun, live_server: LiveServer, test_login: logins.TestLogin, tmp_path: Path, partial: bool) -> None:
    token = test_login.token()
    assert token is not None
    args = [sys.executable, "-m", "samplectl", "-v", "import", "-", *(["--partial"] if partial else [])]
    importing = subprocess.Popen(args, env={**os.environ, "SAMPLECTL_TOKEN": token}, stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 preexec_fn=_ctrl_c_as_at_a_terminal)
    assert importing.stdin is not None and importing.stderr is not None
    # -v says when the command is going to the server; then half of the file is sent, and the rest is
    # still to come (stdin stays open) when Ctrl-C is pressed.
    seen = ""
    while "through the samplectl server" not in seen:
        line = importing.stderr.readline()
        assert line, "the import ended before it reached the server"
        seen += line
    importing.stdin.write("\n".join([HEADER, *(row(i) for i in range(1, ROWS + 1))]) + "\n")
    importing.stdin.flush()
    time.sleep(1.0)
    importing.send_signal(signal.SIGINT)
    out, err = importing.communicate(timeout=60)
    assert importing.returncode == 130, err
    assert out == ""  # no summary: nothing is reported as done
    lines = [line for line in err.splitlines() if line.strip()]
    assert "interrupted: nothing of this import was kept" in lines, err
    assert "Traceback" not in err
    assert _count(cli) == 0
    # The server took it as the client going away (400 in its log), not as a failure of its own (500).
    requests = [json.loads(line) for line in live_server.log.read_text().splitlines() if line.startswith("{")]
    assert [r["status"] for r in requests if r.get("route") == "/imports"] == [400]
    # Nothing half-done was left behind: the same rows import afterwards, whole.
    again = cli("import", str(write(tmp_path / "again.csv", [HEADER, *(row(i) for i in range(1, ROWS + 1))])),
                "-o", "json")
    assert again.exit_code == 0, again.stderr
    assert again.json()["created"] == ROWS


def interrupt_once_sent(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Ctrl-C while the answer to `POST /imports` is on its way: the whole file has reached the server,
    which goes on. Returns the real ApiClient.request, to put back."""
    from samplectl.remote.client import ApiClient

    sent = ApiClient.request

    def interrupted_while_waiting(self: ApiClient, method: str, path: str, **kwargs: Any) -> Any:
        answer = sent(self, method, path, **kwargs)
        if path == "/imports":
            raise KeyboardInterrupt
        return answer

    monkeypatch.setattr(ApiClient, "request", interrupted_while_waiting)
    return sent


def test_ctrl_c_after_the_whole_file_was_sent_says_the_server_may_complete_it(
        cli: CliRun, live_server: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sent = interrupt_once_sent(monkeypatch)
    data = write(tmp_path / "in.csv", [HEADER, *(row(i) for i in range(1, ROWS + 1))])
    out = cli("import", str(data))
    assert out.exit_code == 130
    assert out.stdout == ""
    assert out.stderr.strip().splitlines()[-1] == (
        "interrupted: the whole file had reached the server, which may still complete the import; run the same "
        "import again to find out: a file imported before is refused (exit 7), so nothing is imported twice")
    monkeypatch.setattr("samplectl.remote.client.ApiClient.request", sent)
    assert _count(cli) == ROWS  # it did: "nothing was kept" would have been untrue
    again = cli("import", str(data))
    assert again.exit_code == 7, again.stderr  # as the line said
    assert _count(cli) == ROWS


def test_ctrl_c_during_a_dry_run_keeps_nothing_whenever_it_comes(
        cli: CliRun, live_server: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    interrupt_once_sent(monkeypatch)
    out = cli("import", str(write(tmp_path / "in.csv", [HEADER, row(1)])), "--dry-run")
    assert out.exit_code == 130
    assert out.stderr.strip().splitlines()[-1] == "interrupted: nothing was written (dry run)"
