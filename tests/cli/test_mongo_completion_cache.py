"""With MongoDB, a TAB answers from a per-store cache file, stale-while-revalidate (issue 14).

pymongo costs ~100 ms of CPU to import, so a TAB that asks MongoDB misses the 100 ms target; the cache
(samplectl.stores.mongo.completion_cache) answers without it. These tests run real samplectl processes
as the shell does, against the nx-27017 wire server (pymongo speaking to it), and a URI nothing listens
on where MongoDB must not be needed at all.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from samplectl.config import load_settings
from samplectl.stores.mongo.completion_cache import MAX_AGE, STALE_AFTER, CacheFiles, from_sorted, store_key
from samplectl.stores.values import FIELDS
from tests.cli.test_stored_completion import shell_env
from tests.conftest import CliRun, free_port

SAMPLES = [  # (id, subject, location)
    ("S-0001", "P-01", "FRZ-1/R1/B1/A1"),
    ("S-0002", "P-01", "FRZ-1/R1/B2/A1"),
    ("S-0010", "P-02", "FRZ-1/R2/B1/A1"),
]
IDS = [s[0] for s in SAMPLES]


def create(cli: CliRun, sample_id: str, subject: str, location: str) -> None:
    made = cli("create", "--id", sample_id, "--type", "blood", "--subject", subject, "--collected", "2025-01-01",
               "--location", location, "-o", "json")
    assert made.exit_code == 0, made.stderr


@pytest.fixture
def stored(wire_env: str, cli: CliRun) -> None:
    for sample in SAMPLES:
        create(cli, *sample)


def files() -> CacheFiles:
    return CacheFiles.of(load_settings())


def tab(line: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> list[str]:
    """The candidates a TAB at the end of ``line`` offers: a real samplectl process, as bash runs it.

    With ``cwd``, through the installed console script, as a shell in that directory runs it.
    """
    argv = [str(Path(sys.executable).parent / "samplectl")] if cwd else [sys.executable, "-m", "samplectl"]
    done = subprocess.run(argv, env={**os.environ, **shell_env("bash", line), **(env or {})}, cwd=cwd,
                          capture_output=True, text=True, timeout=60, check=False)
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    return done.stdout.split("\n")[:-1] if done.stdout.strip() else []


def probe_tab(line: str, env: dict[str, str] | None = None) -> tuple[list[str], bool]:
    """(candidates, whether pymongo was imported) of a TAB answered in a fresh interpreter."""
    code = ("import io, json, os, sys\nfrom samplectl.cli.completion import answer\nout = io.StringIO()\n"
            "assert answer(os.environ, out)\nprint(json.dumps([out.getvalue(), 'pymongo' in sys.modules]))\n")
    done = subprocess.run([sys.executable, "-c", code], env={**os.environ, **shell_env("bash", line), **(env or {})},
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    text, imported = json.loads(done.stdout.splitlines()[-1])
    return (text.split("\n")[:-1] if text.strip() else []), imported


def as_of() -> float | None:
    try:
        return files().read("sample_id")[0]
    except (OSError, ValueError):
        return None


def wait_for_refresh(after: float | None = None, timeout: float = 60) -> float:
    """The as_of of a cache written after ``after`` (any, when None): the background refresh has finished."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = as_of()
        if found is not None and (after is None or found > after):
            wait_until_unlocked()
            return found
        time.sleep(0.05)
    pytest.fail("no refresh wrote the cache")


def wait_until_unlocked(timeout: float = 60) -> None:
    """Until no refresher holds the store's lock (it has exited)."""
    deadline = time.monotonic() + timeout
    while files().refreshing():
        if time.monotonic() > deadline:
            pytest.fail("a refresher kept the lock")
        time.sleep(0.05)


def write_cache(values: dict[str, list[str]], age: float = 0.0, complete: bool = True) -> None:
    files().write(time.time() - age, {f: values.get(f, []) for f in FIELDS}, {f: complete for f in FIELDS})


# -- a TAB from the cache ------------------------------------------------------------------------------
@pytest.mark.usefixtures("stored")
def test_a_warm_tab_answers_from_the_cache_without_importing_pymongo() -> None:
    assert probe_tab("samplectl get S-000") == (["S-0001", "S-0002"], True)  # cold: MongoDB, as before
    wait_for_refresh()
    assert probe_tab("samplectl get S-000") == (["S-0001", "S-0002"], False)
    assert probe_tab("samplectl filter --subject P") == (["P-01", "P-02"], False)
    assert probe_tab("samplectl filter --location FRZ-1/") == (["FRZ-1/R1/", "FRZ-1/R2/"], False)  # still by level


