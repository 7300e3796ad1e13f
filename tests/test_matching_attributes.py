"""Attributes that must agree (ratings, units, sizes, IP class), attribute tokens as no code evidence,
and identical names across categories — the wrong decisions found by the matching trial."""

from __future__ import annotations

import pytest

from ingestion.matching import Catalog, Item, Matcher, Product
from ingestion.matching.index import prepare
from ingestion.matching.normalize import is_code, normalize_name

FILLER = [
    Product("f1", "Sony PS-LX350H belt-drive turntable"),
    Product("f2", "Panasonic KX-TG6700B cordless telephone"),
    Product("f3", "Кабель медный гибкий"),
]

#: (item name, a catalog product that differs from it in one attribute only)
CONFLICTS = [
    # breaker curve + rating (the trial's cases)
    ("Автомат ABB S201 C6", "Автомат ABB S201 C10"),
    ("Автомат ABB S201 C6", "Автомат ABB S201 C16"),
    ("Автомат ABB S201 C16", "Автомат ABB S201 B16"),
    ("Автомат ABB S201 C10", "Автомат ABB S202 C10"),
    ("Circuit breaker ABB S201 C6", "Circuit breaker ABB S201 D6"),
    ("Автоматический выключатель IEK ВА47-29 1P 16А", "Автоматический выключатель IEK ВА47-29 3P 16А"),
    # amps
    ("Автоматический выключатель IEK ВА47-29 1P 16А", "Автоматический выключатель IEK ВА47-29 1P 25А"),
    ("Circuit breaker IEK BA47-29 1P 16A", "Circuit breaker IEK BA47-29 1P 25A"),
    # watts
    ("Лампа светодиодная Gauss GL-102 10Вт E27", "Лампа светодиодная Gauss GL-102 12Вт E27"),
    ("LED lamp Gauss GL-102 10W E27", "LED lamp Gauss GL-102 12W E27"),
    # volts
    ("Дрель-шуруповерт Makita DF333 12В", "Дрель-шуруповерт Makita DF333 18В"),
    ("Drill driver Makita DF333 12V", "Drill driver Makita DF333 18V"),
    # cable sections
    ("Кабель ВВГнг-LS КС-100 3х2,5", "Кабель ВВГнг-LS КС-100 3х1,5"),
    ("Cable NYM KS-100 3x2.5 mm2", "Cable NYM KS-100 3x1.5 mm2"),
    ("Провод ПуГВ ПВ-300 1,5 кв.мм", "Провод ПуГВ ПВ-300 2,5 кв.мм"),
    # lengths
    ("Удлинитель Эра UX-3 5 м", "Удлинитель Эра UX-3 10 м"),
    ("Extension cord Era UX-3 5 m", "Extension cord Era UX-3 10 m"),
    # capacities
    ("Флешка Kingston DT-100 16 Гб", "Флешка Kingston DT-100 32 Гб"),
    ("Kingston DataTraveler DT-100 16GB", "Kingston DataTraveler DT-100 32GB"),
    # colour temperature
    ("Светильник Gauss ДПО-40 3000К", "Светильник Gauss ДПО-40 4000К"),
    ("LED panel Gauss LP-40 3000K", "LED panel Gauss LP-40 4000K"),
    # IP rating
    ("Светильник Gauss ДПО-40 IP44", "Светильник Gauss ДПО-40 IP65"),
    ("Floodlight Gauss FL-40 IP44", "Floodlight Gauss FL-40 IP65"),
    # volt-amperes
    ("Стабилизатор напряжения Ресанта АСН-1000 1000 ВА", "Стабилизатор напряжения Ресанта АСН-1000 1500 ВА"),
    # pipe diameter
    ("Труба гофрированная ПВХ ТГ-01 d20 мм", "Труба гофрированная ПВХ ТГ-01 d25 мм"),
]


@pytest.mark.parametrize(("item", "other"), CONFLICTS)
def test_an_attribute_conflict_is_never_linked_automatically(item: str, other: str) -> None:
    matcher = Matcher(Catalog([Product("other", other), *FILLER]))
    result = matcher.match_one(Item("i", item))
    assert result.decision != "auto", (item, other, result)
    assert all(c.score < 95 for c in result.candidates)


