"""CSV/TSV: encodings, delimiters, quoting, physical line numbers."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from ingestion.reading import ReadOptions, open_price_list
from ingestion.reading.csv_reader import detect_encoding, sniff_delimiter
from reading_fixtures import read_all, write_csv

ROWS = [
    ["Прайс-лист от 01.02.2025"],
    ["Артикул", "Наименование", "Цена, руб", "Наличие"],
    ["001", "Кабель ВВГ 3x1,5; бухта", "1 234,50", "есть"],
    ["002", 'Розетка 1/8 " белая', "12,5", "нет"],
    ["003", "Выключатель", "по запросу", ""],
]


@pytest.mark.parametrize("encoding", ["cp1251", "utf-8-sig", "utf-8", "cp866"])
def test_cyrillic_encodings(tmp_path: Path, encoding: str) -> None:
    path = write_csv(tmp_path / "a.csv", ROWS, encoding=encoding)
    items, problems = read_all(path)
    assert [i.name for i in items] == ["Кабель ВВГ 3x1,5; бухта", 'Розетка 1/8 " белая', "Выключатель"]
    assert items[0].sku == "001" and items[0].price == Decimal("1234.50") and items[0].currency == "RUB"
    assert items[1].price == Decimal("12.5") and items[1].available is False
    assert [i.row for i in items] == [3, 4, 5]
    assert [p.type for p in problems] == ["price_on_request"]


def test_detect_encoding() -> None:
    text = "Наименование;Цена\nКабель медный;10\n"
    assert detect_encoding(text.encode("cp1251")) == "cp1251"
    assert detect_encoding(text.encode("cp866")) == "cp866"
    assert detect_encoding(b"\xef\xbb\xbf" + text.encode("utf-8")) == "utf-8-sig"
    assert detect_encoding("Größe;Preis\nÄpfel;1\n".encode("latin-1")) in ("latin-1", "cp1252", "iso8859_1", "cp1250")


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiters(tmp_path: Path, delimiter: str) -> None:
    path = write_csv(tmp_path / "d.csv", ROWS[1:], delimiter=delimiter, lineterminator="\n")
    items, _ = read_all(path)
    assert len(items) == 3 and items[0].name == "Кабель ВВГ 3x1,5; бухта"


def test_sniff_prefers_consistent_width() -> None:
    assert sniff_delimiter("Product\tPrice\nA, B and C\t$1.00\nD\t$2.00\n") == "\t"
    assert sniff_delimiter("Наименование;Артикул\nАдаптер 1,5, M8;100\nСкоба;200\n") == ";"


def test_multiline_quoted_records_keep_physical_line(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text('Title,Body,Price\n"A","line1\nline2\nline3",10.00\n"B","x",$20.00\n', encoding="utf-8")
    items, _ = read_all(path)
    assert [(i.name, i.row, i.price) for i in items] == [("A", 2, Decimal("10.00")), ("B", 5, Decimal("20.00"))]
    assert items[1].currency == "USD"


def test_overrides_encoding_delimiter_decimal(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "o.csv", [["Name", "Price"], ["A", "1,234"], ["B", "2,500"]], delimiter="|", encoding="cp1251")
    items, _ = read_all(path)
    assert items[0].price == Decimal("1234")
    items, _ = read_all(path, ReadOptions(encoding="cp1251", delimiter="|", decimal_separator=","))
    assert [i.price for i in items] == [Decimal("1.234"), Decimal("2.500")]


def test_csv_without_price_column(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "n.csv", [["Наименование", "Артикул"], ["Скоба d6", "5041-022"], ["Адаптер", "100-132-1"]])
    pl = open_price_list(path)
    recs = list(pl.records())
    items = [r for r in recs if hasattr(r, "name")]
    assert [(i.sku, i.price) for i in items] == [("5041-022", None), ("100-132-1", None)]
    assert any(getattr(r, "type", "") == "layout_note" for r in recs)


def test_rows_with_header_words_are_items_not_repeated_headers(tmp_path: Path) -> None:
    """'Товар без цены' holds synonym words, but it does not repeat this sheet's header."""
    path = write_csv(
        tmp_path / "trailing.csv",
        [
            ["Артикул", "Наименование", "Цена, руб", "Остаток"],
            ["S-1", "Товар номер 1", "1,50", "3"],
            ["S-2", "Товар без цены", "нет", "1"],
            ["Артикул", "Наименование", "Цена, руб", "Остаток"],
            ["S-3", "Товар номер 3", "abc", "1"],
        ],
    )
    items, problems = read_all(path)
    assert [i.sku for i in items] == ["S-1"]
    assert sorted((p.row, p.type) for p in problems if p.level == "error") == [(3, "bad_price"), (5, "bad_price")]
