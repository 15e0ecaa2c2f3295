"""Pass 1: blocks cut from documents, normalised, and fingerprinted (exact hashes, MinHash signatures).
"""

from __future__ import annotations