@pytest.mark.parametrize(("item", "other"), CONFLICTS)
def test_the_same_name_with_the_same_attributes_still_links(item: str, other: str) -> None:
    matcher = Matcher(Catalog([Product("other", other), Product("same", item), *FILLER]))
    result = matcher.match_one(Item("i", item))
    assert (result.decision, result.product_id) == ("auto", "same")
    assert [c.product_id for c in result.candidates][:2] == ["same", "other"]


def test_the_same_ratings_written_differently_still_link() -> None:
    catalog = Catalog([Product("p", "Автоматический выключатель IEK ВА47-29 1P 16А"), *FILLER])
    result = Matcher(catalog).match_one(Item("i", "Автоматический выключатель IEK BA47-29 1P 16A"))
    assert (result.decision, result.product_id) == ("auto", "p")


def test_a_conflict_close_otherwise_may_still_be_reviewed() -> None:
    catalog = Catalog([Product("p", "Автоматический выключатель IEK ВА47-29 1P 25А"), *FILLER])
    result = Matcher(catalog).match_one(Item("i", "Автоматический выключатель IEK ВА47-29 1P 16А"))
    assert result.decision == "review" and result.product_id == "p"
    assert result.score <= 80


@pytest.mark.parametrize(
    ("raw", "token", "group"),
    [
        ("Лампа 4000K", "4000k", "units"),
        ("Лампа 4000 К", "4000k", "units"),
        ("LED panel 3000 K", "3000k", "units"),
        ("Стабилизатор 1000 ВА", "1000va", "units"),
        ("UPS 1500VA", "1500va", "units"),
        ("Провод 1,5 кв.мм", "1.5sqmm", "units"),
        ("cable 2.5 mm2", "2.5sqmm", "units"),
        ("Светильник IP44", "ip44", "attributes"),
        ("Floodlight IPX4", "ipx4", "attributes"),
        ("Кабель 3х2,5", "3x2.5", "attributes"),
        ("Cable 3 x 1.5", "3x1.5", "attributes"),
        ("Труба d20 мм", "d20", "attributes"),
    ],
)
def test_attribute_tokens_are_no_codes(raw: str, token: str, group: str) -> None:
    n = normalize_name(raw)
    assert token in n.tokens
    assert token in getattr(n, group)
    assert token not in n.codes
    assert not n.codes


def test_kelvin_needs_four_digits_and_a_model_code_stays_a_code() -> None:
    assert "4k" in normalize_name("TV 4K").codes  # not a colour temperature
    assert not is_code("ip65") and is_code("d20") and is_code("s201")
    assert "d90" in normalize_name("Nikon D90 body").codes  # one letter and digits alone: a model


def test_attribute_groups_of_an_entry() -> None:
    entry = prepare(Item("i", "Автомат ABB S201 C16 1P 16А IP20 3х2,5"))
    groups = dict(entry.attributes)
    assert groups["c#"] == {"16"} and groups["curve#"] == {"c16"} and groups["s#"] == {"201"}
    assert groups["#p"] == {"1"} and groups["a"] == {"16"} and groups["ip"] == {"20"}
    assert groups["x"] == {"3x2.5"}


def test_shared_attribute_fragments_are_no_evidence() -> None:
    """Different products sharing only a colour temperature / IP class and common words go to new."""
    catalog = Catalog(
        [
            Product("a", "Светильник Navigator ДПО-12 4000K IP45 арт.9591-7"),
            Product("b", "Светильник Rexant ДПО-77 4000K IP45 арт.2438-4"),
            Product("c", "Лампа светодиодная IEK A60 12Вт E27 4000K арт.1234-5"),
        ]
        + FILLER
    )
    result = Matcher(catalog).match_one(Item("i", "Светильник Feron ДПО-115 4000K IP45 арт.7114-4"))
    assert result.decision == "new"


def test_identical_specific_names_link_across_categories() -> None:
    name = "Щит распределительный Эра ЩРН-85 IP41 арт.1736-2"
    catalog = Catalog([Product("p", name, category="Щитовое оборудование"), *FILLER])
    result = Matcher(catalog).match_one(Item("i", name, category="Монтажные изделия"))
    assert (result.decision, result.product_id, result.score) == ("auto", "p", 100.0)


def test_identical_short_names_in_other_categories_are_reviewed() -> None:
    catalog = Catalog([Product("p", "Кабель медный", category="Кабели"), *FILLER])
    result = Matcher(catalog).match_one(Item("i", "Кабель медный", category="Инструмент"))
    assert result.decision == "review" and result.score == 90.0


