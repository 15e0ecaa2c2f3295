"""How stage functions run over batches: local threads today.
"""

from __future__ import annotations



