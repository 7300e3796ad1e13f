"""Price cells a hostile tester wrote: doubtful amounts are refused, legitimate ones read.

Every file is written here, in ``tmp_path`` (CSV with ``;``, header ``Артикул;Наименование;Цена``, and XLSX
written by openpyxl); the texts are made-up catalogue lines.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook

from ingestion.errors import Problem
from ingestion.reading.model import Item
from ingestion.reading.normalize import doubtful, parse_price
from reading_fixtures import read_all

HEADER = "Артикул;Наименование;Цена\n"
BEFORE = "S1;Кабель ВВГ;100\nS3;Розетка;200\nS4;Вилка;300\n"
AFTER = "S9;Болт;70\n"


def _csv(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "list.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def _errors(problems: list[Problem]) -> list[tuple[str, int | None, str | None]]:
    return [(p.type, p.row, p.column) for p in problems if p.level == "error"]


def _priced(items: list[Item]) -> list[tuple[str | None, object, list[str]]]:
    return [(i.sku, i.price, list(i.category_path)) for i in items]


# ---------------------------------------------------------------- 1. an item row is never a section
@pytest.mark.parametrize("cell", ["розница 25О", "розница", "Стоимость 25x", "цена по прайсу 3 шт"])
def test_a_row_with_sku_name_and_unreadable_price_is_refused_not_a_section(tmp_path: Path, cell: str) -> None:
    items, problems = read_all(_csv(tmp_path, BEFORE + f"A2;Автомат ABB S201 C16;{cell}\n" + AFTER))
    assert _priced(items) == [("S1", 100, []), ("S3", 200, []), ("S4", 300, []), ("S9", 70, [])]
    assert _errors(problems) == [("bad_price", 5, "Цена")]
    (bad,) = [p for p in problems if p.level == "error"]
    assert repr(cell) in bad.message


def test_a_caption_row_without_sku_is_still_a_section(tmp_path: Path) -> None:
    items, problems = read_all(_csv(tmp_path, BEFORE + ";Трансформаторы сварочные;Стоимость\n" + AFTER))
    assert _priced(items)[-1] == ("S9", 70, ["Трансформаторы сварочные"])
    assert _errors(problems) == []


@pytest.mark.parametrize(("cell", "amount"), [
    ("розница 250", 250), ("розн. 250", 250), ("опт. 120", 120), ("опт 120", 120), ("цена 100", 100),
    ("retail 250", 250), ("Розница: 1 250,50", Decimal("1250.50")),
])
def test_a_price_kind_word_before_the_amount_reads(tmp_path: Path, cell: str, amount: object) -> None:
    items, problems = read_all(_csv(tmp_path, BEFORE + f"A2;Автомат ABB S201 C16;{cell}\n" + AFTER))
    assert _priced(items)[3] == ("A2", amount, [])
    assert _errors(problems) == []


# ---------------------------------------------------------------- 2.–3. doubtful amounts
DOUBTFUL = [
    # multipliers
    "5к", "5к руб", "5 К руб", "5 тр", "5 т.р.", "5k", "5K", "5 Tsd.", "5 kEUR", "5 mil €", "5 Mill. €", "5 тыс.",
    # multiplication signs
    "x100", "100x", "×2", "2×", "2x", "2 х",
    # a range
    "10-15", "5-50", "1 - 99",
    # durations, amps and volts, counts
    "12 мес", "10 мес.", "3 дня", "5 дн.", "5 лет", "2 года", "16А", "16A", "5 A", "220В", "10 В", "100 в",
    "5 dozen", "5 дюжин",
    # exponent written as text, a letter O for a zero
    "5e3", "1e2", "1E2", "25О", "25O",
]


@pytest.mark.parametrize("cell", DOUBTFUL)
def test_doubtful_price_text_gives_no_amount_and_is_doubtful(cell: str) -> None:
    p = parse_price(cell)
    assert p.amount is None and p.error is not None and doubtful(p), p


@pytest.mark.parametrize("cell", DOUBTFUL)
def test_doubtful_price_refuses_the_row_and_the_rest_is_read(tmp_path: Path, cell: str) -> None:
    items, problems = read_all(_csv(tmp_path, BEFORE + f"A2;Автомат ABB S201 C16;{cell}\n" + AFTER))
    assert _priced(items) == [("S1", 100, []), ("S3", 200, []), ("S4", 300, []), ("S9", 70, [])]
    assert _errors(problems) == [("bad_price", 5, "Цена")]
    (bad,) = [p for p in problems if p.level == "error"]
    assert repr(cell) in bad.message and bad.row_data is not None and bad.row_data["Цена"] == cell


def test_a_doubtful_price_in_the_main_column_is_not_replaced_by_another_kind(tmp_path: Path) -> None:
    path = tmp_path / "two.csv"
    path.write_text("Артикул;Наименование;Цена;Опт\nS1;Кабель;100;90\nA2;Автомат;5к;4000\nS9;Болт;70;60\n",
                    encoding="utf-8")
    items, problems = read_all(path)
    assert [i.sku for i in items] == ["S1", "S9"]
    assert _errors(problems) == [("bad_price", 3, "Цена")]


@pytest.mark.parametrize(("cell", "amount"), [("100-00", "100.00"), ("100-50", "100.50"), ("11=90", "11.90"),
                                              ("10=15", "10.15"), ("50-50", "50.50")])
def test_roubles_dash_kopecks_still_read(cell: str, amount: str) -> None:
    assert parse_price(cell).amount == Decimal(amount)


def test_a_number_cell_in_exponent_form_and_a_programs_float_text_read() -> None:
    assert parse_price(5e3).amount == Decimal(5000)
    assert parse_price("1.5e3").amount == Decimal(1500)


# ---------------------------------------------------------------- 4. legitimate prices
@pytest.mark.parametrize(("cell", "amount", "currency"), [
    ("100 за 1 шт", "100", None), ("100 руб. за 1 м", "100", "RUB"), ("12 руб. 50 коп.", "12.50", "RUB"),
    ("100 руб. 00 коп.", "100.00", "RUB"), ("12 р. 5 коп", "12.05", "RUB"), ("150 руб/м2", "150", "RUB"),
    ("150 р/кв.м", "150", "RUB"), ("100 за кв.м", "100", None), ("100 руб/пог.м", "100", "RUB"),
    ("100 руб/м³", "100", "RUB"), ("100 руб. (НДС 20%)", "100", "RUB"), ("100 вкл. НДС 20%", "100", None),
    ("100 в т.ч. НДС", "100", None), ("100 incl. VAT", "100", None), ("100 excl. VAT", "100", None),
    ("100 + VAT", "100", None), ("1 234,50 руб. с НДС", "1234.50", "RUB"), ("100 руб/шт", "100", "RUB"),
    ("€ 100 excl. VAT", "100", "EUR"),
])
def test_per_unit_and_vat_remarks_do_not_change_the_amount(
    tmp_path: Path, cell: str, amount: str, currency: str | None
) -> None:
    p = parse_price(cell)
    assert (p.amount, p.error) == (Decimal(amount), None)
    if currency is not None:
        assert p.currency == currency
    items, problems = read_all(_csv(tmp_path, BEFORE + f"A2;Автомат ABB S201 C16;{cell}\n" + AFTER))
    assert _priced(items)[3] == ("A2", Decimal(amount), [])
    assert _errors(problems) == []


@pytest.mark.parametrize("cell", ["5 шт/уп", "10 за 2 шт", "5 мм/м", "100 за 1"])
def test_a_per_unit_suffix_does_not_hide_a_quantity(cell: str) -> None:
    assert parse_price(cell).amount is None


# ---------------------------------------------------------------- 5. errors in the SKU and name columns
def _xlsx(path: Path, rows: list[list[object]], errors: dict[str, str] | None = None) -> Path:
    wb = Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    for ref, code in (errors or {}).items():
        ws[ref].value = code
        ws[ref].data_type = "e"
    wb.save(path)
    return path


def test_sku_excel_error_or_uncalculated_formula_refuses_the_row(tmp_path: Path) -> None:
    rows: list[list[object]] = [["Артикул", "Наименование", "Цена"], ["S1", "Кабель", 100], ['="A"&2', "Автомат", 200],
                                ["x", "Болт", 300], ["S4", "Гайка", None], ["S5", "Шайба", 50]]
    path = _xlsx(tmp_path / "sku.xlsx", rows, {"A4": "#REF!", "A5": "#N/A"})
    items, problems = read_all(path)
    assert [i.sku for i in items] == ["S1", "S5"]
    assert _errors(problems) == [("bad_sku", 3, "Артикул"), ("bad_sku", 4, "Артикул"), ("bad_sku", 5, "Артикул")]
    formula, ref, na = [p for p in problems if p.level == "error"]
    assert "formula" in formula.message and "no saved result" in formula.message
    assert "the Excel error #REF!" in ref.message and "#N/A" in na.message


def test_sku_error_text_in_a_csv_refuses_the_row(tmp_path: Path) -> None:
    items, problems = read_all(_csv(tmp_path, BEFORE + "#REF!;Автомат;250\n#Н/Д;Гайка;\n" + AFTER))
    assert [i.sku for i in items] == ["S1", "S3", "S4", "S9"]
    assert _errors(problems) == [("bad_sku", 5, "Артикул"), ("bad_sku", 6, "Артикул")]
    assert "#REF!" in problems[0].message and not any(i.name == "Автомат" for i in items)


def test_a_sku_with_a_hash_is_not_an_error(tmp_path: Path) -> None:
    items, problems = read_all(_csv(tmp_path, BEFORE + "#B7764;Автомат;250\n" + AFTER))
    assert ("B7764", Decimal(250), []) in _priced(items)
    assert _errors(problems) == []


def test_name_error_names_the_cause(tmp_path: Path) -> None:
    rows: list[list[object]] = [["Артикул", "Наименование", "Цена"], ["S1", "Кабель", 100],
                                ["S2", '=B2&"x"', 200], ["S3", "y", 300], ["S5", "Шайба", 50]]
    path = _xlsx(tmp_path / "name.xlsx", rows, {"B4": "#DIV/0!"})
    items, problems = read_all(path)
    assert [i.sku for i in items] == ["S1", "S5"]
    assert _errors(problems) == [("missing_name", 3, "Наименование"), ("missing_name", 4, "Наименование")]
    formula, div = [p for p in problems if p.level == "error"]
    assert "formula" in formula.message and "no saved result" in formula.message
    assert "#DIV/0!" in div.message and "but no name" not in div.message


def test_name_error_text_in_a_csv_names_the_cause(tmp_path: Path) -> None:
    items, problems = read_all(_csv(tmp_path, BEFORE + "A2;#N/A;250\n" + AFTER))
    assert [i.sku for i in items] == ["S1", "S3", "S4", "S9"]
    assert _errors(problems) == [("missing_name", 5, "Наименование")]
    assert "#N/A" in problems[0].message


@pytest.mark.parametrize("cell", ["50,5 коп.", "12.5 cents", "0,5 ct"])
def test_an_amount_in_kopecks_or_cents_is_doubtful(cell: str) -> None:
    # a whole number of kopecks or cents ("50 коп.", "99 cents") is read as 0.50 / 0.99 since session 11
    # (tests/test_reading_session11.py); a fraction of one is still doubtful
    p = parse_price(cell)
    assert p.amount is None and doubtful(p)


# ---------------------------------------------------------------- a tester's second round
def _read(tmp_path: Path, prices: list[str]) -> tuple[list[Item], list[Problem]]:
    body = "".join(f"T{n};Товар {n};{p}\n" for n, p in enumerate(prices, start=1))
    return read_all(_csv(tmp_path, body))


def test_a_bare_fraction_is_less_than_one(tmp_path: Path) -> None:
    items, problems = _read(tmp_path, [",50", ".50", "100"])
    assert [i.price for i in items] == [Decimal("0.50"), Decimal("0.50"), Decimal(100)]
    assert [p for p in problems if p.level == "error"] == []


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        ("12 р. 50 к.", "12.50", "RUB"),
        ("12р.50к.", "12.50", "RUB"),
        ("100р.50к.", "100.50", "RUB"),
        ("100 грн. 50 коп.", "100.50", "UAH"),
        ("100 грн 50 к.", "100.50", "UAH"),
        ("100 (НДС не облаг.)", "100", None),
        ("100 zł + 23% VAT", "100", "PLN"),
        ("100 руб. (1 шт)", "100", "RUB"),
        ("100 USD (1 pc)", "100", "USD"),
        ("100 руб/кВт·ч", "100", "RUB"),
        ("100 Ft", "100", "HUF"),
        ("1\u200b234,50", "1234.50", None),
        ("1\u00ad234", "1234", None),
    ],
)
def test_legitimate_prices_the_tester_found_refused_are_read(tmp_path: Path, text: str, amount: str,
                                                             currency: str | None) -> None:
    items, problems = _read(tmp_path, [text])
    assert [(i.price, i.currency) for i in items] == [(Decimal(amount), currency)]
    assert [p for p in problems if p.level == "error"] == []


@pytest.mark.parametrize("text", ["5 ft", "100 руб. (12 шт)", "5 к."])
def test_their_doubtful_siblings_are_still_refused(text: str) -> None:
    assert parse_price(text).amount is None


@pytest.mark.parametrize(
    ("text", "currency"),
    [("100руб", "RUB"), ("100 дол.", "USD"), ("100 тнг", "KZT"), ("100 сом", "KGS"), ("100 сум", "UZS"),
     ("100 AED", "AED"), ("AED 100", "AED"), ("100 GEL", "GEL"), ("100 HUF", "HUF")],
)
def test_currency_written_after_the_amount_is_found(text: str, currency: str) -> None:
    assert parse_price(text) == (Decimal(100), currency, False, None, False)


def test_whole_cell_is_quoted_when_it_holds_no_number(tmp_path: Path) -> None:
    _, problems = _read(tmp_path, ["N/A"])
    (bad,) = [p for p in problems if p.level == "error"]
    assert bad.type == "bad_price" and "'N/A'" in bad.message and "'N'" not in bad.message


@pytest.mark.parametrize("text", ["нет в наличии", "ожидается", "out of stock", "Нет в наличии!"])
def test_an_unavailable_item_is_kept_without_a_price(tmp_path: Path, text: str) -> None:
    items, problems = _read(tmp_path, [text, "100"])
    assert [(i.sku, i.price, i.available) for i in items] == [("T1", None, False), ("T2", Decimal(100), None)]
    assert [(p.type, p.level, p.row) for p in problems] == [("not_available", "warning", 2)]
    assert repr(text) in problems[0].message


def test_bare_no_in_the_price_cell_is_still_refused(tmp_path: Path) -> None:
    items, problems = _read(tmp_path, ["нет", "100"])
    assert [i.sku for i in items] == ["T2"]
    assert [(p.type, p.level) for p in problems] == [("bad_price", "error")]