def test_same_name_lookup_finds_an_identical_name_made_of_common_words() -> None:
    common = [Product(f"c{n}", f"Розетка белая {'двойная' if n % 2 else 'одинарная'} номер") for n in range(300)]
    catalog = Catalog([*common, Product("p", "Розетка белая одинарная")])
    entry = prepare(Item("i", "розетка  белая одинарная"))
    assert [catalog.entries[r].id for r in catalog.same_name(entry)] == ["p"]
    matcher = Matcher(catalog)
    assert catalog.entries[catalog.same_name(entry)[0]].id == "p"
    assert len(catalog) - 1 in matcher.block(entry)


# -- breaker trip curves written apart from the rating, kA, cable sections (the hostile trial) --------

#: (catalog product, an item naming another trip curve or breaking capacity): never an automatic link
CURVE_CONFLICTS = [
    # the curve as a word of its own
    ("Автоматический выключатель IEK ВА47-29 1P 16А C", "Автоматический выключатель IEK ВА47-29 1P 16А B"),
    ("Автоматический выключатель IEK ВА47-29 1P 16А C", "Автоматический выключатель IEK ВА47-29 1P 16А D"),
    ("Circuit breaker IEK BA47-29 1P 16A C", "Circuit breaker IEK BA47-29 1P 16A B"),
    # in parentheses
    ("Автомат EKF ВА 47-63 1P 10А (C) 4,5кА", "Автомат EKF ВА 47-63 1P 10А (B) 4,5кА"),
    ("Автомат EKF ВА 47-63 1P 10А (C) 4,5кА", "Автомат EKF ВА 47-63 1P 10А (D) 4,5кА"),
    ("MCB EKF BA 47-63 1P 10A (C) 4.5kA", "MCB EKF BA 47-63 1P 10A (D) 4.5kA"),
    # after a word naming the curve
    ("Автомат IEK ВА47-29 3P 25А тип C", "Автомат IEK ВА47-29 3P 25А тип B"),
    ("Автомат Legrand RX3 1P 16A хар-ка C", "Автомат Legrand RX3 1P 16A хар-ка B"),
    ("Автомат Legrand RX3 1P 16A характеристика C", "Автомат Legrand RX3 1P 16A характеристика B"),
    ("Автомат Legrand RX3 1P 16A кривая C", "Автомат Legrand RX3 1P 16A кривая D"),
    ("Breaker Legrand RX3 1P 16A curve C", "Breaker Legrand RX3 1P 16A curve B"),
    ("Breaker Legrand RX3 1P 16A type C", "Breaker Legrand RX3 1P 16A type D"),
    ("Breaker Legrand RX3 1P 16A char C", "Breaker Legrand RX3 1P 16A char B"),
    # Cyrillic С / В / Д (not the prepositions «с» / «в» here)
    (
        "Выключатель автоматический Schneider Easy9 1П 16А С 4,5кА",
        "Выключатель автоматический Schneider Easy9 1П 16А В 4,5кА",
    ),
    ("Автомат IEK ВА47-29 1P 16А С", "Автомат IEK ВА47-29 1P 16А Д"),
    # the curve written apart on one side, glued to the rating on the other
    ("Автомат IEK ВА47-29 1P 16А С", "Автомат IEK ВА47-29 1P В16"),
    ("Автомат IEK ВА47-29 1P 16А C", "Автомат IEK ВА47-29 1P C10"),
    ("Circuit breaker ABB S201 1P 16A C", "Circuit breaker ABB S201 1P B16"),
    # breaking capacity (kA)
    (
        "Выключатель автоматический Schneider Easy9 1П 16А С 4,5кА",
        "Выключатель автоматический Schneider Easy9 1П 16А С 6кА",
    ),
    (
        "Выключатель автоматический Schneider Easy9 1П 16А С 4,5кА",
        "Выключатель автоматический Schneider Easy9 1П 16А С 10 kA",
    ),
    ("Circuit breaker Schneider Easy9 1P 16A C 4.5kA", "Circuit breaker Schneider Easy9 1P 16A C 6kA"),
    # leakage current (mA)
    ("Дифавтомат IEK АВДТ-32 1P+N 16А 30мА C", "Дифавтомат IEK АВДТ-32 1P+N 16А 100мА C"),
]


@pytest.mark.parametrize(("product", "item"), CURVE_CONFLICTS)
def test_another_curve_or_capacity_is_never_linked_automatically(product: str, item: str) -> None:
    matcher = Matcher(Catalog([Product("p", product), *FILLER]))
    result = matcher.match_one(Item("i", item))
    assert result.decision != "auto", (product, item, result)
    assert all(c.score < 95 for c in result.candidates)


