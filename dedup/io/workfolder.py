"""A run's work folder (spill files, spooled stdin), locked while the run lives, found and removed
by a later run when the one that made it was killed.

A work folder is ``dedup-<pid>-<random>.work`` in ``--spill-dir`` (else the system's temporary
folder), created exclusively, and its owner holds an exclusive ``flock`` on it. A folder of that
name whose lock anyone can take, and whose process is gone (or which is older than a minute), was
left by a run killed with SIGKILL (a run stopped by SIGTERM or SIGINT removes its own).

Example:
    >>> import tempfile
    >>> base = Path(tempfile.mkdtemp())
    >>> with work_folder(base) as work:
    ...     work.is_dir()
    True
    >>> list(base.iterdir())
    []
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from dedup.io.sources import InputError

# Below this many free bytes a folder is full for dedup's purposes: refused before any work.
MIN_FREE_BYTES = 1 << 20

# An unlocked entry this young, of a process that exists, is left alone: it may not be locked yet.
FRESH_SECONDS = 60

_WORK_NAME = re.compile(r"^dedup-(\d+)-[^/]+\.work$")


@contextlib.contextmanager
def work_folder(base: Path | None = None, notes: list[str] | None = None) -> Iterator[Path]:
    """A fresh, locked work folder in ``base``, removed on the way out (errors and signals included).
    Stale folders of killed runs in ``base`` are removed first and named in ``notes``."""
    base = Path(base) if base is not None else Path(tempfile.gettempdir())
    if not base.is_dir():
        raise InputError(f"{base}: the temporary folder does not exist")
    check_free(base, "the temporary folder")
    remove_stale(base, _WORK_NAME, notes)
    try:
        path = Path(tempfile.mkdtemp(prefix=f"dedup-{os.getpid()}-", suffix=".work", dir=base))
    except OSError as problem:
        raise InputError(f"{base}: cannot make a temporary folder there ({problem.strerror})") from None
    lock = hold(path)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
        os.close(lock)


def hold(path: Path) -> int:
    """An exclusive flock on ``path`` (a file or folder), held until the returned descriptor is closed."""
    fd = os.open(path, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def check_free(folder: Path, what: str) -> None:
    """Refuse a folder on a full filesystem, naming it."""
    try:
        status = os.statvfs(folder)
    except OSError:
        return  # not every filesystem tells; a full one is then found when writing
    free = status.f_bavail * status.f_frsize
    if free < MIN_FREE_BYTES:
        raise InputError(f"{folder}: no space left on the device of {what} ({free:,} bytes free)")


def remove_stale(folder: Path, pattern: re.Pattern, notes: list[str] | None) -> None:
    """Remove the entries of ``folder`` whose names match ``pattern`` (group 1: the owner's pid), whose
    owner is gone and whose lock is free; name each in ``notes``. Entries still in use are left."""
    try:
        entries = list(folder.iterdir())
    except OSError:
        return
    for entry in entries:
        found = pattern.match(entry.name)
        if found is None:
            continue
        try:
            fd = os.open(entry, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue  # another process holds it: in use
        if _alive(int(found.group(1))) and _young(entry):
            os.close(fd)  # its owner may be between making it and locking it (or its pid was reused)
            continue
        try:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        except OSError as problem:
            if notes is not None:
                notes.append(f"{entry}: left by a run that was killed (pid {found.group(1)}); "
                             f"could not remove it ({problem.strerror})")
        else:
            if notes is not None:
                notes.append(f"removed {entry}, left by a run that was killed (pid {found.group(1)})")
        finally:
            os.close(fd)


def _young(entry: Path) -> bool:
    try:
        return time.time() - entry.stat().st_mtime < FRESH_SECONDS
    except OSError:
        return True


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True
