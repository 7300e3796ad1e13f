"""The catalog's memory savings keep behaviour: shared values, compact entries, compact indexes.

A worker keeps an entry per catalog product (hundreds of thousands), so repeated values are one object
per process (:func:`~ingestion.matching.normalize.shared`), a product's cores are its codes' set when
equal, derived tuples are computed when asked for, and the indexes keep no per-product copies.  These
tests check that each saving gives the values and the matching results of the plain representation.
"""

from __future__ import annotations

import random

import pytest

from ingestion.matching import Catalog, Item, Matcher, Product
from ingestion.matching import normalize as normalize_module
from ingestion.matching.index import Entry, as_product, prepare, record_fields, sorted_text
from ingestion.matching.normalize import normalize_uncached, shared
from test_matching_speedups import _norms_in_python

BRANDS = ["ABB", "IEK", "EKF", "Schneider", "Feron", "Makita", None]
TYPES = ["Автоматический выключатель", "Светильник", "Кабель ВВГ", "Лампа светодиодная", "Удлинитель"]
EXTRAS = ["16А", "25 A", "C16", "1P", "IP44", "4000K", "3x2,5", "черный", "white", "Pro+", "2 м", "230 В"]


def _name(rng: random.Random) -> str:
    model = f"{rng.choice(['BA47', 'S20', 'ДПО', 'KX-TS', 'DF'])}-{rng.randint(1, 400)}{rng.choice(['', 'BK', 'H'])}"
    extras = " ".join(rng.sample(EXTRAS, rng.randint(0, 4)))
    article = f"арт.{rng.randint(1000, 9999)}-{rng.randint(1, 99)}"
    return f"{rng.choice(TYPES)} {rng.choice(BRANDS) or ''} {model} {extras} {article}"


def _products(n: int, seed: int) -> list[Product]:
    rng = random.Random(seed)
    sections = ["Светотехника", " светотехника ", None]
    return [Product(f"p{i}", _name(rng), brand=rng.choice(BRANDS), category=rng.choice(sections)) for i in range(n)]


# --- shared values ------------------------------------------------------------------------------


def test_shared_gives_one_object_per_value() -> None:
    a, b = frozenset({"16a", "ip44"}), frozenset(["ip44", "16a"])
    assert a is not b and shared(a) is shared(b) is shared(a)
    t1, t2 = ("variant", frozenset({"base"})), ("variant", frozenset({"base"}))
    assert shared(t1) is shared(t2)
    s1, s2 = "".join(["свето", "техника"]), "".join(["светот", "ехника"])
    assert s1 is not s2 and shared(s1) is shared(s2)
    assert shared(frozenset({"x"})) is not shared(frozenset({"y"}))


def test_shared_table_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(normalize_module, "SHARED_VALUES_SIZE", 8)
    monkeypatch.setattr(normalize_module, "_shared", {})
    for i in range(100):
        value = ("v", str(i))
        assert shared(value) == value
        assert len(normalize_module._shared) <= 8
    again = ("v", "99")
    assert shared(again) is not again  # still shared: the last value entered the new table


def test_entries_share_their_repeated_values() -> None:
    name = "Автомат IEK ВА47-29 1P C16 16А арт."
    a = prepare(Product("a", name + "1234-5", brand="IEK", category="Автоматы  Выключатели"))
    b = prepare(Product("b", name + "6789-1", brand="iek", category="автоматы выключатели"))
    assert a.category == "автоматы выключатели" and a.category is b.category
    assert a.brand == "iek" and a.brand is b.brand
    assert a.brands is b.brands and a.attributes is b.attributes
    assert a.norm.units is b.norm.units and a.norm.attributes is b.norm.attributes
    assert a.glued_words is b.glued_words and "apt" in a.glued_words
    # the groups inside the attributes are shared too, across different attribute tuples
    c = prepare(Product("c", "Автомат IEK ВА47-29 1P C16 16А 4,5кА"))
    assert dict(a.attributes)["a"] is dict(c.attributes)["a"]


def test_empty_values_are_the_shared_empties() -> None:
    e = prepare(Product("e", "кабель медный"))
    assert e.cores is e.codes is e.norm.codes and not e.brands
    assert e.code_candidates == e.glued_words == e.colours == e.bare_numbers == () and e.attributes == ()


# --- compact entries ------------------------------------------------------------------------------