@pytest.mark.parametrize(("product", "item"), CURVE_CONFLICTS)
def test_the_same_curve_and_capacity_still_link(product: str, item: str) -> None:
    matcher = Matcher(Catalog([Product("other", item), Product("same", product), *FILLER]))
    result = matcher.match_one(Item("i", product))
    assert (result.decision, result.product_id) == ("auto", "same")


#: the same curve, rating and capacity written two ways: still one product
SAME_CURVE = [
    ("Автоматический выключатель IEK ВА47-29 1P 16А C", "Автоматический выключатель IEK ВА47-29 1P C16"),
    ("Автоматический выключатель IEK ВА47-29 1P C16", "Автоматический выключатель IEK ВА47-29 1P 16А C"),
    ("Circuit breaker IEK BA47-29 1P 16A C", "Circuit breaker IEK BA47-29 1P C16"),
    ("Автомат IEK ВА47-29 1P 16А С", "Автомат IEK ВА47-29 1P 16A C"),  # Cyrillic С, Latin C
    ("Автомат IEK ВА47-29 1P 16А С", "Автомат IEK ВА47-29 1P С16"),
    ("Автомат EKF ВА 47-63 1P 10А (C) 4,5кА", "Автомат EKF ВА 47-63 1P 10А тип C 4.5kA"),
    ("Выключатель автоматический Schneider Easy9 1П 16А С 4,5кА", "Выключатель автоматический Schneider Easy9 1П 16А C 4,5 кА"),
    ("Автомат Legrand RX3 1P 16A хар-ка C", "Автомат Legrand RX3 1P 16A характеристика C"),
]


@pytest.mark.parametrize(("product", "item"), SAME_CURVE)
def test_one_curve_written_two_ways_still_links(product: str, item: str) -> None:
    matcher = Matcher(Catalog([Product("p", product), *FILLER]))
    result = matcher.match_one(Item("i", item))
    assert (result.decision, result.product_id) == ("auto", "p"), result


@pytest.mark.parametrize(
    ("raw", "curve"),
    [
        ("Автоматический выключатель IEK ВА47-29 1P 16А C", "c"),
        ("Автомат EKF ВА 47-63 1P 10А (D) 4,5кА", "d"),
        ("Автомат IEK ВА47-29 3P 25А тип B", "b"),
        ("Автомат Legrand RX3 хар-ка C", "c"),  # a breaker word, no rating
        ("Выключатель автоматический Schneider Easy9 1П 16А С 4,5кА", "c"),  # Cyrillic С
        ("Выключатель автоматический Schneider Easy9 1П 16А В", "b"),  # Cyrillic В
        ("Автомат ABB S201 1P 16А Д", "d"),  # Cyrillic Д
        ("АВДТ 16А 30мА тип С", "c"),
        ("Дифавтомат 2P 16А 30мА, С", "c"),
        ("MCB 1P 16A K", "k"),
        ("RCBO 1P+N 16A 30mA curve C", "c"),
        ("Breaker 3P 63A Z", "z"),
    ],
)
def test_a_lone_curve_letter_in_a_breaker_name_is_an_attribute(raw: str, curve: str) -> None:
    n = normalize_name(raw)
    assert curve in n.tokens and curve in n.attributes and curve not in n.codes
    assert dict(prepare(Item("i", raw)).attributes)["curve"] == {curve}


def test_a_curve_apart_and_glued_give_the_same_groups() -> None:
    apart = dict(prepare(Item("i", "Автомат IEK ВА47-29 1P 16А С")).attributes)
    glued = dict(prepare(Item("i", "Автомат IEK ВА47-29 1P C16")).attributes)
    for group in ("curve", "curve#", "c#"):
        assert apart[group] == glued[group], group
    assert apart["curve#"] == {"c16"} and apart["c#"] == {"16"}


@pytest.mark.parametrize(
    "raw",
    [
        "Кабель в бухте 100 м",
        "Розетка с заземлением 16А",  # an amp rating, yet «с» is followed by its noun
        "Удлинитель 16А с заземлением 3 гнезда",
        "Автомат в корпусе 16А",
        "Автомат IEK 16А к щиту",
        "Лампа с цоколем E27",
        "Светильник в ванную IP44",
    ],
)
def test_the_prepositions_stay_stop_words(raw: str) -> None:
    n = normalize_name(raw)
    assert not {"b", "c", "k", "в", "с", "к"} & set(n.tokens)
    assert not {"b", "c", "k"} & n.attributes


