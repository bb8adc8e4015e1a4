"""A found piece of text and the value it normalises to."""

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Span(Generic[T]):
    """``text[start:end]`` of the searched string, with its normalised ``value``."""

    start: int
    end: int
    text: str
    value: T


def drop_overlaps(spans: list[Span[T]]) -> list[Span[T]]:
    """Keep the longest of overlapping spans (leftmost on ties), in text order."""
    ordered = sorted(spans, key=lambda s: (-(s.end - s.start), s.start))
    kept: list[Span[T]] = []
    for span in ordered:
        if all(span.end <= k.start or span.start >= k.end for k in kept):
            kept.append(span)
    return sorted(kept, key=lambda s: s.start)
