"""Session 11 hostile-trial defects: a brand field that contradicts the maker its own name names,
"hp" after a number (horsepower, not the maker), a glued model code followed by a spaced letter
suffix ("DF333 DWYE"), Russian colour words against their English equivalents, and "Pro" after a
model as a variant that must agree."""

from __future__ import annotations

import pytest

from ingestion.matching import Catalog, Item, Matcher, Product
from ingestion.matching.index import prepare
from ingestion.matching.normalize import normalize_name

FILLER = [
    Product("f1", "Sony PS-LX350H belt-drive turntable"),
    Product("f2", "Panasonic KX-TG6700B cordless telephone"),
    Product("f3", "Кабель медный гибкий"),
]


def _match(products: list[Product], item: Item) -> tuple[str, str | None, float]:
    result = Matcher(Catalog([*products, *FILLER])).match_one(item)
    return result.decision, result.product_id, result.score


# -- 1. a brand field that contradicts the maker the name names ------------------------------------


@pytest.mark.parametrize(
    "product",
    [
        Product("p", "Автомат IEK ВА47-29 C16 1P", brand="IEK"),
        Product("p", "Автомат IEK ВА47-29 C16 1P"),
        Product("p", "Автомат ВА47-29 C16 1P", brand="IEK"),
    ],
)
def test_a_brand_field_contradicting_the_name_never_links_on_the_field_alone(product: Product) -> None:
    item = Item("i", "Автомат Schneider Easy9 C16 1P", brand="IEK")
    decision, _, score = _match([product], item)
    assert decision != "auto" and score < 95, (product, decision, score)


def test_a_contradicting_product_side_is_a_conflict_too() -> None:
    product = Product("p", "Автомат Schneider Easy9 C16 1P", brand="IEK")
    decision, _, score = _match([product], Item("i", "Автомат IEK Easy9 C16 1P"))
    assert decision != "auto" and score < 95


@pytest.mark.parametrize(
    ("product", "item"),
    [
        # the field and the name agree (aliases and a longer company name included)
        (Product("p", "Автомат Schneider Easy9 C16 1P", brand="Schneider"),
         Item("i", "Автомат Schneider Easy9 C16 1P", brand="Schneider Electric")),
        (
            Product("p", "Автомат IEK ВА47-29 C16 1P", brand="IEK"),
            Item("i", "Автомат ИЭК ВА47-29 C16 1P", brand="IEK"),
        ),
        (Product("p", "Apple iPhone 15 128GB MTP03", brand="Apple"),
         Item("i", "Apple iPhone 15 128GB MTP03", brand="Apple Inc.")),
        # a brand field that names no maker the matcher knows is no contradiction
        (
            Product("p", "Samsung Galaxy S24 256GB SM-S921B"),
            Item("i", "Samsung Galaxy S24 256GB SM-S921B", brand="OEM"),
        ),
    ],
)
def test_agreeing_brand_fields_and_names_still_link(product: Product, item: Item) -> None:
    assert _match([product], item)[:2] == ("auto", "p")


@pytest.mark.parametrize(
    "product",
    [
        # the name brand agrees, the field does not: agreement on the name alone does not link either
        Product("p", "Автомат Schneider Easy9 C16 1P", brand="Schneider"),
        Product("p", "Автомат Schneider Easy9 C16 1P белый"),
        # not even when the names read the same
        Product("p", "Автомат Schneider Easy9 C16 1P"),
    ],
)
def test_a_contradicting_item_is_reviewed_against_either_maker(product: Product) -> None:
    decision, _, score = _match([product], Item("i", "Автомат Schneider Easy9 C16 1P", brand="IEK"))
    assert decision == "review" and score < 95, (product, decision, score)


def test_a_contradicting_item_links_where_brands_do_not_disagree() -> None:
    item = Item("i", "Автомат Schneider Easy9 C16 1P", brand="IEK")
    # a product whose brands meet both the item's field and its name
    product = Product("p", "Автомат Schneider Easy9 C16 1P (аналог IEK)", brand="Schneider")
    assert _match([product], item)[:2] == ("auto", "p")
    # a product naming no brand at all: no brand evidence either way, the model decides
    assert _match([Product("p", "Автомат Easy9 C16 1P")], item)[:2] == ("auto", "p")
    # the same contradiction on both sides
    same = Product("p", "Автомат Schneider Easy9 C16 1P", brand="IEK")
    assert _match([same], item)[:2] == ("auto", "p")