@pytest.mark.parametrize(
    "raw",
    ["Зарядное устройство USB type C", "Nikon D90 body", "Vitamin C 500 mg", "Кабель USB type-C 1 м"],
)
def test_a_lone_letter_outside_a_breaker_name_is_no_curve(raw: str) -> None:
    n = normalize_name(raw)
    assert not n.attributes & {"b", "c", "d", "k", "z"}


def test_socket_names_with_and_without_the_preposition_still_link() -> None:
    catalog = Catalog([Product("p", "Розетка Legrand Valena с заземлением 16А белая"), *FILLER])
    result = Matcher(catalog).match_one(Item("i", "Розетка Legrand Valena 16А белая с заземлением"))
    assert (result.decision, result.product_id) == ("auto", "p")


@pytest.mark.parametrize(
    ("raw", "token", "group"),
    [
        ("Автомат 1P 16А С 4,5кА", "4.5ka", "units"),
        ("MCB 1P 16A C 4.5kA", "4.5ka", "units"),
        ("MCB 1P 16A C 10 kA", "10ka", "units"),
        ("АВДТ 16А 30мА", "30ma", "units"),
        ("RCBO 16A 30 mA", "30ma", "units"),
        ("Кабель ВВГ 3x2,5 мм²", "3x2.5", "attributes"),
        ("Кабель ВВГ 3x2.5 мм2", "3x2.5", "attributes"),
        ("Кабель ВВГ 3х2,5мм²", "3x2.5", "attributes"),
        ("Кабель ВВГ 3х2,5 кв.мм", "3x2.5", "attributes"),
        ("Cable NYM 3x2.5mm2", "3x2.5", "attributes"),
    ],
)
def test_capacity_units_and_cable_sections(raw: str, token: str, group: str) -> None:
    n = normalize_name(raw)
    assert token in n.tokens and token in getattr(n, group)
    assert not n.codes & {"45ka", "mm2", "3x25mm2"}


@pytest.mark.parametrize(
    "item", ["Кабель ВВГ 3x2,5 мм²", "Кабель ВВГ 3х2,5мм²", "Кабель ВВГ 3 х 2,5 мм2", "Кабель ВВГ 3x2.5 кв.мм"]
)
def test_a_cable_section_written_with_a_comma_or_superscript_links(item: str) -> None:
    catalog = Catalog(
        [
            Product("p", "Кабель ВВГ 3x2.5 мм2"),
            Product("q", "Кабель ВВГ 3x1.5 мм2"),
            Product("r", "Кабель ВВГнг 3x2.5 мм2"),
            *FILLER,
        ]
    )
    result = Matcher(catalog).match_one(Item("i", item))
    assert (result.decision, result.product_id) == ("auto", "p"), result


# -- brands and model series (hostile test: links between products of different makers) --------------

#: The hostile tester's catalog: an ABB breaker, a cable, an IEK breaker.
BRAND_CATALOG = [
    Product("p1", "Автоматический выключатель ABB S201 C16"),
    Product("p5", "Кабель ВВГнг(А)-LS 3x2.5 мм2"),
    Product("p9", "Автоматический выключатель IEK ВА47-29 1P C16 4.5кА"),
]
BRAND_CATALOG_EN = [
    Product("p1", "Circuit breaker ABB S201 C16"),
    Product("p5", "Cable NYM 3x2.5 mm2"),
    Product("p9", "Circuit breaker IEK BA47-29 1P C16 4.5kA"),
]

#: (item, product id it was wrongly linked to, catalog)
BRAND_CLASHES = [
    ("Автоматический выключатель EKF ВА47-63 1P C16", "p1", BRAND_CATALOG),
    ("Автоматический выключатель ABB S202 C16", "p9", BRAND_CATALOG),
    ("Автоматический выключатель IEK ВА47-29 1P C16 6кА", "p1", BRAND_CATALOG),
    ("Автоматический выключатель IEK ВА47-29 3P C16 4,5кА", "p1", BRAND_CATALOG),
    ("Автоматический выключатель Schneider Easy9 C16", "p9", BRAND_CATALOG),
    ("Circuit breaker EKF BA47-63 1P C16", "p1", BRAND_CATALOG_EN),
    ("Circuit breaker ABB S202 C16", "p9", BRAND_CATALOG_EN),
    ("Circuit breaker IEK BA47-29 1P C16 6kA", "p1", BRAND_CATALOG_EN),
    ("Circuit breaker IEK BA47-29 3P C16 4.5kA", "p1", BRAND_CATALOG_EN),
    ("Circuit breaker Schneider Easy9 C16", "p9", BRAND_CATALOG_EN),
]


