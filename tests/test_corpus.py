"""Opt-in: read the shared sample price lists and compare with their expected values.

Runs only with ``INGESTION_CORPUS=1`` (the files live outside the repository,
in ``../shared/samples``).
"""

from __future__ import annotations

import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ingestion.preview import build_preview

SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "samples"
pytestmark = pytest.mark.skipif(
    os.environ.get("INGESTION_CORPUS") != "1" or not SAMPLES.is_dir(), reason="set INGESTION_CORPUS=1 to run the corpus test"
)


def _cases() -> list[Path]:
    return sorted((SAMPLES / "expected").glob("*.json")) if SAMPLES.is_dir() else []


def _norm(s: Any) -> str:
    return " ".join(str(s or "").casefold().split())


@pytest.mark.parametrize("case", _cases(), ids=lambda p: p.stem)
def test_sample(case: Path) -> None:
    exp = json.loads(case.read_text(encoding="utf-8"))
    doc = build_preview(str(SAMPLES / exp["file"]))
    if exp.get("expect_error"):
        assert doc["status"] == "failed" and doc["error"]
        return
    assert doc["status"] == "ok", doc["error"]
    items = doc["items"]
    assert exp["items"]["min"] <= len(items) <= exp["items"]["max"]
    for row in exp["rows"]:
        if row.get("row") is not None:
            found = [
                i for i in items
                if i["row"] == row["row"] and (row.get("sheet") is None or _norm(i["sheet"]) == _norm(row["sheet"]))
            ]
        elif row.get("sku"):
            found = [i for i in items if _norm(i["sku"]).lstrip("#") == _norm(row["sku"])]
        else:
            found = [i for i in items if _norm(row["name"]) in _norm(i["name"])]
        assert found, f"row {row.get('row') or row.get('name')} not read"
        item = found[0]
        if row.get("sku"):
            assert _norm(item["sku"]).lstrip("#") == _norm(row["sku"])
        if "price" in row:
            if row["price"] is None:
                assert item["price"] is None
            else:
                got = {Decimal(v) for v in [item["price"], *item["prices"].values()] if v is not None}
                assert Decimal(row["price"]) in got
        if row.get("currency") and not row.get("currency_inferred"):
            assert item["currency"] == row["currency"]
