"""Prices in doubt are refused, never stored as a guess.

A unit or a percent beside the number, a never-closed quote whose repair has
more than one reading, control characters among the digits, a spreadsheet
error or an uncalculated formula in the column the price is taken from, a
decimal mark the column's own values contradict — each refuses its row with
an error (row, column, what to fix) and the rest of the file is read.  A file
whose priced items have no currency says so once.

Every file is written here, in ``tmp_path``; the texts are made-up catalogue lines.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from openpyxl import Workbook

from ingestion.errors import Problem
from ingestion.reading import ReadOptions, xlsx_reader
from ingestion.reading.model import Item
from ingestion.reading.normalize import FORMULA_MARK, ErrorCell, parse_price, strip_controls
from reading_fixtures import read_all, write_xlsx

HEADER = "Артикул,Наименование,Цена\n"
GOOD = "S1,Кабель ВВГ,100\nS3,Розетка,200\nS4,Вилка,300\n"
AFTER = "S9,Болт,70\n"


def _csv(tmp_path: Path, body: str, name: str = "list.csv") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def _errors(problems: list[Problem]) -> list[tuple[str, int | None, str | None]]:
    return [(p.type, p.row, p.column) for p in problems if p.level == "error"]


def _priced(items: list[Item]) -> list[tuple[str | None, object]]:
    """(SKU, price) of each item (compared with ints and Decimals alike)."""
    return [(i.sku, i.price) for i in items]


# ---------------------------------------------------------------- 1. a unit or a percent is not a price
@pytest.mark.parametrize("cell", ["5 мм", "12 шт", "3 кг", "5%", "5 %", "7 м²", "2 pcs", "4 л", "5 шт/уп",
                                  "5 тыс. руб", "2 т.р."])
def test_unit_percent_or_multiplier_in_the_price_cell_refuses_the_row(tmp_path: Path, cell: str) -> None:
    items, problems = read_all(_csv(tmp_path, HEADER + GOOD + f'S2,Болт М5,"{cell}"\n' + AFTER))
    assert _priced(items) == [("S1", 100), ("S3", 200), ("S4", 300), ("S9", 70)]
    assert _errors(problems) == [("bad_price", 5, "Цена")]
    (bad,) = [p for p in problems if p.level == "error"]
    assert repr(cell) in bad.message and bad.row_data is not None and bad.row_data["Цена"] == cell


@pytest.mark.parametrize(("cell", "amount", "currency"), [
    ("100 руб", Decimal("100"), "RUB"), ("от 50 р.", Decimal("50"), "RUB"), ("41.00р.", Decimal("41.00"), "RUB"),
    ("1 234,56 руб. с НДС", Decimal("1234.56"), "RUB"), ("250 ₽", Decimal("250"), "RUB"),
    ("$8.00", Decimal("8.00"), "USD"), ("12 USD", Decimal("12"), "USD"), ("€5", Decimal("5"), "EUR"),
    ("100 грн", Decimal("100"), "UAH"), ("10 zł", Decimal("10"), "PLN"), ("2 CHF", Decimal("2"), "CHF"),
    ("from 10 EUR", Decimal("10"), "EUR"), ("100 руб/шт", Decimal("100"), "RUB"),
    ("120,50 руб./м", Decimal("120.50"), "RUB"), ("$5 each", Decimal("5"), "USD"), ("$5 per pc", Decimal("5"), "USD"),
    ("50 за м", Decimal("50"), None), ("11=90", Decimal("11.90"), None), ("(5) руб", Decimal("-5"), "RUB"),
    ("100 без НДС", Decimal("100"), None), ("5 бр", Decimal("5"), "BYN"),
])
def test_currency_marks_and_price_words_still_read(cell: str, amount: Decimal, currency: str | None) -> None:
    p = parse_price(cell)
    assert (p.amount, p.currency, p.error) == (amount, currency, None)


def test_unit_in_one_of_two_price_columns(tmp_path: Path) -> None:
    # the main (retail) column holds a size: refused; a size in the wholesale column: a warning on the item
    body = ("Артикул,Наименование,Цена розница,Цена опт\nS1,Кабель,100,90\nS2,Болт,5 мм,4\n"
            "S3,Гайка,12,3 кг\nS4,Шайба,7,6\n")
    items, problems = read_all(_csv(tmp_path, body))
    assert _priced(items) == [("S1", 100), ("S3", 12), ("S4", 7)]
    assert [(p.type, p.level, p.row, p.column) for p in problems] == [
        ("bad_price", "error", 3, "Цена розница"), ("bad_price", "warning", 4, "Цена опт"),
    ]


# ---------------------------------------------------------------- 2. never-closed quotes read one way only
@pytest.mark.parametrize("damaged", [
    'S2,"Кабель 3,5 мм,250,50',   # 250,50 or 50 as the price
    'S2,"Кабель 3,5 мм',          # the "price" 5 would be the 5 of 3,5
    'S2,"Кабель 3,5',
    'S2,"Кабель ВВГ 3х2,5,100',   # 5,100 or 100
])
def test_ambiguous_repair_of_a_never_closed_quote_refuses_the_row(tmp_path: Path, damaged: str) -> None:
    items, problems = read_all(_csv(tmp_path, HEADER + GOOD + damaged + "\n" + AFTER))
    assert _priced(items) == [("S1", 100), ("S3", 200), ("S4", 300), ("S9", 70)]  # the rows after it read normally
    assert _errors(problems) == [("unreadable_row", 5, "Наименование")]
    (refused,) = problems
    assert "never closed" in refused.message and "not read" in refused.message and "Close the quote" in refused.message
    assert refused.row_data is not None and refused.row_data["line"] == damaged  # the raw line is logged
    assert refused.row_data["Артикул"] == "S2"


def test_never_closed_quote_with_one_reading_is_still_repaired(tmp_path: Path) -> None:
    items, problems = read_all(_csv(tmp_path, HEADER + GOOD + 'S2,"Кабель ВВГ, медный,250\n' + AFTER))
    assert [(i.sku, i.name, i.price) for i in items][3] == ("S2", '"Кабель ВВГ, медный', Decimal(250))
    assert [(p.type, p.level, p.row) for p in problems] == [("unterminated_quote", "warning", 5)]


def test_never_closed_quote_with_a_semicolon_keeps_its_decimal_comma(tmp_path: Path) -> None:
    body = HEADER.replace(",", ";") + GOOD.replace(",", ";") + 'S2;"Кабель 3,5 мм;250,50\n' + AFTER.replace(",", ";")
    items, problems = read_all(_csv(tmp_path, body))
    assert [(i.sku, i.name, i.price) for i in items][3] == ("S2", '"Кабель 3,5 мм', Decimal("250.50"))
    assert [p.type for p in problems] == ["unterminated_quote"]


# ---------------------------------------------------------------- 3. control characters
def test_control_character_among_the_digits_of_a_price_refuses_the_row(tmp_path: Path) -> None:
    items, problems = read_all(_csv(tmp_path, HEADER + GOOD + "S2,Кабель,6\x0700\n" + AFTER))
    assert _priced(items) == [("S1", 100), ("S3", 200), ("S4", 300), ("S9", 70)]
    assert [(p.type, p.level, p.row, p.column) for p in problems] == [
        ("control_characters", "warning", 5, "Цена"), ("bad_price", "error", 5, "Цена"),
    ]
    assert "control characters" in problems[1].message and "cannot be trusted" in problems[1].message


def test_ansi_colour_sequences_are_removed_whole(tmp_path: Path) -> None:
    assert strip_controls("\x1b[31mБолт\x1b[0m") == "Болт"
    assert strip_controls("\x1b[1;32mКабель\x1b[0m ВВГ") == "Кабель ВВГ"
    body = HEADER + GOOD + "S2,\x1b[31mБолт М6\x1b[0m,70\nS5,Гайка,\x1b[32m80\x1b[0m\n"
    items, problems = read_all(_csv(tmp_path, body))
    # colour codes around a price leave its digits whole: it is read
    assert [(i.sku, i.name, i.price) for i in items][3:] == [("S2", "Болт М6", Decimal(70)), ("S5", "Гайка", Decimal(80))]
    assert [p.type for p in problems] == ["control_characters"]


# ---------------------------------------------------------------- 4. error cells and uncalculated formulas
TWO_PRICES = ["Артикул", "Наименование", "Цена", "Цена опт"]


@pytest.mark.parametrize("streamed", [False, True])
def test_every_error_in_the_main_price_column_refuses_its_row_alike(tmp_path: Path, streamed: bool) -> None:
    rows: list[list[Any]] = [TWO_PRICES, ["X1", "Вилка", 100, 90], ["X2", "Розетка", "#DIV/0!", 80],
                             ["X3", "Болт", "#N/A", 4], ["X4", "Гайка", "#REF!", 3], ["X5", "Шайба", 7, 6]]
    path = write_xlsx(tmp_path / "e.xlsx", rows)
    with mock.patch.object(xlsx_reader, "FULL_LOAD_CELLS", -1 if streamed else 10**9):
        items, problems = read_all(path)
    assert _priced(items) == [("X1", 100), ("X5", 7)]
    bad = [p for p in problems if p.type == "bad_price"]
    assert [(p.level, p.row, p.column) for p in bad] == [("error", r, "Цена") for r in (3, 4, 5)]
    for p, code in zip(bad, ["#DIV/0!", "#N/A", "#REF!"]):
        assert p.message.startswith(f"The price cell holds the Excel error {code}, not a price")
        assert "price price" not in p.message


def _formula_workbook(path: Path, rows: list[list[Any]]) -> Path:
    """A workbook as openpyxl writes it: formula cells carry no saved result."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


