"""The matcher's shortcuts change nothing a caller sees: pruning, caches, incremental catalogs."""

from __future__ import annotations

import random
from unittest.mock import patch

import pytest

from ingestion.matching import Catalog, Item, Matcher, MatchResult, Product
from ingestion.matching import normalize as norm_module
from ingestion.matching.index import as_product, prepare
from ingestion.matching.normalize import normalize_name
from ingestion.matching.scoring import ItemContext, code_relation, pair_score, score_row

BRANDS = ["Sony", "Bosch", "IEK", "Makita", "Gauss", "Philips"]
KINDS = ["drill driver", "flash drive", "автомат", "лампа светодиодная", "kettle", "turntable"]
UNITS = ["16 GB", "32 GB", "1,5 л", "220В", "10 W", "25А"]
COLOURS = ["black", "white", "серый", ""]


def _name(rng: random.Random, family: str) -> str:
    code = f"{family}-{rng.randint(10, 999)}{rng.choice(['', 'BK', 'H'])}"
    parts = [rng.choice(BRANDS), rng.choice(KINDS), code, rng.choice(UNITS), rng.choice(COLOURS)]
    rng.shuffle(parts)
    return " ".join(p for p in parts if p)


def _world(seed: int, products: int, items: int) -> tuple[list[Product], list[Item]]:
    rng = random.Random(seed)
    families = ["PS", "KX", "GSR", "ВА", "DF", "HD"]
    catalog = [Product(f"p{i}", _name(rng, rng.choice(families)), category=rng.choice(["a", "b", None]))
               for i in range(products)]
    out: list[Item] = []
    for i in range(items):
        if rng.random() < 0.5:
            source = rng.choice(catalog).name.split()
            rng.shuffle(source)
            name = " ".join(source[: max(2, len(source) - rng.randint(0, 2))])
        else:
            name = _name(rng, rng.choice(families))
        out.append(Item(f"i{i}", name, category=rng.choice(["a", "b", None])))
    return catalog, out


def _comparable(r: MatchResult) -> tuple[object, ...]:
    return (r.item_id, r.decision, r.product_id, [(c.product_id, c.score) for c in r.candidates],
            r.score if r.decision != "new" else None)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_pruning_keeps_decisions_candidates_and_scores(seed: int) -> None:
    products, items = _world(seed, 400, 150)
    catalog = Catalog(products)
    pruned = Matcher(catalog).match(items)
    full = Matcher(catalog, prune=False).match(items)
    assert [_comparable(r) for r in pruned] == [_comparable(r) for r in full]
    assert {r.decision for r in full} == {"auto", "review", "new"}  # the world exercises every branch
    # a "new" result reports the best score scored in full: never above the unpruned one
    assert all(p.score <= f.score for p, f in zip(pruned, full) if p.decision == "new")


def test_pruning_respects_a_high_candidate_floor() -> None:
    products, items = _world(4, 300, 80)
    catalog = Catalog(products)
    options = {"auto_threshold": 96, "potential_threshold": 90, "candidate_floor": 85.0, "auto_margin": 8.0}
    pruned = Matcher(catalog, **options).match(items)  # type: ignore[arg-type]
    full = Matcher(catalog, prune=False, **options).match(items)  # type: ignore[arg-type]
    assert [_comparable(r) for r in pruned] == [_comparable(r) for r in full]


def test_score_row_with_a_floor_returns_none_only_below_it() -> None:
    products, items = _world(5, 200, 60)
    catalog = Catalog(products)
    for item in items:
        ctx = ItemContext(catalog, prepare(item))
        for row in range(len(catalog)):
            exact = score_row(ctx, row)
            assert exact is not None
            bounded = score_row(ctx, row, None, 50.0)
            assert bounded == exact or (bounded is None and exact < 50.0)


