"""The store on SQLite and on PostgreSQL: upserts, price history, logs, links kept."""

import json
import uuid
from decimal import Decimal

import peewee

from ingestion.errors import Problem
from ingestion.models import ParsingLog, PriceHistory, Product, Supplier, SupplierItem, database
from ingestion.reading.model import Item
from ingestion.settings import Settings
from ingestion.store import (
    ItemIds, ItemWriter, _characteristics_json, content_hash, get_or_create_supplier, item_key, publish, publish_run,
)


def _item(row: int, sku: str | None, name: str, price: str | None, **kw: object) -> Item:
    return Item(row=row, name=name, sku=sku, price=Decimal(price) if price else None, sheet="Лист1", currency="RUB",
                raw={"Наименование": name}, **kw)  # type: ignore[arg-type]


def test_upsert_history_and_stability(settings: Settings) -> None:
    supplier, created = get_or_create_supplier("  ООО  Ромашка ")
    assert created and supplier.name == "ООО Ромашка"
    assert get_or_create_supplier("ооо ромашка")[0].id == supplier.id  # case-insensitive, Cyrillic too

    w = ItemWriter(supplier.id, "job-1", "ab" * 32, batch_size=2)
    w.add(_item(5, "001", "Кабель ВВГ 3х1,5", "10.505"))
    w.add(_item(6, "002", "Кабель ВВГ 3х2,5", "20"))
    w.add(_item(7, None, "Розетка  двойная", "99.9", prices={"retail": Decimal("99.9"), "wholesale": Decimal("80")}))
    w.add(_item(8, "003", "Без цены", None))
    publish(w)
    assert w.stats.stored == 4 and w.stats.new == 4
    item = SupplierItem.get(SupplierItem.supplier_sku == "001")
    assert Decimal(str(item.price)) == Decimal("10.51")  # numeric(14,2), half up
    assert (item.source_sheet, item.source_row, item.source_sha256) == ("Лист1", 5, "ab" * 32)
    named = SupplierItem.get(SupplierItem.sku_from_name == True)  # noqa: E712
    assert named.supplier_sku == "розетка двойная"
    assert named.characteristics["prices"] == {"retail": "99.9", "wholesale": "80"}
    assert PriceHistory.select().count() == 3  # the item without a price has no history

    # a match made meanwhile must survive the next ingestion
    product = Product.create(internal_sku="P-1", name="Кабель")
    SupplierItem.update(product=product.id, match_status="verified_match").where(SupplierItem.supplier_sku == "001").execute()

    w2 = ItemWriter(supplier.id, "job-2", "cd" * 32, batch_size=100)
    w2.add(_item(5, "001", "Кабель ВВГ 3х1,5 (новый)", "10.51"))  # same price after rounding
    w2.add(_item(6, "002", "Кабель ВВГ 3х2,5", "25"))  # price up
    publish(w2)
    assert (w2.stats.new, w2.stats.price_changed) == (0, 1)
    again = SupplierItem.get(SupplierItem.supplier_sku == "001")
    assert again.id == item.id and again.product_id == product.id and again.match_status == "verified_match"
    assert again.name.endswith("(новый)") and again.last_seen_job_id == "job-2"
    assert PriceHistory.select().count() == 4
    assert SupplierItem.select().count() == 4


def test_duplicates_and_refused_rows_are_logged_not_lost(settings: Settings) -> None:
    supplier, _ = get_or_create_supplier("Дубли")
    w = ItemWriter(supplier.id, "job-d", None, batch_size=10)
    w.add(_item(2, "A1", "first", "1"))
    w.add(_item(3, "A1", "second", "2"))
    w.add(_item(4, "A2", "too expensive", "1e15"))
    w.add(_item(5, "x" * 300, "long sku", "1"))
    w.log(Problem(type="bad_price", message="price 'abc' is not a number", sheet="Лист1", row=9, column="Цена",
                  row_data={"Цена": "abc"}))
    publish(w)
    assert SupplierItem.get(SupplierItem.supplier_sku == "A1").name == "second"
    assert w.stats.failed == 2 and w.stats.duplicates == 1
    logs = {log.error_type: log for log in ParsingLog.select().where(ParsingLog.job_id == "job-d")}
    assert set(logs) == {"duplicate_sku", "price_out_of_range", "sku_too_long", "bad_price"}
    assert logs["bad_price"].row_number == 9 and logs["bad_price"].column_name == "Цена"
    assert logs["bad_price"].row_data == {"Цена": "abc"}
    assert logs["duplicate_sku"].level == "warning" and "row 2" in logs["duplicate_sku"].message
    assert Supplier.select().count() == 1


