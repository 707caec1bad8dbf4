"""The MongoDB engine's completion cache: a TAB answers from a file, without importing pymongo.

Why: ``import pymongo`` (4.x) imports the driver's whole asynchronous API with it, ~100 ms of CPU
before a single query, so a TAB that asks MongoDB costs ~140 ms against 100 allowed. The embedded
store and a server answer well under that and have no cache.

What is kept: per store (the MongoDB URI without its credentials, and the database name, hashed:
two stores never share a file), every distinct sample id, subject and storage location, sorted, in
``<data directory>/completion/<key>.json``: 0600 in a 0700 folder, as every file there, written
whole (aside, then renamed over the old one). A TAB seeks the sorted list exactly as it seeks the
index (``stores.values.distinct``), so it offers what MongoDB would have offered. Beyond
``MAX_VALUES`` values of a field only the first ``MAX_VALUES`` are kept, and a prefix whose
candidates run past them is asked of MongoDB as before.

Stale-while-revalidate, judged at each TAB by the time the cache's reading began (``as_of``):

- younger than ``STALE_AFTER``: answered from the file;
- older: answered from the file, and a refresh starts in the background for the next TAB;
- older than ``MAX_AGE``, missing, unreadable, corrupt, or older than the last write made through
  samplectl on this machine (``mark_written``, called when a command that wrote closes the store):
  MongoDB is asked as before, and once it has answered a refresh starts (when MongoDB cannot be
  reached, a refresh could not be either).

A refresh is this module's ``main`` in a process of its own (by hand: ``python -m
samplectl.stores.mongo.completion_cache``), detached from the TAB (its own session, no terminal,
nothing the shell waits for), at a lower CPU priority, ended by an alarm if it ever hangs. At most
one runs per store: the TAB takes an exclusive ``flock`` on ``<key>.lock`` and hands the locked
descriptor to the refresher, which holds it until it exits; the kernel lets go of it when the
refresher dies, so a crash cannot leave the store locked. Anything that goes wrong with the cache
falls back to asking MongoDB, and prints nothing.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from samplectl.stores.values import FIELDS, distinct

# How old the cache may be before a TAB refreshes it (while still answering from it). Short, because a
# TAB may then show values as they were this long ago (or at the previous TAB, when that was longer
# ago); not shorter, because each refresh reads every id, subject and location of the store: while
# someone keeps pressing TAB, one full read every 5 seconds is what the MongoDB server pays.
STALE_AFTER = 5.0
# Past this the cache is not trusted at all: the TAB asks MongoDB. It bounds how old an answer can be
# when refreshes keep failing (MongoDB down, a broken install), and after a long pause.
MAX_AGE = 600.0
# Values of one field kept at most (~1.5 MB of sample ids; a TAB reads one field's line, ~7 ms).
MAX_VALUES = 100_000
# The refresher's own bound on connecting and reading everything: nobody waits for it.
REFRESH_TIMEOUT_MS = 30_000
REFRESH_ROUNDS = 3  # reads in one refresher at most, when writes keep landing meanwhile
FORMAT = 1
FOLDER = "completion"
# What a TAB's environment holds for the shell's protocol: not passed on to the refresher.
_TAB_VARIABLES = ("_SAMPLECTL_COMPLETE", "COMP_WORDS", "COMP_CWORD")


class _Incomplete(Exception):
    """The candidates run past the values kept for a field: MongoDB has to be asked."""


def store_key(uri: str, db_name: str) -> str:
    """The store's name among the cache files: its URI without credentials and its database, hashed.

    The credentials are left out so that changing a password keeps the cache (and no password is
    hashed into a file name); the hash keeps host names out of the file names.
    """
    import hashlib

    from samplectl.config import split_credentials

    parts = split_credentials(uri)
    where = parts[0] + parts[3] if parts is not None else uri
    return hashlib.sha256(f"{where}\n{db_name}".encode()).hexdigest()[:32]


class CacheFiles:
    """The files of one store's cache in a data directory: the values, the refresh lock, the last write."""

    def __init__(self, home: Path, uri: str, db_name: str) -> None:
        self.folder = home / FOLDER
        key = store_key(uri, db_name)
        self.values = self.folder / f"{key}.json"
        self.lock = self.folder / f"{key}.lock"
        self.written = self.folder / f"{key}.written"

    @classmethod
    def of(cls, settings: Any) -> CacheFiles:
        return cls(settings.home, settings.mongodb_uri or "", settings.mongodb_db)

    def refreshing(self) -> bool:
        """Whether a refresher holds this store's lock now (for tests and the benchmark, which wait for it)."""
        import fcntl

        try:
            fd = os.open(self.lock, os.O_RDWR)
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return False
        except BlockingIOError:
            return True
        finally:
            os.close(fd)  # the lock, when this took it, goes with the descriptor

    # -- reading (a TAB) -------------------------------------------------------------------
    def age(self, as_of: float) -> float | None:
        """Seconds since ``as_of``; None when a write through samplectl came after it (the cache is behind)."""
        try:
            written = os.stat(self.written).st_mtime
        except FileNotFoundError:
            written = None
        if written is not None and written >= as_of:
            return None
        return time.time() - as_of

    def read(self, field: str) -> tuple[float, list[str], bool]:
        """(as_of, the field's values, whether they are all of them); raises on a missing or corrupt file."""
        # Not blocking, not through a link, regular files only: a FIFO put there would hang the TAB.
        fd = os.open(self.values, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise ValueError("not a file")
        with os.fdopen(fd, encoding="utf-8") as fh:
            header = json.loads(fh.readline())
            if header.get("format") != FORMAT or list(header.get("fields", ())) != list(FIELDS):
                raise ValueError("not this samplectl's cache")
            index = FIELDS.index(field)
            for _ in range(index):
                fh.readline()
            values = json.loads(fh.readline())
        as_of, complete = header["as_of"], header["complete"][index]
        if not isinstance(as_of, float | int) or not isinstance(values, list) or not isinstance(complete, bool):
            raise ValueError("not this samplectl's cache")
        return float(as_of), values, complete

    # -- writing (the refresher) -----------------------------------------------------------
    def write(self, as_of: float, found: Mapping[str, Sequence[str]], complete: Mapping[str, bool]) -> None:
        """The whole file, written aside (0600) and renamed over the old one: a TAB reads the old or the new.

        Whatever is in the way is replaced, not written into (a FIFO there would block the refresher).
        """
        from samplectl.private_files import private_dir, write_whole

        private_dir(self.folder)
        header = {"format": FORMAT, "as_of": as_of, "fields": list(FIELDS), "complete": [complete[f] for f in FIELDS]}
        lines = [json.dumps(header)] + [json.dumps(list(found[f]), ensure_ascii=False, separators=(",", ":"))
                                        for f in FIELDS]
        write_whole(str(self.values), lambda out: out.write("\n".join(lines) + "\n"), replace=True)

    def mark_written(self) -> None:
        """A command changed the store: caches read before now are behind (a TAB asks MongoDB), and a
        refresh starts at once, so that the TAB that usually follows a write finds the cache current."""
        if not self.folder.is_dir():
            return  # no TAB ever made a cache here
        from samplectl.private_files import create_private_file

        create_private_file(self.written)
        now = time.time()  # set exactly (not the file system's coarser clock): compared with as_of
        os.utime(self.written, (now, now))
        start_refresh(self, None)  # one already running reads again: it began before this write


def cached_values(settings: Any, field: str, prefix: str, limit: int,
                  env: Mapping[str, str] | None = None) -> tuple[list[str] | None, bool]:
    """(the candidates from the store's cache, or None: ask MongoDB; whether to ``refresh_after`` it). Never raises.

    A stale cache answers and starts its refresh here. A cache that cannot answer (missing, unreadable,
    corrupt, too old, behind a write) is refreshed once MongoDB has answered: when it cannot be reached,
    a refresh could not either.
    """
    try:
        files = CacheFiles.of(settings)
        as_of, values, complete = files.read(field)
        age = files.age(as_of)
    except Exception:  # noqa: BLE001 - missing, unreadable, corrupt: asked as before, and rewritten
        return None, True
    if age is None or age > MAX_AGE:
        return None, True
    if not 0 <= age < STALE_AFTER:
        start_refresh(files, env)
    try:
        return from_sorted(values, complete, field, prefix, limit), False
    except Exception:  # noqa: BLE001 - past the values kept (_Incomplete), or values that are not text: ask MongoDB
        return None, False


def refresh_after(settings: Any, env: Mapping[str, str] | None = None) -> None:
    """Start the refresh of a cache that could not answer, once MongoDB has. Never raises."""
    with contextlib.suppress(Exception):  # no cache then: the next TAB asks MongoDB too
        start_refresh(CacheFiles.of(settings), env)


def from_sorted(values: list[str], complete: bool, field: str, prefix: str, limit: int) -> list[str]:
    """What ``distinct`` offers from ``values`` (sorted, distinct), as an index seek would; _Incomplete past the kept ones."""
    from bisect import bisect_left

    def seek(start: str) -> list[str]:
        at = bisect_left(values, start)
        if at >= len(values) and not complete:
            raise _Incomplete
        return values[at:at + limit]

    return distinct(seek, field, prefix, limit)


def start_refresh(files: CacheFiles, env: Mapping[str, str] | None) -> None:
    """Start the refresher, detached, unless one is running for this store. Never raises."""
    import fcntl

    flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)
    try:
        try:
            fd = os.open(files.lock, flags, 0o600)
        except FileNotFoundError:  # the first TAB: the folder is made (0700) only now
            from samplectl.private_files import private_dir

            private_dir(files.folder)
            fd = os.open(files.lock, flags, 0o600)
    except Exception:  # noqa: BLE001 - the data directory cannot hold a cache: every TAB asks MongoDB
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        import subprocess  # only now: while a refresh runs, the TAB pays nothing for it
        # The locked descriptor goes to the refresher: the lock is held as long as it runs, and not longer.
        subprocess.Popen(
            # -P: the directory the person is in is not searched for modules (`-m` and `-c` would put it
            # first); the refresher runs the samplectl this TAB runs, from where this TAB found it.
            [sys.executable, "-P", "-c", REFRESHER, _package_root(), "--lock-fd", str(fd)],
            env={k: v for k, v in (os.environ if env is None else env).items() if k not in _TAB_VARIABLES},
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True, close_fds=True, pass_fds=(fd,),
        )
    except Exception:  # noqa: BLE001 - a refresh is running (the lock is taken), or cannot start: asked as before
        pass
    finally:
        os.close(fd)  # the refresher keeps its own copy, and with it the lock


