"""Reading-layer hardening: nameless headers, rows without price, resource limits, numbers, preview."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from ingestion.errors import UnsupportedFormat
from ingestion.preview import build_preview, main
from ingestion.reading import ReadOptions, open_price_list, xlsx_reader
from ingestion.reading.api import MAX_CELL_CHARS
from ingestion.reading.csv_reader import MAX_CSV_FIELD_CHARS
from ingestion.reading.layout import detect_layout, find_nameless_header
from ingestion.reading.normalize import parse_price
from ingestion.reading.source import RawRow
from reading_fixtures import patch_zip_text, read_all, write_csv, write_xlsx

VALVES = [
    ("Przepustnica międzykołnierzowa 017W DN40", "40", "77,49"),
    ("Przepustnica międzykołnierzowa 017W DN50", "50", "78,20"),
    ("Przepustnica międzykołnierzowa 017W DN65", "65", "87,44"),
    ("Zawór zwrotny kulowy kołnierzowy DN80", "80", "na zapytanie"),
    ("Zasuwa klinowa miękkouszczelniona DN100", "100", "1 019,46"),
]


# ---------------------------------------------------------------- 1. header without a name word
def test_header_naming_price_but_not_name_keeps_header_and_takes_name_from_values(tmp_path: Path) -> None:
    rows = [["Cennik 2025"], ["", "", "DN", "Cena PLN"]] + [[n, "", dn, p] for n, dn, p in VALVES]
    items, problems = read_all(write_csv(tmp_path / "valves.csv", rows))
    assert [(i.row, i.name, i.price, i.currency) for i in items] == [
        (3, VALVES[0][0], Decimal("77.49"), "PLN"),
        (4, VALVES[1][0], Decimal("78.20"), "PLN"),
        (5, VALVES[2][0], Decimal("87.44"), "PLN"),
        (6, VALVES[3][0], None, None),
        (7, VALVES[4][0], Decimal("1019.46"), "PLN"),
    ]
    found = [p for p in problems if p.type == "name_from_values"]
    assert found and found[0].level == "info" and found[0].column == "A"


def test_nameless_header_in_a_workbook_with_sku_column(tmp_path: Path) -> None:
    rows = [["", "Kod", "Cena netto EUR"]] + [[n, f"K-{i}", 10 + i] for i, (n, _dn, _p) in enumerate(VALVES)]
    items, _ = read_all(write_xlsx(tmp_path / "v.xlsx", rows))
    assert [(i.name, i.sku, i.price) for i in items][:2] == [(VALVES[0][0], "K-0", Decimal(10)), (VALVES[1][0], "K-1", Decimal(11))]
    assert len(items) == len(VALVES)


def test_nameless_header_naming_only_the_sku_takes_price_from_the_blank_column(tmp_path: Path) -> None:
    rows = [["Kod", "", "DN", ""]] + [[f"K-{i}", n, dn, p] for i, (n, dn, p) in enumerate(VALVES) if p[0].isdigit()]
    items, _ = read_all(write_csv(tmp_path / "k.csv", rows))
    assert [(i.sku, i.name, i.price) for i in items] == [
        ("K-0", VALVES[0][0], Decimal("77.49")), ("K-1", VALVES[1][0], Decimal("78.20")),
        ("K-2", VALVES[2][0], Decimal("87.44")), ("K-4", VALVES[4][0], Decimal("1019.46")),
    ]


def _raw(rows: list[list[object]]) -> list[RawRow]:
    return [RawRow(row=i, values=list(r)) for i, r in enumerate(rows, start=1)]  # type: ignore[arg-type]


def test_price_only_row_is_not_a_header_without_names_below() -> None:
    # short repeated words under the blank cell are not names: no header, no guess
    rows = _raw([[None, "Cena PLN"], ["szt", "10,00"], ["szt", "12,00"], ["szt", "13,00"]])
    assert find_nameless_header(rows) is None
    # a price word over text that is not prices is not a header either
    rows = _raw([[None, "Cena"], [VALVES[0][0], "zobacz katalog"], [VALVES[1][0], "zobacz"], [VALVES[2][0], "x"]])
    assert find_nameless_header(rows) is None
    assert detect_layout(rows) is None


def test_nameless_header_found_under_a_title() -> None:
    rows = _raw([["Cennik"], [None, "DN", "Cena PLN"]] + [[n, dn, p] for n, dn, p in VALVES])
    assert find_nameless_header(rows) == (1, 0)
    found = detect_layout(rows)
    assert found is not None
    layout, data_idx = found
    assert data_idx == 2 and layout.header_rows == [2]
    assert layout.mapping() == {"A": "name", "Cena PLN": "price:price"}


# ---------------------------------------------------------------- 2. rows with an empty or error price
def test_csv_row_with_sku_and_empty_price_is_an_item_not_a_section(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("sku;name;price\nA1;X;10\nA2;Y;\nA3;Z;0\n", encoding="utf-8")
    items, problems = read_all(path)
    assert [(i.sku, i.name, i.price, i.category_path) for i in items] == [
        ("A1", "X", Decimal(10), ()),
        ("A2", "Y", None, ()),
        ("A3", "Z", None, ()),  # a zero price is no price (session 11 trial)
    ]
    assert [(p.type, p.level, p.row) for p in problems] == [("missing_price", "warning", 3),
                                                            ("zero_price", "warning", 4)]


def test_one_priced_row_is_enough_to_compare_sku_shapes(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("sku;name;price\nA1;X;10\nA2;Y;\n", encoding="utf-8")
    items, problems = read_all(path)
    assert [(i.sku, i.price) for i in items] == [("A1", Decimal(10)), ("A2", None)]
    assert [p.type for p in problems] == ["missing_price"]


def test_xlsx_error_price_cell_is_a_bad_price_and_an_empty_one_a_missing_price(tmp_path: Path) -> None:
    rows = [["Артикул", "Наименование", "Цена"], ["A1", "Кабель", 10], ["A2", "Провод", "#DIV/0!"],
            ["A3", "Шнур", None], ["A4", "Щит", 5]]
    items, problems = read_all(write_xlsx(tmp_path / "e.xlsx", rows))
    assert [(i.sku, i.price, i.category_path) for i in items] == [
        ("A1", Decimal(10), ()), ("A3", None, ()), ("A4", Decimal(5), ()),
    ]
    assert [(p.type, p.level, p.row, p.column) for p in problems] == [
        ("bad_price", "error", 3, "Цена"), ("missing_price", "warning", 4, "Цена"),
    ]
    assert "the Excel error #DIV/0!" in problems[0].message


def test_group_code_rows_stay_sections_with_few_priced_rows(tmp_path: Path) -> None:
    # Wilo-like: a group code with a word in it over a short group name, no price; item SKUs are numbers
    rows = [["Артикул", "Номенклатура", "€ без ПДВ"],
            ["001_SMALL circ., Насоси малої циркуляції", None, None],
            ["008_Star-ZD", "PG1", None],
            [4111288, "STAR-ZD 25/6", 494],
            [4111289, "STAR-ZD 25/7", None],
            ["007_Accessories", "PG14", None],
            [112047195, "R1 a/Ø28i x G1 1/2i (1 комп.)", 18.17]]
    items, problems = read_all(write_xlsx(tmp_path / "w.xlsx", rows))
    assert [(i.sku, i.price, i.category_path[-1]) for i in items] == [
        ("4111288", Decimal(494), "PG1"), ("4111289", None, "PG1"), ("112047195", Decimal("18.17"), "PG14"),
    ]
    assert [p.type for p in problems] == ["missing_price"]


# ---------------------------------------------------------------- 3. resource limits
def _placeholder_xlsx(tmp_path: Path, text: str) -> Path:
    src = write_xlsx(tmp_path / "src.xlsx", [["sku", "name", "price"], ["A1", "@@LONG@@", 10], ["A2", "Shorty", 3]])
    return patch_zip_text(src, tmp_path / "long.xlsx", {"@@LONG@@": text})


def test_zip_bomb_xlsx_is_refused_before_parsing(tmp_path: Path) -> None:
    path = _placeholder_xlsx(tmp_path, "x" * (60 * 1024 * 1024))
    assert path.stat().st_size < 200_000
    started = time.monotonic()
    with pytest.raises(UnsupportedFormat, match="200:1"):
        open_price_list(path)
    assert time.monotonic() - started < 2
    doc = build_preview(str(path))
    assert doc["status"] == "failed" and "ZIP bomb" in doc["error"]


def test_xlsx_over_the_uncompressed_total_is_refused(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "w.xlsx", [["sku", "name", "price"], ["A1", "Bolt", 1]])
    with mock.patch.object(xlsx_reader, "MAX_UNCOMPRESSED_BYTES", 1000), \
            pytest.raises(UnsupportedFormat, match="unpacks to"):
        open_price_list(path)


def test_cell_over_excels_limit_is_cut_with_a_warning(tmp_path: Path) -> None:
    items, problems = read_all(_placeholder_xlsx(tmp_path, "Я" * 40_000))
    assert [len(i.name) for i in items] == [MAX_CELL_CHARS, 6]
    (cut,) = problems
    assert (cut.type, cut.level, cut.row, cut.column) == ("cell_truncated", "warning", 2, "name")
    assert "40,000" in cut.message


def test_csv_field_over_the_size_limit_fails_only_its_row(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text("sku;name;price\nA1;X;10\nA2;" + "y" * (MAX_CSV_FIELD_CHARS + 10) + ";12\nA3;Z;5\n", encoding="utf-8")
    items, problems = read_all(path)
    assert [(i.sku, i.price) for i in items] == [("A1", Decimal(10)), ("A3", Decimal(5))]
    assert [(p.type, p.level, p.row) for p in problems] == [("unreadable_row", "error", 3)]


def test_csv_long_field_under_the_limit_is_read_and_cut(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_text("sku;name;price\nA1;" + "z" * 200_000 + ";10\n", encoding="utf-8")
    items, problems = read_all(path)
    assert [(i.sku, len(i.name)) for i in items] == [("A1", MAX_CELL_CHARS)]
    assert [p.type for p in problems] == ["cell_truncated"]


def test_stray_nul_bytes_in_a_small_csv_do_not_fail_the_file(tmp_path: Path) -> None:
    path = tmp_path / "nul.csv"
    path.write_bytes(b"sku;name;price\nA1;X;10\n\x00\x00\x00\nA2;Y\x00;12\n")
    items, _ = read_all(path)
    assert [(i.sku, i.name, i.price) for i in items] == [("A1", "X", Decimal(10)), ("A2", "Y", Decimal(12))]


# ---------------------------------------------------------------- 4. numbers
@pytest.mark.parametrize(
    ("text", "amount"),
    [("(5)", "-5"), ("(1 234,50)", "-1234.50"), ("$(5.00)", "-5.00"), ("(5) руб", "-5"), ("−7", "-7"),
     ("-5", "-5"), ("-$5.00", "-5.00"), ("1.5e3", "1500"), ("1 234,50 (без НДС)", "1234.50")],
)
def test_negative_and_scientific_amounts(text: str, amount: str) -> None:
    assert parse_price(text).amount == Decimal(amount)


@pytest.mark.parametrize(
    ("value", "reason"),
    [("1e400", "too large"), ("1e300", "too large"), ("1e999999", "too large"), ("NaN", "not a finite number"),
     ("Infinity", "not a finite number"), ("-inf", "not a finite number"), (float("inf"), "not a finite number"),
     (float("nan"), "not a finite number"), (1e300, "too large"), (10**20, "too large")],
)
def test_non_finite_and_huge_numbers_are_bad_prices(value: object, reason: str) -> None:
    p = parse_price(value)  # type: ignore[arg-type]
    assert p.amount is None and p.error is not None and p.error.startswith(reason)


def test_bad_price_reason_in_the_row_problem(tmp_path: Path) -> None:
    path = tmp_path / "n.csv"
    path.write_text("sku;name;price\nA1;X;10\nA2;Y;1e400\nA3;Z;(5)\nA4;W;NaN\n", encoding="utf-8")
    items, problems = read_all(path)
    assert [(i.sku, i.price) for i in items] == [("A1", Decimal(10)), ("A3", Decimal(-5))]
    assert [(p.type, p.row) for p in problems] == [("bad_price", 3), ("bad_price", 5)]
    assert "too large" in problems[0].message and "several numbers" not in problems[0].message
    assert "not a finite number" in problems[1].message


# ---------------------------------------------------------------- 5. preview
def test_preview_items_carry_page_and_json_details(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("sku;name;price\nA1;X;10\n", encoding="utf-8")
    doc = build_preview(str(path))
    assert doc["items"][0]["page"] is None
    assert doc["details"] == {"encoding": "utf-8", "delimiter": ";"}


def test_preview_keeps_structured_details(tmp_path: Path) -> None:
    import ingestion.reading.api as api

    real = api._sources

    def with_tables(path: str, kind: str, options: ReadOptions) -> tuple[list[Any], dict[str, Any]]:
        sources, details = real(path, kind, options)
        return sources, {**details, "pdf_tables": [{"page": 1, "rows": 2}], "opaque": object()}

    path = tmp_path / "p.csv"
    path.write_text("sku;name;price\nA1;X;10\n", encoding="utf-8")
    with mock.patch.object(api, "_sources", with_tables):
        doc = build_preview(str(path))
    assert doc["details"]["pdf_tables"] == [{"page": 1, "rows": 2}] and "opaque" not in doc["details"]
    json.dumps(doc)


def test_preview_missing_file_and_directory(tmp_path: Path) -> None:
    missing = build_preview(str(tmp_path / "nope.csv"))
    assert missing["status"] == "failed" and missing["error"].startswith("No such file")
    folder = build_preview(str(tmp_path))
    assert folder["status"] == "failed" and folder["error"].startswith("Not a file")


@pytest.mark.parametrize("args", [["--currency", "XYZ"], ["--currency", "руб"], ["--header-row", "0"],
                                  ["--header-row", "-3"], ["--header-row", "x"]])
def test_preview_refuses_bad_options(tmp_path: Path, args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "p.csv"
    path.write_text("sku;name;price\nA1;X;10\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exc:
        main([*args, str(path)])
    assert exc.value.code == 2
    assert args[0] in capsys.readouterr().err


def test_preview_accepts_a_lower_case_currency_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "p.csv"
    path.write_text("sku;name;price\nA1;X;10\n", encoding="utf-8")
    assert main(["--json", "--currency", "pln", "--header-row", "1", str(path)]) == 0
    assert json.loads(capsys.readouterr().out)["items"][0]["currency"] == "PLN"
