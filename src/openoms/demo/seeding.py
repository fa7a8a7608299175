"""Named random streams derived from the demo seed.

Each part of the demo draws from its own stream so that changing one part (more SKUs, another
store count) leaves the others as they were. A string seed is hashed with SHA-512 by `random`,
so a stream is the same on every run and machine, whatever PYTHONHASHSEED says.
"""

from __future__ import annotations

import random


def stream(seed: int, name: str) -> random.Random:
    # Demo data, not secrets: a reproducible generator is the point.
    return random.Random(f"{seed}:{name}")  # noqa: S311
