"""Matcher speed: the pure matcher on two workloads, and the linking path on PostgreSQL.

Usage::

    python bench/match_speed.py [--products 50000] [--items 2000] [--baseline-items 50] [--seed 1]
    python bench/match_speed.py --workload e2e [--scale 0.05] [--items N]
    python bench/match_speed.py --workload e2e --db [--scale 0.05] [--admin-dsn DSN]

``--workload synthetic`` (the default) builds a catalog of generated product names
(brand, product type, model number with a family prefix, units, colour, free words;
some Cyrillic) and items that are re-worded variants of catalog products (shuffled
words, dashes dropped, units re-spelt, Cyrillic look-alikes in codes, colour suffixes)
plus items with no product.  Reports build time, items/second for :class:`Matcher`,
and items/second for ``process.extract(name, all_names, scorer=WRatio, limit=5)`` on
``--baseline-items`` items, and the ratio of the two.

``--workload e2e`` streams the item rows ``bench/e2e.py`` generates at ``--scale``
(the same 44 lists, one after another, names drawn from one shared universe) through
the matcher starting from an empty catalog; an item decided ``new`` becomes a catalog
product, as a draft does in the service.  This is the workload of the end-to-end
benchmark's match phase.  With ``--db`` the same lists are stored in a scratch
PostgreSQL database (made through ``--admin-dsn``, dropped at the end) and matched
with :func:`ingestion.linking.match_supplier_items`, supplier after supplier, in one
process: the match phase of ``e2e.py`` in isolation (batches, draft products, review
rows, aggregates), timed without the storing.

Ratios, not absolute numbers, are what carry over between machines.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Iterator

from rapidfuzz import fuzz, process, utils

from ingestion.matching import Catalog, Item, Matcher, MatchResult, Product

BRANDS = [
    "Sony", "Samsung", "LG", "Panasonic", "Bosch", "Makita", "Philips", "Xiaomi", "Canon", "Nikon",
    "IEK", "Schneider", "ABB", "Legrand", "Kingston", "Toshiba", "Braun", "Tefal", "Zanussi", "Gorenje",
    "Hyundai", "Dexp", "Polaris", "Redmond", "Vitek", "Scarlett", "Kitfort", "Hama", "Defender", "Sven",
]
TYPES = [
    ("drill driver", ["V", "Ah"]), ("flash drive", ["GB"]), ("SSD", ["GB", "TB"]), ("kettle", ["l", "W"]),
    ("vacuum cleaner", ["W"]), ("circuit breaker", ["A"]), ("LED lamp", ["W", "K"]), ("power bank", ["mAh"]),
    ("monitor", ['"', "Hz"]), ("blender", ["W", "l"]), ("cable", ["m", "mm"]), ("headphones", ["mm"]),
    ("автомат", ["А"]), ("чайник", ["л", "Вт"]), ("лампа светодиодная", ["Вт"]), ("кабель", ["м", "мм"]),
]
WORDS = [
    "pro", "plus", "compact", "wireless", "portable", "smart", "mini", "max", "home", "series", "kit",
    "professional", "digital", "ultra", "eco", "classic", "set", "new", "edition", "stainless",
]
COLOURS = ["black", "white", "silver", "red", "blue", "grey", "черный", "белый"]
UNIT_VALUES: dict[str, list[float]] = {
    "V": [12, 18, 220], "Ah": [2, 4, 5], "GB": [16, 32, 64, 128, 256], "TB": [1, 2], "l": [1.5, 1.7, 2],
    "W": [60, 700, 1200, 2000], "A": [6, 10, 16, 25, 32], "K": [3000, 4000, 6500], "mAh": [5000, 10000, 20000],
    '"': [24, 27, 32], "Hz": [60, 144], "m": [1, 2, 5, 10], "mm": [1.5, 2.5, 3.5], "А": [16, 25],
    "л": [1.5, 1.7], "Вт": [7, 10, 2200], "м": [5, 10], "мм": [1.5, 2.5],
}
LOOKALIKE = str.maketrans({"A": "А", "B": "В", "C": "С", "E": "Е", "H": "Н", "K": "К", "M": "М", "P": "Р", "T": "Т"})
OPTIONS = {"auto_threshold": 95.0, "potential_threshold": 70.0, "max_candidates": 5}


def _model(rng: random.Random) -> str:
    fam = "".join(rng.choice("ABCDEFGHKLMNPRSTVX") for _ in range(rng.randint(2, 4)))
    num = str(rng.randint(10, 9999))
    suffix = rng.choice(["", "", "H", "BK", "W", "S", "-01", "X"])
    return f"{fam}-{num}{suffix}" if rng.random() < 0.5 else f"{fam}{num}{suffix}"


def make_products(n: int, rng: random.Random) -> list[Product]:
    """``n`` products with unique model numbers."""
    seen: set[str] = set()
    out: list[Product] = []
    while len(out) < n:
        model = _model(rng)
        if model in seen:
            continue
        seen.add(model)
        typ, units = rng.choice(TYPES)
        unit = rng.choice(units)
        value = rng.choice(UNIT_VALUES[unit])
        parts = [rng.choice(BRANDS), typ, model, f"{value} {unit}", *rng.sample(WORDS, rng.randint(0, 3))]
        if rng.random() < 0.5:
            parts.append(rng.choice(COLOURS))
        out.append(Product(str(len(out)), " ".join(parts)))
    return out


def make_items(products: list[Product], n: int, rng: random.Random) -> tuple[list[Item], dict[str, str]]:
    """``n`` items: 85 % re-worded catalog products, 15 % names with no product; and item id → true product id."""
    items: list[Item] = []
    truth: dict[str, str] = {}
    for i in range(n):
        if rng.random() < 0.15:
            fake = make_products(1, random.Random(rng.random()))[0]
            items.append(Item(f"x{i}", fake.name))
            continue
        source = rng.choice(products)
        truth[f"i{i}"] = source.id
        words = source.name.split()
        words = [w.replace("-", "") if rng.random() < 0.5 else w for w in words]
        words = [w.translate(LOOKALIKE) if any(c.isdigit() for c in w) and rng.random() < 0.2 else w for w in words]
        rng.shuffle(words)
        if rng.random() < 0.3:
            words = words[:-1]
        items.append(Item(f"i{i}", " ".join(words).lower() if rng.random() < 0.5 else " ".join(words)))
    return items, truth


# --- the e2e workload ---------------------------------------------------------------------
def e2e_lists(scale: float) -> Iterator[list[tuple[str, str, str | None, int, int | None]]]:
    """The item rows of the lists ``bench/e2e.py`` generates at ``scale``, one list at a time:
    ``(sku, name, section or None, price in kopecks, stock or None)``."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import e2e  # the end-to-end bench: its lists, names and sections

    r = random.Random(2026)
    plan = e2e.LARGE + e2e.MEDIUM + [(r.randint(1_000, 6_000), "small") for _ in range(e2e.N_SMALL)]
    for index, (rows, _kind) in enumerate(plan):
        section: str | None = None
        out: list[tuple[str, str, str | None, int, int | None]] = []
        for kind, row in e2e.price_rows(max(50, int(rows * scale)), index, 4000):
            if kind == "section":
                section = row[0]
            elif kind == "item":
                out.append((row[0], row[1], section, row[3], row[4]))
        yield out


