"""Row checks and list keys, shared by the store and the preview: both keep the same rows."""

from decimal import Decimal

import attrs
from pathlib import Path

from ingestion.checks import ListKeys, check_item
from ingestion.models import ParsingLog, SupplierItem
from ingestion.preview import build_preview
from ingestion.reading.model import Item
from ingestion.settings import Settings
from ingestion.store import ItemWriter, get_or_create_supplier, publish

CSV = (
    "Артикул;Наименование;Цена\n"
    "A1;Кабель первый;10,50\n"
    "A2;Минусовая цена;-5\n"
    "A1;Кабель первый, исправлено;11,00\n"
    "A3;Дробная цена;1,005\n"
    "A4;Очень дорогой;1000000000000000\n"
)


def test_check_item_rounds_refuses_and_cuts() -> None:
    ok, problems = check_item(Item(row=2, name="x", price=Decimal("1.005"), unit="u" * 40, stock=Decimal("2.0004")))
    assert ok is not None and ok.price == Decimal("1.01") and ok.stock == Decimal("2.000") and ok.unit == "u" * 32
    assert [p.type for p in problems] == ["price_rounded", "unit_too_long"]
    refused, problems = check_item(Item(row=3, name="x", price=Decimal("-1")))
    assert refused is None and [(p.type, p.row, p.column, p.level) for p in problems] == [
        ("negative_price", 3, "price", "error")]


def test_list_keys_sku_repeats_replace_and_name_repeats_stay_apart() -> None:
    keys = ListKeys()
    assert keys.assign(Item(row=2, sku="S", name="a"))[:3] == ("S", False, False)
    again = keys.assign(Item(row=3, sku="S", name="b"))
    assert again.replaces_earlier and again.problem is not None and again.problem.type == "duplicate_sku"
    other_sheet = keys.assign(Item(row=9, sku="S", name="c", sheet="Лампы"))
    assert other_sheet.problem is not None and "row 3" in other_sheet.problem.message  # the earlier row, no sheet
    again_sheet = keys.assign(Item(row=2, sku="S", name="d", sheet="Кабель"))
    assert again_sheet.problem is not None and "row 9 of sheet 'Лампы'" in again_sheet.problem.message
    first = keys.assign(Item(row=4, name="Коллектор  PPRS"))
    second = keys.assign(Item(row=5, name="коллектор pprs"))
    third = keys.assign(Item(row=6, name="Коллектор PPRS"))
    assert (first.key, second.key, third.key) == ("коллектор pprs", "коллектор pprs #2", "коллектор pprs #3")
    assert not second.replaces_earlier and second.problem is not None and second.problem.type == "repeated_name"
    long_name = "я" * 300
    a, b = keys.assign(Item(row=7, name=long_name)), keys.assign(Item(row=8, name=long_name))
    assert a.key != b.key and len(b.key) <= 255 and b.key.endswith(" #2")


def test_preview_keeps_what_an_ingestion_would_store(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_text(CSV, encoding="utf-8")
    doc = build_preview(str(path))
    assert doc["status"] == "ok"
    assert [(i["sku"], i["price"]) for i in doc["items"]] == [("A1", "11.00"), ("A3", "1.01")]
    assert doc["counts"]["items"] == 2
    kinds = {(p["type"], p.get("row")) for p in doc["problems"]}  # file-level problems have no row
    assert {("negative_price", 3), ("duplicate_sku", 4), ("price_rounded", 5), ("price_out_of_range", 6)} <= kinds


def test_rows_without_sku_sharing_a_name_are_all_stored(settings: Settings) -> None:
    supplier, _ = get_or_create_supplier("Коллекторы")
    w = ItemWriter(supplier.id, "names", None)
    for row, price in ((24, "228"), (25, "228"), (26, "429.90")):
        w.add(Item(row=row, name="Коллектор PPRS", price=Decimal(price), currency="RUB"))
    publish(w)
    stored = sorted((i.supplier_sku, i.source_row) for i in SupplierItem.select())
    assert stored == [("коллектор pprs", 24), ("коллектор pprs #2", 25), ("коллектор pprs #3", 26)]
    assert w.stats.duplicates == 0 and w.stats.new == 3
    notes = ParsingLog.select().where(ParsingLog.error_type == "repeated_name")
    assert sorted(n.row_number for n in notes) == [25, 26] and {n.level for n in notes} == {"info"}
    # the same file again finds the same keys: nothing new, nothing gone
    w2 = ItemWriter(supplier.id, "names-2", None)
    for row, price in ((24, "228"), (25, "228"), (26, "429.90")):
        w2.add(Item(row=row, name="Коллектор PPRS", price=Decimal(price), currency="RUB"))
    diff = publish(w2)
    assert (diff.new, diff.gone, diff.unchanged) == (0, 0, 3)


def test_store_problems_name_the_files_header_like_the_readers_do() -> None:
    raw = {"Код товара": "K-1", "Наименование": "Кабель", "Цена, руб.": "1 000 000 000 000,00", "Ед. изм.": "u" * 40,
           "Остаток": "200000000000000"}
    item = Item(row=7, sku="K-1", name="Кабель", price=Decimal("1000000000000.00"), raw=raw)
    refused, problems = check_item(item)
    assert refused is None and [(p.type, p.column) for p in problems] == [("price_out_of_range", "Цена, руб.")]
    ok, problems = check_item(attrs.evolve(item, price=Decimal("1.005"), unit="u" * 40, stock=Decimal("2e14"),
                                           raw={**raw, "Цена, руб.": "1,005"}))
    assert ok is not None and [(p.type, p.column) for p in problems] == [
        ("price_rounded", "Цена, руб."), ("stock_out_of_range", "Остаток"), ("unit_too_long", "Ед. изм.")]
    long_sku = "x" * 300
    _, problems = check_item(Item(row=8, sku=long_sku, name="n", raw={"Артикул": long_sku, "Товар": "n"}))
    assert [(p.type, p.column) for p in problems] == [("sku_too_long", "Артикул")]
    keys = ListKeys()
    keys.assign(Item(row=2, sku="S", name="a", raw={"Артикул": "S"}))
    again = keys.assign(Item(row=3, sku="S", name="b", raw={"Артикул": "S", "Товар": "b"}))
    assert again.problem is not None and again.problem.column == "Артикул"
    keys.assign(Item(row=4, name="Коллектор", raw={"Товар": "Коллектор"}))
    named = keys.assign(Item(row=5, name="Коллектор", raw={"Товар": "  Коллектор "}))
    assert named.problem is not None and named.problem.column == "Товар"
    # an item whose cells do not give the value (or that has none) is named by its field
    _, problems = check_item(Item(row=9, name="x", price=Decimal("-1"), raw={"Цена": "abc"}))
    assert [(p.type, p.column) for p in problems] == [("negative_price", "price")]
