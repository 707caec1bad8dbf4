"""A TAB offers stored values wherever the samples are (issue 14): the embedded store, MongoDB, a server.

Each test runs three times (tests/remote_support.py's `mode`): on the embedded store, on MongoDB (pymongo
to the nx-27017 wire server) and through a real `samplectl serve` in remote mode, where the TAB's process
has only SAMPLECTL_SERVER and the token. The TAB is a real samplectl process, as the shell runs it, and
must offer the same values in every configuration, including values that would mean something else as
a regular expression. When anything goes wrong it prints nothing at all, quickly.
"""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CliRun, free_port
from tests.support import logins
from tests.support.json_server import answering

pytestmark = pytest.mark.usefixtures("mode")

SAMPLES = [  # (id, subject, location): ids are one word, but may hold any of a pattern's metacharacters
    ("S-0001", "P-01", "FRZ-1/R1/B1/A1"),
    ("S-0002", "P-01", "FRZ-1/R1/B2/A1"),
    ("S-0010", "P-02", "FRZ-1/R2/B1/A1"),
    ("S.*x", "P (1)", "FRZ-2/R1/B1"),
    ("S.[1]", "P (1) b", "FRZ-2/R1/B2"),
    ("S|^$\\d+?(", "P+", "shelf (A)*/box 1"),
    ("2025-03-14T00:00:00Z", "Q 1", "bench top"),
]


@pytest.fixture
def stored(mode: str, cli: CliRun) -> None:  # after `mode`: in the store the test runs on
    for sample_id, subject, location in SAMPLES:
        made = cli("create", "--id", sample_id, "--type", "blood", "--subject", subject, "--collected", "2025-01-01",
                   "--location", location, "-o", "json")
        assert made.exit_code == 0, made.stderr


def tab_env(words: list[str]) -> dict[str, str]:
    """What completions/samplectl.bash sets for a TAB on the last of ``words`` (typed quoted, as a person would)."""
    return {"_SAMPLECTL_COMPLETE": "complete_bash", "COMP_WORDS": " ".join(shlex.quote(w) for w in words),
            "COMP_CWORD": str(len(words) - 1)}


def tab(words: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "samplectl"], env={**os.environ, **tab_env(words), **(env or {})},
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture
def logged_in(mode: str, test_login: logins.TestLogin) -> dict[str, str]:
    """The TAB's environment: the token (only remote mode uses it; a local TAB reads the store directly)."""
    token = test_login.token()
    assert token is not None
    return {"SAMPLECTL_TOKEN": token}


def offered(words: list[str], env: dict[str, str]) -> list[str]:
    done = tab(words, env)
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    return done.stdout.split("\n")[:-1] if done.stdout.strip() else []


@pytest.mark.usefixtures("stored")
@pytest.mark.parametrize(("words", "expected"), [
    (["samplectl", "get", "S-000"], ["S-0001", "S-0002"]),
    (["samplectl", "get", "S-"], ["S-0001", "S-0002", "S-0010"]),
    (["samplectl", "delete", "S.*"], ["S.*x"]),  # "." and "*" are themselves, not "anything"
    (["samplectl", "history", "S."], ["S.*x", "S.[1]"]),
    (["samplectl", "update", "S|^$\\d+?("], ["S|^$\\d+?("]),  # an invalid pattern, completed as text
    (["samplectl", "get", "S"], ["S-0001", "S-0002", "S-0010", "S.*x", "S.[1]", "S|^$\\d+?("]),
    (["samplectl", "get", "2025-03"], ["2025-03-14T00:00:00Z"]),
    (["samplectl", "get", "s-"], []),  # case-sensitive
    (["samplectl", "filter", "--subject", "P"], ["P (1)", "P (1) b", "P+", "P-01", "P-02"]),  # each once
    (["samplectl", "filter", "--subject", "P (1)"], ["P (1)", "P (1) b"]),  # a space and parentheses
    (["samplectl", "filter", "--subject", "Q "], ["Q 1"]),
    (["samplectl", "filter", "--location", ""], ["FRZ-1/", "FRZ-2/", "bench top", "shelf (A)*/"]),
    (["samplectl", "filter", "--location", "FRZ-1/"], ["FRZ-1/R1/", "FRZ-1/R2/"]),  # one level at a time
    (["samplectl", "export", "--location", "shelf (A)*/"], ["shelf (A)*/box 1"]),
])
def test_stored_values_are_offered_in_every_configuration(words: list[str], expected: list[str],
                                                          logged_in: dict[str, str]) -> None:
    assert offered(words, logged_in) == expected


# -- remote mode: nothing, quietly, whenever the server cannot answer -----------------------------------
def remote_only(mode: str) -> None:
    if mode != "remote":
        pytest.skip("about remote mode (SAMPLECTL_SERVER)")


