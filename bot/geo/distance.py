"""Plane coordinates in metres for Korean (lat, lon) points, and distances between them.

The assignment needs millions of distances and a k-d tree, so points are projected once onto a
plane: the sinusoidal projection about 127.5°E (the middle of the peninsula). Between two homes
a few kilometres apart anywhere in South Korea it is within 2 % of the great-circle distance
(within 1 % in 수도권), far below the error of a 행정동 centre standing for an address.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

EARTH_RADIUS_M = 6_371_008.8
CENTRAL_MERIDIAN = 127.5


def to_plane(lat: float, lon: float) -> tuple[float, float]:
    """(x, y) in metres of one point."""
    phi = math.radians(lat)
    return (
        EARTH_RADIUS_M * math.cos(phi) * math.radians(lon - CENTRAL_MERIDIAN),
        EARTH_RADIUS_M * phi,
    )


def to_plane_array(
    points: Sequence[tuple[float, float]] | NDArray[np.float64],
) -> NDArray[np.float64]:
    """An (n, 2) array of plane (x, y) metres for (lat, lon) rows."""
    latlon = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    phi = np.radians(latlon[:, 0])
    xy = np.empty_like(latlon)
    xy[:, 0] = EARTH_RADIUS_M * np.cos(phi) * np.radians(latlon[:, 1] - CENTRAL_MERIDIAN)
    xy[:, 1] = EARTH_RADIUS_M * phi
    return xy


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Distance in metres between two (lat, lon) points, on the same plane the assignment uses."""
    ax, ay = to_plane(*a)
    bx, by = to_plane(*b)
    return math.hypot(ax - bx, ay - by)


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """``distance_m`` in kilometres."""
    return distance_m(a, b) / 1000.0
