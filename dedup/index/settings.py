"""The settings an index is pinned to: every one that changes a fingerprint or a band key.

An index built with other settings holds fingerprints that can no longer be compared, so a run whose
settings differ is refused, naming each setting that differs.

Example:
    >>> from dedup.config import Config
    >>> stored = pinned(Config())
    >>> check_settings(stored, pinned(Config(ngram=3, seed=7)), "idx")
    Traceback (most recent call last):
    ...
    dedup.index.errors.IndexFault: idx: the index was built with other settings: ngram 5 (this run: 3), seed 1 (this run: 7)
"""

from __future__ import annotations

from dedup.config import Config
from dedup.index.errors import IndexFault

# The layout of what an index stores. An index of a newer format is refused, never guessed at.
FORMAT_VERSION = 1
# Raise when dedup's normalisation (fingerprint/normalise.py) changes what a block is compared by.
NORMALISATION_VERSION = 1
# Tokens: xxh3_64 of utf-8; shingles: position-weighted sums folded to 32 bits; MinHash: datasketch
# 2.0's affine32 permutations; band keys: dedup.match.lsh's multipliers. Raise on any change.
HASH_SCHEME = "xxh3_64-tokens/affine32-minhash/lsh-v1"
# Documents are LSH candidates at this MinHash Jaccard (dedup's decide stage uses the same).
DOC_CANDIDATE_JACCARD = 0.5


def pinned(config: Config) -> dict[str, object]:
    """The settings of ``config`` that an index pins, by the name of their option."""
    block_bands, block_rows = config.bands_rows()
    doc_bands, doc_rows = config.bands_rows(DOC_CANDIDATE_JACCARD)
    return {
        "normalisation": NORMALISATION_VERSION,
        "hash-scheme": HASH_SCHEME,
        "unit": config.unit,
        "exact-only": not config.near,
        "shingle": config.shingle,
        "ngram": config.ngram,
        "num-perm": config.num_perm,
        "seed": config.seed,
        "threshold": config.threshold,
        "doc-threshold": config.doc_threshold,
        "block-bands": f"{block_bands}x{block_rows}",
        "doc-bands": f"{doc_bands}x{doc_rows}",
    }


def check_settings(stored: dict[str, object], current: dict[str, object], where: str) -> None:
    """Raise :class:`IndexFault` naming every pinned setting that ``current`` changes."""
    names = sorted(set(stored) | set(current), key=lambda n: list(current).index(n) if n in current else 99)
    differ = [f"{n} {stored.get(n, 'unset')} (this run: {current.get(n, 'unset')})"
              for n in names if stored.get(n) != current.get(n)]
    if differ:
        raise IndexFault(f"{where}: the index was built with other settings: {', '.join(differ)}")


def check_format(version: object, where: str) -> None:
    """Refuse an index of a format this dedup does not know (a newer one, or none at all)."""
    if not isinstance(version, int) or version < 1:
        raise IndexFault(f"{where}: not a dedup index (no format version)")
    if version > FORMAT_VERSION:
        raise IndexFault(f"{where}: the index has format {version}, newer than this dedup reads ({FORMAT_VERSION}); "
                         "upgrade dedup")
