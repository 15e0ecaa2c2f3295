"""The one error an index raises: a clear sentence naming the index, shown without a traceback (exit 1).

Example:
    >>> str(IndexFault("idx: the index is being added to by another process"))
    'idx: the index is being added to by another process'
"""

from __future__ import annotations

from dedup.io.sources import InputError


class IndexFault(InputError):
    """An index that cannot be used as asked: other settings, a newer format, corruption, a busy lock."""
