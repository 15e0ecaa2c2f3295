"""dedup: find and remove duplicate and boilerplate text in scraped corpora.

Example:
    >>> import dedup
    >>> dedup.scan("seeds", report=None).select("kind", "block").rows()
    [('repeat', 5)]
"""

from dedup.api import clean, scan
from dedup.config import Config, ConfigError
from dedup.io.sources import InputError

__all__ = ["Config", "ConfigError", "InputError", "clean", "scan"]
__version__ = "0.1.0"
