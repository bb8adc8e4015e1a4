"""Blending two intent distributions (pure Python, used by ``nlu.components.blended_classifier``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def distribution(ranking: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    """A Rasa intent ranking as a name → probability map that sums to 1 (empty if it cannot)."""
    scores = {str(entry["name"]): float(entry["confidence"]) for entry in ranking}
    total = sum(scores.values())
    return {name: score / total for name, score in scores.items()} if total > 0 else {}


def blend(
    first: Mapping[str, float], second: Mapping[str, float], first_weight: float
) -> list[tuple[str, float]]:
    """Weighted mean of two intent distributions, best first (a missing intent counts as 0)."""
    names = first.keys() | second.keys()
    mixed = {
        name: first_weight * first.get(name, 0.0) + (1 - first_weight) * second.get(name, 0.0)
        for name in names
    }
    return sorted(mixed.items(), key=lambda item: (-item[1], item[0]))