def test_product_cores_are_its_codes_when_equal_and_items_keep_their_own() -> None:
    product = prepare(Product("p", "Светильник ДПО-48 арт.8206-18"))
    assert product.cores == product.codes and product.cores is product.codes
    item = prepare(Item("i", "Светильник ДПО-48 арт.8206-18"))
    assert item.cores == item.codes and item.cores is not item.codes
    suffixed = prepare(Product("s", "Телефон KX-TS2350RUB"))
    assert suffixed.cores != suffixed.codes and suffixed.cores == frozenset({"kxts2350"})


def test_derived_tuples_are_what_the_tokens_give() -> None:
    for p in _products(200, 3):
        e = prepare(p)
        assert e.long_tokens == tuple(t for t in e.norm.tokens if len(t) >= 5)
        assert e.code_tokens == tuple(t for t in e.norm.tokens if t in e.norm.codes)
        assert len(e.code_candidates) == len(e.glued_words)
        assert list(e.code_candidates) == sorted(e.code_candidates) and set(e.code_candidates) <= e.codes


def test_an_item_made_product_equals_the_prepared_product_field_by_field() -> None:
    rng = random.Random(5)
    for i in range(200):
        name, brand, category = _name(rng), rng.choice(BRANDS), rng.choice(["Кабель", None])
        item = prepare(Item(f"i{i}", name, sku=rng.choice([None, f"SKU-{i}"]), brand=brand, category=category))
        made = as_product(item, f"d{i}")
        expected = prepare(Product(f"d{i}", name, brand=brand, category=category))
        for field in ("id", "name", "norm", "codes", "cores", "sku", "brand", "category", "code_candidates",
                      "glued_words", "colours", "bare_numbers", "attributes", "brands", "long_tokens", "code_tokens"):
            assert getattr(made, field) == getattr(expected, field), field
        assert made.cores is made.codes or made.cores != made.codes


def test_made_from_tells_when_a_reload_may_keep_an_entry() -> None:
    entry = prepare(Product("p", "Дрель Makita HP1630", brand="Makita", category="Инструмент"))
    assert entry.made_from("Дрель Makita HP1630", "Makita", "Инструмент")
    assert entry.made_from("Дрель Makita HP1630", " MAKITA ", "инструмент ")  # the same entry would come out
    assert not entry.made_from("Дрель Makita HP1631", "Makita", "Инструмент")
    assert not entry.made_from("Дрель Makita HP1630", "Bosch", "Инструмент")
    assert not entry.made_from("Дрель Makita HP1630", None, "Инструмент")
    assert not entry.made_from("Дрель Makita HP1630", "Makita", None)
    with_sku = prepare(Product("q", "Дрель Makita HP1630", sku="HP-1630", brand="Makita", category="Инструмент"))
    assert not with_sku.made_from("Дрель Makita HP1630", "Makita", "Инструмент")
    assert record_fields("  TP-Link ", " Сетевое   оборудование") == ("tplink", "сетевое оборудование")
    assert record_fields("", "  ") == (None, None)


# --- compact indexes ------------------------------------------------------------------------------


def test_norm_table_sums_every_row_in_token_order_bit_for_bit() -> None:
    rng = random.Random(7)
    products = _products(300, 7)
    products += [Product("empty", "--"), Product("one", "кабель")]
    products += [Product(f"long{i}", " ".join(f"w{rng.randint(0, 60)} x{j}y{i}" for j in range(20))) for i in range(5)]
    catalog = Catalog(products)
    assert catalog._table.rows == len(catalog)
    assert catalog._norms == _norms_in_python(catalog)
    for i in range(100):
        catalog.add(Product(f"n{i}", _name(rng)))
    catalog.refresh_norms()
    assert catalog._norms == _norms_in_python(catalog)


def test_sorted_texts_follow_the_catalog_as_it_grows() -> None:
    catalog = Catalog(_products(50, 1))
    assert catalog.sorted_texts == [sorted_text(t) for t in catalog.texts]
    for p in _products(30, 2):
        catalog.add(Product("x" + p.id, p.name))
    assert catalog.sorted_texts == [sorted_text(t) for t in catalog.texts]
    assert len(catalog.sorted_texts) == len(catalog) == 80


def test_same_name_lists_every_row_of_a_name_in_order() -> None:
    catalog = Catalog()
    names = ["Кабель ВВГ 3х2,5", "Лампа E27 7W", "Кабель ВВГ 3x2.5", "Розетка"]
    rows: dict[str, list[int]] = {}
    for i in range(40):
        entry = prepare(Product(f"p{i}", names[i % 7 % 4]))
        rows.setdefault(entry.norm.text, []).append(catalog.add_entry(entry))
    for name in names:
        entry = prepare(Item("i", name))
        assert catalog.same_name(entry) == rows[entry.norm.text]
    assert catalog.same_name(prepare(Item("i", "Нет такого"))) == []
    assert catalog.same_name(prepare(Item("i", "--"))) == []
    single = prepare(Product("only", "Уникальная вещь"))
    row = catalog.add_entry(single)
    assert catalog.same_name(single) == [row]