@pytest.mark.usefixtures("stored")
def test_logged_out_offers_nothing_and_a_token_file_login_offers_the_values(mode: str, logged_in: dict[str, str]) -> None:
    remote_only(mode)
    assert offered(["samplectl", "get", "S-"], {}) == []  # no token anywhere: no request, no message
    assert offered(["samplectl", "get", "S-"], {"SAMPLECTL_TOKEN": "not-a-token"}) == []  # refused: nothing
    # `samplectl login` keeps the token where the commands find it (here the 0600 file: no keyring in tests);
    # a TAB uses that same token.
    from samplectl.config import load_settings
    from samplectl.remote.address import server_address
    from samplectl.stores.tokens import TokenCache

    settings = load_settings()
    cache = TokenCache(server_address(settings.server or "").url, settings.home)
    assert cache.save(logged_in["SAMPLECTL_TOKEN"]).source == "file"
    assert offered(["samplectl", "get", "S-"], {}) == ["S-0001", "S-0002", "S-0010"]


def test_a_server_that_is_down_or_silent_offers_nothing_quickly(mode: str, logged_in: dict[str, str]) -> None:
    remote_only(mode)
    down = f"http://127.0.0.1:{free_port()}"
    assert offered(["samplectl", "get", "S-"], {**logged_in, "SAMPLECTL_SERVER": down}) == []
    with socket.socket() as listener:  # accepts the connection, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        silent = f"http://127.0.0.1:{listener.getsockname()[1]}"
        started = time.monotonic()
        assert offered(["samplectl", "filter", "--subject", "P"], {**logged_in, "SAMPLECTL_SERVER": silent}) == []
        # A TAB waits at most a second for the server (whatever server_timeout_ms says), then gives up.
        assert time.monotonic() - started < 10


# -- the transport rules of remote mode (remote.address), checked without a samplectl server -----------
VALUES = {"values": ["S-1", "S-2"]}


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[str, Path, list[dict[str, Any]]]]:
    """An https:// server whose certificate a lab's own CA signed: (URL, that CA's PEM, requests seen)."""
    trustme = pytest.importorskip("trustme")
    authority = trustme.CA()
    bundle = tmp_path / "lab-ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    with answering(VALUES, authority=authority) as (url, seen):
        yield url, bundle, seen


def test_tls_is_verified_against_the_lab_ca_as_for_every_remote_command(
        mode: str, tls_server: tuple[str, Path, list[dict[str, Any]]]) -> None:
    remote_only(mode)
    from samplectl.cli.completion import stored

    url, bundle, seen = tls_server
    env = {**os.environ, "SAMPLECTL_SERVER": url, "SAMPLECTL_TOKEN": "tok"}
    assert stored("sample_id", "S-", env) == []  # a certificate no trusted CA signed: refused
    assert seen == []
    assert stored("sample_id", "S-", {**env, "SAMPLECTL_CA_BUNDLE": str(bundle)}) == ["S-1", "S-2"]
    assert seen == [{"path": "/values/sample_id?prefix=S-&limit=200", "authorization": "Bearer tok"}]


def test_plain_http_goes_only_to_loopback(mode: str) -> None:
    remote_only(mode)
    from samplectl.cli.completion import stored

    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: only the outgoing interface is chosen
            address = probe.getsockname()[0]
    except OSError:
        address = "127.0.0.1"
    if address.startswith("127."):
        pytest.skip("this machine has no address but loopback")
    with answering(VALUES, host=address) as (url, seen):
        env = {**os.environ, "SAMPLECTL_SERVER": url, "SAMPLECTL_TOKEN": "tok"}
        assert stored("sample_id", "S-", env) == []
        assert seen == []  # the token never left: no connection was made


@pytest.mark.usefixtures("stored")
def test_a_remote_tab_loads_neither_httpx_nor_typer_nor_a_driver(mode: str, logged_in: dict[str, str]) -> None:
    """httpx alone would cost half of a TAB's 100 ms: the request is made with http.client (remote.client)."""
    remote_only(mode)
    from tests.cli.test_startup import HEAVY, modules_after

    env = {**os.environ, **logged_in, **tab_env(["samplectl", "get", "S-000"])}
    probe = ("import io, sys\nfrom samplectl.cli.entry import main\nsys.argv = ['samplectl']\n"
             "out, sys.stdout = sys.stdout, io.StringIO()\nmain()\nvalue, sys.stdout = sys.stdout.getvalue(), out\n"
             "assert value == 'S-0001\\nS-0002\\n', repr(value)\n")
    loaded = modules_after(probe, env=env)
    assert "http" in loaded  # it did ask the server
    assert not loaded & {"httpx", "httpcore", "typer", "click", *HEAVY}, sorted(loaded & {"httpx", *HEAVY})
