"""Every path a run writes: checked against the inputs and against each other before any work,
written under temporary names, and published together once the whole run has succeeded.

- **Checks, before pass 1.** No output is an input, holds an input (a folder given to ``--force``),
  lies inside an input folder, or is the current folder; no two outputs are the same path or one
  inside the other; each output's folder exists and can be written, and has room; a file output is
  not an existing folder; ``--out`` exists only with ``--force``. Paths are compared once symlinks
  are followed, for the inputs' files too.
- **Temporaries.** Each output is written at ``.<name>.dedup-<pid>-<random>.partial/<name>`` beside
  it: a folder made exclusively (O_EXCL, mode 0700, a name nobody can predict) that nobody else can
  plant a symlink in. A symlink given as an output is followed: its target gets the content and the
  link stays. Devices, FIFOs and ``/dev/stdout``-like paths, and ``-`` (stdout), are written in
  place, at publishing time, from a temporary in the run's work folder.
- **Locks.** ``.<name>.dedup-lock`` beside each output is held (flock) for the whole run: a second
  run that writes the same path fails at once, naming the first one's pid.
- **Leftovers.** A ``.partial`` folder whose run was killed (SIGKILL) is removed by the next run
  that writes the same output, and named (:func:`dedup.io.workfolder.remove_stale`).

Example:
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> with Outputs.plan({"report": str(folder / "r.csv")}, [], folder) as outputs:
    ...     _ = outputs.path("report").write_bytes(b"done")
    ...     outputs.publish()
    >>> sorted(p.name for p in folder.iterdir()), (folder / "r.csv").read_bytes()
    (['r.csv'], b'done')
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Self

from dedup.io.sources import InputError, Source
from dedup.io.workfolder import check_free, hold, remove_stale

STDOUT = "-"
# Paths under these are written in place: renaming over /dev/stdout (a link to fd 1) would leave
# the shell's file unwritten, and over /dev/null would replace the device.
IN_PLACE_PREFIXES = ("/dev/", "/proc/")
STDOUT_CHUNK = 1 << 16
# An OSError of writing with one of these codes is the environment's, not a bug: one line, exit 1.
ENVIRONMENT_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO}


def option_name(name: str) -> str:
    """``doc_stats`` -> ``--doc-stats``."""
    return "--" + name.replace("_", "-")


@dataclass
class Output:
    """One output: as given, where it lands (``final``, symlinks followed; None for stdout), where
    the run writes it (``temporary``; None when streamed to stdout) and the private folder holding
    that temporary beside ``final`` (None when it is in the work folder)."""

    name: str
    given: str
    final: Path | None
    temporary: Path | None
    private: Path | None = None


class Outputs:
    """The outputs of one run (:meth:`plan`), their temporaries, locks and publishing."""

    def __init__(self) -> None:
        self.outputs: dict[str, Output] = {}
        self._locks: list[tuple[Path, int]] = []
        self._work: Path | None = None

    @classmethod
    def plan(cls, wanted: dict[str, str | os.PathLike | None], sources: Iterable[Source], work: Path, *,
             force: bool = False, folders: Iterable[str] = (), kept: dict[str, str] | None = None,
             streamed: Iterable[str] = (), notes: list[str] | None = None) -> Outputs:
        """Check every output of ``wanted`` (option name -> path, ``-`` for stdout, None for none)
        and make its temporary. ``folders`` name outputs that are folders; ``kept`` are paths the run
        writes by its own means (an index folder): checked, not written here; ``streamed`` outputs
        given as ``-`` are written to stdout while the run goes (no temporary). ``force`` lets
        ``out`` replace what stands there. Raises :class:`InputError` naming the path."""
        plan = cls()
        plan._work = work
        given = {name: os.fspath(value) for name, value in wanted.items() if value is not None}
        to_stdout = [option_name(name) for name, value in given.items() if value == STDOUT]
        if len(to_stdout) > 1:
            raise InputError(f"only one of {', '.join(to_stdout)} can be - (stdout); send the others to files")
        folders, streamed = set(folders), set(streamed)
        try:
            resolved = {name: _resolve(value) for name, value in given.items() if value != STDOUT}
            in_place = {name: _in_place(given[name], final) for name, final in resolved.items()}
            for name in folders & {n for n, special in in_place.items() if special}:
                raise InputError(f"{given[name]}: {option_name(name)} here is a folder of files; it cannot go to "
                                 "a device or a FIFO")
            kept_paths = {name: _resolve(value) for name, value in (kept or {}).items()}
            _check_against_inputs({**resolved, **kept_paths}, {**given, **(kept or {})}, sources,
                                  {n for n, special in in_place.items() if not special})
            _check_apart({**{n: p for n, p in resolved.items() if not in_place[n]}, **kept_paths},
                         {**given, **(kept or {})})
            for name, value in given.items():
                if value == STDOUT:
                    temporary = None if name in streamed else work / f"stdout-{name}"
                    plan.outputs[name] = Output(name, value, None, temporary)
                elif in_place[name]:
                    plan.outputs[name] = Output(name, value, resolved[name], work / f"in-place-{name}")
                else:
                    plan.outputs[name] = plan._beside(name, value, resolved[name], force and name == "out", notes)
        except BaseException:
            plan.close()
            raise
        return plan

    def _beside(self, name: str, given: str, final: Path, replace: bool, notes: list[str] | None) -> Output:
        """Check ``final``'s place, lock it, clear a killed run's leftovers, make the private folder."""
        folder = final.parent
        if not folder.exists():
            raise InputError(f"{given}: the folder {folder} does not exist")
        if not folder.is_dir():
            raise InputError(f"{given}: {folder} is not a folder")
        if final.is_dir() and name != "out":
            raise InputError(f"{given}: is a folder; {option_name(name)} needs a file name")
        if final.exists() and name == "out" and not replace:
            raise InputError(f"{given}: already exists; use --force to replace it")
        self._locks.append(_lock(folder / f".{final.name}.dedup-lock", given))
        remove_stale(folder, re.compile(rf"^\.{re.escape(final.name)}\.dedup-(\d+)-[^/]+\.partial$"), notes)
        check_free(folder, option_name(name))
        try:
            private = Path(tempfile.mkdtemp(prefix=f".{final.name}.dedup-{os.getpid()}-", suffix=".partial",
                                            dir=folder))
        except OSError as problem:
            raise InputError(f"{given}: cannot write in {folder} ({problem.strerror})") from None
        self._locks.append((private, hold(private)))  # marks it as in use (remove_stale leaves it)
        return Output(name, given, final, private / final.name, private)

    def path(self, name: str) -> Path | None:
        """Where the run writes output ``name`` (None: not asked for, or streamed to stdout)."""
        output = self.outputs.get(name)
        return None if output is None else output.temporary

    def wants(self, name: str) -> bool:
        return name in self.outputs

    def publish(self) -> None:
        """Put every output in place, once the run has succeeded: the in-place ones and stdout written
        from their temporaries, then renames beside each target (what stood there is replaced)."""
        for output in self.outputs.values():  # first what can fail (a full device, a closed pipe)
            if output.private is None and output.temporary is not None:
                _copy_in_place(output)
        for output in self.outputs.values():
            if output.private is not None:
                _replace(output.temporary, output.final, output.private)

    def explain(self, problem: OSError) -> InputError | None:
        """A one-line error for an OSError of the environment (a full disk, a read-only or vanished
        folder) met while writing, naming the output or the temporary folder; None for others."""
        code = problem.errno
        if code is None and "No space left" in str(problem):
            code = errno.ENOSPC
        if code not in ENVIRONMENT_ERRNOS:
            return None
        reason = os.strerror(code)
        where = os.fspath(problem.filename) if problem.filename else None
        for output in self.outputs.values():
            if where and output.private is not None and where.startswith(os.fspath(output.private)):
                return InputError(f"{output.given}: {reason} (while writing {option_name(output.name)})")
            if where and output.final is not None and where == os.fspath(output.final):
                return InputError(f"{output.given}: {reason}")
        if where and self._work is not None and where.startswith(os.fspath(self._work)):
            return InputError(f"{self._work.parent}: {reason} (in the temporary folder; set TMPDIR to another)")
        written = ", ".join(o.given for o in self.outputs.values())
        return InputError(f"{where or written or 'writing'}: {reason}")

    def close(self) -> None:
        """Remove what was not published, and release the locks (their files go too)."""
        for output in self.outputs.values():
            if output.private is not None:
                shutil.rmtree(output.private, ignore_errors=True)
        for path, fd in reversed(self._locks):
            if not path.is_dir():
                with contextlib.suppress(OSError):
                    path.unlink()
            os.close(fd)
        self._locks.clear()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def write_to(target: Path, write: Callable[[IO[bytes]], None]) -> None:
    """``write`` to a file at ``target`` (a temporary of :class:`Outputs`); an OSError names it."""
    try:
        with open(target, "wb") as out:
            write(out)
    except OSError as problem:
        problem.filename = problem.filename or os.fspath(target)  # a full disk, named
        raise


def _resolve(value: str) -> Path:
    return Path(os.path.realpath(os.path.abspath(value)))


def _in_place(given: str, final: Path) -> bool:
    """Written in place, not renamed over: /dev/..., /proc/... and anything not a file or folder."""
    absolute = os.path.abspath(given)
    if absolute.startswith(IN_PLACE_PREFIXES) or os.fspath(final).startswith(IN_PLACE_PREFIXES):
        return True
    try:
        mode = os.stat(final).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _input_paths(sources: Iterable[Source]) -> tuple[dict[Path, str], dict[Path, str]]:
    """The inputs' files and folders, symlinks followed -> how each was given. Inside an input
    folder only symlinks are listed (by where they lead): every other entry lies under the folder,
    which the checks already cover."""
    files: dict[Path, str] = {}
    folders: dict[Path, str] = {}
    for source in sources:
        real = _resolve(os.fspath(source.path))
        files[real] = str(source.path)
        folder = source.folder if source.folder is not None else source.path if real.is_dir() else None
        if folder is None or _resolve(os.fspath(folder)) in folders:
            continue
        folders[_resolve(os.fspath(folder))] = str(folder)
        for link in _symlinks_under(folder):
            files[_resolve(link)] = link
    return files, folders


def _symlinks_under(folder: Path) -> Iterator[str]:
    """The symlinks anywhere under ``folder`` (not followed), from directory entries alone."""
    pending = [os.fspath(folder)]
    while pending:
        try:
            entries = list(os.scandir(pending.pop()))
        except OSError:
            continue
        for entry in entries:
            if entry.is_symlink():
                yield entry.path
            elif entry.is_dir(follow_symlinks=False):
                pending.append(entry.path)


def _check_against_inputs(resolved: dict[str, Path], given: dict[str, str], sources: Iterable[Source],
                          replaced: set[str]) -> None:
    """Refuse an output that is an input or lies in an input folder; and one of ``replaced`` (what
    may stand there is removed) that holds an input or the current folder."""
    files, folders = _input_paths(sources)
    inputs = {os.fspath(p): shown for p, shown in {**files, **folders}.items()}
    here = os.fspath(_resolve("."))
    for name, final in resolved.items():
        what = f"{given[name]} ({option_name(name)})"
        if final in files or final in folders:
            raise InputError(f"{what}: is the input {files.get(final) or folders[final]}; it would be overwritten")
        for folder, shown in folders.items():
            if final.is_relative_to(folder):
                raise InputError(f"{what}: is inside the input folder {shown}; write it elsewhere")
        if name not in replaced:
            continue
        inside = os.fspath(final).rstrip("/") + "/"
        for path, shown in inputs.items():
            if path.startswith(inside):
                raise InputError(f"{what}: holds the input {shown}; replacing it would lose the input")
        if here == os.fspath(final) or here.startswith(inside):
            raise InputError(f"{what}: is the current folder or holds it; name a new folder or file")


def _check_apart(resolved: dict[str, Path], given: dict[str, str]) -> None:
    names = list(resolved)
    for i, first in enumerate(names):
        for second in names[i + 1:]:
            a, b = resolved[first], resolved[second]
            if a == b:
                raise InputError(f"{option_name(first)} and {option_name(second)} are the same path "
                                 f"({given[first]}); give each its own")
            for inner, outer in ((first, second), (second, first)):
                if resolved[inner].is_relative_to(resolved[outer]):
                    raise InputError(f"{option_name(inner)} {given[inner]} is inside {option_name(outer)} "
                                     f"{given[outer]}; give each its own place")


def _lock(path: Path, given: str) -> tuple[Path, int]:
    """Hold ``path`` (a lock file) exclusively; a held one means another run writes the output."""
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        except OSError as problem:
            raise InputError(f"{given}: cannot write in {path.parent} ({problem.strerror})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise InputError(f"{given}: another dedup run (pid {owner}) is writing it; wait for it to "
                             "finish, or choose another path") from None
        try:
            same = os.stat(path, follow_symlinks=False).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False  # its last holder removed it as we opened it: take the new one
        if same:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            return path, fd
        os.close(fd)


def _replace(temporary: Path, final: Path, private: Path) -> None:
    """Rename ``temporary`` to ``final``; a folder (or, for a folder, a file) standing there is
    first moved into ``private``, which goes afterwards."""
    if final.is_dir() or (temporary.is_dir() and final.exists()):
        final.rename(private / ".replaced")
    os.replace(temporary, final)


def _copy_in_place(output: Output) -> None:
    if output.final is None:
        sys.stdout.flush()
        try:
            fd = sys.stdout.fileno()
        except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation: stdout held in memory
            fd = None
        with open(output.temporary, "rb") as source:
            while chunk := source.read(STDOUT_CHUNK):
                if fd is None:
                    sys.stdout.buffer.write(chunk)
                    continue
                view = memoryview(chunk)
                while view:  # os.write: a reader that has gone is found at the write, not at exit
                    view = view[os.write(fd, view):]
        if fd is None:
            sys.stdout.buffer.flush()
        return
    try:
        with open(output.temporary, "rb") as source, open(output.final, "wb") as target:
            shutil.copyfileobj(source, target)
    except OSError as problem:
        problem.filename = os.fspath(output.final)
        raise
