"""The embedded store's safety rules (issue 9): ids compared exactly (item 1), private files from
creation whatever the umask (item 8), a store emptied, replaced, damaged or cut short noticed
(item 18), a read-only data directory still readable (item 20)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, CliRun

DATE_LIKE = ["2025-03-14", "2025-03-14T00:00:00Z", "2025-03-14T00:00:00+00:00", "2025-03-14-001",
             "2025/03/14-B", "01/15/2023-7", "20250314", "1e3", "null"]


def create(cli: CliRun, sample_id: str, location: str) -> None:
    out = cli("create", "--id", sample_id, "--type", "blood", "--subject", "SUBJ-1", "--collected", "2025-03-14",
              "--location", location, "-o", "json")
    assert out.exit_code == 0, out.stderr


# -- item 1: date-shaped ids reach exactly their own sample ------------------------------------------

def test_ids_that_look_like_dates_or_numbers_reach_exactly_their_own_sample(cli: CliRun) -> None:
    for n, sample_id in enumerate(DATE_LIKE):
        create(cli, sample_id, f"LOC-{n}")
    for n, sample_id in enumerate(DATE_LIKE):
        got = cli("get", sample_id, "-o", "json")
        assert got.exit_code == 0, got.stderr
        assert (got.json()["sample_id"], got.json()["storage_location"]) == (sample_id, f"LOC-{n}")
    out = cli("update", "2025-03-14T00:00:00Z", "--location", "MOVED", "-o", "json")
    assert out.exit_code == 0 and out.json()["sample_id"] == "2025-03-14T00:00:00Z"
    locations = {r["sample_id"]: r["storage_location"] for r in cli("list", "--all", "-o", "json").json()}
    assert locations["2025-03-14T00:00:00Z"] == "MOVED"
    assert locations["2025-03-14"] == "LOC-0" and locations["2025-03-14T00:00:00+00:00"] == "LOC-2"
    assert cli("delete", "2025-03-14T00:00:00+00:00", "--yes").exit_code == 0
    left = {r["sample_id"] for r in cli("list", "--all", "-o", "json").json()}
    assert left == set(DATE_LIKE) - {"2025-03-14T00:00:00+00:00"}
    history = cli("history", "2025-03-14T00:00:00+00:00", "-o", "json").json()
    assert [(e["action"], e["sample_id"]) for e in history] == [("create", "2025-03-14T00:00:00+00:00"),
                                                                 ("delete", "2025-03-14T00:00:00+00:00")]
    assert [e["action"] for e in cli("history", "2025-03-14", "-o", "json").json()] == ["create"]
    assert cli("get", "2025-03-14T00:00:00.000Z", "-o", "json").exit_code == 5  # the same instant, another id


def test_import_on_conflict_update_finds_date_shaped_ids(cli: CliRun, tmp_path: Path) -> None:
    create(cli, "2025-03-14-001", "OLD")
    data = tmp_path / "in.csv"
    data.write_text("sample_id,sample_type,subject_id,collection_date,storage_location\n"
                    "2025-03-14-001,blood,SUBJ-1,2025-03-14,NEW\n2025-03-14,blood,SUBJ-1,2025-03-14,OTHER\n")
    out = cli("import", str(data), "--on-conflict", "update", "-o", "json")
    assert out.exit_code == 0, out.stderr
    assert (out.json()["created"], out.json()["updated"]) == (1, 1)
    assert cli("get", "2025-03-14-001", "-o", "json").json()["storage_location"] == "NEW"


# -- item 8: the store's files are private from creation ----------------------------------------------

@pytest.fixture
def umask() -> Iterator[object]:
    previous = os.umask(0o022)
    os.umask(previous)

    def set_umask(mask: int) -> None:
        os.umask(mask)

    yield set_umask
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("mask", [0o000, 0o022, 0o277])
def test_data_directory_and_store_files_are_private_whatever_the_umask(isolated_env: Path, umask, mask: int) -> None:
    from samplectl.config import load_settings
    from samplectl.stores.engines import open_embedded

    umask(mask)  # type: ignore[operator]
    settings = load_settings()
    database = open_embedded(settings)
    try:
        database.audit.append({"user": "u", "action": "login"})  # a write: the WAL and its index exist now
        files = [settings.samples_path, Path(f"{settings.samples_path}-wal"), Path(f"{settings.samples_path}-shm")]
        assert all(f.exists() for f in files)
        assert mode(settings.samples_path.parent) == 0o700
        assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
    finally:
        database.close()


def test_a_store_left_readable_by_an_earlier_release_is_made_private(cli: CliRun, isolated_env: Path) -> None:
    create(cli, "S-1", "L")
    data = isolated_env / "data"
    os.chmod(data, 0o755)
    os.chmod(data / "samples.db", 0o644)
    assert cli("get", "S-1", "-o", "json").exit_code == 0
    assert (mode(data), mode(data / "samples.db")) == (0o700, 0o600)


# -- item 20: a read-only data directory --------------------------------------------------------------

def read_only(home: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """samplectl with the data directory on a read-only mount (a private mount namespace)."""
    script = 'mount --bind "$1" "$1" && mount -o remount,ro,bind "$1" "$1" && shift && exec "$@"'
    return subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", str(home), sys.executable, "-m", "samplectl",
                           *args], cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=120)


def test_reads_work_in_a_read_only_data_directory_and_writes_say_why_not(
    cli: CliRun, isolated_env: Path, process_env: dict[str, str]
) -> None:
    if not shutil.which("unshare") or read_only(isolated_env / "data", "--version", env={}).returncode != 0:
        pytest.skip("cannot make a read-only mount here (unshare -m)")
    home = isolated_env / "data"
    create(cli, "S-1", "L")
    listed = read_only(home, "list", "-o", "json", env=process_env)
    assert listed.returncode == 0, listed.stderr
    assert [r["sample_id"] for r in json.loads(listed.stdout)] == ["S-1"]
    verify = read_only(home, "audit", "verify", "-o", "json", env=process_env)
    assert verify.returncode == 0, verify.stderr
    assert json.loads(verify.stdout)["ok"] is True
    refused = read_only(home, "create", "--type", "blood", "--subject", "A", "--collected", "2025-01-01",
                        "--location", "L", "-o", "json", env=process_env)
    assert refused.returncode == 8, refused.stderr
    assert "read-only" in refused.stderr and "Traceback" not in refused.stderr
    logout = read_only(home, "logout", env=process_env)
    assert logout.returncode in (0, 8), logout.stderr
    assert logout.stderr.startswith(("logged out", "error: ")) and "Traceback" not in logout.stderr


# -- item 18: a store emptied, replaced or damaged is noticed -------------------------------------------

def fresh_store_elsewhere(tmp_path: Path) -> Path:
    """Another installation's store (another store id), made by the same code."""
    from samplectl.stores.sqlite import open_sqlite

    other = tmp_path / "elsewhere" / "samples.db"
    open_sqlite(other).close()
    return other