@pytest.mark.parametrize("streamed", [False, True])
@pytest.mark.parametrize("header", [TWO_PRICES, TWO_PRICES[:3]])
def test_formula_without_a_saved_result_is_named(tmp_path: Path, streamed: bool, header: list[str]) -> None:
    width = len(header)
    rows: list[list[Any]] = [header, ["X1", "Вилка", 100, 90][:width], ["X2", "Розетка", "=1/0", 80][:width],
                             ["X3", "Болт", 5, 4][:width]]
    path = _formula_workbook(tmp_path / "f.xlsx", rows)
    with mock.patch.object(xlsx_reader, "FULL_LOAD_CELLS", -1 if streamed else 10**9):
        items, problems = read_all(path)
    assert _priced(items) == [("X1", 100), ("X3", 5)]
    assert [(p.type, p.level, p.row, p.column) for p in problems] == [("bad_price", "error", 3, "Цена")]
    message = problems[0].message
    assert "formula (=1/0) with no saved result" in message
    assert "open the file in Excel, let it recalculate, save, and send it again" in message.replace("Open", "open")
    assert problems[0].row_data is not None and problems[0].row_data["Цена"] == "=1/0"


def test_formula_without_result_in_the_wholesale_column_is_a_warning(tmp_path: Path) -> None:
    rows: list[list[Any]] = [TWO_PRICES, ["X1", "Вилка", 100, 90], ["X2", "Розетка", 85, "=B2*0.9"]]
    items, problems = read_all(_formula_workbook(tmp_path / "w.xlsx", rows))
    assert _priced(items) == [("X1", 100), ("X2", 85)]
    assert [(p.type, p.level, p.row, p.column) for p in problems] == [("bad_price", "warning", 3, "Цена опт")]
    assert "formula with no saved result" in problems[0].message


