"""Sheets and layouts: no header, contents pages, side-by-side tables, outlines, number locale, damaged XLS."""

from __future__ import annotations

import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from openpyxl import Workbook

from ingestion.reading import ReadOptions, open_price_list
from ingestion.reading import xls_reader, xlsx_reader
from reading_fixtures import read_all, write_csv, write_xlsx


def test_no_header_roles_from_values(tmp_path: Path) -> None:
    rows = [["ООО Поставщик"], []] + [
        [f"KX-{100 + i}", f"Светильник потолочный модель {i}", "шт", f"{1200 + i * 7},50", i % 3]
        for i in range(12)
    ]
    path = write_csv(tmp_path / "nh.csv", rows)
    pl = open_price_list(path)
    recs = list(pl.records())
    items = [r for r in recs if hasattr(r, "name")]
    assert len(items) == 12
    first = items[0]
    assert (first.sku, first.name, first.unit, first.price, first.stock) == (
        "KX-100", "Светильник потолочный модель 0", "pcs", Decimal("1200.50"), Decimal(0))
    info = [r for r in recs if getattr(r, "type", "") == "no_header"]
    assert len(info) == 1 and info[0].level == "info"
    assert pl.layouts[0].header_rows == []


def test_no_header_without_names_still_refused(tmp_path: Path) -> None:
    from ingestion.errors import NoItems

    path = write_xlsx(tmp_path / "codes.xlsx", [["PG1", 30], ["PG2", 40], ["PG3", 35]])
    with pytest.raises(NoItems):
        read_all(path)


def test_unknown_header_words_are_not_guessed(tmp_path: Path) -> None:
    """A header in words the vocabulary lacks is still a header: no item is made of it or under it."""
    rows = [["Nummer", "Gruppe_titel", "Eltern"]] + [[i, f"Gruppe nummer {i} lang", 1] for i in range(1, 8)]
    from ingestion.errors import NoItems

    with pytest.raises(NoItems):
        read_all(write_xlsx(tmp_path / "g.xlsx", rows))


def test_ambiguous_number_locale_is_chosen_and_logged(tmp_path: Path) -> None:
    ru = write_csv(tmp_path / "ru.csv", [["Наименование", "Цена"], ["Болт", "1,250"], ["Гайка", "2,500"]])
    items, problems = read_all(ru)
    assert [i.price for i in items] == [Decimal("1.250"), Decimal("2.500")]
    (p,) = [p for p in problems if p.type == "ambiguous_number_locale"]
    assert p.level == "info" and p.column == "Цена" and "','" in p.message
    en = write_csv(tmp_path / "en.csv", [["Product", "Price"], ["Bolt", "1,250"], ["Nut", "2,500"]])
    items, problems = read_all(en)
    assert [i.price for i in items] == [Decimal("1250"), Decimal("2500")]
    assert [p.type for p in problems] == ["ambiguous_number_locale"]
    clear = write_csv(tmp_path / "c.csv", [["Product", "Price"], ["Bolt", "1,250"], ["Nut", "2.50"]])
    _, problems = read_all(clear)
    assert problems == []


def test_table_of_contents_and_empty_sheets_skipped(tmp_path: Path) -> None:
    toc = [["Раздел", "Цена от"], ["Кабели и провода", 10], ["Автоматы защиты", 20]]
    path = write_xlsx(tmp_path / "t.xlsx", toc, title="Содержание", extra_sheets={
        "Кабели и провода": [["Наименование", "Цена"], ["Кабель ВВГ", 10]],
        "Автоматы защиты": [["Наименование", "Цена"], ["Автомат 16А", 20]],
        "Пустой": [],
    })
    pl = open_price_list(path)
    names = [r.name for r in pl.records() if hasattr(r, "name")]
    assert names == ["Кабель ВВГ", "Автомат 16А"]
    assert {s["sheet"]: s["reason"] for s in pl.details["skipped_sheets"]} == {
        "Содержание": "table of contents", "Пустой": "empty sheet"}


def test_side_by_side_tables_read_as_two(tmp_path: Path) -> None:
    rows = [["Артикул", "Наименование", "Цена", None, "Артикул", "Наименование", "Цена"],
            ["A-1", "Болт М6", 1.5, None, "B-1", "Гайка М6", 0.5],
            ["A-2", "Болт М8", 2.5, None, "B-2", "Гайка М8", 0.7],
            ["A-3", "Болт М10", 3.5, None, None, None, None]]
    pl = open_price_list(write_xlsx(tmp_path / "sbs.xlsx", rows))
    recs = list(pl.records())
    items = [r for r in recs if hasattr(r, "name")]
    assert sorted((i.sku, i.name, i.price) for i in items) == [
        ("A-1", "Болт М6", Decimal("1.5")), ("A-2", "Болт М8", Decimal("2.5")), ("A-3", "Болт М10", Decimal("3.5")),
        ("B-1", "Гайка М6", Decimal("0.5")), ("B-2", "Гайка М8", Decimal("0.7"))]
    assert len(pl.layouts) == 2
    # the file names no currency: the file-level note comes last
    assert [r.type for r in recs if not hasattr(r, "name")] == ["side_by_side_tables"] * 2 + ["missing_currency"]