def run_e2e_pure(scale: float, limit: int | None) -> None:
    """Stream the e2e lists through the matcher; "new" items become catalog products."""
    items = [Item(sku, name, sku=sku, category=section) for rows in e2e_lists(scale)
             for sku, name, section, _price, _stock in rows]
    items = items[:limit] if limit else items
    catalog = Catalog()
    matcher = Matcher(catalog, **OPTIONS)  # type: ignore[arg-type]
    decisions = {"auto": 0, "review": 0, "new": 0}
    t0, c0 = time.perf_counter(), time.process_time()
    for it in items:
        result = matcher.match_one(it)
        decisions[result.decision] += 1
        if result.decision == "new":
            catalog.add(Product(f"draft-{it.id}", it.name, category=it.category))
    took, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"e2e workload (scale {scale}): {len(items)} items in {took:.2f} s = {len(items) / took:,.0f} items/s "
          f"({cpu:.2f} s of CPU = {len(items) / cpu:,.0f} items/CPU-s: the figure to compare on a busy machine); "
          f"decisions {decisions}; catalog grew to {len(catalog)} products")


def dump_links(suppliers: list[str], path: str) -> None:
    """Write every stored item's outcome to ``path`` (JSON, for comparing two versions of the matcher):
    ``[list index, sku, match status, product, score, candidate products]`` per item, products named so
    that two runs compare: a draft by the list index and SKU of the item it was made from (its only
    item linked without a score), any other product by its id."""
    import json

    from ingestion.models import Product as ProductRow
    from ingestion.models import SupplierItem

    index = {sid: i for i, sid in enumerate(suppliers)}
    rows = list(SupplierItem.select(SupplierItem.supplier, SupplierItem.supplier_sku, SupplierItem.match_status,
                                    SupplierItem.product, SupplierItem.match_score,
                                    SupplierItem.match_candidates).tuples())
    drafts = {str(pid) for (pid,) in ProductRow.select(ProductRow.id).where(ProductRow.status == "draft").tuples()}
    made_by = {str(pid): f"draft:{index[str(sid)]}:{sku}" for sid, sku, status, pid, score, _ in rows
               if pid is not None and str(pid) in drafts and score is None}

    def name(pid: object) -> str | None:
        return None if pid is None else made_by.get(str(pid), str(pid))

    out: list[object] = sorted(
        [index[str(sid)], sku, status, name(pid), score,
         [[name(c["product_id"]), c["score"]] for c in (cands or [])]]
        for sid, sku, status, pid, score, cands in rows
    )
    from ingestion.models import Category, MatchReviewQueue

    categories = {c: n for c, n in Category.select(Category.id, Category.name).tuples()}
    out.append(sorted(
        [name(pid), pname, brand, categories.get(cat), str(low) if low is not None else None, cur, avail, prices]
        for pid, pname, brand, cat, low, cur, avail, prices in ProductRow.select(
            ProductRow.id, ProductRow.name, ProductRow.brand, ProductRow.category, ProductRow.min_price,
            ProductRow.min_price_currency, ProductRow.availability, ProductRow.min_prices).tuples()
    ))
    skus = {str(i): (index[str(sid)], sku) for i, sid, sku in SupplierItem.select(
        SupplierItem.id, SupplierItem.supplier, SupplierItem.supplier_sku).tuples()}
    out.append(sorted(
        [skus[str(item)], [[name(c["product_id"]), c["score"]] for c in cands], status, best]
        for item, cands, status, best in MatchReviewQueue.select(
            MatchReviewQueue.supplier_item, MatchReviewQueue.candidate_products, MatchReviewQueue.status,
            MatchReviewQueue.best_score).tuples()
    ))
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f)
    print(f"dumped {len(out)} items to {path}")


