"""What samplectl writes to disk: private from creation, never replacing what it should not,
never failing a command because a log cannot be written (issue 9 items 8, 11, 19)."""

from __future__ import annotations

import contextlib
import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from samplectl.config import load_settings
from tests.cli.csvfiles import HEADER, row, write
from tests.conftest import CliRun, run_samplectl

BLOOD = ["--type", "blood", "--subject", "SUBJ-1", "--collected", "2025-03-14", "--location", "FRZ-1"]
ADMIN_PW = "admin-pass-123"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# -- item 8: private from the first byte, whatever the umask --------------------------------------
@pytest.mark.parametrize("umask", [0o000, 0o022, 0o277])  # 0o277 takes even the owner's write bit away
def test_data_directory_and_users_database_are_private_under_any_umask(tmp_path: Path, umask: int) -> None:
    home = tmp_path / "fresh" / "data"
    made = subprocess.run(
        [sys.executable, "-c", f"import os, sys; os.umask({umask}); from samplectl.cli.app import main; "
         "sys.argv = ['samplectl', 'init', '--admin', 'admin', '--password-stdin']; main()"],
        input=ADMIN_PW + "\n", capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "SAMPLECTL_HOME": str(home)},
    )
    assert made.returncode == 0, made.stderr
    assert mode(home) == 0o700
    assert mode(home.parent) == 0o700  # a parent samplectl created is private too
    assert mode(home / "users.db") == 0o600
    assert mode(home / "samples.db") == 0o600


def test_users_database_is_0600_from_the_moment_it_exists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No create-then-chmod window: watch the file's mode when SQLite first opens it."""
    import sqlite3.dbapi2

    from samplectl.stores.userdb import locate_users_database
    from samplectl.stores.users import open_user_store

    seen: list[int] = []
    real_connect = sqlite3.dbapi2.connect

    def connect(*args, **kwargs):  # SQLAlchemy's pysqlite dialect opens the file through here
        path = load_settings().home / "users.db"
        seen.append(mode(path) if path.exists() else -1)
        return real_connect(*args, **kwargs)

    monkeypatch.setattr(sqlite3.dbapi2, "connect", connect)
    old = os.umask(0)
    try:
        store = open_user_store(locate_users_database(load_settings()))
        store.migrate()
        store.close()
    finally:
        os.umask(old)
    assert seen and all(m == 0o600 for m in seen), seen


def test_an_existing_open_data_directory_is_tightened(cli: CliRun) -> None:
    home = load_settings().home
    home.mkdir(parents=True)
    os.chmod(home, 0o777)
    assert cli("create", *BLOOD).exit_code == 0
    assert mode(home) == 0o700


def test_errors_file_is_0600(cli: CliRun, tmp_path: Path) -> None:
    data = write(tmp_path / "in.csv", [HEADER, row(1), row(2, sample_type="plasma")])
    errors = tmp_path / "rejected.csv"
    old = os.umask(0)
    try:
        out = cli("import", str(data), "--partial", "--errors", str(errors))
    finally:
        os.umask(old)
    assert out.exit_code == 6
    assert mode(errors) == 0o600
    assert "plasma" in errors.read_text()


# -- item 11: export --file writes a whole file, into devices and FIFOs, refuses directories ------
def test_export_to_a_fifo_writes_into_it_and_keeps_it_a_fifo(cli: CliRun, tmp_path: Path) -> None:
    import threading

    assert cli("create", *BLOOD, "--id", "S-1").exit_code == 0
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    out = cli("export", "--file", str(fifo))
    reader.join(timeout=30)
    assert out.exit_code == 0, out.stderr
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert "S-1" in received[0]


@pytest.fixture
def full_device(tmp_path: Path) -> Path:
    """A device node of our own that acts as /dev/full (a broken export then replaces only this one)."""
    node = tmp_path / "dev" / "full"
    node.parent.mkdir()
    try:
        os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    except OSError:
        pytest.skip("cannot make a device node here (needs root)")
    return node


def test_export_to_a_full_device_is_a_clear_error_and_leaves_the_device(cli: CliRun, full_device: Path) -> None:
    assert cli("create", *BLOOD, "--id", "S-1").exit_code == 0
    out = cli("export", "--file", str(full_device))
    assert out.exit_code == 6, out.stderr
    assert out.stderr.startswith(f"error: cannot write {full_device}: No space left on device")
    assert stat.S_ISCHR(full_device.stat().st_mode)


def test_export_to_a_directory_is_exit_6(cli: CliRun, tmp_path: Path) -> None:
    out = cli("export", "--file", str(tmp_path))
    assert out.exit_code == 6
    assert out.stderr.startswith(f"error: --file {tmp_path} is a directory")


def test_export_file_is_private_and_replaces_a_regular_file(cli: CliRun, tmp_path: Path) -> None:
    assert cli("create", *BLOOD, "--id", "S-1").exit_code == 0
    target = tmp_path / "exports" / "out.csv"
    target.parent.mkdir()
    target.write_text("old\n")
    assert cli("export", "--file", str(target)).exit_code == 0
    assert "S-1" in target.read_text() and mode(target) == 0o600
    assert [p.name for p in target.parent.iterdir()] == ["out.csv"]


