"""Matching: exact groups, LSH candidates, verified pairs, honest clusters.
"""

from __future__ import annotations



