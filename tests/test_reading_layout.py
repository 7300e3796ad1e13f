"""Layout detection and row classification on XLSX files written by the test."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from ingestion.errors import CorruptFile, NoItems, UnsupportedFormat
from ingestion.reading import ReadOptions, open_price_list
from reading_fixtures import read_all, write_xlsx

TITLE_AND_TWO_ROW_HEADER = [
    ["ООО «Тестовый поставщик»"],
    ["г. Город, ул. Улица, 1, тел. +7 (000) 000-00-00"],
    ["Прайс-лист на 01.01.2025"],
    [],
    ["Артикул", "Наименование", "Цена, руб", None, "Остаток"],
    [None, None, "опт", "розница", None],
    ["Кабели"],
    ["00123", "Кабель ВВГ 3x1,5", 90.5, 100, 12],
    ["A-77", "Кабель NYM 3x2,5", "1 234,50", "1 350,00", "есть"],
    ["Автоматы"],
    ["B-1", "Автомат 16А", "189,5", "210", 0],
    ["B-2", None, 10, 12, 1],
    ["B-3", "Автомат 25А", "abc", "abc", 3],
    ["B-4", "Щит ЩРН-12", "по запросу", "по запросу", None],
    ["Артикул", "Наименование", "Цена, руб", None, "Остаток"],
    ["B-5", "Автомат 32А", 300, 330, 5],
    [],
    ["Итого: 6 позиций"],
]


@pytest.fixture()
def sample(tmp_path: Path) -> Path:
    return write_xlsx(tmp_path / "list.xlsx", TITLE_AND_TWO_ROW_HEADER, merges=["C5:D5", "A7:E7", "A10:E10"])


def test_title_block_two_row_header_sections_and_bad_rows(sample: Path) -> None:
    pl = open_price_list(sample)
    items, problems = read_all(sample)
    assert pl.file_type == "xlsx"
    assert [i.row for i in items] == [8, 9, 11, 14, 16]
    first = items[0]
    assert first.sku == "00123" and first.name == "Кабель ВВГ 3x1,5"
    assert first.prices == {"wholesale": Decimal("90.5"), "retail": Decimal("100")}
    assert first.price == Decimal("100")  # retail wins
    assert first.currency == "RUB"
    assert first.category_path == ("Кабели",)
    assert first.stock == Decimal(12) and first.available is True
    second = items[1]
    assert second.price == Decimal("1350.00") and second.prices["wholesale"] == Decimal("1234.50")
    assert second.available is True and second.stock is None
    assert items[2].category_path == ("Автоматы",) and items[2].price == Decimal("210")
    on_request = items[3]
    assert on_request.price is None and on_request.currency is None
    by_type = {(p.type, p.row) for p in problems if p.type != "layout_note"}
    assert by_type == {("missing_name", 12), ("bad_price", 13), ("price_on_request", 14)}
    bad = next(p for p in problems if p.type == "bad_price")
    assert bad.level == "error" and bad.sheet == "Прайс" and bad.row_data and bad.row_data["Артикул"] == "B-3"
    assert next(p for p in problems if p.type == "price_on_request").level == "warning"


def test_layout_reported(sample: Path) -> None:
    pl = open_price_list(sample)
    list(pl.records())
    (layout,) = pl.layouts
    assert layout.header_rows == [5, 6]
    assert layout.columns["Артикул"] == "sku"
    assert layout.columns["Наименование"] == "name"
    assert sorted(v for v in layout.columns.values() if v.startswith("price")) == ["price:retail", "price:wholesale"]
    assert layout.currency == "RUB"
    assert layout.items == 5


def test_overrides_win(sample: Path) -> None:
    opts = ReadOptions(header_row=5, column_mapping={"C": "price", "D": "ignore"}, currency="EUR")
    items, _ = read_all(sample, opts)
    assert items[0].price == Decimal("90.5") and set(items[0].prices) == {"price"}
    assert items[0].currency == "RUB"  # the header still names roubles; options are the fallback


def test_currency_option_is_fallback(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "a.xlsx", [["Name", "Price"], ["Widget", 5], ["Gadget", "7.5"]])
    items, _ = read_all(path)
    assert [i.currency for i in items] == [None, None]
    items, _ = read_all(path, ReadOptions(currency="usd"))
    assert [i.currency for i in items] == ["USD", "USD"]
    assert items[1].price == Decimal("7.5")


def test_currency_from_number_format_and_column(tmp_path: Path) -> None:
    rows = [["Код", "Наименование", "Цена", "Валюта"], [1.0, "Духи", 769, None], [2.0, "Туалетная вода", 100, "USD"]]
    path = write_xlsx(tmp_path / "f.xlsx", rows, formats={"C2": '0.00" грн."'})
    items, _ = read_all(path)
    assert [(i.sku, i.currency) for i in items] == [("1", "UAH"), ("2", "USD")]


def test_multilingual_headers(tmp_path: Path) -> None:
    rows = [["Artikelnummer", "Bezeichnung", "Preis netto", "Preis brutto", "Bestand", "Hersteller"],
            ["0815", "Schraube M6", "1,20", "1,43", 500, "Acme"]]
    items, _ = read_all(write_xlsx(tmp_path / "de.xlsx", rows))
    it = items[0]
    assert (it.sku, it.name, it.brand, it.stock) == ("0815", "Schraube M6", "Acme", Decimal(500))
    assert it.prices == {"netto": Decimal("1.20"), "brutto": Decimal("1.43")}
    assert it.price == Decimal("1.43")
    rows = [["Nr katalogowy", "Nazwa", "Cena hurtowa", "Cena detaliczna", "Jednostka"], ["K-1", "Zawór", "10,00", "12,00", "szt"]]
    items, _ = read_all(write_xlsx(tmp_path / "pl.xlsx", rows))
    assert (items[0].sku, items[0].price, items[0].unit) == ("K-1", Decimal("12.00"), "pcs")


def test_several_sheets_empty_and_hidden_skipped(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "m.xlsx", [["Name", "Price"], ["A", 1]],
                      extra_sheets={"Empty": [], "Second": [["Название", "Цена"], ["Б", 2]], "Codes": [["PG1", 30]]})
    pl = open_price_list(path)
    names = [i.name for i in pl.records() if hasattr(i, "name")]
    assert names == ["A", "Б"]
    assert [s["sheet"] for s in pl.details["skipped_sheets"]] == ["Empty", "Codes"]
    items, _ = read_all(path, ReadOptions(sheet="Second"))
    assert [i.sheet for i in items] == ["Second"]


def test_no_header_raises_no_items(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "n.xlsx", [["foo", "bar"], [1, 2]])
    with pytest.raises(NoItems):
        read_all(path)


def test_broken_pdf_and_other_zip_refused(tmp_path: Path) -> None:
    pdf = tmp_path / "x.pdf"
    pdf.write_bytes(b"%PDF-1.4\n...")
    with pytest.raises((UnsupportedFormat, CorruptFile)):
        list(open_price_list(pdf).records())
    import zipfile

    z = tmp_path / "x.xlsx"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("word/document.xml", "<x/>")
    with pytest.raises(UnsupportedFormat):
        open_price_list(z)


def test_xlsx_named_xls_goes_by_content(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "really.xls", [["Name", "Price"], ["A", 1]])
    assert open_price_list(path).file_type == "xlsx"