def test_a_growing_catalog_matches_like_one_built_at_once() -> None:
    """Cached per-row code facts follow the catalog as it grows (a code gets common, a glued word
    becomes a word of its own): scores equal those of a catalog built in one go."""
    products, items = _world(6, 300, 60)
    products += [Product("zeta", "Zeta gadget PS-5101 grey"), Product("chg", "Zyxel switch 24port managed")]
    extra = [Product(f"x{i}", f"Generic gadget PS-5101 part {i}") for i in range(8)]
    extra.append(Product("w", "port replicator"))  # "port" becomes a word: "24port" stops identifying
    probe = items + [Item("q1", "PS-5101 gadget grey"), Item("q2", "24port switch zyxel")]
    grown = Catalog(products)
    matcher = Matcher(grown, prune=False)
    before = matcher.match(probe)  # fills the per-row caches at the small size
    assert before[-2].decision == "auto" and before[-2].product_id == "zeta"
    for p in extra:
        grown.add(p)
    grown.refresh_norms()  # product norms follow growth in 10 % steps; compare at equal norms
    at_once = Catalog(products + extra)
    after = [_comparable(r) for r in matcher.match(probe)]
    assert after == [_comparable(r) for r in Matcher(at_once, prune=False).match(probe)]
    assert after[-2][1] != "auto"  # "ps5101" is held by 9 products now: no longer evidence


def test_code_becomes_too_common_to_identify() -> None:
    catalog = Catalog([Product("a", "Makita DF333 drill")])
    item = prepare(Item("i", "DF333 cordless"))
    assert code_relation(catalog, item, catalog.entries[0]) == "exact"
    Matcher(catalog).match_one(Item("i", "DF333 cordless"))  # caches the row's specific codes
    for n in range(6):
        catalog.add(Product(f"b{n}", f"Bit set for DF333 no {n}"))
    ctx = ItemContext(catalog, item)
    assert "df333" not in catalog.row_specific_codes(0, ctx.limit)
    # its core is as common: a series shared by many products is no evidence either
    assert code_relation(catalog, item, catalog.entries[0]) == "none"


def test_of_entries_and_as_product_equal_a_normal_build() -> None:
    products, items = _world(7, 150, 40)
    entries = [prepare(p) for p in products]
    a, b = Catalog(products), Catalog.of_entries(entries)
    assert a.entries == b.entries
    assert [a.norm(r) for r in range(len(a))] == [b.norm(r) for r in range(len(b))]
    assert [_comparable(r) for r in Matcher(a).match(items)] == [_comparable(r) for r in Matcher(b).match(items)]
    for sku in (None, "SN-0042-77", "pslx350h"):
        entry = prepare(Item("item-1", "Sony PS-LX350H turntable", sku=sku, brand="Sony", category="audio"))
        made = as_product(entry, "p-9")
        expected = prepare(Product("p-9", "Sony PS-LX350H turntable", brand="Sony", category="audio"))
        assert made == expected
        assert (made.code_candidates, made.code_tokens, made.long_tokens) == (
            expected.code_candidates, expected.code_tokens, expected.long_tokens)


def test_pair_score_matches_score_row() -> None:
    products, items = _world(8, 120, 20)
    catalog = Catalog(products)
    for item in items:
        entry = prepare(item)
        ctx = ItemContext(catalog, entry)
        for row in range(0, len(catalog), 7):
            assert pair_score(catalog, entry, catalog.entry_weight(entry), row, 55.0) == score_row(ctx, row, 55.0)


def test_name_cache_returns_the_same_reading() -> None:
    names = ["Автомат IEK ВА47-29 1P 16А", 'Монитор 27" 144 Hz', "Sony PS-LX350H", "  --  ", "1,5 л кабель 3х2,5"]
    first = [normalize_name(n) for n in names]
    norm_module._name_cache.clear()
    norm_module._raw_pieces.clear()
    norm_module._piece_kinds.clear()
    again = [normalize_name(n) for n in names]
    assert first == again
    assert normalize_name(names[0]) is again[0]  # served from the cache


def test_caches_are_bounded() -> None:
    with patch.object(norm_module, "NAME_CACHE_SIZE", 10), patch.object(norm_module, "PIECE_CACHE_SIZE", 10):
        readings = {f"Widget WX-{n} {n} pcs": normalize_name(f"Widget WX-{n} {n} pcs") for n in range(50)}
        assert len(norm_module._name_cache) <= 10 and len(norm_module._piece_kinds) <= 10
        assert "wx7" in readings["Widget WX-7 7 pcs"].codes
        assert normalize_name("Widget WX-7 7 pcs") == readings["Widget WX-7 7 pcs"]