def test_item_key_for_long_names() -> None:
    a = item_key(Item(row=1, name="x" * 300 + "a"))
    b = item_key(Item(row=1, name="x" * 300 + "b"))
    assert a[1] and b[1] and a[0] != b[0] and len(a[0]) <= 255


def test_prices_that_cannot_be_stored_fail_their_row(settings: Settings) -> None:
    supplier, _ = get_or_create_supplier("Числа")
    w = ItemWriter(supplier.id, "job-n", None)
    w.add(_item(2, "N1", "huge", "1e300"))
    w.add(_item(3, "N2", "nan", "NaN"))
    w.add(_item(4, "N3", "negative", "-5"))
    w.add(_item(5, "N4", "fraction", "0.004"))
    w.add(Item(row=6, sku="N5", name="stock", stock=Decimal("1e20"), unit="x" * 40))
    publish(w)
    logs = {(log.row_number, log.error_type, log.level) for log in ParsingLog.select()}
    assert logs == {(2, "price_out_of_range", "error"), (3, "price_out_of_range", "error"),
                    (4, "negative_price", "error"), (5, "zero_price", "warning"),  # 0.004 rounds to 0.00: no price
                    (6, "stock_out_of_range", "warning"), (6, "unit_too_long", "warning")}
    assert {i.supplier_sku for i in SupplierItem.select()} == {"N4", "N5"}
    assert SupplierItem.get(SupplierItem.supplier_sku == "N4").price is None


def test_text_with_tabs_newlines_and_backslashes_round_trips(settings: Settings) -> None:
    supplier, _ = get_or_create_supplier("Спецсимволы")
    nasty = "Кабель\tКГ\n3x2,5 \\N \\ «ёлка» 'q' \"dq\" =cmd|' /C calc'!A0"
    w = ItemWriter(supplier.id, "job-x", None)
    w.add(Item(row=2, sku="T\\1", name=nasty, price=Decimal("1.5"), unit="м\tп", sheet="Лист\\1",
               category_path=("A\nB", "C"), prices={"retail": Decimal("1.5")}, brand="Q\\R"))
    w.add(Item(row=3, sku="\\N", name="literal backslash-N sku", price=None))
    publish(w)
    item = SupplierItem.get(SupplierItem.supplier_sku == "T\\1")
    assert (item.name, item.unit, item.source_sheet, item.category_path) == (nasty, "м\tп", "Лист\\1", "A\nB / C")
    assert item.characteristics == {"prices": {"retail": "1.5"}, "brand": "Q\\R"}
    other = SupplierItem.get(SupplierItem.supplier_sku == "\\N")
    assert other.price is None and other.name == "literal backslash-N sku"


def _store(supplier_id: object, job: str, rows: list[Item]) -> ItemWriter:
    w = ItemWriter(supplier_id, job, None)  # type: ignore[arg-type]
    for row in rows:
        w.add(row)
    publish(w)
    return w


def test_a_delisted_sku_that_comes_back_keeps_its_row(settings: Settings) -> None:
    supplier, _ = get_or_create_supplier("Возврат")
    _store(supplier.id, "l1", [_item(2, "A", "a", "1"), _item(3, "B", "b", "2")])
    first = SupplierItem.get(SupplierItem.supplier_sku == "B")
    w2 = _store(supplier.id, "l2", [_item(2, "A", "a", "1")])
    assert w2.stats.gone == 1
    gone = SupplierItem.get(SupplierItem.supplier_sku == "B")
    assert gone.delisted_job_id == "l2" and gone.available is False
    w3 = _store(supplier.id, "l3", [_item(2, "A", "a", "1"), _item(3, "B", "b again", "3")])
    # back at another price than it was delisted with: a changed price, not a plain return
    assert (w3.stats.new, w3.stats.returned, w3.stats.returned_changed, w3.stats.gone) == (0, 0, 1, 0)
    assert w3.stats.price_changed == 1
    back = SupplierItem.get(SupplierItem.supplier_sku == "B")
    assert back.id == first.id and back.delisted_job_id is None and back.name == "b again"
    assert Decimal(str(back.price)) == Decimal("3.00") and back.last_seen_job_id == "l3"
    prices = [Decimal(str(h.price)) for h in PriceHistory.select().where(PriceHistory.supplier_item == first.id)
              .order_by(PriceHistory.id)]
    assert prices == [Decimal("2.00"), Decimal("3.00")]
    assert SupplierItem.select().count() == 2


