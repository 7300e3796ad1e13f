"""Cell-level damage: spreadsheet error cells in a price column, control characters in text cells.

Every file is written here, in ``tmp_path``; the texts are made-up catalogue lines.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest import mock

import openpyxl
import pytest
import xlrd

from ingestion.reading import api, xls_reader, xlsx_reader
from ingestion.reading.normalize import ErrorCell, strip_controls
from reading_fixtures import read_all, write_csv, write_xlsx

ERRORS = ["#DIV/0!", "#N/A", "#VALUE!", "#REF!"]


def _error_workbook(path: Path) -> Path:
    """Items A1–A9; the price cells of A2–A5 hold spreadsheet errors (type ``e`` cells, as Excel saves them)."""
    rows: list[list[Any]] = [["Артикул", "Наименование", "Цена"], ["A1", "Кабель", 10]]
    rows += [[f"A{n}", f"Товар {n}", code] for n, code in enumerate(ERRORS, start=2)]
    rows += [["A6", "Щит", 5], ["A7", "Шнур", 7], ["A8", "Лампа", 8], ["A9", "Реле", 9]]
    write_xlsx(path, rows)
    wb = openpyxl.load_workbook(path)
    for r in range(3, 7):
        assert wb.active.cell(r, 3).data_type == "e"
    return path


@pytest.mark.parametrize("streamed", [False, True])
def test_xlsx_error_cells_in_the_price_column_are_named_bad_prices(tmp_path: Path, streamed: bool) -> None:
    path = _error_workbook(tmp_path / "e.xlsx")
    with mock.patch.object(xlsx_reader, "FULL_LOAD_CELLS", -1 if streamed else 10**9):
        items, problems = read_all(path)
    assert [(i.sku, i.price) for i in items] == [
        ("A1", Decimal(10)), ("A6", Decimal(5)), ("A7", Decimal(7)), ("A8", Decimal(8)), ("A9", Decimal(9)),
    ]
    assert [(p.type, p.level, p.row, p.column) for p in problems] == [
        ("bad_price", "error", r, "Цена") for r in range(3, 7)
    ]
    for p, code in zip(problems, ERRORS):
        assert f"The price cell holds the Excel error {code}" in p.message
        assert p.row_data is not None and p.row_data["Цена"] == code


@pytest.mark.parametrize("streamed", [False, True])
def test_xlsx_error_cells_stay_empty_values_with_their_text_beside(tmp_path: Path, streamed: bool) -> None:
    path = _error_workbook(tmp_path / "e.xlsx")
    with mock.patch.object(xlsx_reader, "FULL_LOAD_CELLS", -1 if streamed else 10**9):
        (sheet,), _ = xlsx_reader.open_xlsx(str(path))
        rows = list(sheet.rows())
    assert [r.values[2] for r in rows[2:6]] == [None] * 4
    assert [r.errors for r in rows] == [None, None] + [{2: code} for code in ERRORS] + [None] * 4


def test_xlsx_error_cells_read_the_same_by_both_sheet_parsers(tmp_path: Path) -> None:
    path = _error_workbook(tmp_path / "e.xlsx")
    with open(path, "rb") as fh:
        book, (sheet,) = xlsx_reader._open_workbook(fh)
        by_expat = list(xlsx_reader._expat_rows(book, sheet.part, []))
        by_regex = list(xlsx_reader._regex_rows(book, sheet.part, []))
    assert by_regex == by_expat
    errors = [(number, v) for number, _level, cells in by_regex for _col, v, _f in cells if isinstance(v, ErrorCell)]
    assert errors == list(zip(range(3, 7), ERRORS))


def test_csv_error_text_in_the_price_column_is_a_named_bad_price(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "e.csv", [["Артикул", "Наименование", "Цена"], ["A1", "Кабель", "10"],
                                          ["A2", "Провод", "#DIV/0!"], ["A3", "Шнур", ""], ["A4", "Щит", "5"]])
    items, problems = read_all(path)
    assert [(i.sku, i.price) for i in items] == [("A1", Decimal(10)), ("A3", None), ("A4", Decimal(5))]
    assert [(p.type, p.level, p.row, p.column) for p in problems] == [
        ("bad_price", "error", 3, "Цена"), ("missing_price", "warning", 4, "Цена"),
    ]
    assert "the Excel error #DIV/0!" in problems[0].message


def test_error_cell_in_the_price_column_refuses_the_row_even_beside_another_price(tmp_path: Path) -> None:
    # retail is the kind the price is taken from: an error there is not replaced by the wholesale price
    rows = [["Артикул", "Наименование", "Цена опт", "Цена розница"], ["A1", "Кабель", 10, 12],
            ["A2", "Провод", 8, "#N/A"], ["A3", "Шнур", 7, 9]]
    items, problems = read_all(write_xlsx(tmp_path / "two.xlsx", rows))
    assert [(i.sku, i.price) for i in items] == [("A1", Decimal(12)), ("A3", Decimal(9))]
    assert [(p.type, p.level, p.row, p.column) for p in problems] == [("bad_price", "error", 3, "Цена розница")]
    assert "The retail price cell holds the Excel error #N/A" in problems[0].message
    assert "other price column is not taken" in problems[0].message


def test_error_cell_in_a_secondary_price_column_keeps_the_item_with_a_warning(tmp_path: Path) -> None:
    rows = [["Артикул", "Наименование", "Цена опт", "Цена розница"], ["A1", "Кабель", 10, 12],
            ["A2", "Провод", "#N/A", 11], ["A3", "Шнур", 7, 9]]
    items, problems = read_all(write_xlsx(tmp_path / "two.xlsx", rows))
    assert [(i.sku, i.price) for i in items] == [("A1", Decimal(12)), ("A2", Decimal(11)), ("A3", Decimal(9))]
    assert [(p.type, p.level, p.row, p.column) for p in problems] == [("bad_price", "warning", 3, "Цена опт")]
    assert problems[0].message == "The wholesale price cell holds the Excel error #N/A; it is not read."


def test_error_cell_on_a_section_row_leaves_it_a_section(tmp_path: Path) -> None:
    rows = [["Артикул", "Наименование", "Цена"], [None, "Кабели", "#DIV/0!"], ["A1", "Кабель", 10],
            ["A2", "Провод", 8]]
    items, problems = read_all(write_xlsx(tmp_path / "s.xlsx", rows))
    assert [(i.sku, i.category_path) for i in items] == [("A1", ("Кабели",)), ("A2", ("Кабели",))]
    assert problems == []


def _xls_cell(ctype: int, value: Any) -> SimpleNamespace:
    return SimpleNamespace(ctype=ctype, value=value, xf_index=0)


def test_xls_error_cells_in_the_price_column_are_named_bad_prices(tmp_path: Path) -> None:
    text, number, error = xlrd.XL_CELL_TEXT, xlrd.XL_CELL_NUMBER, xlrd.XL_CELL_ERROR
    grid = [
        [_xls_cell(text, "Артикул"), _xls_cell(text, "Наименование"), _xls_cell(text, "Цена")],
        [_xls_cell(text, "A1"), _xls_cell(text, "Кабель"), _xls_cell(number, 10.0)],
        [_xls_cell(text, "A2"), _xls_cell(text, "Провод"), _xls_cell(error, 7)],   # #DIV/0!
        [_xls_cell(text, "A3"), _xls_cell(text, "Шнур"), _xls_cell(error, 42)],    # #N/A
        [_xls_cell(text, "A4"), _xls_cell(text, "Щит"), _xls_cell(number, 5.0)],
    ]
    sheet = SimpleNamespace(name="Лист1", nrows=len(grid), row=lambda r: grid[r], cell=lambda r, c: grid[r][c],
                            merged_cells=[], rowinfo_map={}, visibility=0)
    book = SimpleNamespace(sheets=lambda: [sheet], formatting_info=False, datemode=0, biff_version=80,
                           encoding="utf_16_le", codepage=1200)
    path = tmp_path / "e.xls"
    path.write_bytes(api.OLE2_MAGIC + b"\0" * 504)
    with mock.patch.object(xls_reader, "open_book", return_value=(book, False)):
        rows = list(xls_reader.open_xls(str(path))[0][0].rows())
        items, problems = read_all(path)
    assert [r.errors for r in rows] == [None, None, {2: "#DIV/0!"}, {2: "#N/A"}, None]
    assert [(i.sku, i.price) for i in items] == [("A1", Decimal(10)), ("A4", Decimal(5))]
    assert [(p.type, p.level, p.row, p.column) for p in problems] == [
        ("bad_price", "error", 3, "Цена"), ("bad_price", "error", 4, "Цена"),
    ]
    assert "#DIV/0!" in problems[0].message and "#N/A" in problems[1].message


# ---------------------------------------------------------------- control characters
@pytest.mark.parametrize("text, clean", [
    ("Кабель\x07ВВГ", "Кабель ВВГ"), ("ВВГ\x1b", "ВВГ"), ("\x1bЛампа", "Лампа"), ("Лампа \x7f60 Вт", "Лампа 60 Вт"),
    ("Розетка\x85белая", "Розетка белая"), ("A-\x0b1", "A-1"), ("строка\tс\nпереносом\r", "строка\tс\nпереносом\r"),
    ("без управляющих", "без управляющих"),
])
def test_strip_controls(text: str, clean: str) -> None:
    assert strip_controls(text) == clean


def test_control_characters_are_removed_from_csv_cells_and_noted_once(tmp_path: Path) -> None:
    # line 3 has a quoted cell (read by the csv module), the others are split without it
    body = ("Артикул;Наименование;Цена\n"
            "A1\x07;Кабель\x07ВВГ 3х2,5;10\n"
            'A2;"Провод\x1bПВС; медный";20\n'
            "A3;\x1b\x7f;30\n"
            "A4;Лампа\u0085E27\x9f;40\n")
    path = tmp_path / "c.csv"
    path.write_text(body, encoding="utf-8")
    items, problems = read_all(path)
    assert [(i.sku, i.name, i.price) for i in items] == [
        ("A1", "Кабель ВВГ 3х2,5", Decimal(10)), ("A2", "Провод ПВС; медный", Decimal(20)),
        ("A4", "Лампа E27", Decimal(40)),
    ]
    assert [(p.type, p.level) for p in problems] == [("control_characters", "warning"), ("missing_name", "error")]
    assert (problems[0].row, problems[0].column) == (2, "Артикул")
    assert problems[1].row == 4  # a name of nothing but control characters is no name


@pytest.mark.parametrize("streamed", [False, True])
def test_control_characters_in_xlsx_cells_read_the_same_both_ways(tmp_path: Path, streamed: bool) -> None:
    # DEL and C1 controls may stand in XML text as they are (openpyxl refuses C0 controls in cells)
    rows = [["Артикул", "Наименование", "Цена"], ["A1", "Кабель ВВГ", 10], ["A2\x7f", "Провод\x9bПВС", 20],
            ["A3", "Лампа\u0085E27", 30], ["A4", "\x7f", 40]]
    path = write_xlsx(tmp_path / "c.xlsx", rows)
    with mock.patch.object(xlsx_reader, "FULL_LOAD_CELLS", -1 if streamed else 10**9):
        items, problems = read_all(path)
    assert [(i.sku, i.name) for i in items] == [("A1", "Кабель ВВГ"), ("A2", "Провод ПВС"), ("A3", "Лампа E27")]
    assert [(p.type, p.row, p.column) for p in problems] == [
        ("control_characters", 3, "Артикул"), ("missing_name", 5, "Наименование"),
    ]


def test_control_characters_are_noted_once_per_file_over_sheets(tmp_path: Path) -> None:
    sheet = [["Артикул", "Наименование", "Цена"], ["A1", "Кабель\u0085ВВГ", 10], ["A2", "Провод\u0086", 20]]
    path = write_xlsx(tmp_path / "two.xlsx", sheet, extra_sheets={"Второй": sheet})
    items, problems = read_all(path)
    assert [i.name for i in items] == ["Кабель ВВГ", "Провод"] * 2
    assert [(p.type, p.sheet, p.row, p.column) for p in problems] == [
        ("control_characters", "Прайс", 2, "Наименование"),
    ]


# --- OOXML string escapes (_xHHHH_) ------------------------------------------------------------------
@pytest.mark.parametrize("text, decoded", [
    ("Кабель ВВГ_x000D_\n3х2,5", "Кабель ВВГ\r\n3х2,5"),  # Excel's carriage return in a cell with line breaks
    ("Код_x005F_x000D_", "Код_x000D_"),  # an escaped underscore: the text really reads _x000D_
    ("A_x0041__x0042_", "AAB"),
    ("_x00zz_ и _x41_", "_x00zz_ и _x41_"),  # not an escape: left alone
    ("plain", "plain"),
])
def test_xstring_escapes_are_decoded(text: str, decoded: str) -> None:
    assert xlsx_reader.unescape_xstring(text) == decoded


@pytest.mark.parametrize("streamed", [False, True])
def test_excel_line_break_escapes_do_not_reach_names(tmp_path: Path, streamed: bool) -> None:
    path = write_xlsx(tmp_path / "x.xlsx", [
        ["Артикул", "Наименование", "Цена"],
        ["K1", "Кабель ВВГнг_x000D_\n3х2,5", 10],
        ["K2", "Маркировка _x005F_x000D_ как есть", 11],
    ])
    with mock.patch.object(xlsx_reader, "FULL_LOAD_CELLS", -1 if streamed else 10**9):
        items, problems = read_all(path)
    assert [i.name for i in items] == ["Кабель ВВГнг 3х2,5", "Маркировка _x000D_ как есть"]
    assert problems == []
