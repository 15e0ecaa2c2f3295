"""What a run keeps on disk or in memory between stages: token streams, band keys, block texts.
"""

from __future__ import annotations