def test_a_sku_back_at_the_same_price_is_returned_without_history(settings: Settings) -> None:
    supplier, _ = get_or_create_supplier("Возврат по той же цене")
    _store(supplier.id, "r1", [_item(2, "A", "a", "1"), _item(3, "B", "b", "2.50")])
    first = SupplierItem.get(SupplierItem.supplier_sku == "B")
    SupplierItem.update(match_status="verified_match").where(SupplierItem.id == first.id).execute()
    _store(supplier.id, "r2", [_item(2, "A", "a", "1")])  # B gone: delisted, unavailable
    w3 = ItemWriter(supplier.id, "r3", None)
    w3.add(_item(2, "A", "a", "1"))
    w3.add(_item(3, "B", "b", "2.50", stock=Decimal("4")))
    w3.add(_item(4, "C", "c", "7"))
    diff = publish(w3)
    assert (diff.new, diff.returned, diff.gone, diff.unchanged, diff.changed) == (1, 1, 0, 1, 0)
    assert diff.new_skus == ["C"] and diff.returned_skus == ["B"]
    assert "1 new, 1 returned, 0 gone" in diff.summary()
    assert (w3.stats.new, w3.stats.returned) == (1, 1)
    back = SupplierItem.get(SupplierItem.supplier_sku == "B")
    assert back.id == first.id and back.delisted_job_id is None and back.match_status == "verified_match"
    assert back.last_seen_job_id == "r3" and Decimal(str(back.stock)) == Decimal("4")
    history = [(Decimal(str(h.price)), h.job_id) for h in PriceHistory.select().where(PriceHistory.supplier_item == first.id)]
    assert history == [(Decimal("2.50"), "r1")]  # the price it came back with is the one it had: no new row
    assert PriceHistory.select().where(PriceHistory.job_id == "r3").count() == 1  # C, the new one
    assert SupplierItem.select().count() == 3
    # once back it is part of the current list: the same list again changes nothing
    again = _store(supplier.id, "r4", [_item(2, "A", "a", "1"), _item(3, "B", "b", "2.50", stock=Decimal("4")),
                                       _item(4, "C", "c", "7")])
    assert (again.stats.new, again.stats.returned, again.stats.unchanged) == (0, 0, 3)


def test_a_returned_sku_in_a_held_list_is_published_without_history(settings: Settings) -> None:
    supplier, _ = get_or_create_supplier("Возврат через задержку")
    _store(supplier.id, "h1", [_item(2, "A", "a", "1"), _item(3, "B", "b", "2")])
    _store(supplier.id, "h2", [_item(2, "A", "a", "1")])
    first = SupplierItem.get(SupplierItem.supplier_sku == "B")
    w = ItemWriter(supplier.id, "h3", None)
    w.add(_item(2, "A", "a", "1"))
    w.add(_item(3, "B", "b", "2"))
    diff = w.finish()
    assert (diff.new, diff.returned) == (0, 1)
    assert w.stage() == 1  # held: staged, then released
    publish_run("h3", supplier.id)
    back = SupplierItem.get(SupplierItem.supplier_sku == "B")
    assert back.id == first.id and back.delisted_job_id is None and back.last_seen_job_id == "h3"
    assert PriceHistory.select().where(PriceHistory.supplier_item == first.id).count() == 1


def test_a_sku_inserted_meanwhile_by_another_job_is_upserted(settings: Settings) -> None:
    supplier, _ = get_or_create_supplier("Гонка")
    slow = ItemWriter(supplier.id, "slow", None)
    slow.add(_item(2, "R1", "from the slow job", "5"))
    slow.add(_item(3, "R2", "only in the slow job", "6"))
    _store(supplier.id, "fast", [_item(2, "R1", "from the fast job", "4")])  # publishes R1 first
    slow.finish()
    slow.publish()  # R1 is "new" to the slow job but exists now: no error, one row, the later values
    rows = {i.supplier_sku: i for i in SupplierItem.select()}
    assert set(rows) == {"R1", "R2"} and rows["R1"].name == "from the slow job"
    assert rows["R1"].last_seen_job_id == "slow"
    assert PriceHistory.select().where(PriceHistory.supplier_item == rows["R1"].id).count() == 2


