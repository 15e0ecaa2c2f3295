"""The embedded index: a folder of immutable segments, one per batch, and a manifest naming them.

    PATH/manifest.json            format, pinned settings, the batches and each file's checksum
    PATH/segments/000001/...      one file per column: raw little-endian arrays (memory-mapped)
    PATH/lock                     held (flock) by the one process adding a batch

Keyed tables are stored sorted by key, so a lookup is a binary search of the memory-mapped keys of
each segment: the index is never loaded whole, and only the pages searched are read. A batch is
added by writing its segment under a temporary name, renaming it into place, then replacing the
manifest (write, fsync, rename): a process killed at any moment leaves the old manifest, and
segments it does not name are ignored and swept by the next writer. Every file's xxh3_64 is in the
manifest, and the manifest carries its own; a file is verified when first read, so corruption is
named, never read. Why raw columns and not SQLite or Parquet: benchmarks/RESULTS.md (index format).

Example:
    >>> import tempfile
    >>> index = FolderIndex(Path(tempfile.mkdtemp()) / "idx")
    >>> index.batches, index.settings
    ([], None)
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import mmap
import os
import shutil
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import xxhash

from dedup.index.entries import (
    DTYPES,
    KEYED,
    RECORDS,
    Entries,
    expand,
    placed,
    put_columns,
    row_of,
    segment_of,
    segments_in,
)
from dedup.index.errors import IndexFault
from dedup.index.search import ranges
from dedup.index.settings import FORMAT_VERSION, check_format, check_settings

MANIFEST = "manifest.json"
# How long a second writer waits for the lock before failing (seconds).
LOCK_WAIT = 600.0


def _manifest_digest(body: dict) -> str:
    return xxhash.xxh3_64_hexdigest(json.dumps(body, sort_keys=True).encode())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _Segment:
    """The files of one batch, opened (and verified) when first read."""

    def __init__(self, folder: Path, files: dict[str, dict], where: str) -> None:
        self.folder, self.files, self.where = folder, files, where
        self.arrays: dict[str, np.ndarray] = {}

    def array(self, name: str) -> np.ndarray:
        if name not in self.arrays:
            info = self.files.get(name)
            path = self.folder / name
            if info is None or not path.is_file():
                raise IndexFault(f"{self.where}: {path} is missing: the index is damaged")
            dtype = np.dtype(DTYPES.get(info["dtype"], np.uint8))
            with open(path, "rb") as f:
                size = os.fstat(f.fileno()).st_size
                # The checksum is taken over the map the array reads: its pages are faulted in once.
                data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
            if size != info["length"] * dtype.itemsize or xxhash.xxh3_64_hexdigest(data) != info["xxh3"]:
                raise IndexFault(f"{self.where}: {path} is corrupt (its checksum or size differs from the manifest)")
            self.arrays[name] = np.frombuffer(data, dtype)
        return self.arrays[name]


class FolderIndex:
    """An index in a folder (created by the first :meth:`add`)."""

    def __init__(self, path: Path, lock_wait: float = LOCK_WAIT) -> None:
        self.path, self.where, self.lock_wait = Path(path), str(path), lock_wait
        if self.path.exists() and not self.path.is_dir():
            raise IndexFault(f"{self.where}: not a folder, so not a dedup index")
        self._load()

    def _load(self) -> None:
        self.settings: dict | None = None
        self.batches: list[dict] = []
        self.segments: dict[int, _Segment] = {}
        manifest = self.path / MANIFEST
        if not manifest.exists():
            if self.path.is_dir() and any(p.name != "lock" for p in self.path.iterdir()):
                raise IndexFault(f"{self.where}: the folder is not empty and has no {MANIFEST}: not a dedup index")
            return
        try:
            body = json.loads(manifest.read_bytes())
            stated = body.pop("checksum")
        except (ValueError, KeyError, AttributeError, TypeError):
            raise IndexFault(f"{self.where}: {manifest} is corrupt (not the JSON dedup writes)") from None
        check_format(body.get("format"), self.where)
        if stated != _manifest_digest(body):
            raise IndexFault(f"{self.where}: {manifest} is corrupt (its checksum differs)")
        self.settings, self.batches = body["settings"], body["batches"]
        for batch in self.batches:
            self.segments[batch["segment"]] = _Segment(
                self.path / "segments" / f"{batch['segment']:06d}", batch["files"], self.where)

    def check(self, settings: dict) -> None:
        """Refuse a run whose pinned settings differ from the index's."""
        if self.settings is not None:
            check_settings(self.settings, settings, self.where)

    def size(self) -> int:
        """Bytes of the index on disk."""
        return sum(p.stat().st_size for p in self.path.rglob("*") if p.is_file()) if self.path.exists() else 0

    # -- reading ------------------------------------------------------------------------------------

    def lookup(self, table: str, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every stored (key, value) whose key is in ``keys``: the position in ``keys`` and the value of
        each, in the order of the sorted keys (for sorted ``keys``: by position), and for one key oldest
        batch first."""
        order = np.argsort(keys)
        wanted = np.asarray(keys, np.uint64)[order]
        found, count = [], np.zeros(len(wanted), np.int64)
        for segment in self.segments.values():  # oldest first
            which, lo, hi = ranges(segment.array(f"{table}.key"), wanted)
            if len(which):
                found.append((segment, which, lo, hi))
                count[which] += hi - lo
        total = int(count.sum())
        at, values = np.empty(total, np.int64), np.empty(total, np.uint64)
        filled = np.cumsum(count) - count  # each key's next free place: placed by counting, not sorted
        for segment, which, lo, hi in found:
            n = hi - lo
            places = expand(filled[which], filled[which] + n)
            at[places] = order[which] if (n == 1).all() else np.repeat(order[which], n)
            values[places] = segment.array(f"{table}.value")[expand(lo, hi)]
            filled[which] += n
        return at, values

    def records(self, table: str, refs: np.ndarray, columns: list[str] | None = None) -> dict[str, np.ndarray | list[str]]:
        """The columns (all, or ``columns``) of the rows ``refs`` of ``table``, in the order of ``refs``."""
        segments, rows = segment_of(refs), row_of(refs)
        out: dict[str, np.ndarray | list[str]] = {}
        for column, dtype in RECORDS[table].items():
            if columns is not None and column not in columns:
                continue
            if dtype == "str":
                values = [""] * len(refs)
                for s in segments_in(segments):
                    mine = np.flatnonzero(segments == s)
                    segment = self.segments[s]
                    data, lengths = _gather(segment.array(f"{table}.{column}.bin"),
                                            segment.array(f"{table}.{column}.off"), rows[mine])
                    data, ends = data.tobytes(), np.cumsum(lengths).tolist()
                    for k, start, end in zip(mine.tolist(), [0, *ends[:-1]], ends):
                        values[k] = data[start:end].decode("utf-8")
                out[column] = values
            else:
                values = np.empty(len(refs), DTYPES[dtype])
                for s in segments_in(segments):
                    mine = segments == s
                    values[mine] = self.segments[s].array(f"{table}.{column}")[rows[mine]]
                out[column] = values
        return out

    def streams(self, name: str, refs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Streams ``refs`` (segment, stream row) of ``name``: their values one after another, and lengths."""
        segments, rows = segment_of(refs), row_of(refs)
        order = np.argsort(segments, kind="stable")  # gathered segment by segment, then put back in order
        flats, lengths = [], np.zeros(len(refs), np.int64)
        for s in segments_in(segments):
            mine = order[segments[order] == s]
            flat, lengths[mine] = _gather(self.segments[s].array(f"{name}.bin"), self.segments[s].array(f"{name}.off"),
                                          rows[mine])
            flats.append(flat)
        flat = np.concatenate(flats) if flats else np.empty(0, np.uint32)
        starts = np.r_[0, np.cumsum(lengths[order])[:-1]] if len(refs) else np.empty(0, np.int64)
        back = np.empty(len(refs), np.int64)
        back[order] = starts
        return flat[expand(back, back + lengths)].astype(np.uint32), lengths

    # -- writing ------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self):
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.path / "lock", "a+") as lock:
            deadline = time.monotonic() + self.lock_wait
            while True:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise IndexFault(f"{self.where}: another dedup is adding a batch to this index; "
                                         f"waited {self.lock_wait:g} s for it") from None
                    time.sleep(0.05)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def add(self, entries: Entries, settings: dict) -> dict:
        """Add one batch, whole or not at all; returns its entry in the manifest."""
        entries.checked()
        with self._locked():
            self._load()  # another writer may have added batches since this index was opened
            self.check(settings)
            if any(b["name"] == entries.name for b in self.batches):
                raise IndexFault(f"{self.where}: a batch named {entries.name!r} is in the index already")
            root = self.path / "segments"
            root.mkdir(exist_ok=True)
            named = {f"{b['segment']:06d}" for b in self.batches}
            for stray in root.iterdir():  # left by a process killed before its manifest was written
                if stray.name not in named:
                    shutil.rmtree(stray, ignore_errors=True)
            segment = max((b["segment"] for b in self.batches), default=0) + 1
            temporary = root / f".partial-{uuid.uuid4().hex}"
            temporary.mkdir()
            files = _write_segment(temporary, entries, segment)
            _fsync_dir(temporary)
            os.rename(temporary, root / f"{segment:06d}")
            _fsync_dir(root)
            batch = {"name": entries.name, "segment": segment, "documents": entries.documents,
                     "blocks": entries.blocks, "added": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                     "bytes": sum(f["length"] * np.dtype(DTYPES.get(f["dtype"], np.uint8)).itemsize
                                  for f in files.values()),
                     "files": files}
            body = {"format": FORMAT_VERSION, "dedup": _version(), "settings": settings,
                    "batches": [*self.batches, batch]}
            text = json.dumps({**body, "checksum": _manifest_digest(body)}, indent=1).encode()
            temporary = self.path / f".{MANIFEST}.partial-{os.getpid()}"
            with open(temporary, "wb") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(temporary, self.path / MANIFEST)
            _fsync_dir(self.path)
            self._load()
        return batch