@pytest.mark.parametrize(("item", "wrong", "catalog"), BRAND_CLASHES)
def test_another_brand_is_never_linked_automatically(item: str, wrong: str, catalog: list[Product]) -> None:
    result = Matcher(Catalog(catalog)).match_one(Item("i", item))
    assert result.decision != "auto", (item, result)
    scores = {c.product_id: c.score for c in result.candidates}
    assert scores.get(wrong, 0.0) < 80, (item, result)
    assert all(c.score < 95 for c in result.candidates)


@pytest.mark.parametrize(
    ("item", "other"),
    [
        # the brand in the name
        ("Автоматический выключатель EKF ВА47-29 1P C16", "Автоматический выключатель IEK ВА47-29 1P C16"),
        ("Circuit breaker Schneider Easy9 1P C16", "Circuit breaker Legrand Easy9 1P C16"),
        ("Дрель-шуруповерт Makita DF333 12В", "Дрель-шуруповерт Bosch DF333 12В"),
        ("Лампа светодиодная Gauss A60 10Вт E27", "Лампа светодиодная Feron A60 10Вт E27"),
        ("Samsung Galaxy Buds 2 wireless earbuds", "Sony Galaxy Buds 2 wireless earbuds"),
        # a Cyrillic spelling against another brand
        ("Автоматический выключатель АББ S201 C16", "Автоматический выключатель Шнайдер S201 C16"),
    ],
)
def test_a_brand_in_both_names_must_agree(item: str, other: str) -> None:
    result = Matcher(Catalog([Product("other", other), *FILLER])).match_one(Item("i", item))
    assert result.decision != "auto", (item, other, result)
    assert all(c.score < 95 for c in result.candidates)
    # with the item's own product in the catalog, it links there, and the other maker stays behind
    result = Matcher(Catalog([Product("other", other), Product("same", item), *FILLER])).match_one(Item("i", item))
    assert (result.decision, result.product_id) == ("auto", "same")


def test_brand_fields_must_agree() -> None:
    catalog = Catalog([Product("p", "Автоматический выключатель S201 C16", brand="ABB"), *FILLER])
    result = Matcher(catalog).match_one(Item("i", "Автоматический выключатель S201 C16", brand="Schneider Electric"))
    assert result.decision != "auto" and result.score < 95
    result = Matcher(catalog).match_one(Item("i", "Автоматический выключатель S201 C16", brand="abb"))
    assert (result.decision, result.product_id) == ("auto", "p")


def test_a_catalog_brand_field_is_found_in_names() -> None:
    """A maker outside the built-in list is known once the catalog gives it as a brand."""
    catalog = Catalog(
        [
            Product("p", "Розетка Zeberg Этюд ZT-10 с заземлением", brand="Zeberg"),
            Product("q", "Выключатель Kvadrix Уют KX-2", brand="Kvadrix"),
            *FILLER,
        ]
    )
    result = Matcher(catalog).match_one(Item("i", "Розетка Kvadrix Этюд ZT-10 с заземлением"))
    assert result.decision != "auto" and result.score < 95
    result = Matcher(catalog).match_one(Item("i", "Розетка Zeberg Этюд ZT-10 с заземлением белая"))
    assert (result.decision, result.product_id) == ("auto", "p")