def test_a_row_the_database_refuses_is_logged_and_the_rest_stored(settings: Settings) -> None:
    supplier, _ = get_or_create_supplier("Отказ")
    rows = [_item(n, f"K{n}", f"item {n}", "1") for n in range(2, 12)]
    rows[4] = _item(6, "K6", "NUL \x00 inside", "1")  # PostgreSQL text cannot hold NUL; SQLite can
    w = _store(supplier.id, "refused", rows)
    stored = {i.supplier_sku for i in SupplierItem.select()}
    refused = ParsingLog.select().where(ParsingLog.error_type == "store_failed")
    if settings.database_url.startswith("postgresql"):
        assert stored == {f"K{n}" for n in range(2, 12)} - {"K6"}
        assert [(log.row_number, log.level) for log in refused] == [(6, "error")] and w.stats.failed == 1
        assert PriceHistory.select().count() == 9
    else:
        assert len(stored) == 10 and refused.count() == 0


def test_large_lists_spill_to_disk_and_duplicates_still_win(settings: Settings) -> None:
    from unittest import mock

    from ingestion import store

    supplier, _ = get_or_create_supplier("Большой")
    rows = [_item(n, f"S{n % 300}", f"item {n}", str(n)) for n in range(2, 602)]  # every SKU twice
    with mock.patch.object(store, "SPOOL_MEMORY_BYTES", 1024):
        w = _store(supplier.id, "big", rows)
    assert w.stats.duplicates == 300 and w.stats.new == 300
    items = {i.supplier_sku: Decimal(str(i.price)) for i in SupplierItem.select()}
    assert len(items) == 300
    assert all(items[f"S{n % 300}"] == Decimal(n) for n in range(302, 602))  # the later row of each SKU
    assert PriceHistory.select().count() == 300


def test_the_previous_list_is_the_newest_one(settings: Settings) -> None:
    """Timestamps sort as time on SQLite too (one text form, whatever the migration tool registered)."""
    from ingestion.models import IngestionRun, database
    from ingestion.runs import previous_run, start_run

    supplier, _ = get_or_create_supplier("Порядок")
    for job in ("r1", "r2", "r3"):
        start_run(job, str(supplier.id), None, "csv")
        IngestionRun.update(status="published").where(IngestionRun.job_id == job).execute()
    newest = previous_run(str(supplier.id), "r4")
    assert newest is not None and newest.job_id == "r3"
    if settings.database_url.startswith("sqlite"):
        texts = [row[0] for row in database.execute_sql("SELECT created_at FROM ingestion_runs")]
        assert texts and all("T" not in t for t in texts)


def test_new_item_ids_are_time_ordered_uuids() -> None:
    ids = ItemIds(now_ms=1_700_000_000_000)
    taken = [ids.take() for _ in range(1000)]
    assert taken == sorted(taken) and len(set(taken)) == 1000
    parsed = [uuid.UUID(t) for t in taken]
    assert {(u.version, u.variant) for u in parsed} == {(7, uuid.RFC_4122)}
    assert taken[0][:12] == f"{1_700_000_000_000:012x}"
    later = ItemIds(now_ms=1_700_000_000_001).take()
    assert later > taken[-1]  # a later writer's ids sort after an earlier one's


def test_the_matcher_and_aggregate_queries_use_the_partial_indexes(settings: Settings) -> None:
    supplier, _ = get_or_create_supplier("Индексы")
    _store(supplier.id, "ix", [_item(2, "A", "a", "1"), _item(3, "B", "b", "2")])
    postgres = isinstance(database.obj, peewee.PostgresqlDatabase)
    queries: dict[str, tuple[str, object]] = {
        "supplier_items_unmatched_idx": (
            "SELECT id FROM supplier_items WHERE supplier_id = {p} AND match_status = 'unmatched' ORDER BY id LIMIT 10",
            str(supplier.id) if postgres else supplier.id.hex),
        "supplier_items_product_idx": (  # linking.py's forms: ANY(array) on PostgreSQL, IN (…) on SQLite
            "SELECT id FROM supplier_items WHERE product_id = ANY({p}::uuid[]) AND delisted_job_id IS NULL"
            if postgres else "SELECT id FROM supplier_items WHERE product_id IN ({p}) AND delisted_job_id IS NULL",
            [str(uuid.uuid4())] if postgres else uuid.uuid4().hex),
    }
    if postgres:
        database.execute_sql("SET enable_seqscan = off")
    try:
        for index, (sql, param) in queries.items():
            explain = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
            plan = " ".join(str(r) for r in database.execute_sql(explain + sql.format(p=database.param), (param,)))
            assert index in plan, plan
    finally:
        if postgres:
            database.execute_sql("RESET enable_seqscan")
    names = {i.name for i in database.get_indexes("supplier_items")}
    assert "supplier_items_match_status_idx" not in names and "supplier_items_unmatched_idx" in names


