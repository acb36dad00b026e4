"""How much starting data the sandbox peers seed: ``SANDBOX_SEED_SCALE`` (default 1).

A smaller landscape (``SANDBOX_SEED_SCALE=0.1``) starts faster and its first flow runs take
seconds instead of minutes: the headless demo and quick checks use it. Every peer of a
landscape must see the same scale (the landscape passes its environment to each), because the
peers' seeds refer to each other (the CRM's contacts are the shop's registered customers).
"""

from __future__ import annotations

import os


def scaled(count: int) -> int:
    """``count`` times the scale, at least 1."""
    text = os.environ.get("SANDBOX_SEED_SCALE", "1")
    try:
        scale = float(text)
    except ValueError:
        raise ValueError(f"SANDBOX_SEED_SCALE must be a number, not {text!r}") from None
    if not 0 < scale <= 1:
        raise ValueError(f"SANDBOX_SEED_SCALE must be in (0, 1], not {scale}")
    return max(1, round(count * scale))