@pytest.mark.parametrize(
    ("product", "item"),
    [
        # Latin and Cyrillic spellings of one maker
        ("Автоматический выключатель ABB S201 C16", "Автоматический выключатель АББ S201 C16"),
        ("Автоматический выключатель IEK ВА47-29 1P C16 4.5кА", "Автоматический выключатель ИЭК ВА47-29 1P C16 4,5кА"),
        ("Автоматический выключатель Schneider Electric Easy9 C16", "Автоматический выключатель Шнайдер Easy9 C16"),
        ("Дрель ударная Makita HP1630", "Дрель ударная Макита HP1630"),
        ("Drill DeWalt DCD771", "Drill De Walt DCD771"),
        # the brand missing on one side
        ("Автоматический выключатель ABB S201 C16", "Автоматический выключатель S201 C16 ABB"),
        ("Circuit breaker ABB S201 C16", "ABB S201 C16 circuit breaker"),
        ("Дрель ударная HP1630 710Вт", "Дрель ударная Makita HP1630 710Вт"),
        ("Samsung Galaxy Buds 2 wireless earbuds SM-R177", "Galaxy Buds 2 wireless earbuds SM-R177"),
    ],
)
def test_one_brand_written_two_ways_or_missing_still_links(product: str, item: str) -> None:
    result = Matcher(Catalog([Product("p", product), *FILLER])).match_one(Item("i", item))
    assert (result.decision, result.product_id) == ("auto", "p"), result


def test_a_brand_field_on_one_side_only_is_no_conflict() -> None:
    catalog = Catalog([Product("p", "Автоматический выключатель S201 C16 1P", brand="ABB"), *FILLER])
    result = Matcher(catalog).match_one(Item("i", "Автоматический выключатель S201 C16 1P"))
    assert (result.decision, result.product_id) == ("auto", "p")


@pytest.mark.parametrize(
    ("item", "other"),
    [
        ("Автоматический выключатель ВА47-63 1P C16", "Автоматический выключатель ВА47-29 1P C16"),
        ("Circuit breaker BA47-63 1P C16", "Circuit breaker BA47-29 1P C16"),
        ("Автоматический выключатель S202 C16", "Автоматический выключатель S201 C16"),
        ("Circuit breaker S202 C16", "Circuit breaker S201 C16"),
        ("Автоматический выключатель IEK ВА47-29 1P C16", "Автоматический выключатель IEK ВА47-29 3P C16"),
        ("Circuit breaker IEK BA47-29 1P C16", "Circuit breaker IEK BA47-29 3P C16"),
    ],
)
def test_another_series_or_pole_count_is_a_conflict(item: str, other: str) -> None:
    result = Matcher(Catalog([Product("other", other), *FILLER])).match_one(Item("i", item))
    assert result.decision != "auto", (item, other, result)
    assert all(c.score < 95 for c in result.candidates)


def test_series_attribute_group() -> None:
    groups = dict(prepare(Item("i", "Автоматический выключатель ВА47-29 1P C16")).attributes)
    assert groups["ba#4"] == {"4729"}
    assert dict(prepare(Item("i", "Circuit breaker BA47-29")).attributes)["ba#4"] == {"4729"}


def test_name_brands_and_catalog_brands() -> None:
    item = prepare(Item("i", "Автомат АББ S201 C16", brand="Schneider Electric"))
    assert item.brands == {"abb", "schneider"}
    catalog = Catalog([Product("p", "Розетка Этюд", brand="Zeberg")])
    assert catalog.brands_of(prepare(Item("i", "Розетка Zeberg Этюд"))) == {"zeberg"}
    assert not catalog.brands_of(prepare(Item("i", "Розетка Этюд белая")))


# --- spaced units, model variants, spaced model codes (tester's report) ---

BREAKER_16C = "Автоматический выключатель IEK ВА47-29 1P 16А C"


@pytest.mark.parametrize(
    ("product", "item"),
    [
        # amps written apart from the number, Latin and Cyrillic "A"
        (BREAKER_16C, "Автоматический выключатель IEK ВА47-29 1P 25 A C"),
        (BREAKER_16C, "Автоматический выключатель IEK ВА47-29 1P 25 А C"),
        (BREAKER_16C, "Автоматический выключатель IEK ВА47-29 1P 25 А С"),
        # volts written apart
        ("Дрель-шуруповерт Makita DF333 12В", "Дрель-шуруповерт Makita DF333 18 В"),
        ("Лампа Gauss GL-102 10Вт 230В", "Лампа Gauss GL-102 10Вт 12 В"),
        # "+" / "Plus" / "Max" … is another model of the line
        ("Samsung Galaxy S24 256GB Black", "Samsung Galaxy S24+ 256GB Black"),
        ("Samsung Galaxy S24 256GB Black", "Samsung Galaxy S24 Plus 256GB Black"),
        ("Samsung Galaxy S24 256GB Black", "Samsung Galaxy S24 Ultra 256GB Black"),
        ("Samsung Galaxy S24+ 256GB Black", "Samsung Galaxy S24 Ultra 256GB Black"),
        ("Xiaomi Redmi Note 13 Pro", "Xiaomi Redmi Note 13 Pro+"),
        ("Xiaomi Redmi Note 13 Pro", "Xiaomi Redmi Note 13 Pro Plus"),
        ("Xiaomi Redmi Note 13 Pro", "Xiaomi Redmi Note 13 Pro Max"),
        ("Apple iPhone 15 128GB", "Apple iPhone 15 Plus 128GB"),
        # spaced series / model codes must not bring in another series or model
        (BREAKER_16C, "Автоматический выключатель IEK ВА 47-63 1P 16А C"),
        ("Дрель-шуруповерт Makita DF333DWYE", "Дрель-шуруповерт Makita DF 330 DWYE"),
        ("Смартфон Xiaomi Redmi Note 13 8/256GB", "Смартфон Xiaomi Redmi Note 13 8GB/128GB"),
    ],
)
def test_spaced_units_and_variants_are_never_linked_automatically(product: str, item: str) -> None:
    result = Matcher(Catalog([Product("p", product), *FILLER])).match_one(Item("i", item))
    assert result.decision != "auto", (product, item, result)
    assert all(c.score < 95 for c in result.candidates)