def test_characteristics_text_and_content_hash_stay_what_json_gives() -> None:
    """Content hashes of stored items depend on this text: the fast path must write what json.dumps writes."""
    cases = [{"price": Decimal("12.50")}, {"retail": Decimal("1E+3"), "wholesale": Decimal("-0.5"), "price_2": Decimal("7")},
             {'опт "мелкий"\\': Decimal("1.005")}, {"b": Decimal("1"), "a": Decimal("2"), "A": Decimal("3")}]
    for prices in cases:
        for extra in ({}, {"brand": "Бренд"}, {"attributes": {"Цвет": "белый"}}):
            item = Item(row=2, sku="S", name="n", price=Decimal("1"), currency="RUB", prices=prices,
                        **extra)  # type: ignore[arg-type]
            expected: dict[str, object] = {"prices": {k: str(v) for k, v in prices.items()}, **extra}
            text = json.dumps(expected, ensure_ascii=False, sort_keys=True)
            assert _characteristics_json(item) == text
            w = ItemWriter(uuid.uuid4(), "hash", None, previous={}, delisted={})
            w.add(item)
            line = next(w._spools["new"].lines()).split("\t")
            assert line[12] == content_hash({"name": "n", "price": "1.00", "currency": "RUB", "unit": None,
                                             "stock": None, "available": None, "category_path": None,
                                             "characteristics_json": text})
            w.discard()


def test_a_repeated_sku_with_characters_copy_escapes_keeps_the_later_row(settings: Settings) -> None:
    supplier, _ = get_or_create_supplier("Экранирование")
    w = _store(supplier.id, "esc", [_item(2, "T\\1\tx", "first", "1"), _item(3, "T\\1\tx", "second", "2")])
    assert w.stats.duplicates == 1 and w.stats.new == 1
    assert [(i.supplier_sku, i.name) for i in SupplierItem.select()] == [("T\\1\tx", "second")]
    assert [Decimal(str(h.price)) for h in PriceHistory.select()] == [Decimal("2.00")]


def _buckets(diff: object) -> int:
    d = diff.to_dict()  # type: ignore[attr-defined]
    return int(d["new"] + d["returned"] + d["changed"] + d["unchanged"])


def test_skus_back_at_ten_times_their_price_count_as_price_moves(settings: Settings) -> None:
    from ingestion.runs import GuardRails, check_guard_rails

    supplier, _ = get_or_create_supplier("Возврат вдесятеро")
    full = [_item(i + 1, f"SKU{i}", f"Товар {i}", str(100 + i)) for i in range(1, 51)]
    _store(supplier.id, "g1", full)
    _store(supplier.id, "g2", full[24:])  # SKU25..50: SKU1..24 delisted
    w = ItemWriter(supplier.id, "g3", None)
    for i, item in enumerate(full, start=1):
        w.add(_item(item.row or 0, item.sku, item.name, str((100 + i) * 10)) if i <= 24 else item)
    diff = w.finish()
    assert (diff.items, diff.new, diff.returned, diff.returned_changed, diff.changed, diff.unchanged) == (
        50, 0, 0, 24, 24, 26)
    assert _buckets(diff) == diff.items
    assert (diff.price_up, diff.price_down, diff.priced_in_both, diff.price_moved_over_half) == (24, 0, 50, 24)
    assert sorted(diff.returned_skus, key=lambda s: int(s[3:])) == [f"SKU{i}" for i in range(1, 25)]
    assert len(diff.largest_moves) == 10 and all(m["returned"] and m["change_pct"] == 900.0 for m in diff.largest_moves)
    assert "50 items: 0 new, 0 gone, 24 changed (24 of them returned at a new price; 24 price up, 0 price down" \
        in diff.summary()
    reasons = check_guard_rails(GuardRails(), diff, rows=50, rows_failed=0)
    assert len(reasons) == 1 and "24 of 50 prices moved" in reasons[0] and "24 of the SKUs came back" in reasons[0]
    assert w.stage() == 24  # held; released later, each returned SKU gets its price-history row
    publish_run("g3", supplier.id)
    back = SupplierItem.get(SupplierItem.supplier_sku == "SKU1")
    assert Decimal(str(back.price)) == Decimal("1010.00") and back.delisted_job_id is None
    assert [Decimal(str(h.price)) for h in PriceHistory.select().where(PriceHistory.supplier_item == back.id)
            .order_by(PriceHistory.id)] == [Decimal("101.00"), Decimal("1010.00")]


