"""Command line: match a CSV of supplier items against a CSV catalog, print decisions.

``python -m ingestion.matching.cli --catalog CATALOG.csv --items ITEMS.csv [--json]
[--auto-threshold N] [--potential-threshold N] [--max-candidates N]``

Both CSVs have a header with ``id,name`` and optional ``sku,brand,category,price``
(other columns are ignored).  With ``--json`` one JSON object per item per line:
``{"id", "decision": "auto"|"review"|"new", "product_id", "score", "candidates":
[{"product_id", "score"}, ...]}`` (scores 0–100); without it a tab-separated
summary.  Writes nothing.  Exit 0 on success, 2 on bad arguments or unreadable /
malformed input (message on stderr).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from typing import Iterator

from ingestion.matching.index import Catalog
from ingestion.matching.matcher import (
    DEFAULT_AUTO_THRESHOLD,
    DEFAULT_MAX_CANDIDATES,
    DEFAULT_POTENTIAL_THRESHOLD,
    Matcher,
)
from ingestion.matching.records import Item, MatchResult, Product

__all__ = ["main", "read_rows", "result_to_json"]


class InputError(Exception):
    """A CSV that lacks ``id``/``name`` columns or cannot be read."""


def read_rows(path: Path) -> Iterator[dict[str, str | None]]:
    """Rows of a CSV as dicts with keys id, name, sku, brand, category (empty → None).

    Raises :class:`InputError` when the file has no ``id`` or ``name`` column.
    """
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        fields = {h.strip().lower(): h for h in (reader.fieldnames or [])}
        if "id" not in fields or "name" not in fields:
            raise InputError(f"{path}: needs 'id' and 'name' columns, has {list(fields)}")
        for row in reader:
            out: dict[str, str | None] = {}
            for key in ("id", "name", "sku", "brand", "category"):
                value = row.get(fields[key]) if key in fields else None
                out[key] = value.strip() if value and value.strip() else None
            yield out


def result_to_json(result: MatchResult) -> dict[str, object]:
    """The CLI's JSON object for one result."""
    return {
        "id": result.item_id,
        "decision": result.decision,
        "product_id": result.product_id,
        "score": result.score,
        "candidates": [{"product_id": c.product_id, "score": c.score} for c in result.candidates],
    }


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="ingestion match", description="Match supplier items to catalog products.")
    ap.add_argument("--catalog", required=True, type=Path, help="catalog CSV: id,name[,sku,brand,category,price]")
    ap.add_argument("--items", required=True, type=Path, help="items CSV: id,name[,sku,brand,category,price]")
    ap.add_argument("--json", action="store_true", help="print one JSON object per item per line")
    ap.add_argument("--auto-threshold", type=float, default=DEFAULT_AUTO_THRESHOLD, help="score (0-100) to link automatically")
    ap.add_argument("--potential-threshold", type=float, default=DEFAULT_POTENTIAL_THRESHOLD, help="score (0-100) to ask for review")
    ap.add_argument("--max-candidates", type=int, default=DEFAULT_MAX_CANDIDATES, help="candidates kept for review")
    return ap


def main(argv: list[str] | None = None) -> int:
    """Run the matcher CLI; returns the exit status (0 ok, 2 bad input)."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        Matcher(
            Catalog(),
            auto_threshold=args.auto_threshold,
            potential_threshold=args.potential_threshold,
            max_candidates=args.max_candidates,
        )
    except ValueError as e:
        parser.error(str(e))
    try:
        catalog = Catalog(
            Product(str(r["id"]), r["name"] or "", r["sku"], r["brand"], r["category"])
            for r in read_rows(args.catalog)
        )
        matcher = Matcher(
            catalog,
            auto_threshold=args.auto_threshold,
            potential_threshold=args.potential_threshold,
            max_candidates=args.max_candidates,
        )
        items = [
            Item(str(r["id"]), r["name"] or "", r["sku"], r["brand"], r["category"]) for r in read_rows(args.items)
        ]
    except (OSError, UnicodeDecodeError, csv.Error, InputError) as e:
        print(f"ingestion match: {e}", file=sys.stderr)
        return 2
    out = sys.stdout
    for result in matcher.match(items):
        if args.json:
            out.write(json.dumps(result_to_json(result), ensure_ascii=False) + "\n")
        else:
            cands = ", ".join(f"{c.product_id}:{c.score:g}" for c in result.candidates)
            out.write(f"{result.item_id}\t{result.decision}\t{result.product_id or ''}\t{result.score:g}\t{cands}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
