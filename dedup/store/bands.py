"""Band keys of MinHash signatures, kept in memory or spilled to disk as Parquet, a column per band.

Signatures are only needed for LSH: candidates are verified on shingle sets and token streams, not
on signatures. So pass 1 turns each batch's signatures into band keys straight away, in the thread
that made them (an item's 21 band keys take 168 bytes against 512 for its signature), and
:func:`dedup.match.lsh.candidate_pairs` reads one band at a time. Keys are held band by band (``keys[b]`` is
band b of every row), so reading a band is a contiguous slice. While the keys fit in ``budget`` bytes
they stay in memory. Past it they go to Parquet files in the spill folder, one column per band, each
file holding up to a quarter of the budget; reading a band reads only its column of each file, and
memory no longer grows with the corpus.

Example:
    >>> import numpy as np
    >>> from dedup.match.lsh import band_keys
    >>> store = BandStore(bands=2, budget=None, folder=None)
    >>> store.append(band_keys(np.array([[1, 2, 3, 4], [1, 2, 9, 9]], dtype=np.uint32), bands=2, rows=2))
    >>> k = store.band(0)
    >>> bool(k[0] == k[1]), bool(store.band(1)[0] == store.band(1)[1]), len(store)
    (True, False, 2)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl


class BandStore:
    """Append-only band keys of signature rows; ``band(b)`` gives band b's key of every row so far."""

    def __init__(self, bands: int, budget: int | None, folder: Path | None) -> None:
        self.bands, self.budget, self.folder = bands, budget, folder
        self.parts: list[np.ndarray] = []  # keys of the rows not written yet, a row per band
        self.held = 0
        self.count = 0
        self.files: list[Path] | None = None  # Parquet parts, in row order, once spilling

    def __len__(self) -> int:
        return self.count

    @property
    def spilled(self) -> bool:
        return self.files is not None

    def append(self, keys: np.ndarray) -> None:
        """Add band keys (a row per band, :func:`dedup.match.lsh.band_keys`) of the rows ``len(self)`` on."""
        if not keys.shape[1]:
            return
        self.count += keys.shape[1]
        self.parts.append(keys)
        self.held += keys.nbytes
        if self.budget is None:
            return
        if self.files is None and self.held > self.budget:
            if self.folder is None:
                raise ValueError("band keys are over their memory budget but there is no spill folder")
            self.files = []
        if self.files is not None:
            self._write(self.budget // 4)

    def _column(self, b: int) -> str:
        return f"band_{b:03d}"

    def _write(self, part_bytes: int) -> None:
        """Write the rows held as Parquet parts of about ``part_bytes`` each (random keys: no compression,
        no statistics), keeping back a last piece smaller than that."""
        while self.held > part_bytes:
            size = count = 0
            while count < len(self.parts) and size <= part_bytes:
                size += self.parts[count].nbytes
                count += 1
            keys = np.concatenate(self.parts[:count], axis=1)
            path = self.folder / f"part-{len(self.files):05d}.parquet"
            pl.DataFrame({self._column(b): keys[b] for b in range(self.bands)}).write_parquet(
                path, compression="uncompressed", statistics=False)
            self.files.append(path)
            self.parts, self.held = self.parts[count:], self.held - size

    def band(self, b: int) -> np.ndarray:
        """Band ``b``'s key of every row (its column of each Parquet part, then the rows held)."""
        pieces = [pl.read_parquet(path, columns=[self._column(b)]).to_series().to_numpy() for path in self.files or ()]
        pieces += [keys[b] for keys in self.parts]
        if not pieces:
            return np.empty(0, np.uint64)
        return np.concatenate(pieces).astype(np.uint64, copy=False)
