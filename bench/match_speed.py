"""Matcher speed on a synthetic catalog, next to a plain RapidFuzz baseline in the same process.

Usage: ``python bench/match_speed.py [--products 50000] [--items 2000] [--baseline-items 50] [--seed 1]``

Builds a catalog of generated product names (brand, product type, model number
with a family prefix, units, colour, free words; some Cyrillic) and a set of items
that are re-worded variants of catalog products (shuffled words, dashes dropped,
units re-spelt, Cyrillic look-alikes in codes, colour suffixes) plus items with
no product.  Reports build time, items/second for :class:`Matcher`, and
items/second for ``process.extract(name, all_names, scorer=WRatio, limit=5)`` on
``--baseline-items`` items, and the ratio of the two.  Ratios, not absolute
numbers, are what carry over between machines.
"""

from __future__ import annotations

import argparse
import random
import time

from rapidfuzz import fuzz, process, utils

from ingestion.matching import Catalog, Item, Matcher, Product

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
UNIT_VALUES = {
    "V": [12, 18, 220], "Ah": [2, 4, 5], "GB": [16, 32, 64, 128, 256], "TB": [1, 2], "l": [1.5, 1.7, 2],
    "W": [60, 700, 1200, 2000], "A": [6, 10, 16, 25, 32], "K": [3000, 4000, 6500], "mAh": [5000, 10000, 20000],
    '"': [24, 27, 32], "Hz": [60, 144], "m": [1, 2, 5, 10], "mm": [1.5, 2.5, 3.5], "А": [16, 25],
    "л": [1.5, 1.7], "Вт": [7, 10, 2200], "м": [5, 10], "мм": [1.5, 2.5],
}
LOOKALIKE = str.maketrans({"A": "А", "B": "В", "C": "С", "E": "Е", "H": "Н", "K": "К", "M": "М", "P": "Р", "T": "Т"})


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


def main() -> None:
    """Run the benchmark and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--products", type=int, default=50_000)
    ap.add_argument("--items", type=int, default=2_000)
    ap.add_argument("--baseline-items", type=int, default=50)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    products = make_products(a.products, rng)
    items, truth = make_items(products, a.items, rng)

    t0 = time.perf_counter()
    catalog = Catalog(products)
    build = time.perf_counter() - t0
    matcher = Matcher(catalog)
    t0 = time.perf_counter()
    results = matcher.match(items)
    match_s = time.perf_counter() - t0
    ours = len(items) / match_s

    names = [utils.default_process(p.name) for p in products]
    sub = items[: a.baseline_items]
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


if __name__ == "__main__":
    main()