def test_a_warm_tab_needs_no_mongodb_at_all(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAMPLECTL_MONGODB_URI", f"mongodb://127.0.0.1:{free_port()}/?directConnection=true")
    write_cache({"sample_id": ["S-1", "S-2", "T-1"], "subject_id": ["P-1"], "storage_location": ["FRZ-1/R1/B1"]})
    assert tab("samplectl get S") == ["S-1", "S-2"]
    assert tab("samplectl filter --location ") == ["FRZ-1/"]
    # Without the cache, the same TAB asks MongoDB, which is not there: nothing, and no refresh started
    # (it could not reach MongoDB either).
    files().values.unlink()
    assert tab("samplectl get S") == []
    assert not files().lock.exists()


@pytest.mark.usefixtures("stored")
def test_a_cold_tab_asks_mongodb_and_writes_the_cache_privately() -> None:
    assert not files().values.exists()
    old = os.umask(0)  # whatever the umask, the cache is private
    try:
        assert tab("samplectl get S-00") == ["S-0001", "S-0002", "S-0010"]
    finally:
        os.umask(old)
    wait_for_refresh()
    cache = files()
    assert cache.read("sample_id")[1:] == (IDS, True)
    assert cache.read("subject_id")[1:] == (["P-01", "P-02"], True)
    assert cache.read("storage_location")[1:] == ([s[2] for s in SAMPLES], True)  # whole locations
    assert stat.S_IMODE(cache.values.stat().st_mode) == 0o600
    assert stat.S_IMODE(cache.folder.stat().st_mode) == 0o700
    wait_until_unlocked()
    assert sorted(p.name for p in cache.folder.iterdir()) == sorted([cache.values.name, cache.lock.name])
    assert stat.S_IMODE(cache.lock.stat().st_mode) == 0o600


@pytest.mark.usefixtures("stored")
def test_a_stale_cache_answers_once_more_and_is_refreshed_in_the_background() -> None:
    write_cache({"sample_id": ["S-0001", "S-OLD"]}, age=STALE_AFTER + 1)
    before = as_of()
    assert tab("samplectl get S-") == ["S-0001", "S-OLD"]  # as the cache has it: the TAB does not wait
    after = wait_for_refresh(before)
    assert after > time.time() - 30
    assert tab("samplectl get S-") == IDS
    assert files().read("sample_id")[1] == IDS


@pytest.mark.usefixtures("stored")
def test_the_refresher_runs_this_samplectl_not_one_in_the_current_directory(tmp_path: Path) -> None:
    planted = tmp_path / "elsewhere" / "samplectl"
    planted.mkdir(parents=True)
    (planted / "__init__.py").write_text(f"open({str(tmp_path / 'ran')!r}, 'w').close()\n")
    assert tab("samplectl get S-", cwd=planted.parent) == IDS
    wait_for_refresh()
    assert not (tmp_path / "ran").exists()


@pytest.mark.usefixtures("stored")
def test_a_fresh_cache_is_not_refreshed() -> None:
    write_cache({"sample_id": ["S-CACHED"]})
    before = as_of()
    for _ in range(3):
        assert tab("samplectl get S-") == ["S-CACHED"]
    wait_until_unlocked()
    assert as_of() == before


@pytest.mark.usefixtures("stored")
def test_one_refresh_at_a_time_and_a_dead_refresher_does_not_block_the_next() -> None:
    write_cache({"sample_id": ["S-OLD"]}, age=STALE_AFTER + 1)
    before = as_of()
    lock = files().lock
    # A refresher that holds the lock (as one that is running does), then dies without a word.
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, os, sys, time\nfd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\nprint('locked', flush=True)\ntime.sleep(60)\n"), str(lock)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        for _ in range(3):
            assert tab("samplectl get S-") == ["S-OLD"]
        time.sleep(2)
        assert as_of() == before  # no second refresh while one runs
    finally:
        holder.kill()
        holder.wait()
    assert tab("samplectl get S-") == ["S-OLD"]  # the lock died with its holder: this TAB refreshes
    wait_for_refresh(before)
    assert tab("samplectl get S-") == IDS


@pytest.mark.usefixtures("stored")
@pytest.mark.parametrize("damage", ["garbage", "empty", "truncated", "other format", "no values line", "directory",
                                    "fifo"])
def test_a_damaged_cache_is_ignored_and_rewritten(damage: str) -> None:
    cache = files()
    cache.folder.mkdir(mode=0o700, parents=True)
    if damage == "directory":
        cache.values.mkdir()
    elif damage == "fifo":
        os.mkfifo(cache.values, 0o600)  # opening it to read or write would wait for the other end
    else:
        text = {"garbage": "\x00\xff not json", "empty": "", "truncated": '{"format": 1, "as_of": ',
                "other format": json.dumps({"format": 99, "as_of": time.time()}) + "\n[]\n[]\n[]\n",
                "no values line": json.dumps({"format": 1, "as_of": time.time(), "fields": list(FIELDS),
                                              "complete": [True] * 3}) + "\n"}[damage]
        cache.values.write_text(text, encoding="latin-1")
    assert tab("samplectl get S-") == IDS  # from MongoDB, quietly
    if damage == "directory":
        return  # nothing can be written over a directory; every TAB asks MongoDB, as without a cache
    wait_for_refresh()
    assert cache.read("sample_id")[1] == IDS


@pytest.mark.usefixtures("stored")
def test_a_cache_that_cannot_be_read_or_written_falls_back_quietly() -> None:
    cache = files()
    cache.folder.parent.mkdir(parents=True, exist_ok=True)
    cache.folder.write_text("not a folder")  # no cache, no lock can be made there: MongoDB each time
    assert tab("samplectl get S-") == IDS
    cache.folder.unlink()
    if os.geteuid() == 0:
        return  # root reads and writes anything: the modes below stop nobody
    write_cache({"sample_id": ["S-CACHED"]}, age=STALE_AFTER + 1)
    cache.values.chmod(0)
    assert tab("samplectl get S-") == IDS  # unreadable: MongoDB
    cache.values.chmod(0o600)
    cache.folder.chmod(0o500)  # no lock file can be made: no refresh, and no word about it
    try:
        assert tab("samplectl get S-") == ["S-CACHED"]
    finally:
        cache.folder.chmod(0o700)


def test_a_cache_too_old_to_trust_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAMPLECTL_MONGODB_URI", f"mongodb://127.0.0.1:{free_port()}/?directConnection=true")
    write_cache({"sample_id": ["S-1"]}, age=MAX_AGE - 60)
    assert tab("samplectl get S") == ["S-1"]
    write_cache({"sample_id": ["S-1"]}, age=MAX_AGE + 60)
    assert tab("samplectl get S") == []  # asked MongoDB, which is not there


def test_past_the_values_kept_mongodb_is_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAMPLECTL_MONGODB_URI", f"mongodb://127.0.0.1:{free_port()}/?directConnection=true")
    write_cache({"sample_id": ["A-1", "B-1", "B-2"]}, complete=False)  # the first values only
    assert tab("samplectl get A") == ["A-1"]  # B-1 follows: every A is in the cache
    assert tab("samplectl get B") == []  # more B might follow B-2: MongoDB (not there) is asked
    assert from_sorted(["A-1", "B-1"], True, "sample_id", "B", 200) == ["B-1"]


# -- stores -----------------------------------------------------------------------------------------
def test_each_store_has_its_own_cache_whatever_the_credentials() -> None:
    a = store_key("mongodb://127.0.0.1:27017/", "samplectl")
    assert store_key("mongodb://alice:pw@127.0.0.1:27017/", "samplectl") == a
    assert store_key("mongodb://bob:other@127.0.0.1:27017/", "samplectl") == a
    assert store_key("mongodb://127.0.0.1:27018/", "samplectl") != a
    assert store_key("mongodb://127.0.0.1:27017/", "other") != a
    assert "pw" not in json.dumps(a)


@pytest.mark.usefixtures("stored")
def test_stores_with_different_uris_do_not_share_a_cache(wire_env: str, cli: CliRun,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    assert tab("samplectl get S-") == IDS
    wait_for_refresh()
    first = files()
    # The same server under another name: another store as far as the cache can tell.
    monkeypatch.setenv("SAMPLECTL_MONGODB_URI", wire_env.replace("127.0.0.1", "localhost"))
    monkeypatch.setenv("SAMPLECTL_MONGODB_DB", "t" + uuid.uuid4().hex[:12])
    create(cli, "X-1", "P-9", "FRZ-9/R1")
    assert tab("samplectl get ") == ["X-1"]
    wait_for_refresh()
    assert files().values != first.values
    assert probe_tab("samplectl get ") == (["X-1"], False)
    assert files().read("sample_id")[1] == ["X-1"]
    assert first.read("sample_id")[1] == IDS


# -- writes through samplectl --------------------------------------------------------------------------
@pytest.mark.usefixtures("stored")
def test_a_write_through_the_cli_is_seen_by_the_next_tab(cli: CliRun) -> None:
    assert tab("samplectl get S-") == IDS
    written = wait_for_refresh()
    create(cli, "S-0003", "P-03", "FRZ-3/R1/B1/A1")
    assert cli("delete", "S-0001", "--yes").exit_code == 0
    moved = cli("update", "S-0002", "--location", "FRZ-4/R1/B1/A1", "--subject", "P-04")
    assert moved.exit_code == 0, moved.stderr
    expected = ["S-0002", "S-0003", "S-0010"]
    assert tab("samplectl get S-") == expected  # at once: the cache is behind the writes, MongoDB is asked
    wait_for_refresh(written)
    assert probe_tab("samplectl get S-") == (expected, False)
    assert probe_tab("samplectl filter --subject P") == (["P-02", "P-03", "P-04"], False)
    assert probe_tab("samplectl filter --location ") == (["FRZ-1/", "FRZ-3/", "FRZ-4/"], False)


@pytest.mark.usefixtures("stored")
def test_a_write_refreshes_the_cache_itself_so_the_next_tab_need_not_ask_mongodb(cli: CliRun) -> None:
    assert tab("samplectl get S-") == IDS
    written = wait_for_refresh()
    create(cli, "S-0004", "P-05", "FRZ-5/R1/B1/A1")
    wait_for_refresh(written, timeout=30)  # no TAB in between: the write started the refresh
    assert probe_tab("samplectl get S-") == ([*IDS[:2], "S-0004", *IDS[2:]], False)


@pytest.mark.usefixtures("stored")
def test_reading_commands_leave_the_cache_as_it_is(cli: CliRun) -> None:
    assert tab("samplectl get S-") == IDS
    wait_for_refresh()
    assert cli("get", "S-0001", "-o", "json").exit_code == 0
    assert cli("list", "-o", "json").exit_code == 0
    assert not files().written.exists()
    assert probe_tab("samplectl get S-") == (IDS, False)


@pytest.mark.usefixtures("stored")
def test_an_import_is_seen_by_the_next_tab(cli: CliRun, tmp_path: Path) -> None:
    assert tab("samplectl get S-") == IDS
    written = wait_for_refresh()
    rows = tmp_path / "more.csv"
    rows.write_text("sample_id,sample_type,subject_id,collection_date,storage_location\n"
                    "S-0100,blood,P-05,2025-01-02,FRZ-5/R1/B1/A1\n")
    done = cli("import", str(rows), "-o", "json", "--quiet")
    assert done.exit_code == 0, done.stderr
    assert tab("samplectl get S-01") == ["S-0100"]
    wait_for_refresh(written)
    assert probe_tab("samplectl get S-01") == (["S-0100"], False)


# -- other configurations -------------------------------------------------------------------------------
def test_embedded_tabs_make_no_cache(cli: CliRun) -> None:
    create(cli, *SAMPLES[0])
    assert tab("samplectl get S-") == ["S-0001"]
    assert not (load_settings().home / "completion").exists()


@pytest.mark.usefixtures("stored")
def test_a_storage_move_is_seen_by_the_next_tab(cli: CliRun) -> None:
    for args in (["freezer", "FRZ-7"], ["rack", "FRZ-7/R1"], ["rack", "FRZ-7/R2"], ["box", "FRZ-7/R1/B1", "--grid", "2x2"]):
        assert cli("storage", "add", *args, "-o", "json").exit_code == 0
    placed = cli("create", "--id", "S-0700", "--type", "blood", "--subject", "P-07", "--collected", "2025-01-01",
                 "--position", "FRZ-7/R1/B1:A1", "-o", "json")
    assert placed.exit_code == 0, placed.stderr
    assert tab("samplectl filter --location FRZ-7/") == ["FRZ-7/R1/"]
    written = wait_for_refresh()
    moved = cli("storage", "move", "FRZ-7/R1/B1", "--to", "FRZ-7/R2", "--yes", "-o", "json")
    assert moved.exit_code == 0, moved.stderr
    assert tab("samplectl filter --location FRZ-7/") == ["FRZ-7/R2/"]
    wait_for_refresh(written)
    assert probe_tab("samplectl filter --location FRZ-7/R") == (["FRZ-7/R2/"], False)
