"""Reader defects from hostile trials (session 11): minor-unit prices, per-pack remarks, a "price unit"
header taken for the price, and the decimal mark judged by the whole sample.

Every file is written here, in ``tmp_path``; the texts are made-up catalogue lines.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from ingestion.errors import Problem
from ingestion.reading import ReadOptions
from ingestion.reading.model import Item
from ingestion.reading.normalize import doubtful, is_amount, parse_price, price_like
from ingestion.reading.synonyms import header_role
from reading_fixtures import read_all, write_xlsx

BEFORE = "S1;Кабель ВВГ;100\nS3;Розетка;200\n"
AFTER = "S9;Болт;70\n"


def _csv(tmp_path: Path, header: str, body: str) -> Path:
    path = tmp_path / "list.csv"
    path.write_text(header + body, encoding="utf-8")
    return path


def _errors(problems: list[Problem]) -> list[tuple[str, int | None, str | None]]:
    return [(p.type, p.row, p.column) for p in problems if p.level == "error"]


def _by_sku(items: list[Item]) -> dict[str | None, tuple[Decimal | None, str | None]]:
    return {i.sku: (i.price, i.currency) for i in items}


# ---------------------------------------------------------------- 1. an amount in minor units only
@pytest.mark.parametrize(
    ("cell", "amount", "currency"),
    [
        ("50 коп", "0.50", "RUB"),
        ("50 коп.", "0.50", "RUB"),
        ("5 копеек", "0.05", "RUB"),
        ("75 к.", "0.75", "RUB"),
        ("50 копійок", "0.50", "UAH"),
        ("99 cents", "0.99", None),
        ("99 ct", "0.99", None),
        ("1 cent", "0.01", None),
        ("99¢", "0.99", None),
        ("50 groszy", "0.50", "PLN"),
        ("150 коп.", "1.50", "RUB"),
        ("-50 коп.", "-0.50", "RUB"),
        ("50 коп./шт", "0.50", "RUB"),
        ("цена: 50 коп.", "0.50", "RUB"),
    ],
)
def test_an_amount_in_minor_units_reads_in_the_major_unit(cell: str, amount: str, currency: str | None) -> None:
    p = parse_price(cell)
    assert (p.amount, p.currency, p.error) == (Decimal(amount), currency, None)
    assert is_amount(cell) and price_like(cell)


@pytest.mark.parametrize(
    "cell",
    ["50,5 коп.", "12.5 cents", "5 к.", "50к", "5 к", "50 к.р.", "50 коп. x 2", "5 тыс. коп", "коп.", "50 коп. 20 шт"],
)
def test_what_is_not_a_minor_unit_amount_is_still_refused(cell: str) -> None:
    p = parse_price(cell)
    assert p.amount is None and p.error is not None
    assert not is_amount(cell)


def test_minor_units_in_a_file_read_and_the_others_are_refused_with_row_and_column(tmp_path: Path) -> None:
    body = BEFORE + "K1;Шайба;50 коп.\nK2;Гайка;75 к.\nK3;Винт;50,5 коп.\n" + AFTER
    items, problems = read_all(_csv(tmp_path, "Артикул;Наименование;Цена\n", body))
    got = _by_sku(items)
    assert got["K1"] == (Decimal("0.50"), "RUB") and got["K2"] == (Decimal("0.75"), "RUB")
    assert "K3" not in got
    assert _errors(problems) == [("bad_price", 6, "Цена")]
    (bad,) = [p for p in problems if p.level == "error"]
    assert "'50,5 коп.'" in bad.message and "kopecks or cents" in bad.message


@pytest.mark.parametrize(("header", "options", "currency"), [
    ("Цена, грн", ReadOptions(), "UAH"),
    ("Цена", ReadOptions(currency="BYN"), "BYN"),
    ("Цена, руб", ReadOptions(), "RUB"),
    ("Цена", ReadOptions(currency="UAH"), "UAH"),
])
def test_kopecks_take_the_currency_of_the_column_or_file_when_it_has_kopecks(
    tmp_path: Path, header: str, options: ReadOptions, currency: str
) -> None:
    body = BEFORE + "K1;Шайба;50 коп.\n" + AFTER
    items, _ = read_all(_csv(tmp_path, f"Артикул;Наименование;{header}\n", body), options)
    assert _by_sku(items)["K1"] == (Decimal("0.50"), currency)


def test_cents_keep_the_files_currency(tmp_path: Path) -> None:
    body = "S1;Cable;1.50\nS3;Socket;2.00\nC1;Washer;99 cents\nS9;Bolt;0.70\n"
    items, _ = read_all(_csv(tmp_path, "SKU;Name;Price, EUR\n", body))
    assert _by_sku(items)["C1"] == (Decimal("0.99"), "EUR")


# ---------------------------------------------------------------- 2. a per-pack remark after the amount
@pytest.mark.parametrize(
    ("cell", "currency"),
    [("100 в упак.", None), ("100 в упаковке", None), ("100 за упак.", None), ("100 руб в упак.", "RUB"),
     ("100 руб. за упаковку", "RUB"), ("100 в уп.", None), ("100 per pack", None), ("100 в коробке", None)],
)
def test_a_per_pack_remark_after_the_amount_reads_the_amount(cell: str, currency: str | None) -> None:
    p = parse_price(cell)
    assert (p.amount, p.currency, p.error) == (Decimal(100), currency, None)
    assert is_amount(cell)


@pytest.mark.parametrize("cell", ["220 В", "12 V", "220В", "100 в", "100 в упак. 12 шт", "100 в метре"])
def test_volts_and_other_remarks_are_still_refused(cell: str) -> None:
    p = parse_price(cell)
    assert p.amount is None and p.error is not None


def test_a_per_pack_price_in_a_file_reads(tmp_path: Path) -> None:
    body = BEFORE + "P1;Саморез;100 в упак.\nV1;Лампа;220 В\n" + AFTER
    items, problems = read_all(_csv(tmp_path, "Артикул;Наименование;Цена\n", body))
    assert _by_sku(items)["P1"] == (Decimal(100), None)
    assert "V1" not in _by_sku(items)
    assert _errors(problems) == [("bad_price", 5, "Цена")]


# ---------------------------------------------------------------- 3. the decimal mark judged by the whole sample
def test_a_value_before_the_evidence_of_the_decimal_mark_is_judged_by_it(tmp_path: Path) -> None:
    """An ambiguous "1.234" above the sample's "1.234,50" reads as 1234 in an English file, where the
    locale alone would have guessed "." as the decimal mark."""
    filler = "".join(f"F{i};Filler {i};{100 + i}\n" for i in range(20))
    body = "A1;Item one;1.234\n" + filler + "B1;Item two;1.234,50\nC1;Item three;1.234\n"
    items, problems = read_all(_csv(tmp_path, "SKU;Name;Price\n", body))
    got = _by_sku(items)
    assert got["A1"][0] == got["C1"][0] == Decimal(1234)
    assert got["B1"][0] == Decimal("1234.50")
    assert _errors(problems) == []


def test_the_contradiction_in_the_rows_the_reader_holds_beyond_the_sample_is_seen(tmp_path: Path) -> None:
    """The layout detector holds some rows past its 300-row value sample; their marks count too, so the
    "1.234" on the first data row is refused like the one after the evidence, not read one way and then
    refused the other."""
    filler = "".join(f"F{i};Filler {i};{100 + i}\n" for i in range(310))
    body = "A1;Item one;1.234\n" + filler + "B1;Item two;1.234,50\nC1;Item three;1.234\n"
    items, problems = read_all(_csv(tmp_path, "SKU;Name;Price\n", body))
    got = _by_sku(items)
    assert got["B1"][0] == Decimal("1234.50")
    assert got.get("A1") == got.get("C1")


# ---------------------------------------------------------------- 4. the quantity a price is for is not a price
@pytest.mark.parametrize("header", ["Preiseinheit", "PE", "Price unit", "Цена за", "Preis-Einheit", "Preiseinh."])
def test_a_price_unit_header_is_not_a_price(header: str) -> None:
    assert header_role(header)[0] != "price"


@pytest.mark.parametrize("header", ["Preis", "Preis/Einheit", "Preis pro Einheit", "Price/unit", "Price per unit",
                                    "Unit price", "Цена за 1 шт", "Цена за шт.", "Цена за ед.", "Einzelpreis"])
def test_a_price_per_unit_header_is_still_a_price(header: str) -> None:
    assert header_role(header)[0] == "price"


@pytest.mark.parametrize("unit_header", ["Preiseinheit", "PE", "Price unit"])
def test_the_real_price_column_is_taken_beside_a_price_unit_column(tmp_path: Path, unit_header: str) -> None:
    rows = [
        ["Artikel-Nr", "Bezeichnung", unit_header, "Preis"],
        ["A1", "Schraube M6", 100, 12.5],
        ["A2", "Mutter M6", 100, 8.9],
        ["A3", "Scheibe M6", 1, 0.4],
    ]
    items, problems = read_all(write_xlsx(tmp_path / "l.xlsx", rows))
    assert [(i.sku, i.price) for i in items] == [
        ("A1", Decimal("12.5")), ("A2", Decimal("8.9")), ("A3", Decimal("0.4"))]
    assert set(items[0].prices) == {"price"}
    assert _errors(problems) == []


def test_a_price_for_header_with_quantities_below_is_not_the_price(tmp_path: Path) -> None:
    body = "S1;Кабель;100 м;2500\nS2;Провод;1 м;30\n"
    items, problems = read_all(_csv(tmp_path, "Артикул;Наименование;Цена за;Цена, руб\n", body))
    assert [(i.sku, i.price, i.currency) for i in items] == [("S1", Decimal(2500), "RUB"), ("S2", Decimal(30), "RUB")]
    assert _errors(problems) == []


# ---------------------------------------------------------------- 5. exponent notation
def test_a_programs_float_in_exponent_form_still_reads() -> None:
    """Left as it was: tests/test_reading_hardening.py requires "1.5e3" to read as 1500."""
    assert parse_price("1.5e3").amount == Decimal(1500)
    assert doubtful(parse_price("5e3"))