def test_one_sku_dropped_and_sent_back_at_a_new_price_shows_the_move(settings: Settings) -> None:
    supplier, _ = get_or_create_supplier("Один вернулся")
    rows = [_item(2, "A", "a", "100"), _item(3, "B", "b", "200"), _item(4, "C", "c", "300"), _item(5, "D", "d", "40")]
    _store(supplier.id, "o1", rows)
    _store(supplier.id, "o2", [rows[0], rows[2]])  # B and D delisted
    w = ItemWriter(supplier.id, "o3", None)
    w.add(rows[0])
    w.add(_item(3, "B", "b", "150"))  # back 25% cheaper
    w.add(rows[2])
    w.add(rows[3])  # back at the price it had
    w.add(_item(6, "E", "e", "9"))
    diff = publish(w)
    assert (diff.new, diff.returned, diff.returned_changed, diff.changed, diff.unchanged) == (1, 1, 1, 1, 2)
    assert _buckets(diff) == diff.items == 5
    assert (diff.price_up, diff.price_down, diff.priced_in_both, diff.price_moved_over_half) == (0, 1, 4, 0)
    assert diff.largest_moves == [{"sku": "B", "name": "b", "old": "200.00", "new": "150.00", "currency": "RUB",
                                   "change_pct": -25.0, "kind": "down", "returned": True}]
    assert sorted(diff.returned_skus) == ["B", "D"]
    assert diff.summary() == ("5 items: 1 new, 1 returned, 0 gone, 1 changed (1 of them returned at a new price; "
                              "0 price up, 1 price down, 0 currency), 0 stock changes, 2 unchanged")
    b = SupplierItem.get(SupplierItem.supplier_sku == "B")
    assert [Decimal(str(h.price)) for h in PriceHistory.select().where(PriceHistory.supplier_item == b.id)
            .order_by(PriceHistory.id)] == [Decimal("200.00"), Decimal("150.00")]


def test_a_sku_back_in_another_currency_counts_as_a_currency_change(settings: Settings) -> None:
    supplier, _ = get_or_create_supplier("Вернулся в евро")
    _store(supplier.id, "c1", [_item(2, "A", "a", "1"), _item(3, "B", "b", "2")])
    _store(supplier.id, "c2", [_item(2, "A", "a", "1")])
    w = ItemWriter(supplier.id, "c3", None)
    w.add(_item(2, "A", "a", "1"))
    w.add(Item(row=3, sku="B", name="b", price=Decimal("2"), currency="EUR"))
    diff = publish(w)
    assert (diff.returned, diff.returned_changed, diff.changed, diff.currency_changed) == (0, 1, 1, 1)
    assert (diff.priced_in_both, diff.price_up, diff.price_down, diff.largest_moves) == (1, 0, 0, [])
    assert _buckets(diff) == diff.items == 2


def test_the_counted_price_move_follows_the_guard_setting(settings: Settings) -> None:
    supplier, _ = get_or_create_supplier("Порог движения")
    first = [_item(i, f"M{i}", f"Товар {i}", "100") for i in range(1, 11)]
    _store(supplier.id, "m1", first)
    moved = [_item(i, f"M{i}", f"Товар {i}", "130" if i <= 4 else "100") for i in range(1, 11)]  # 4 of 10 by +30%
    counts = []
    for share in (0.5, 0.2):
        w = ItemWriter(supplier.id, f"m2-{share}", None, price_move=share)
        for item in moved:
            w.add(item)
        counts.append(w.finish().price_moved_over_half)
        w.discard()
    assert counts == [0, 4]  # GUARD_PRICE_MOVE=0.2 counts the 30% moves, the default 50% does not