# -- 2. "hp" after a number is horsepower -----------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "unit"),
    [
        ("Насос 1.5 hp", "1.5hp"),
        ("мотор 2 HP", "2hp"),
        ("Насос 1,5hp", "1.5hp"),
        ("Компрессор 3 л.с.", "3hp"),
    ],
)
def test_hp_after_a_number_is_horsepower(raw: str, unit: str) -> None:
    norm = normalize_name(raw)
    assert unit in norm.units and "hp" not in norm.tokens, norm
    assert "hp" not in prepare(Item("i", raw)).brands


@pytest.mark.parametrize("raw", ["HP LaserJet 1020", "Ноутбук HP 15", "Картридж HP 85A"])
def test_hp_elsewhere_is_still_the_maker(raw: str) -> None:
    assert "hp" in prepare(Item("i", raw)).brands


def test_horsepower_must_agree_and_is_no_brand_conflict() -> None:
    pump = Product("p", "Насос поверхностный Grundfos JP-5 1.5 hp", brand="Grundfos")
    assert _match([pump], Item("i", "Насос поверхностный Grundfos JP-5 1,5 HP"))[:2] == ("auto", "p")
    decision, _, score = _match([pump], Item("i", "Насос поверхностный Grundfos JP-5 2 HP"))
    assert decision != "auto" and score < 95


# -- 3. a glued code followed by a spaced letter suffix ---------------------------------------------


@pytest.mark.parametrize(
    ("product", "item"),
    [
        ("Дрель-шуруповерт Makita DF333DWYE", "Дрель-шуруповерт Makita DF333 DWYE"),
        ("Дрель-шуруповерт Makita DF333 DWYE", "Дрель-шуруповерт Makita DF333DWYE"),
        ("Дрель-шуруповерт Makita DF 333 DWYE", "Дрель-шуруповерт Makita DF333 DWYE"),
    ],
)
def test_a_code_and_its_spaced_suffix_read_as_the_joined_code(product: str, item: str) -> None:
    assert _match([Product("p", product)], Item("i", item))[:2] == ("auto", "p")


def test_the_joined_suffix_key() -> None:
    assert "df333dwye" in normalize_name("Makita DF333 DWYE").codes
    # another suffix or another number is still another kit / model
    assert "df333dwye" not in normalize_name("Makita DF333 DWAE").codes


def test_suffix_joins_are_told_apart_from_spaced_codes() -> None:
    assert normalize_name("Makita DF333 DWYE").suffix_joins == {"df333dwye"}
    assert not normalize_name("Makita DF 333 DWYE").suffix_joins  # a spaced code: a code of its own
    assert not normalize_name("Makita DF333DWYE").suffix_joins


def test_a_word_after_a_shared_code_is_no_second_model() -> None:
    # public benchmark: "EP-320 LP" and "EP-320 Blue" joined to ep320lp / ep320blue, which clashed
    product = Product("p", "Weber Genesis EP-320 Blue LP Gas Grill")
    item = Item("i", "Weber 3758301 Blue Genesis EP-320 LP Gas Grill 3758301")
    assert _match([product], item)[:2] == ("auto", "p")


def test_another_spaced_suffix_is_not_linked_automatically() -> None:
    decision, _, score = _match(
        [Product("p", "Дрель-шуруповерт Makita DF330DWYE")], Item("i", "Дрель-шуруповерт Makita DF333 DWYE")
    )
    assert decision != "auto" and score < 95


# -- 4. Russian and English colour words ------------------------------------------------------------