def test_repeated_header_inside_data_skipped(tmp_path: Path) -> None:
    rows = [["Код", "Наименование", "Цена"], ["1", "Болт", 1], ["Код", "Наименование", "Цена"], ["2", "Гайка", 2]]
    items, problems = read_all(write_xlsx(tmp_path / "rh.xlsx", rows))
    assert [i.name for i in items] == ["Болт", "Гайка"] and problems == []


def _outline_workbook(path: Path) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "Прайс"
    ws.append(["Наименование", "Цена"])
    ws.append(["Светильники"])
    for i in range(3):
        ws.append([f"Товар {i}", 10 + i])
    for r in (3, 4, 5):
        ws.row_dimensions[r].outline_level = 1
        ws.row_dimensions[r].hidden = True  # a collapsed group
    ws.sheet_properties.outlinePr.summaryBelow = False
    wb.save(path)
    return path


@pytest.mark.parametrize("streamed", [False, True])
def test_rows_in_collapsed_outline_groups_are_read(tmp_path: Path, streamed: bool) -> None:
    with mock.patch.object(xlsx_reader, "FULL_LOAD_CELLS", 0 if streamed else xlsx_reader.FULL_LOAD_CELLS):
        items, problems = read_all(_outline_workbook(tmp_path / "o.xlsx"))
    assert [(i.name, i.category_path) for i in items] == [(f"Товар {i}", ("Светильники",)) for i in range(3)]
    assert problems == []


def test_merged_cells_resolved_when_streaming(tmp_path: Path) -> None:
    rows = [["Код", "Наименование", "Цена"], ["Кабели", None, None], ["001", "Кабель ВВГ", 10],
            ["002", "Кабель NYM", 11]]
    path = write_xlsx(tmp_path / "mg.xlsx", rows, merges=["A2:C2", "B3:B4"])
    with mock.patch.object(xlsx_reader, "FULL_LOAD_CELLS", 0):
        items, _ = read_all(path)
    assert [(i.sku, i.name, i.category_path) for i in items] == [
        ("001", "Кабель ВВГ", ("Кабели",)), ("002", "Кабель ВВГ", ("Кабели",))]


def test_damaged_xls_is_opened_with_a_warning() -> None:
    """xlrd's "Workbook corruption": the book is re-opened tolerantly and a warning is handed out."""
    from xlrd.compdoc import CompDocError

    calls: list[bool] = []

    class Book:
        codepage = 1200
        biff_version = 80
        encoding = "utf_16_le"
        formatting_info = True

        def sheets(self) -> list[Any]:
            return []

    def fake_open(path: str, encoding: str | None, formatting: bool, tolerant: bool = False) -> Any:
        calls.append(tolerant)
        if not tolerant:
            raise CompDocError("Workbook corruption: seen[2] == 4")
        return Book()

    with mock.patch.object(xls_reader, "_open", fake_open):
        sources, details = xls_reader.open_xls("damaged.xls")
    assert calls == [False, True]
    assert details["damaged_workbook"] is True
    (p,) = details["problems"]
    assert p.type == "damaged_workbook" and p.level == "warning"


def test_sheet_option_still_reads_a_contents_like_sheet(tmp_path: Path) -> None:
    toc = [["Наименование", "Цена от"], ["Кабели", 10], ["Автоматы", 20]]
    path = write_xlsx(tmp_path / "t2.xlsx", toc, title="Содержание", extra_sheets={
        "Кабели": [["Наименование", "Цена"], ["Кабель ВВГ", 10]], "Автоматы": [["Наименование", "Цена"], ["A", 1]]})
    items, _ = read_all(path, ReadOptions(sheet="Содержание"))
    assert [i.name for i in items] == ["Кабели", "Автоматы"]


def _write_only_workbook(path: Path, rows: int) -> Path:
    """A workbook as openpyxl's write-only mode saves it: its sheet states no ``<dimension>``."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Прайс")
    ws.append(["Артикул", "Наименование", "Цена"])
    for n in range(rows):
        ws.append([f"A{n:05d}", f"Товар номер {n}", n + 0.5])
    wb.save(path)
    return path


def test_a_large_sheet_stating_no_size_is_streamed(tmp_path: Path) -> None:
    small = _write_only_workbook(tmp_path / "small.xlsx", 5)
    large = _write_only_workbook(tmp_path / "large.xlsx", 2_000)
    assert xlsx_reader.stated_size(zipfile.ZipFile(large), "xl/worksheets/sheet1.xml") == (0, 0)
    with mock.patch.object(xlsx_reader, "FULL_LOAD_CELLS", 1_000):  # 3 columns × 2,000 rows is more
        assert xlsx_reader.open_xlsx(str(small))[1]["read_only"] is False
        assert xlsx_reader.open_xlsx(str(large))[1]["read_only"] is True
        items, problems = read_all(large)
    assert len(items) == 2_000 and problems == []
    assert (items[-1].sku, items[-1].price) == ("A01999", Decimal("1999.5"))