def test_both_sheet_parsers_read_a_formula_without_result_alike(tmp_path: Path) -> None:
    rows: list[list[Any]] = [TWO_PRICES[:3], ["X1", "Вилка", "=SUM(1,2)"], ["X2", "Болт", 5]]
    path = _formula_workbook(tmp_path / "p.xlsx", rows)
    with open(path, "rb") as fh:
        book, (sheet,) = xlsx_reader._open_workbook(fh)
        by_expat = list(xlsx_reader._expat_rows(book, sheet.part, []))
        by_regex = list(xlsx_reader._regex_rows(book, sheet.part, []))
    assert by_regex == by_expat
    cells = [v for _n, _l, cells in by_regex for _c, v, _f in cells if isinstance(v, ErrorCell)]
    assert cells == [FORMULA_MARK + "SUM(1,2)"]


# ---------------------------------------------------------------- 5. no currency anywhere
def test_list_without_any_currency_says_so_once(tmp_path: Path) -> None:
    items, problems = read_all(_csv(tmp_path, HEADER + GOOD + "S5,Гайка,\n"), currency_note=True)
    assert [i.currency for i in items] == [None] * 4
    notes = [p for p in problems if p.type == "missing_currency"]
    assert len(notes) == 1 and notes[0].level == "warning" and notes[0].row is None
    assert notes[0].message.startswith("3 of the 3 items with a price have no currency")
    assert "default currency" in notes[0].message and "currency column" in notes[0].message


