"""Band keys of MinHash signatures, kept in memory or spilled to disk one file per band.

Signatures are only needed for LSH: candidates are verified on shingle sets and token streams, not
on signatures. So pass 1 turns each batch's signatures into band keys straight away, in the worker
that made them (a 21-band key row is 168 bytes against 512 for the signature), and :func:`dedup.lsh.candidate_pairs` reads one band
at a time. While the keys fit in ``budget`` bytes they stay in memory; past it, every band goes to
its own file of uint64 in the spill folder, and memory no longer grows with the corpus.

Example:
    >>> import numpy as np
    >>> from dedup.lsh import band_keys
    >>> store = BandStore(bands=2, budget=None, folder=None)
    >>> store.append(band_keys(np.array([[1, 2, 3, 4], [1, 2, 9, 9]], dtype=np.uint32), bands=2, rows=2))
    >>> k = store.band(0)
    >>> bool(k[0] == k[1]), bool(store.band(1)[0] == store.band(1)[1]), len(store)
    (True, False, 2)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


class BandStore:
    """Append-only band keys of signature rows; ``band(b)`` gives band b's key of every row so far."""

    def __init__(self, bands: int, budget: int | None, folder: Path | None) -> None:
        self.bands, self.budget, self.folder = bands, budget, folder
        self.parts: list[np.ndarray] = []
        self.held = 0
        self.count = 0
        self.files: list[Path] | None = None

    def __len__(self) -> int:
        return self.count

    @property
    def spilled(self) -> bool:
        return self.files is not None

    def append(self, keys: np.ndarray) -> None:
        """Add rows of band keys (one column per band, :func:`dedup.lsh.band_keys`) as rows ``len(self)`` on."""
        if not len(keys):
            return
        self.count += len(keys)
        if self.files is None:
            self.parts.append(keys)
            self.held += keys.nbytes
            if self.budget is not None and self.held > self.budget:
                self._spill()
        else:
            self._write(keys)

    def _spill(self) -> None:
        if self.folder is None:
            raise ValueError("band keys are over their memory budget but there is no spill folder")
        self.files = [self.folder / f"band-{b:03d}.u64" for b in range(self.bands)]
        for path in self.files:
            path.write_bytes(b"")
        for keys in self.parts:
            self._write(keys)
        self.parts, self.held = [], 0

    def _write(self, keys: np.ndarray) -> None:
        for b, path in enumerate(self.files):
            with open(path, "ab") as f:
                np.ascontiguousarray(keys[:, b]).tofile(f)

    def band(self, b: int) -> np.ndarray:
        """Band ``b``'s key of every row (read from its file when spilled)."""
        if self.files is not None:
            return np.fromfile(self.files[b], dtype=np.uint64)
        if not self.parts:
            return np.empty(0, np.uint64)
        return np.concatenate([keys[:, b] for keys in self.parts])
