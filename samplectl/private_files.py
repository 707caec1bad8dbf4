"""Files and directories samplectl creates: private to their owner from the moment they exist.

The contract: directories 0700, files 0600, whatever the umask, and no create-then-chmod window
(a process that opens a file during that window keeps reading it after the chmod). So files are
created with their final mode by ``os.open`` and directories by ``mkdir`` with mode 0700, one
level at a time (``os.makedirs`` gives the parents it creates the umask's mode). The data
directory is also tightened when it is ours but open to others: there, anyone could swap the
sample store for an edited copy.

Standard library only: every command may call these.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

FILE_MODE = 0o600
DIR_MODE = 0o700
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def private_dir(path: Path | str, *, tighten: bool = False) -> Path:
    """``path`` as a directory, creating it (and any missing parents) 0700.

    ``tighten`` (the data directory): an existing directory of ours that others may enter is made
    0700 too. Never a shared sticky directory such as /tmp.
    """
    path = Path(path)
    missing = []
    probe = path
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another samplectl made it meanwhile
            folder.mkdir(mode=DIR_MODE)
        # mkdir's mode is cut by the umask (umask 0o700 would leave 0000): set it exactly.
        os.chmod(folder, DIR_MODE)
    if tighten and not missing:
        _tighten(path)
    return path


def _tighten(path: Path) -> None:
    try:
        st = path.stat()
    except OSError:
        return
    ours = st.st_uid == os.getuid() and not st.st_mode & stat.S_ISVTX
    if stat.S_ISDIR(st.st_mode) and ours and st.st_mode & 0o077:
        with contextlib.suppress(OSError):
            os.chmod(path, DIR_MODE)


def create_private_file(path: Path | str) -> bool:
    """Create ``path`` empty and 0600 unless it exists (SQLite then uses it as a new database); True when created."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | getattr(os, "O_CLOEXEC", 0), FILE_MODE)
    except FileExistsError:
        return False
    try:
        os.fchmod(fd, FILE_MODE)  # the umask may have taken the owner's own bits away
    finally:
        os.close(fd)
    return True


def tighten_file(path: Path | str) -> None:
    """An existing regular file of ours that others may read (an earlier release's store) is made 0600."""
    try:
        st = os.stat(path, follow_symlinks=False)
    except OSError:
        return
    if stat.S_ISREG(st.st_mode) and st.st_uid == os.getuid() and st.st_mode & 0o077:
        with contextlib.suppress(OSError):
            os.chmod(path, FILE_MODE)


def open_private(path: str, *, append: bool = False) -> IO[str]:
    """A text file for writing, created 0600 (an existing regular file of ours is made 0600 too)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
    fd = os.open(path, flags, FILE_MODE)
    try:
        st = os.fstat(fd)
        if stat.S_ISREG(st.st_mode) and st.st_uid == os.getuid() and st.st_mode & 0o077:
            os.fchmod(fd, FILE_MODE)
        return os.fdopen(fd, "a" if append else "w", encoding="utf-8", newline="")
    except BaseException:
        os.close(fd)
        raise


def write_whole(path: str, write: Callable[[IO[str]], int], *, replace: bool = False) -> int:
    """Write a file so that it appears whole or not at all: written aside, then moved over ``path``.

    On Linux the text is written into an unnamed file (O_TMPFILE) that gets a name only once it is
    complete, so even a killed samplectl leaves nothing half-written behind. An existing device or
    FIFO (``/dev/stdout``, a named pipe) is written into, never replaced by a regular file, unless
    ``replace`` (a file of samplectl's own, which nobody reads through a pipe: whatever is in its
    place is replaced, not written into, where a FIFO would block the writer).
    Raises IsADirectoryError for a directory; OSError from the system as it comes.
    """
    try:
        st: os.stat_result | None = os.stat(path)
    except FileNotFoundError:
        st = None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(21, "Is a directory", path)
    if st is not None and not stat.S_ISREG(st.st_mode) and not replace:
        with open(path, "w", encoding="utf-8", newline="") as out:
            return write(out)
    directory = os.path.dirname(os.path.abspath(path))
    unnamed = getattr(os, "O_TMPFILE", 0)
    if unnamed:
        try:
            fd = os.open(directory, os.O_WRONLY | unnamed, FILE_MODE)
        except OSError:  # a file system without O_TMPFILE: fall back to a hidden named file
            fd = -1
        if fd >= 0:
            return _finish_unnamed(fd, directory, path, write)
    fd, temp = tempfile.mkstemp(prefix=".samplectl-", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            count = write(out)
    except BaseException:
        _discard(temp)
        raise
    _put_in_place(temp, path)
    return count


def _finish_unnamed(fd: int, directory: str, path: str, write: Callable[[IO[str]], int]) -> int:
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
        count = write(out)
        out.flush()
        # A name for the finished file, then the rename over the target (link cannot replace).
        # dst_dir_fd makes Python call linkat(AT_SYMLINK_FOLLOW), which can name an O_TMPFILE file.
        temp = f".samplectl-{os.getpid()}-{os.urandom(4).hex()}"
        folder = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.link(f"/proc/self/fd/{out.fileno()}", temp, dst_dir_fd=folder, follow_symlinks=True)
        finally:
            os.close(folder)
    _put_in_place(os.path.join(directory, temp), path)
    return count


def _put_in_place(temp: str, path: str) -> None:
    """The finished file takes the target's name in one step (readers see the old file or the new)."""
    try:
        os.replace(temp, path)
    except BaseException:
        _discard(temp)
        raise


def _discard(temp: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(temp)