@pytest.mark.parametrize(
    ("product", "item"),
    [
        ("Samsung Galaxy S24 256GB SM-S921B черный", "Samsung Galaxy S24 256GB SM-S921B Black"),
        ("Samsung Galaxy S24 256GB SM-S921B Black", "Samsung Galaxy S24 256GB SM-S921B чёрный"),
        ("Розетка Legrand Valena 774420 белая", "Розетка Legrand Valena 774420 white"),
        ("Apple iPhone 15 128GB MTP03 серый", "Apple iPhone 15 128GB MTP03 grey"),
        ("Apple iPhone 15 128GB MTP03 gray", "Apple iPhone 15 128GB MTP03 grey"),
        ("Чайник Bosch TWK3A011 красный", "Чайник Bosch TWK3A011 red"),
        ("Чайник Bosch TWK3A011 синий", "Чайник Bosch TWK3A011 blue"),
        ("Apple MacBook Air 13 MLY33 серебристый", "Apple MacBook Air 13 MLY33 silver"),
        ("Apple iPhone 15 128GB MTP03 золотой", "Apple iPhone 15 128GB MTP03 gold"),
    ],
)
def test_a_colour_in_russian_or_english_is_the_same_colour(product: str, item: str) -> None:
    assert _match([Product("p", product)], Item("i", item))[:2] == ("auto", "p")
    assert prepare(Item("p", product)).colours == prepare(Item("i", item)).colours


@pytest.mark.parametrize(
    ("product", "item"),
    [
        ("Samsung Galaxy S24 256GB SM-S921B черный", "Samsung Galaxy S24 256GB SM-S921B white"),
        ("Розетка Legrand Valena 774420 белая", "Розетка Legrand Valena 774420 черная"),
        ("Чайник Bosch TWK3A011 красный", "Чайник Bosch TWK3A011 blue"),
    ],
)
def test_another_colour_in_either_language_still_conflicts(product: str, item: str) -> None:
    decision, _, score = _match([Product("p", product)], Item("i", item))
    assert decision != "auto" and score < 95


# -- 5. "Pro" after a model is a variant -------------------------------------------------------------


@pytest.mark.parametrize(
    ("product", "item"),
    [
        ("Apple iPhone 15 128GB", "Apple iPhone 15 Pro 128GB"),
        ("Apple iPhone 15 Pro 128GB", "Apple iPhone 15 Pro Max 128GB"),
        ("Xiaomi Redmi Note 13 Pro", "Xiaomi Redmi Note 13"),
    ],
)
def test_pro_after_a_model_is_a_variant(product: str, item: str) -> None:
    decision, _, score = _match([Product("p", product)], Item("i", item))
    assert decision != "auto" and score < 95


@pytest.mark.parametrize(
    ("product", "item"),
    [
        ("Apple iPhone 15 Pro 128GB", "Apple iPhone 15 Pro 128 GB"),
        ("Xiaomi Redmi Note 13 Pro+ 8/256GB", "Xiaomi Redmi Note 13 Pro Plus 8/256GB"),
        ("Apple MacBook Pro 14 M3 MR7J3", "Apple MacBook Pro 14 M3 MR7J3 серебристый"),
        # after a full part number "Pro" is a line word, no variant (public benchmark)
        (
            "Belkin Pro Series VGA monitor extension cable F3H982-10",
            "Belkin F3H982-10 Pro Series VGA monitor extension cable",
        ),
    ],
)
def test_one_pro_model_written_two_ways_still_links(product: str, item: str) -> None:
    assert _match([Product("p", product)], Item("i", item))[:2] == ("auto", "p")


def test_variant_values_of_pro_models() -> None:
    def variant(name: str) -> frozenset[str]:
        return dict(prepare(Item("i", name)).attributes)["variant"]

    assert variant("Apple iPhone 15 Pro") == {"pro"}
    assert variant("Xiaomi Redmi Note 13 Pro Max") != variant("Xiaomi Redmi Note 13 Pro")
    assert variant("Xiaomi Redmi Note 13 Pro+") == variant("Xiaomi Redmi Note 13 Pro Plus")
    # "Pro" not after a model is an ordinary word
    assert "variant" not in dict(prepare(Item("i", "Кабель Pro USB")).attributes)


@pytest.mark.parametrize(
    "raw", ["", "   ", "hp", "1 hp hp", "DF333 ", "черный", "Pro", "15 Pro Pro Max+", "IEK", "+++ / --- ,,,"]
)
def test_odd_names_never_crash(raw: str) -> None:
    for brand in (None, "IEK", "", "  "):
        Matcher(Catalog([Product("p", "Автомат IEK ВА47-29 C16 1P", brand="IEK"), *FILLER])).match_one(
            Item("i", raw, brand=brand)
        )