# --- the speed paths of the pipeline's matching give what the plain code gives --------------------


def _norms_in_python(catalog: Catalog) -> list[float]:
    """Every product's norm summed token by token in Python (what refresh_norms must equal, bit for bit)."""
    import math

    from ingestion.matching.index import CODE_WEIGHT

    n1 = len(catalog) + 1
    weights = {t: math.log(1.0 + n1 / (len(rows) + 1)) for t, rows in catalog.postings.items()}
    out = []
    for e in catalog.entries:
        total = 0.0
        for t in e.norm.tokens:
            total += weights[t] * CODE_WEIGHT if t in e.norm.codes else weights[t]
        out.append(total)
    return out


def test_refreshed_norms_equal_a_python_sum_bit_for_bit() -> None:
    rng = random.Random(11)
    products, _ = _world(11, 300, 0)
    # names longer than the vector table's width take the Python path
    products += [Product(f"long{i}", " ".join(f"w{rng.randint(0, 50)}" for _ in range(25)) + f" KX-{i}0")
                 for i in range(5)]
    catalog = Catalog(products)
    assert catalog._norms == _norms_in_python(catalog)
    for i in range(40):
        catalog.add(Product(f"x{i}", _name(rng, "PS")))
    catalog.refresh_norms()
    assert catalog._norms == _norms_in_python(catalog)


def test_adding_many_entries_at_once_equals_adding_them_one_by_one() -> None:
    products, _ = _world(5, 700, 0)
    entries = [prepare(p) for p in products]
    one_by_one, at_once = Catalog(), Catalog()
    for entry in entries:
        one_by_one.add_entry(entry)
    rng, start = random.Random(5), 0
    while start < len(entries):
        step = rng.choice([1, 3, 40, 250])
        rows = at_once.add_entries(entries[start : start + step])
        assert rows == list(range(start, min(start + step, len(entries))))
        start += step
    assert at_once._norms == one_by_one._norms and at_once._norms_at == one_by_one._norms_at
    assert at_once.postings == one_by_one.postings and at_once._specific == one_by_one._specific


def test_top_rows_equals_nlargest_with_ties() -> None:
    import heapq

    from ingestion.matching.matcher import _top_rows

    rng = random.Random(3)
    for _ in range(300):
        acc = {rng.randrange(10_000): float(rng.choice([1, 2, 2.5, 3, 7])) for _ in range(rng.randint(0, 120))}
        for n in (0, 1, 10, 40):
            assert _top_rows(acc, n) == heapq.nlargest(n, acc, key=acc.__getitem__)


def test_sku_key_shortcut_equals_normalising_the_sku() -> None:
    from ingestion.matching.index import _sku_key
    from ingestion.matching.normalize import normalize_uncached

    rng = random.Random(9)
    alphabet = "abcdeiknptxABCDEIKNPTX0123456789---"
    skus = ["AB-000-000123", "IP44", "AB-16GB", "AB-10PC", "D-LINK-12", "iek-16a", "K-2700K", "a-007-x", "ab-",
            "S201-C16", "ВА47-29", "x3x5", "A-10-IN", "hp-2nd"]
    skus += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12))) for _ in range(3000)]
    for sku in skus:
        assert _sku_key(sku) == ("".join(normalize_uncached(sku).tokens) or None), sku


def test_sorted_text_ratio_equals_token_sort_ratio() -> None:
    from rapidfuzz import fuzz

    from ingestion.matching.index import sorted_text

    products, items = _world(4, 200, 200)
    texts = [normalize_name(p.name).text for p in products + items] + ["", "b a", "a"]
    rng = random.Random(4)
    for _ in range(2000):
        a, b = rng.choice(texts), rng.choice(texts)
        assert fuzz.ratio(sorted_text(a), sorted_text(b)) == fuzz.token_sort_ratio(a, b)
