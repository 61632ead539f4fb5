"""Splitting items among assignees by load (percentages), exactly and deterministically.

Loads are percentages that sum to 100. Each assignee first gets the whole part of its share
of `count`; the items left over go one each to the largest fractional remainders, ties going
to the assignee listed first (largest remainder method). So shares always add up to `count`,
and no share is more than one item away from its exact value.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from annotator.core.errors import BadRequest

LOAD_TOLERANCE = 0.01


def check_loads(loads: Sequence[float]) -> None:
    if not loads:
        raise BadRequest("A distribution needs at least one assignee.", details={"field": "workload"})
    if any(isinstance(load, bool) or not isinstance(load, int | float) or not math.isfinite(load) for load in loads):
        raise BadRequest("Each load is a number (percent).", details={"field": "workload"})
    if any(load < 0 for load in loads):
        raise BadRequest("Loads cannot be negative.", details={"field": "workload"})
    if abs(sum(loads) - 100) > LOAD_TOLERANCE:
        raise BadRequest(f"Loads must sum to 100, not {sum(loads):g}.", details={"field": "workload"})


def split_by_loads(count: int, loads: Sequence[float]) -> list[int]:
    """How many of `count` items each assignee gets; sums to `count`."""
    check_loads(loads)
    exact = [count * load / 100 for load in loads]
    shares = [math.floor(value) for value in exact]
    left = count - sum(shares)
    by_remainder = sorted(range(len(loads)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in by_remainder[:left]:
        shares[i] += 1
    return shares
