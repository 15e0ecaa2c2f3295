"""dedup: find and remove duplicate and boilerplate text in scraped corpora.

``scan`` and ``clean`` (:mod:`dedup.api`) take every option of the commands as keywords and return a
:class:`dedup.api.Result`. They are imported on first use, so that ``dedup --help`` starts at once.

Example:
    >>> import dedup
    >>> dedup.scan("seeds").findings.select("kind", "block").rows()
    [('repeat', 5)]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dedup.config import Config, ConfigError

if TYPE_CHECKING:
    from dedup.api import Result, clean, review, scan
    from dedup.io.sources import InputError

__all__ = ["Config", "ConfigError", "InputError", "Result", "clean", "review", "scan"]
__version__ = "0.1.0"

_LAZY = {"scan": "dedup.api", "clean": "dedup.api", "review": "dedup.api", "Result": "dedup.api", "InputError": "dedup.io.sources"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'dedup' has no attribute {name!r}")
