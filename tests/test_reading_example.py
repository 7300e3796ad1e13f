"""The committed example price list (examples/make_sample.py) is read as intended."""

from __future__ import annotations

import importlib.util
from collections import Counter
from pathlib import Path

from reading_fixtures import read_all

ROOT = Path(__file__).resolve().parents[1]


def test_example_price_list(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("make_sample", ROOT / "examples" / "make_sample.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    good = mod.build(tmp_path / "price_list.xlsx")
    items, problems = read_all(tmp_path / "price_list.xlsx")
    assert len(items) == good == 60
    kinds = Counter((p.type, p.level) for p in problems)
    assert kinds == {("missing_name", "error"): 1, ("bad_price", "error"): 2, ("price_on_request", "warning"): 1}
    assert all(i.currency == "RUB" for i in items if i.price is not None)
    assert all(i.category_path for i in items)
    assert {i.category_path[0] for i in items} >= {"Кабель и провод", "Монтажные материалы"}
    assert sum(1 for i in items if set(i.prices) == {"wholesale", "retail"}) == 59
