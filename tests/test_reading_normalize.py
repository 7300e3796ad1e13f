"""Number, currency, SKU, unit and stock normalisation."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ingestion.reading.currency import currency_from_format, currency_from_text, iso_code
from ingestion.reading.normalize import (
    excel_error_code,
    format_money,
    normalize_sku,
    normalize_unit,
    parse_number,
    parse_price,
    parse_stock,
)


@pytest.mark.parametrize(
    "text, amount",
    [
        ("1 234,56", "1234.56"),
        ("1.234,56", "1234.56"),
        ("1,234.56", "1234.56"),
        ("12,5", "12.5"),
        ("$8.00", "8.00"),
        ("41.00р.", "41.00"),
        ("2 CHF", "2"),
        ("11=90", "11.90"),
        ("<b>1&nbsp;500,00</b>", "1500.00"),
        ("1\u00a0234,56 руб.", "1234.56"),
        ("12.345.678,9", "12345678.9"),
        ("1'234.50", "1234.50"),
        ("0,125", "0.125"),
        ("PLN 1,299.00", "1299.00"),
        ("1 049,90 PLN", "1049.90"),
    ],
)
def test_parse_price_amounts(text: str, amount: str) -> None:
    assert parse_price(text).amount == Decimal(amount)


def test_parse_price_numbers_and_floats() -> None:
    assert parse_price(17.23).amount == Decimal("17.23")
    assert parse_price(0.1 + 0.2).amount == Decimal("0.3")
    assert parse_price(494).amount == Decimal("494")


@pytest.mark.parametrize("text", ["по запросу", "on request", "Договорная", "auf Anfrage", "na zapytanie", "Звоните!!!", "по запиту"])
def test_on_request(text: str) -> None:
    p = parse_price(text)
    assert p.on_request and p.amount is None and p.error is None


@pytest.mark.parametrize("text", ["abc", "от 10 до 15", "Стоимость"])
def test_unreadable_price(text: str) -> None:
    p = parse_price(text)
    assert p.amount is None and p.error


@pytest.mark.parametrize("value", [None, "", "  ", "-"])
def test_empty_price(value: object) -> None:
    assert parse_price(value).empty  # type: ignore[arg-type]


@pytest.mark.parametrize("value, code", [("#VALUE!", "#VALUE!"), ("#ЗНАЧЕН!", "#ЗНАЧЕН!"), (" #n/a ", "#N/A"),
                                         ("#DIV/0!", "#DIV/0!")])
def test_spreadsheet_error_text_is_a_named_price_error(value: str, code: str) -> None:
    p = parse_price(value)
    assert p.amount is None and not p.empty
    assert p.error == f"the price cell holds the Excel error {code}"
    assert excel_error_code(p) == code


def test_ambiguous_thousands_follow_column_hint() -> None:
    assert parse_number("1,234") == Decimal("1234")
    assert parse_number("1,234", decimal_separator=",") == Decimal("1.234")
    assert parse_number("1.234", decimal_separator=",") == Decimal("1234")


@pytest.mark.parametrize(
    "text, code",
    [
        ("Цена, руб", "RUB"), ("41.00р.", "RUB"), ("€", "EUR"), ("Цена (BYN)", "BYN"), ("Ціна, грн", "UAH"),
        ("Cena zł", "PLN"), ("PLN", "PLN"), ("2 CHF", "CHF"), ("$8.00", "USD"), ("Цена, бел. руб.", "BYN"),
        ("Цена", None), ("100 kr", None), ("у.е.", None),
    ],
)
def test_currency_from_text(text: str, code: str | None) -> None:
    assert currency_from_text(text) == code


def test_currency_from_number_format() -> None:
    assert currency_from_format('0.00" грн."') == "UAH"
    assert currency_from_format('#,##0.00"₴"') == "UAH"
    assert currency_from_format("[$€-407] #,##0.00") == "EUR"
    assert currency_from_format('0.00" руб."') == "RUB"
    assert currency_from_format("#,##0.00") is None
    assert currency_from_format("General") is None
    assert iso_code("руб.") == "RUB" and iso_code("eur") == "EUR" and iso_code("RUR") == "RUB"


@pytest.mark.parametrize(
    "value, sku",
    [(586786748.0, "586786748"), ("# B7764 ", "B7764"), ("070891", "070891"), (123, "123"), ("12345.0", "12345"), (None, None), ("  ", None)],
)
def test_normalize_sku(value: object, sku: str | None) -> None:
    assert normalize_sku(value) == sku  # type: ignore[arg-type]


def test_units_and_stock() -> None:
    assert normalize_unit("шт.") == "pcs" and normalize_unit("szt") == "pcs" and normalize_unit("Stk") == "pcs"
    assert normalize_unit("компл.") == "set" and normalize_unit("м2") == "m2" and normalize_unit("рулон") == "roll"
    assert parse_stock(12.0) == (Decimal("12.0"), True)
    assert parse_stock(0) == (Decimal(0), False)
    assert parse_stock(">10") == (Decimal(10), True)
    assert parse_stock("есть") == (None, True)
    assert parse_stock("под заказ") == (None, False)
    assert parse_stock("brak") == (None, False)
    assert parse_stock("+") == (None, True)


def test_format_money() -> None:
    assert format_money(Decimal("12.5")) == "12.50"
    assert format_money(Decimal("3650")) == "3650.00"
    assert format_money(Decimal("0.125")) == "0.125"
    assert format_money(None) is None


def test_repair_mojibake() -> None:
    from ingestion.reading.normalize import mojibake_share, repair_mojibake

    broken = "Прайс «Ёж» №5".encode("utf-8").decode("cp1251")
    assert broken.startswith("РџСЂР°Р№СЃ")
    assert repair_mojibake(broken) == "Прайс «Ёж» №5"
    assert mojibake_share(broken) > 0.6 and mojibake_share("Прайс") == 0.0
    for clean in ("Рис Спорт", "Price 12,50", "", "Сёмга"):
        assert repair_mojibake(clean) == clean


@pytest.mark.parametrize(
    ("text", "code"),
    [("Цена, сом", "KGS"), ("100 Ft", "HUF"), ("5 ft", None), ("сумма", None), ("all items", None),
     ("долг", None), ("100 php", "PHP"), ("PHP", None)],
)
def test_currency_marks_of_the_second_round(text: str, code: str | None) -> None:
    assert currency_from_text(text) == code


def test_invisible_characters_are_dropped_from_text() -> None:
    from ingestion.reading.normalize import clean_text

    assert clean_text("Кабель\u00adный ВВГ\u200b") == "Кабельный ВВГ"
    assert parse_price(",5") == parse_price("0,5") and parse_price(",5").amount == Decimal("0.5")