def run_e2e_db(scale: float, admin_dsn: str, dump: str | None = None) -> None:
    """Store the e2e lists in a scratch PostgreSQL database and time ``match_supplier_items`` over them
    (with ``dump``, then write every item's outcome there: :func:`dump_links`)."""
    import psycopg2

    from ingestion.linking import match_supplier_items
    from ingestion.models import apply_migrations, database, open_database
    from ingestion.reading.model import Item as ReadItem
    from ingestion.store import ItemWriter, get_or_create_supplier, publish

    name = f"bench_match_{uuid.uuid4().hex[:8]}"

    def admin(sql: str) -> None:
        conn = psycopg2.connect(admin_dsn)
        conn.autocommit = True
        try:
            conn.cursor().execute(sql)
        finally:
            conn.close()

    host = dict(part.split("=", 1) for part in admin_dsn.split())
    url = f"postgresql://{host.get('user', 'postgres')}@{host.get('host', '127.0.0.1')}:{host.get('port', '5432')}/{name}"
    admin(f'CREATE DATABASE "{name}"')
    try:
        apply_migrations(url)
        open_database(url)
        suppliers: list[str] = []
        t0 = time.perf_counter()
        for index, rows in enumerate(e2e_lists(scale)):
            supplier, _ = get_or_create_supplier(f"bench supplier {index:02d}")
            writer = ItemWriter(supplier.id, f"bench-{index:02d}", None)
            for n, (sku, item_name, section, price, stock) in enumerate(rows, start=2):
                writer.add(ReadItem(row=n, sku=sku, name=item_name, price=Decimal(price) / 100, currency="RUB",
                                    stock=Decimal(stock) if stock is not None else None,
                                    category_path=(section,) if section else ()))
            publish(writer)
            suppliers.append(str(supplier.id))
        print(f"stored {len(suppliers)} lists in {time.perf_counter() - t0:.1f} s", flush=True)
        totals = {"processed": 0, "auto": 0, "review": 0, "new": 0}
        t0 = time.perf_counter()
        for sid in suppliers:
            stats = match_supplier_items(sid, OPTIONS)
            for key in totals:
                totals[key] += getattr(stats, key)
        took = time.perf_counter() - t0
        print(f"linking (match_supplier_items, scale {scale}): {totals['processed']} items in {took:.1f} s = "
              f"{totals['processed'] / took:,.0f} items/s; decisions auto {totals['auto']}, review {totals['review']}, "
              f"new {totals['new']}")
        if dump:
            dump_links(suppliers, dump)
    finally:
        if not database.is_closed():
            database.close()
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- the synthetic workload ---------------------------------------------------------------
def run_synthetic(products_n: int, items_n: int, baseline_items: int, seed: int) -> None:
    """Match re-worded items against a generated catalog, next to whole-catalog WRatio."""
    rng = random.Random(seed)
    products = make_products(products_n, rng)
    items, truth = make_items(products, items_n, rng)

    t0 = time.perf_counter()
    catalog = Catalog(products)
    build = time.perf_counter() - t0
    matcher = Matcher(catalog)
    t0 = time.perf_counter()
    results: list[MatchResult] = matcher.match(items)
    match_s = time.perf_counter() - t0
    ours = len(items) / match_s

    names = [utils.default_process(p.name) for p in products]
    sub = items[:baseline_items]
    t0 = time.perf_counter()
    for it in sub:
        process.extract(utils.default_process(it.name), names, scorer=fuzz.WRatio, limit=5, processor=None)
    base_s = time.perf_counter() - t0
    base = len(sub) / base_s

    decisions = {d: sum(r.decision == d for r in results) for d in ("auto", "review", "new")}
    autos = [r for r in results if r.decision == "auto"]
    right = sum(truth.get(r.item_id) == r.product_id for r in autos)
    print(f"catalog {len(products)} products built in {build:.2f} s ({len(products) / build:,.0f} products/s)")
    print(f"matcher: {len(items)} items in {match_s:.2f} s = {ours:,.0f} items/s; decisions {decisions}")
    print(f"  auto links right {right}/{len(autos)} (synthetic names; the model number may be dropped: no auto then)")
    print(f"baseline process.extract(WRatio) over the whole catalog: {len(sub)} items in {base_s:.2f} s = {base:,.1f} items/s")
    print(f"speed-up over baseline: {ours / base:,.0f}x")


