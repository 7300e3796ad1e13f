"""Row classification: no silent loss, product groups, section vs. item, error-rate guard."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from ingestion.reading import open_price_list
from reading_fixtures import read_all, write_csv, write_xlsx

SHOP_HEADER = ["Handle", "Title", "Vendor", "Option1 Name", "Option1 Value", "Variant SKU", "Variant Price", "Image Src"]


def _shop_rows() -> list[list[str]]:
    return [
        SHOP_HEADER,
        ["lamp", "Desk lamp", "Lumo", "Colour", "black", "L-BLK", "49.00", "https://cdn.example.com/l1.png"],
        ["lamp", "", "", "", "white", "L-WHT", "52.00", "https://cdn.example.com/l2.png"],
        ["lamp", "", "", "", "", "", "", "https://cdn.example.com/l3.png"],
        ["chair", "Office chair", "Sitz", "Title", "Default Title", "", "120.00", "https://cdn.example.com/c1.png"],
        ["chair", "", "", "", "", "", "", "https://cdn.example.com/c2.png"],
        ["chair", "", "", "", "", "", "", "https://cdn.example.com/c3.png"],
        ["desk", "Oak desk", "Holz", "Size", "120 cm", "D-120", "300.00", "https://cdn.example.com/d1.png"],
        ["desk", "", "", "", "140 cm", "D-140", "340.00", "https://cdn.example.com/d2.png"],
    ]


def test_shop_export_variants_become_items_and_image_rows_vanish(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "shop.csv", _shop_rows(), delimiter=",")
    pl = open_price_list(path)
    recs = list(pl.records())
    items = [r for r in recs if hasattr(r, "name")]
    problems = [r for r in recs if not hasattr(r, "name") and r.type != "missing_currency"]  # no currency named
    assert [(i.row, i.name, i.sku, i.price) for i in items] == [
        (2, "Desk lamp", "L-BLK", Decimal("49.00")),
        (3, "Desk lamp (white)", "L-WHT", Decimal("52.00")),
        (5, "Office chair", None, Decimal("120.00")),
        (8, "Oak desk", "D-120", Decimal("300.00")),
        (9, "Oak desk (140 cm)", "D-140", Decimal("340.00")),
    ]
    assert items[1].brand == "Lumo"  # inherited from the titled row
    assert problems == []
    assert pl.layouts[0].columns["Handle"] == "group"


def test_group_column_found_by_values(tmp_path: Path) -> None:
    """No "Handle" header: the column whose value repeats under each titled row is the group key."""
    rows = [["Key", "Name", "Size", "Code", "Price"],
            ["p-1", "Boot", "40", "B-40", "80.00"],
            ["p-1", None, "41", "B-41", "82.00"],
            ["p-1", None, None, None, None],
            ["p-2", "Shoe", "38", "S-38", "60.00"],
            ["p-2", None, "39", "S-39", "60.00"],
            ["p-3", "Sock", "M", "K-M", "5.00"]]
    items, problems = read_all(write_csv(tmp_path / "g.csv", rows))
    assert [i.name for i in items] == ["Boot", "Boot (41)", "Shoe", "Shoe (39)", "Sock"]
    assert problems == []


def test_untitled_priced_row_without_group_is_reported(tmp_path: Path) -> None:
    rows = [["SKU", "Name", "Price", "Link"],
            ["A-1", "Pump", "10.00", "https://example.com/a1"],
            ["A-2", None, "12.00", "https://example.com/a2"]]
    items, problems = read_all(write_csv(tmp_path / "u.csv", rows))
    assert [i.sku for i in items] == ["A-1"]
    assert [(p.type, p.row, p.level) for p in problems] == [("missing_name", 3, "error")]


def test_row_with_unmapped_values_is_reported_not_dropped(tmp_path: Path) -> None:
    rows = [["Артикул", "Наименование", "Цена", "Прим."],
            ["K-1", "Кабель", 10, None],
            [None, None, None, "x1", "x2", "x3", "x4"],
            ["K-2", "Провод", 12, None]]
    items, problems = read_all(write_xlsx(tmp_path / "r.xlsx", rows))
    assert [i.sku for i in items] == ["K-1", "K-2"]
    (p,) = problems
    assert (p.type, p.row, p.level) == ("unrecognized_row", 3, "warning")
    assert p.row_data and "x4" in p.row_data.values()


def test_named_row_with_sku_of_the_sheets_shape_is_an_item_not_a_section(tmp_path: Path) -> None:
    rows = [["Артикул", "Наименование", "Цена"]]
    rows += [[f"10{i:04d}", f"Насос модель {i}", 100 + i] for i in range(8)]
    rows += [["100777", "Насос без цены", None],           # SKU like the priced rows: item
             ["GR_Star-ZD", "PG1", None],                   # a group code row: section
             ["100008", "Насос модель 8", 108]]
    items, problems = read_all(write_xlsx(tmp_path / "s.xlsx", rows))
    by_row = {i.row: i for i in items}
    assert by_row[10].name == "Насос без цены" and by_row[10].price is None
    assert 11 not in by_row and by_row[12].category_path == ("PG1",)
    assert [(p.type, p.row) for p in problems] == [("missing_price", 10)]


def test_name_only_row_where_sections_sit_elsewhere_is_an_item(tmp_path: Path) -> None:
    """Sections start in column A; a lone text in the name column (B) is an item without a price."""
    rows = [["Код", "Наименование", "Цена"],
            ["Кабели"],
            ["001", "Кабель ВВГ", 10],
            ["002", "Кабель NYM", 12],
            ["Провода"],
            ["003", "Провод ПВС", 5],
            [None, "Провод ШВВП", None],
            ["004", "Провод ПУГВ", 6]]
    items, problems = read_all(write_xlsx(tmp_path / "n.xlsx", rows))
    assert [i.name for i in items] == ["Кабель ВВГ", "Кабель NYM", "Провод ПВС", "Провод ШВВП", "Провод ПУГВ"]
    assert items[3].category_path == ("Провода",) and items[3].price is None
    assert [(p.type, p.row) for p in problems] == [("missing_price", 7)]


def test_merged_section_rows_stay_sections(tmp_path: Path) -> None:
    rows = [["Код", "Наименование", "Цена"], ["Кабели", None, None], ["001", "Кабель ВВГ", 10],
            ["Провода", None, None], ["003", "Провод ПВС", 5]]
    items, problems = read_all(write_xlsx(tmp_path / "m.xlsx", rows, merges=["A2:C2", "A4:C4"]))
    assert [i.category_path for i in items] == [("Кабели",), ("Провода",)]
    assert problems == []


def test_high_error_rate_names_the_sheet(tmp_path: Path) -> None:
    rows = [["Name", "Price"], ["A", "1.00"]] + [[f"Item {i}", f"{i} or {i + 1}"] for i in range(6)]
    items, problems = read_all(write_xlsx(tmp_path / "e.xlsx", rows, title="Main"))
    assert len(items) == 1
    guard = [p for p in problems if p.type == "high_error_rate"]
    assert len(guard) == 1 and guard[0].level == "warning" and guard[0].sheet == "Main"
    assert "6 of 7" in guard[0].message


def test_no_error_rate_warning_for_a_healthy_sheet(tmp_path: Path) -> None:
    rows = [["Name", "Price"]] + [[f"Item {i}", i + 1] for i in range(6)] + [["Bad", "n/a n/a"]]
    _, problems = read_all(write_xlsx(tmp_path / "h.xlsx", rows))
    assert not [p for p in problems if p.type == "high_error_rate"]


def test_a_total_line_in_the_name_column_is_not_an_item(tmp_path: Path) -> None:
    import openpyxl

    from reading_fixtures import read_all

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Прайс-лист"])
    ws.append([])
    ws.append(["Артикул", "Наименование", "Ед.", "Цена, руб", "Остаток"])
    ws.append(["Кабельно-проводниковая продукция"])
    for i in range(6):
        ws.append([f"KG-{i:03d}", f"Кабель ВВГ {i}", "м", 10.5 + i, 3])
    ws.append([])
    ws.append([None, "Итого позиций: 6"])
    ws.append(["* Цены уточняйте у менеджера"])
    wb.save(tmp_path / "t.xlsx")
    items, problems = read_all(tmp_path / "t.xlsx")
    assert [i.sku for i in items] == [f"KG-{i:03d}" for i in range(6)]
    assert not [p for p in problems if p.level == "error"]