def test_shared_one_row_lists_keep_every_index_exact() -> None:
    products = _products(400, 9)
    # the same model again: as a token and a code, as a code only (no token), as a core only
    products += [Product("again1", "Телефон KX-TS2350"), Product("again2", "Телефон KX-TS2350"),
                 Product("code-only", "Телефон ВА 47-29"), Product("core-only", "Телефон KX-TS2350RUB")]
    catalog = Catalog()
    for i, p in enumerate(products):
        catalog.add(p)
        if i % 97 == 0:
            catalog.add_entries([prepare(Product(f"b{i}-{j}", q.name)) for j, q in enumerate(products[:5])])
    postings: dict[str, list[int]] = {}
    codes: dict[str, list[int]] = {}
    cores: dict[str, list[int]] = {}
    for row, e in enumerate(catalog.entries):
        for t in e.norm.tokens:
            postings.setdefault(t, []).append(row)
        for c in e.codes:
            codes.setdefault(c, []).append(row)
        for c in e.cores:
            cores.setdefault(c, []).append(row)
    assert catalog.postings == postings and catalog.code_index == codes and catalog.core_index == cores
    assert list(catalog.postings) == list(postings)  # token ids follow the postings' order
    # a model code met once is one list in the three indexes
    e = prepare(Product("new", "Светильник ДПО-48 арт.9999-99"))
    row = catalog.add_entry(e)
    assert catalog.postings["apt999999"] is catalog.code_index["apt999999"] is catalog.core_index["apt999999"]
    assert catalog.code_index["art999999"] is catalog.core_index["art999999"] == [row]
    # and a second product holding it as a code but not as a token leaves the token's list alone
    catalog.add(Product("alt", "Светильник арт 9999-99"))
    assert catalog.postings["apt999999"] == [row] == catalog.core_index["apt999999"][:1]
    assert catalog.code_index["apt999999"] == catalog.code_index["art999999"] == [row, row + 1]


def test_cached_specific_codes_are_the_codes_or_a_subset() -> None:
    catalog = Catalog(_products(400, 4))
    limit = 5
    for row, e in enumerate(catalog.entries):
        found = catalog.row_specific_codes(row, limit)
        assert found == catalog.specific_codes(e, limit)
        if found == e.codes:
            assert found is e.codes


# --- matching results do not depend on what is shared ---------------------------------------------


def _results(catalog: Catalog, items: list[Item]) -> list[tuple[str, str | None, float, list[tuple[str, float]]]]:
    matcher = Matcher(catalog, auto_threshold=95, potential_threshold=70, max_candidates=5)
    out = []
    for it in items:
        r = matcher.match_one(it)
        out.append((r.decision, r.product_id, r.score, [(c.product_id, c.score) for c in r.candidates]))
        if r.decision == "new":
            catalog.add(Product(f"d-{it.id}", it.name, category=it.category))
    return out


def test_results_after_many_adds_do_not_depend_on_sharing(monkeypatch: pytest.MonkeyPatch) -> None:
    products = _products(600, 21)
    rng = random.Random(22)
    items = [Item(f"i{i}", rng.choice(products).name if rng.random() < 0.6 else _name(rng),
                  category=rng.choice(["Светотехника", None])) for i in range(400)]
    shared_run = _results(Catalog(products), items)
    # every value its own object: a table of one value, emptied at each new one
    monkeypatch.setattr(normalize_module, "SHARED_VALUES_SIZE", 1)
    monkeypatch.setattr(normalize_module, "_shared", {})
    normalize_module._name_cache.clear()
    plain_catalog = Catalog(products)
    assert [e.norm for e in plain_catalog.entries] == [prepare(p).norm for p in products]
    assert _results(plain_catalog, items) == shared_run
    assert sum(r[0] == "new" for r in shared_run) > 0 and sum(r[0] == "auto" for r in shared_run) > 0


def test_normalised_names_equal_without_sharing() -> None:
    for p in _products(100, 8):
        a, b = normalize_uncached(p.name), normalize_uncached(p.name)
        assert a == b and a.attributes is b.attributes and a.units is b.units