def main() -> None:
    """Run the benchmark and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--workload", choices=["synthetic", "e2e"], default="synthetic")
    ap.add_argument("--products", type=int, default=50_000, help="synthetic: catalog size")
    ap.add_argument("--items", type=int, default=None, help="items to match (synthetic: 2000; e2e: all)")
    ap.add_argument("--baseline-items", type=int, default=50, help="synthetic: items for the WRatio baseline")
    ap.add_argument("--seed", type=int, default=1, help="synthetic: random seed")
    ap.add_argument("--scale", type=float, default=0.05, help="e2e: row-count factor of bench/e2e.py's lists")
    ap.add_argument("--db", action="store_true", help="e2e: match through ingestion.linking on a scratch PostgreSQL")
    ap.add_argument("--admin-dsn", default="host=127.0.0.1 port=5432 user=postgres dbname=test")
    ap.add_argument("--dump", default=None, help="e2e --db: write every item's outcome to this JSON file")
    a = ap.parse_args()
    if a.workload == "synthetic":
        run_synthetic(a.products, a.items or 2_000, a.baseline_items, a.seed)
    elif a.db:
        run_e2e_db(a.scale, a.admin_dsn, a.dump)
    else:
        run_e2e_pure(a.scale, a.items)


if __name__ == "__main__":
    main()