def test_a_killed_export_leaves_no_partial_file(tmp_path: Path, process_env: dict[str, str]) -> None:
    data = write(tmp_path / "in.csv", [HEADER, *(row(i) for i in range(3000))])
    assert run_samplectl("import", str(data), env=process_env).returncode == 0
    out_dir = tmp_path / "exports"
    out_dir.mkdir()
    target = out_dir / "all.jsonl"
    # Stop the export in the middle of writing (SIGKILL: no clean-up runs), then look at the directory.
    script = (
        "import os, signal, sys\n"
        "import samplectl.output.formats as f\n"
        "def dying(kind, records, out, view):\n"
        "    out.write('partial\\n'); out.flush(); os.kill(os.getpid(), signal.SIGKILL)\n"
        "f.render = dying\n"
        "from samplectl.cli.app import main\n"
        f"sys.argv = ['samplectl', 'export', '-o', 'jsonl', '--file', {str(target)!r}]\n"
        "main()\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, **process_env})
    assert done.returncode == -9, done.stderr
    assert list(out_dir.iterdir()) == []


# -- item 19: a log that cannot be written never fails the command --------------------------------
def test_a_log_file_on_a_full_disk_does_not_fail_create(cli: CliRun, full_device: Path) -> None:
    out = cli("--log-file", str(full_device), "-v", "create", *BLOOD, "--id", "S-1", "-o", "json")
    assert out.exit_code == 0, out.stderr
    assert "Traceback" not in out.stderr
    assert out.stderr.count(f"cannot write the log file {full_device}") == 1
    assert cli("get", "S-1", "-o", "json").json()["sample_id"] == "S-1"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB tmpfs (root only: skipped where it cannot be mounted)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
                          capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(disk: Path, leave_kb: int) -> None:
    filler = disk / "filler"
    with contextlib.suppress(FileNotFoundError):
        filler.unlink()
    free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
    with contextlib.suppress(OSError), filler.open("wb") as fh:
        fh.write(b"\0" * max(0, free - leave_kb * 1024))


def test_a_full_disk_is_exit_8_with_a_clear_line(small_disk: Path) -> None:
    env = {"SAMPLECTL_HOME": str(small_disk / "data")}
    assert run_samplectl("init", "--admin", "admin", "--password-stdin", input=ADMIN_PW + "\n", env=env).returncode == 0
    login = run_samplectl("login", "-u", "admin", "--password-stdin", "--print-token", input=ADMIN_PW + "\n", env=env)
    token = {**env, "SAMPLECTL_TOKEN": login.stdout.strip()}
    codes = set()
    # Down to a few KB: there SQLite reports the sample store's failed write as "disk I/O error", which
    # said "another samplectl may hold it locked" before the store looked at the free space.
    for leave in (96, 72, 64, 48, 32, 16, 8):
        _fill(small_disk, leave)
        for args, extra, given in ((["create", *BLOOD], token, None),
                                   (["login", "-u", "admin", "--password-stdin"], env, ADMIN_PW + "\n")):
            done = run_samplectl(*args, env=extra, input=given)
            assert done.returncode in (0, 8), (leave, args[0], done.returncode, done.stderr)
            assert "Traceback" not in done.stderr and "unexpected" not in done.stderr
            if done.returncode == 8:
                assert done.stderr.startswith("error: there is no space left on the disk"), (leave, done.stderr)
            codes.add(done.returncode)
    assert 8 in codes  # the disk did fill up: the check is not empty
    listed = run_samplectl("list", "--all", "-o", "json", env=token)
    if listed.returncode == 0:
        assert all(s["sample_id"] for s in json.loads(listed.stdout))


def test_a_users_database_on_a_full_disk_says_the_disk_is_full(tmp_path: Path) -> None:
    """A users database that cannot be written because the disk is full says so (it said "check
    SAMPLECTL_DATABASE_URL and that the server is running"). A real full file system: a small tmpfs in a
    mount namespace of its own, where the machine allows one (root, unshare)."""
    import shutil

    if shutil.which("unshare") is None or subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode:
        pytest.skip("no mount namespace here (unshare -m needs root)")
    mount = tmp_path / "small"
    mount.mkdir()
    script = f"""
set -e
mount -t tmpfs -o size=1200k tmpfs {mount}
export SAMPLECTL_HOME={mount}/data
echo admin-pass-123 | {sys.executable} -m samplectl init --admin admin --password-stdin >/dev/null 2>&1
head -c 10000000 /dev/zero > {mount}/filler 2>/dev/null || true
set +e
echo admin-pass-123 | {sys.executable} -m samplectl login -u admin --password-stdin 2>&1 >/dev/null
echo "exit $?"
"""
    done = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=120)
    lines = done.stdout.splitlines()
    assert lines[-1] == "exit 8", done.stdout + done.stderr
    assert lines[:2] == ["error: there is no space left on the disk (a database or file could not be written)",
                         "hint: free some space (df -h shows where), then run the command again"], done.stdout
