"""Product matching: link supplier items to master-catalog products (pure: no database, no broker).

Entry points: :class:`Catalog` (build once, ``add`` incrementally), :class:`Matcher`
(``match(items)`` → :class:`MatchResult` per item), :func:`normalize_name`, and the
CLI :func:`ingestion.matching.cli.main`.  Scores are 0–100.
"""

from ingestion.matching.index import Catalog
from ingestion.matching.matcher import Matcher
from ingestion.matching.normalize import NormalizedName, normalize_name
from ingestion.matching.records import Candidate, Item, MatchResult, Product

__all__ = ["Catalog", "Matcher", "Candidate", "Item", "MatchResult", "Product", "NormalizedName", "normalize_name"]
