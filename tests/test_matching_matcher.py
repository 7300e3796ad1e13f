"""Matcher decisions on small hand-made catalogs."""

from __future__ import annotations

import pytest

from ingestion.matching import Catalog, Item, Matcher, Product

PRODUCTS = [
    Product("p1", "Sony PS-LX350H belt-drive turntable"),
    Product("p2", "Sony PS-LX300H USB turntable"),
    Product("p3", "Panasonic KX-TG6700B cordless telephone"),
    Product("p4", "Bosch GSR 120-LI cordless drill driver 12V", sku="06019G8000"),
    Product("p5", "Автоматический выключатель IEK ВА47-29 1P 16А"),
    Product("p6", "Автоматический выключатель IEK ВА47-29 1P 25А"),
    Product("p7", "Samsung Galaxy A54 smartphone 128 GB black"),
    Product("p8", "Samsung Galaxy A54 smartphone 256 GB black"),
    Product("p9", "Kingston DataTraveler USB flash drive 16 GB"),
    Product("p10", "Kingston DataTraveler USB flash drive 32 GB"),
]


@pytest.fixture()
def matcher() -> Matcher:
    return Matcher(Catalog(PRODUCTS))


def test_exact_model_number_links_automatically(matcher: Matcher) -> None:
    r = matcher.match_one(Item("i1", "sony turntable pslx350h"))
    assert r.decision == "auto"
    assert r.product_id == "p1"
    assert 95 <= r.score <= 100


def test_exact_sku_links_automatically(matcher: Matcher) -> None:
    r = matcher.match_one(Item("i2", "Дрель-шуруповерт аккумуляторная", sku="06019G8000"))
    assert r.decision == "auto" and r.product_id == "p4"


def test_cyrillic_code_matches_latin_spelling(matcher: Matcher) -> None:
    r = matcher.match_one(Item("i3", "Выключатель автоматический BA47-29 1P 16A IEK"))
    assert r.product_id == "p5"
    assert r.decision in ("auto", "review")


def test_conflicting_model_number_is_not_auto() -> None:
    m = Matcher(Catalog([PRODUCTS[1], PRODUCTS[2]]))  # only the PS-LX300H turntable in the catalog
    r = m.match_one(Item("i4", "sony turntable pslx350h"))
    assert r.decision != "auto"
    assert all(c.product_id != "p2" or c.score < 70 for c in r.candidates)


def test_conflicting_unit_is_not_auto(matcher: Matcher) -> None:
    r = matcher.match_one(Item("i5", "Kingston DataTraveler flash drive 64GB"))
    assert r.decision != "auto"


def test_nothing_similar_is_new(matcher: Matcher) -> None:
    r = matcher.match_one(Item("i6", "Garden hose reel with 30 m hose"))
    assert r.decision == "new"
    assert r.product_id is None and r.candidates == []


def test_review_candidates_bounded_and_sorted() -> None:
    m = Matcher(Catalog(PRODUCTS), max_candidates=2)
    r = m.match_one(Item("i7", "Samsung Galaxy smartphone black"))
    assert r.decision == "review"
    assert 1 <= len(r.candidates) <= 2
    scores = [c.score for c in r.candidates]
    assert scores == sorted(scores, reverse=True)
    assert all(0 <= s <= 100 for s in scores)
    assert r.product_id == r.candidates[0].product_id and r.score == scores[0]


def test_incremental_add_is_matched_later() -> None:
    catalog = Catalog(PRODUCTS)
    m = Matcher(catalog)
    item = Item("i8", "Makita DF333DWYE cordless drill")
    assert m.match_one(item).decision == "new"
    catalog.add(Product("p99", "Makita DF333DWYE cordless drill 12V"))
    r = m.match_one(item)
    assert r.decision == "auto" and r.product_id == "p99"


def test_batch_keeps_order(matcher: Matcher) -> None:
    items = [Item("a", "sony turntable pslx350h"), Item("b", "nothing alike here"), Item("c", "KX-TG6700B")]
    assert [r.item_id for r in matcher.match(items)] == ["a", "b", "c"]


def test_thresholds_validated() -> None:
    with pytest.raises(ValueError):
        Matcher(Catalog(), auto_threshold=60, potential_threshold=70)
    with pytest.raises(ValueError):
        Matcher(Catalog(), max_candidates=0)


def test_colour_variant_prefers_named_colour() -> None:
    catalog = Catalog(
        [
            Product("s", "Sony Cyber-shot DSC-W150 digital camera silver"),
            Product("b", "Sony Cyber-shot DSC-W150/B digital camera black"),
        ]
    )
    r = Matcher(catalog).match_one(Item("i", "sony silver cybershot camera dscw150"))
    assert r.product_id == "s"
    assert [c.product_id for c in r.candidates][:2] == ["s", "b"]


def test_spec_code_alone_is_not_auto() -> None:
    catalog = Catalog(
        [
            Product("k", "Kenwood KDC-C669 car 6-disc CD changer"),
            Product("o", "Onkyo DX-C390 6-disc CD changer black"),
            Product("d", "Denon 5 disc CD changer"),
        ]
    )
    r = Matcher(catalog).match_one(Item("i", "onkyo 6-disc cd changer"))
    assert r.decision != "auto" or r.product_id == "o"
