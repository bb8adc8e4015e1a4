"""Synthetic homes clustered like 수도권: around the real 행정동 centres of 서울, 인천 and 경기.

Each 행정동 gets a population weight (log-normal: a few crowded 아파트 단지, many quiet 동) and
homes spread around its centre (σ ≈ 400 m); employees and policyholders are drawn from the same
map, as they are in life. Coordinates are plane metres (``bot.geo.distance``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from bot.geo.distance import to_plane_array
from bot.geo.geocode import gazetteer

CAPITAL_AREA = ("서울", "인천", "경기")
SPREAD_M = 400.0


def dong_centres() -> NDArray[np.float64]:
    """Plane (x, y) of every distinct 행정동 centre in 수도권."""
    points = gazetteer().dong_centres(CAPITAL_AREA)
    return to_plane_array(sorted(set(points)))


class CapitalArea:
    """Draws homes; one instance per benchmark so people and employees share the weights."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.centres = dong_centres()
        weights = self.rng.lognormal(0.0, 1.0, len(self.centres))
        self.weights = weights / weights.sum()

    def homes(self, count: int) -> NDArray[np.float64]:
        pick = self.rng.choice(len(self.centres), size=count, p=self.weights)
        return self.centres[pick] + self.rng.normal(0.0, SPREAD_M, (count, 2))