REFRESHER = ("import sys; sys.path.insert(0, sys.argv.pop(1)); "
             "from samplectl.stores.mongo.completion_cache import main; sys.exit(main())")


def _package_root() -> str:
    """The directory holding the samplectl package this process runs."""
    import samplectl

    return str(Path(samplectl.__file__).resolve().parent.parent)


def refresh(settings: Any, *, force: bool = False) -> bool:
    """Read every value of each field from MongoDB into the cache; False when it was fresh already."""
    files = CacheFiles.of(settings)
    if not force:
        try:
            age = files.age(files.read(FIELDS[0])[0])
        except Exception:  # noqa: BLE001 - no usable cache: made now
            age = None
        if age is not None and 0 <= age < STALE_AFTER:
            return False  # another refresh finished while this one was starting
    import pymongo

    from samplectl.stores.mongo.engine import connect
    from samplectl.stores.mongo.values import distinct_values

    as_of = time.time()  # before the first read: a write after it makes the cache behind (``age``)
    client, db, _ = connect(settings.mongodb_uri or "", settings.mongodb_db, REFRESH_TIMEOUT_MS)
    try:
        with pymongo.timeout(REFRESH_TIMEOUT_MS / 1000):
            found = {f: distinct_values(db["samples"], f, "", MAX_VALUES + 1, levels=False) for f in FIELDS}
    finally:
        client.close()
    files.write(as_of, {f: v[:MAX_VALUES] for f, v in found.items()},
                {f: len(v) <= MAX_VALUES for f, v in found.items()})
    return True