def test_default_currency_of_the_supplier_silences_the_warning(tmp_path: Path) -> None:
    items, problems = read_all(_csv(tmp_path, HEADER + GOOD), ReadOptions(currency="RUB"), currency_note=True)
    assert {i.currency for i in items} == {"RUB"}
    assert [p.type for p in problems] == []


def test_currency_in_the_header_or_cells_gives_no_warning_and_a_mix_is_counted(tmp_path: Path) -> None:
    _, problems = read_all(_csv(tmp_path, HEADER.replace("Цена", "Цена руб") + GOOD, "h.csv"), currency_note=True)
    assert problems == []
    body = HEADER + "S1,Кабель,100 руб\nS2,Провод,200\nS3,Щит,$5\n"
    items, problems = read_all(_csv(tmp_path, body, "m.csv"), currency_note=True)
    assert [i.currency for i in items] == ["RUB", None, "USD"]
    assert [p.message[:40] for p in problems if p.type == "missing_currency"] == [
        "1 of the 3 items with a price has no cur"
    ]


# ---------------------------------------------------------------- 6. a decimal mark the column contradicts
def test_value_whose_reading_the_column_contradicts_is_refused(tmp_path: Path) -> None:
    body = HEADER + GOOD + 'S5,Щит,"1,234,567"\nS6,Гайка,12.345\n' + AFTER
    items, problems = read_all(_csv(tmp_path, body))
    assert _priced(items) == [("S1", 100), ("S3", 200), ("S4", 300), ("S5", 1234567), ("S9", 70)]
    assert _errors(problems) == [("bad_price", 6, "Цена")]
    (bad,) = [p for p in problems if p.level == "error"]
    assert "'1,234,567'" in bad.message and "12.345 or 12345" in bad.message and "decimal separator" in bad.message


def test_contradicting_value_after_the_sample_still_counts(tmp_path: Path) -> None:
    rows = "".join(f"A{n},Товар {n},{100 + n}\n" for n in range(400))  # beyond the layout's value sample
    body = HEADER + rows + 'S5,Щит,"2,500,000"\nS6,Гайка,12.345\n'
    items, problems = read_all(_csv(tmp_path, body))
    assert len(items) == 401 and items[-1].price == Decimal(2500000)
    assert _errors(problems) == [("bad_price", 403, "Цена")]


def test_ambiguous_value_without_contradiction_reads_as_before(tmp_path: Path) -> None:
    items, problems = read_all(_csv(tmp_path, HEADER + GOOD + "S6,Гайка,12.345\n"))
    assert items[-1].price == Decimal(12345)
    assert [p.type for p in problems] == ["ambiguous_number_locale"]


def test_supplier_decimal_separator_settles_the_doubt(tmp_path: Path) -> None:
    body = HEADER + GOOD + 'S5,Щит,"1,234,567"\nS6,Гайка,12.345\n'
    items, problems = read_all(_csv(tmp_path, body), ReadOptions(decimal_separator="."))
    assert _priced(items)[-2:] == [("S5", 1234567), ("S6", Decimal("12.345"))]
    assert _errors(problems) == []


def test_items_the_store_refuses_are_not_counted_as_missing_a_currency(tmp_path: Path) -> None:
    from ingestion.checks import check_item

    body = HEADER + "S1,Болт,-5\nS2,Гайка,10\n" + "X" * 300 + ",Шайба,20\nS4,Винт,1e13\nS5,Шпилька,30 руб\n"
    items, problems = read_all(_csv(tmp_path, body), currency_note=True)
    kept = [i for i in items if check_item(i)[0] is not None]
    assert [i.sku for i in kept] == ["S2", "S5"]
    assert [p.message[:40] for p in problems if p.type == "missing_currency"] == [
        "1 of the 2 items with a price has no cur"
    ]