@pytest.mark.parametrize(
    ("product", "item"),
    [
        (BREAKER_16C, "Автоматический выключатель IEK ВА47-29 1P 16 A C"),
        (BREAKER_16C, "Автоматический выключатель IEK ВА47-29 1P 16 А С"),
        (BREAKER_16C, "Автоматический выключатель IEK ВА 47-29 1P 16А C"),
        ("Дрель-шуруповерт Makita DF333 18В", "Дрель-шуруповерт Makita DF333 18 В"),
        ("Samsung Galaxy S24+ 256GB Black", "Samsung Galaxy S24 Plus 256GB Black"),
        ("Xiaomi Redmi Note 13 Pro+ 8/256GB", "Xiaomi Redmi Note 13 Pro Plus 8/256GB"),
        ("Дрель-шуруповерт Makita DF333DWYE", "Дрель-шуруповерт Makita DF 333 DWYE"),
        ("Смартфон Xiaomi Redmi Note 13 8/256GB", "Смартфон Xiaomi Redmi Note 13 8GB/256GB"),
    ],
)
def test_one_product_written_apart_still_links(product: str, item: str) -> None:
    result = Matcher(Catalog([Product("p", product), *FILLER])).match_one(Item("i", item))
    assert result.decision == "auto" and result.candidates[0].product_id == "p", (product, item, result)


@pytest.mark.parametrize(
    ("raw", "units"),
    [
        ("Автомат 1P 25 A C", {"25a"}),
        ("Автомат 1P 25 А С", {"25a"}),
        ("Выключатель 16 А 250 В", {"16a", "250v"}),
        ("Дрель Makita DF333 18 В", {"18v"}),
        ("Удлинитель 2 в 1 230 В", {"230v"}),
        ("Смартфон 8/256GB", {"8gb", "256gb"}),
        ("Смартфон 8 ГБ / 256 ГБ", {"8gb", "256gb"}),
    ],
)
def test_spaced_electrical_units(raw: str, units: set[str]) -> None:
    assert normalize_name(raw).units == units


@pytest.mark.parametrize("raw", ["кабель в бухте 100 м", "Набор 3 в 1", "Стеллаж 5 в упаковке", "1 а 2"])
def test_a_spaced_letter_stays_a_word_outside_electrical_names(raw: str) -> None:
    norm = normalize_name(raw)
    assert not ({"a", "v"} & {u.lstrip("0123456789.") for u in norm.units}), norm


def test_variant_attribute_and_joined_codes() -> None:
    assert dict(prepare(Item("i", "Samsung Galaxy S24+ 256GB")).attributes)["variant"] == {"plus"}
    assert dict(prepare(Item("i", "Samsung Galaxy S24 256GB")).attributes)["variant"] == {"base"}
    assert dict(prepare(Item("i", "Xiaomi Redmi Note 13 Pro Max")).attributes)["variant"] == {"max"}
    # "mini" not after a model is an ordinary word
    assert "variant" not in dict(prepare(Item("i", "Кабель mini USB")).attributes)
    assert {"ba4729", "va4729"} <= normalize_name("Автомат ВА 47-29 1P C16").codes
    assert "df333dwye" in normalize_name("Makita DF 333 DWYE").codes
    assert not normalize_name("HP 15 laptop").codes
