"""Deciding: policies that turn matched blocks and documents into findings.
"""

from __future__ import annotations



