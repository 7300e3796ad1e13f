"""Input and output records of the matcher (attrs, frozen).

Scores are floats on RapidFuzz's 0–100 scale everywhere.
"""

from __future__ import annotations

from typing import Literal

import attrs

__all__ = ["Product", "Item", "Candidate", "MatchResult", "Decision"]

Decision = Literal["auto", "review", "new"]


@attrs.frozen
class Product:
    """A master-catalog product: ``id`` (any string), ``name``; ``sku``, ``brand``, ``category`` optional."""

    id: str
    name: str
    sku: str | None = None
    brand: str | None = None
    category: str | None = None


@attrs.frozen
class Item(Product):
    """A supplier item to link: the shape of :class:`Product` (``sku`` is the supplier's article/code)."""


@attrs.frozen
class Candidate:
    """One possible product for an item: ``product_id`` and ``score`` (0–100)."""

    product_id: str
    score: float


@attrs.frozen
class MatchResult:
    """The matcher's decision for one item.

    ``decision``: ``"auto"`` (link to ``product_id``), ``"review"`` (a manager picks among
    ``candidates``; ``product_id`` is the best one) or ``"new"`` (no candidate reached the
    potential threshold; ``product_id`` is None).  ``score`` is the best candidate's score
    (0–100, 0.0 when there is none); with ``new`` it is the best among the candidates scored
    in full — the matcher skips those that provably score below its cutoff (by default the
    candidate floor, 50), so a lower one may read 0.0.  ``candidates`` are sorted by score,
    best first, at most ``max_candidates`` long.
    """

    item_id: str
    decision: Decision
    product_id: str | None
    score: float
    candidates: list[Candidate] = attrs.field(factory=list)
