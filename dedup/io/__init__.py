"""Reading corpora and writing cleaned copies: sources, the three formats, sites, safe publishing.
"""

from __future__ import annotations