@pytest.mark.parametrize("how", ["emptied", "deleted", "replaced"])
def test_a_store_emptied_or_replaced_after_init_is_refused(cli: CliRun, isolated_env: Path, how: str) -> None:
    assert cli("init").exit_code == 0
    create(cli, "S-1", "L")
    store = isolated_env / "data" / "samples.db"
    for leftover in (Path(f"{store}-wal"), Path(f"{store}-shm")):
        leftover.unlink(missing_ok=True)
    if how == "emptied":
        store.write_bytes(b"")
    elif how == "deleted":
        store.unlink()
    else:
        shutil.copy(fresh_store_elsewhere(isolated_env), store)
    for args in (("list",), ("audit", "verify"), ("create", "--type", "blood", "--subject", "A", "--collected",
                                                   "2025-01-01", "--location", "L")):
        out = cli(*args, "-o", "json")
        assert out.exit_code == 8, (args, out.stdout, out.stderr)
        assert "is not the one this installation set up" in out.stderr and "emptied or replaced" in out.stderr
    again = cli("init")
    assert again.exit_code == 8 and "emptied or replaced" in again.stderr  # init does not adopt it either


def test_a_damaged_store_is_exit_8_with_a_clear_line(cli: CliRun, isolated_env: Path) -> None:
    for n in range(200):
        create(cli, f"S-{n}", "L" * 100)
    store = isolated_env / "data" / "samples.db"
    raw = bytearray(store.read_bytes())
    raw[4096:len(raw)] = b"\xde\xad" * ((len(raw) - 4096) // 2)  # every page but the first
    store.write_bytes(bytes(raw))
    out = cli("list", "-o", "json")
    assert out.exit_code == 8, out.stderr
    assert out.stderr.startswith("error: the embedded sample store at") and "damaged" in out.stderr
    assert "Traceback" not in out.stderr


def cut_audit_tail(isolated_env: Path, keep: int) -> None:
    """Remove every audit record after seq ``keep``, behind samplectl's back: the chain that is left still links."""
    import sqlite3

    conn = sqlite3.connect(isolated_env / "data" / "samples.db")
    with conn:
        conn.execute("DELETE FROM audit WHERE seq > ?", (keep,))
    conn.close()


def verify(cli: CliRun) -> tuple[int, dict, str]:
    out = cli("audit", "verify", "-o", "json")
    return out.exit_code, json.loads(out.stdout or "{}"), out.stderr


def test_records_cut_off_the_end_of_the_audit_trail_are_reported(cli: CliRun, isolated_env: Path) -> None:
    assert cli("init").exit_code == 0
    for n in range(4):
        create(cli, f"S-{n}", "L")
    code, report, _ = verify(cli)
    assert code == 0 and report["ok"], report
    head = report["head"]["seq"]
    cut_audit_tail(isolated_env, head - 2)
    code, report, stderr = verify(cli)
    assert code == 6, stderr
    assert not report["ok"] and report["head"]["seq"] == head - 2
    assert f"records {head - 1}..{head} are missing from the end of the trail" in stderr
    assert stderr.startswith(f"error: the audit trail does not hold at seq {head - 1}")


def test_a_trail_cut_short_and_written_again_past_its_old_end_is_still_reported(
        cli: CliRun, isolated_env: Path) -> None:
    """New records after the cut must not move the remembered head past the evidence."""
    assert cli("init").exit_code == 0
    for n in range(3):
        create(cli, f"S-{n}", "L")
    head = verify(cli)[1]["head"]["seq"]
    cut_audit_tail(isolated_env, head - 2)
    for n in range(3, 8):  # the trail grows past where it was: seq `head` now holds another record
        create(cli, f"S-{n}", "L")
    code, report, stderr = verify(cli)
    assert code == 6, stderr
    assert report["head"]["seq"] > head
    assert f"record {head} is not the one the trail had there" in stderr


def test_audit_verify_finds_a_damaged_index_that_reads_do_not_touch(cli: CliRun, isolated_env: Path) -> None:
    import sqlite3

    assert cli("init").exit_code == 0
    for n in range(30):
        create(cli, f"S-{n}", "L")
    store = isolated_env / "data" / "samples.db"
    conn = sqlite3.connect(store)
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'samples_by_subject'").fetchone()[0]
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    with store.open("r+b") as fh:  # the index's page keeps its header, its cells point nowhere
        fh.seek((root - 1) * page_size + 12)
        fh.write(b"\xff" * (page_size - 12))
    assert cli("get", "S-3", "-o", "json").exit_code == 0  # the sample itself still reads
    out = cli("audit", "verify", "-o", "json")
    assert out.exit_code == 8, (out.stdout, out.stderr)
    assert "is damaged (quick_check:" in out.stderr and "Traceback" not in out.stderr
