"""Append-only uint32 streams on disk (document token streams, block shingle sets), read through a memory map.

Example:
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     streams = Streams(Path(folder) / "s.u32")
    ...     streams.append(np.array([7, 8, 9, 5], np.uint32), np.array([3, 1]))
    ...     streams.close()
    ...     print(streams[0].tolist(), streams[1].tolist(), streams.offsets.tolist())
    [7, 8, 9] [5] [0, 3, 4]
"""

from __future__ import annotations

import mmap
from pathlib import Path

import numpy as np


class Streams:
    """Append-only store of uint32 streams on disk; ``streams[i]`` is the i-th stream (a slice of a
    read-only memory map of the file). ``release()`` gives the pages read so far back to the OS
    cache, so verifying millions of pairs does not leave the whole file resident in this process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file = open(self.path, "wb")  # noqa: SIM115 (closed by close())
        self.lengths: list[np.ndarray] = []  # one array per batch, never a Python int per stream
        self.offsets = np.zeros(1, dtype=np.int64)
        self.view: np.ndarray | None = None
        self.map: mmap.mmap | None = None

    def append(self, flat: np.ndarray, lengths: np.ndarray) -> None:
        np.asarray(flat, dtype=np.uint32).tofile(self.file)  # no copy when it already is uint32
        self.lengths.append(np.asarray(lengths, dtype=np.int64))

    def close(self) -> None:
        self.file.close()
        if self.lengths:
            self.offsets = np.concatenate(([0], np.cumsum(np.concatenate(self.lengths))))
        self.lengths = []
        if int(self.offsets[-1]):
            with open(self.path, "rb") as f:
                self.map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            self.view = np.frombuffer(self.map, dtype=np.uint32)
        else:
            self.view = np.empty(0, np.uint32)

    def release(self) -> None:
        """Drop this process's resident pages of the file (they stay in the OS cache); a no-op where
        the platform has no ``madvise`` (Windows)."""
        if self.map is not None and hasattr(mmap, "MADV_DONTNEED"):
            self.map.madvise(mmap.MADV_DONTNEED)

    def __getitem__(self, i: int) -> np.ndarray:
        return self.view[self.offsets[i] : self.offsets[i + 1]]
