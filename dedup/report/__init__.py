"""Reports: the CSV (and per-document statistics), and the summary a person reads.
"""

from __future__ import annotations