def main(argv: list[str] | None = None) -> int:
    """The refresher: ``--lock-fd N`` is the locked lock file a TAB handed over; without it, it takes the lock."""
    import argparse
    import fcntl
    import signal

    from samplectl.config import load_settings

    parser = argparse.ArgumentParser(description="Refresh samplectl's completion cache of the configured MongoDB store.")
    parser.add_argument("--lock-fd", type=int, default=None)
    parser.add_argument("--force", action="store_true", help="refresh even when the cache is fresh")
    args = parser.parse_args(argv)
    settings = load_settings()
    if settings.embedded or settings.remote:
        return 0  # only the MongoDB engine has a cache
    if args.lock_fd is None:
        files = CacheFiles.of(settings)
        from samplectl.private_files import private_dir

        private_dir(files.folder)
        fd = os.open(files.lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return 0  # one is running
    else:
        fd = args.lock_fd
        os.set_inheritable(fd, False)  # held here; nothing this process starts needs it
    if hasattr(os, "nice"):
        os.nice(10)  # background work: the person typing comes first
    # However the driver or the file system misbehaves, the refresher ends (and the lock with it).
    signal.alarm(REFRESH_ROUNDS * REFRESH_TIMEOUT_MS // 1000 + 30)
    try:
        # Again when a write through samplectl landed while reading (the cache is then behind at once):
        # a TAB in the meantime found the lock taken and left the refresh to this one.
        force = args.force
        for _ in range(REFRESH_ROUNDS):
            if not refresh(settings, force=force):
                break
            force = False
    finally:
        # Let go before the driver's exit hook runs (up to 0.5 s): the next TAB may start the next refresh.
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    return 0


if __name__ == "__main__":
    sys.exit(main())