def _gather(flat: np.ndarray, offsets: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows ``rows`` of a column of variable-length rows: their values one after another, and lengths."""
    lo, hi = offsets[rows], offsets[rows + 1]
    return flat[expand(lo, hi)], hi - lo


def _write_segment(folder: Path, entries: Entries, segment: int) -> dict[str, dict]:
    """Write every table of ``entries`` into ``folder``; returns each file's dtype, length and xxh3."""
    files: dict[str, dict] = {}

    def put(name: str, array: np.ndarray, dtype: str) -> None:
        data = np.ascontiguousarray(array, DTYPES.get(dtype, np.uint8)).data
        with open(folder / name, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        files[name] = {"dtype": dtype, "length": len(array), "xxh3": xxhash.xxh3_64_hexdigest(data)}

    for table, kind in KEYED.items():
        keys, values = entries.keyed[table]
        keys = np.asarray(keys, np.uint64)
        values = np.asarray(values, np.uint64)
        if kind != "count":
            values = placed(values, segment)
        order = np.argsort(keys, kind="stable")  # equal keys keep their order: oldest first
        put(f"{table}.key", keys[order], "u8")
        put(f"{table}.value", values[order], "u8")
    put_columns(entries, segment, put)
    return files


def _version() -> str:
    from dedup import __version__  # here: dedup/__init__ imports the API, which imports this module

    return __version__
