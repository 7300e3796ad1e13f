"""Linking items to products on SQLite and PostgreSQL: decisions, stability, aggregates, manual actions."""

import datetime as dt
import threading
import uuid
from decimal import Decimal

import pytest

from ingestion.linking import (
    DecisionRefused,
    ItemNotFound,
    apply_decision,
    expire_reviews,
    match_supplier_items,
)
from ingestion.models import MatchReviewQueue, Product, SupplierItem, database
from ingestion.reading.model import Item
from ingestion.settings import Settings
from ingestion.store import ItemWriter, publish, get_or_create_supplier

OPTIONS = {"auto_threshold": 95, "potential_threshold": 70, "max_candidates": 5}


def store(supplier_name: str, rows: list[tuple[str, str, str | None, str | None]], job: str = "j1") -> str:
    """rows: (sku, name, price, currency); returns the supplier id."""
    supplier, _ = get_or_create_supplier(supplier_name)
    w = ItemWriter(supplier.id, job, None)
    for n, (sku, name, price, currency) in enumerate(rows, start=2):
        w.add(Item(row=n, sku=sku, name=name, price=Decimal(price) if price else None, currency=currency,
                   available=True if price else None))
    publish(w)
    return str(supplier.id)


def product(name: str, brand: str | None = None) -> Product:
    return Product.create(internal_sku=f"P-{uuid.uuid4().hex[:8]}", name=name, brand=brand, status="active")


def item(sku: str) -> SupplierItem:
    return SupplierItem.get(SupplierItem.supplier_sku == sku)


def test_auto_review_new_and_a_second_run_changes_nothing(settings: Settings) -> None:
    phone = product("Samsung Galaxy A54 5G 128GB Black", "Samsung")
    product("Samsung Galaxy A34 5G 128GB Black", "Samsung")
    sid = store(
        "Связной",
        [
            ("1", "Смартфон Samsung Galaxy A54 5G 128GB Black", "29990", "RUB"),
            ("2", "Samsung Galaxy 5G 128GB Black", "25990", "RUB"),
            ("3", "Кофеварка капельная Bosch TKA3A031", "3990", "RUB"),
            ("4", "Кофеварка капельная Bosch TKA3A031", "4100", "RUB"),
        ],
    )
    stats = match_supplier_items(sid, OPTIONS, batch_size=2)
    assert stats.processed == 4
    one, two, three, four = item("1"), item("2"), item("3"), item("4")
    assert (one.match_status, one.product_id) == ("auto_matched", phone.id)
    assert one.match_score >= 95 and one.match_candidates[0]["product_id"] == str(phone.id)
    assert two.match_status == "potential_match" and two.product_id is None
    review = MatchReviewQueue.get(MatchReviewQueue.supplier_item == two.id)
    assert review.status == "pending" and 1 <= len(review.candidate_products) <= 5
    assert review.expires_at > dt.datetime.utcnow()
    # nothing matched the coffee maker: a draft product, and the second offer of it links to that draft
    draft = Product.get_by_id(three.product_id)
    assert draft.status == "draft" and draft.name == three.name
    assert four.product_id == draft.id
    assert Product.get_by_id(draft.id).min_prices == {"RUB": "3990.00"}
    assert Decimal(str(Product.get_by_id(draft.id).min_price)) == Decimal("3990")
    assert Product.get_by_id(draft.id).availability is True

    again = match_supplier_items(sid, OPTIONS)
    assert again.processed == 0
    assert Product.select().count() == 3


def test_reingestion_and_verified_links_are_kept(settings: Settings) -> None:
    drill = product("Makita HP1630 ударная дрель 710 Вт", "Makita")
    sid = store("Инструмент", [("M1", "Дрель ударная Makita HP1630 710Вт", "5000", "RUB")])
    match_supplier_items(sid, OPTIONS)
    apply_decision("link", str(item("M1").id), str(drill.id), "anna")
    assert item("M1").match_status == "verified_match"
    store("Инструмент", [("M1", "Совсем другое имя", "5100", "RUB")], job="j2")
    assert match_supplier_items(sid, OPTIONS).processed == 0
    kept = item("M1")
    assert (kept.match_status, kept.product_id, kept.name) == ("verified_match", drill.id, "Совсем другое имя")
    assert Product.get_by_id(drill.id).min_prices == {"RUB": "5100.00"}


def test_manual_decisions(settings: Settings) -> None:
    a = product("Bosch GSR 120-LI шуруповерт", "Bosch")
    b = product("Bosch GSR 180-LI шуруповерт", "Bosch")
    sid = store("Дрели", [("B1", "Шуруповерт Bosch GSR", "7000", "RUB"), ("B2", "Шуруповерт Bosch GSR", "7100", "EUR")])
    match_supplier_items(sid, OPTIONS)
    b1 = item("B1")
    assert b1.match_status == "potential_match"
    out = apply_decision("approve_match", str(b1.id), str(b.id), "ivan")
    assert out == {"supplier_item_id": str(b1.id), "action": "approve_match", "match_status": "verified_match",
                   "product_id": str(b.id)}
    review = MatchReviewQueue.get(MatchReviewQueue.supplier_item == b1.id)
    assert (review.status, review.decided_by, review.decided_product_id) == ("approved", "ivan", b.id)
    assert Product.get_by_id(b.id).min_prices == {"RUB": "7000.00"}

    apply_decision("unlink", str(b1.id))
    b1 = item("B1")
    assert (b1.match_status, b1.product_id) == ("potential_match", None)
    assert str(b.id) not in [c["product_id"] for c in b1.match_candidates]
    assert MatchReviewQueue.get(MatchReviewQueue.supplier_item == b1.id).status == "pending"
    assert Product.get_by_id(b.id).min_prices is None

    out = apply_decision("reject_match", str(item("B2").id))
    assert out["match_status"] == "verified_match" and out["product_id"] not in (str(a.id), str(b.id))
    assert Product.get_by_id(uuid.UUID(out["product_id"])).min_prices == {"EUR": "7100.00"}

    apply_decision("reset_match", str(b1.id))
    assert item("B1").match_status == "unmatched"
    assert MatchReviewQueue.get_or_none(MatchReviewQueue.supplier_item == b1.id) is None

    with pytest.raises(ItemNotFound):
        apply_decision("link", str(uuid.uuid4()), str(a.id))
    with pytest.raises(DecisionRefused):
        apply_decision("approve_match", str(b1.id))  # reset: no candidates left to approve


def test_old_reviews_expire(settings: Settings) -> None:
    product("Philips HD9252 аэрогриль")
    sid = store("Кухня", [("K1", "Аэрогриль Philips", "9000", "RUB")])
    match_supplier_items(sid, OPTIONS)
    assert item("K1").match_status == "potential_match"
    assert expire_reviews(dt.datetime.utcnow()) == 0
    assert expire_reviews(dt.datetime.utcnow() + dt.timedelta(days=30)) == 1
    assert MatchReviewQueue.get().status == "expired"
    assert item("K1").match_status == "unmatched"


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_two_workers_share_the_items_without_doing_any_twice(settings: Settings) -> None:
    for n in range(40):
        product(f"Лампа светодиодная Gauss {n * 3 + 5}W E27 модель GL-{1000 + n}")
    sid = store("Свет", [(f"L{n}", f"Лампа Gauss GL-{1000 + n} {n * 3 + 5}W E27", "100", "RUB") for n in range(120)])
    results = []

    def run() -> None:
        with database.connection_context():
            results.append(match_supplier_items(sid, OPTIONS, batch_size=10))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.processed for r in results) == 120
    assert SupplierItem.select().where(SupplierItem.match_status == "unmatched").count() == 0


def test_a_run_out_of_time_reports_what_is_left(settings: Settings) -> None:
    import time

    sid = store("Долгий", [(f"D{n}", f"Дрель модель DX-{n}", "100", "RUB") for n in range(30)])
    first = match_supplier_items(sid, OPTIONS, batch_size=10, deadline=time.monotonic() - 1)
    assert (first.processed, first.remaining) == (10, 20)
    rest = match_supplier_items(sid, OPTIONS, batch_size=10)
    assert (rest.processed, rest.remaining) == (20, 0)
    assert SupplierItem.select().where(SupplierItem.match_status == "unmatched").count() == 0


def test_a_review_matched_again_is_refreshed_in_place(settings: Settings) -> None:
    product("Philips HD9252 аэрогриль")
    sid = store("Кухня-2", [("K1", "Аэрогриль Philips", "9000", "RUB")])
    match_supplier_items(sid, OPTIONS)
    review = MatchReviewQueue.get()
    MatchReviewQueue.update(decided_by="anna", candidate_products=[]).where(MatchReviewQueue.id == review.id).execute()
    assert expire_reviews(dt.datetime.utcnow() + dt.timedelta(days=30)) == 1
    assert match_supplier_items(sid, OPTIONS).review == 1
    again = MatchReviewQueue.get()
    assert again.id == review.id and MatchReviewQueue.select().count() == 1
    assert (again.status, again.decided_by) == ("pending", None)
    assert again.candidate_products and again.candidate_products == item("K1").match_candidates
    assert again.expires_at > dt.datetime.utcnow() + dt.timedelta(days=13)


def test_products_made_meanwhile_are_matched_not_duplicated(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another worker's new products reach this run's catalog between batches (CATALOG_REFRESH_SECONDS)."""
    from ingestion import linking

    monkeypatch.setattr(linking, "CATALOG_REFRESH_SECONDS", 0.0)
    sid = store("Параллельный", [(f"D{n}", f"Дрель модель DX-{1000 + n}", "100", "RUB") for n in range(30)])
    made: list[str] = []

    def another_worker(done: int, total: int) -> None:
        if made or done == 0:  # after the first batch (progress is also told the start: 0 done)
            return
        for row in SupplierItem.select().where(SupplierItem.match_status == "unmatched"):
            made.append(str(product(row.name).id))

    stats = match_supplier_items(sid, OPTIONS, batch_size=10, progress=another_worker)
    assert (stats.processed, stats.new, len(made)) == (30, 10, 20)
    assert Product.select().count() == 30
    linked = {str(i.product_id) for i in SupplierItem.select() if i.product_id}
    assert set(made) <= linked


def test_a_reload_reuses_what_did_not_change(settings: Settings) -> None:
    from ingestion.linking import shared_catalog

    kept, renamed = product("Makita HP1630 дрель"), product("Bosch GSR 120 шуруповерт")
    sid = store("Перезагрузка", [("R1", "Дрель Makita HP1630", "100", "RUB")])
    match_supplier_items(sid, OPTIONS)
    before = shared_catalog.get()
    entry_of = {e.id: e for e in before.entries}
    Product.update(name="Bosch GSR 180 шуруповерт").where(Product.id == renamed.id).execute()
    shared_catalog.forget()
    after = shared_catalog.get()
    assert after is not before and len(after) == len(before)
    fresh = {e.id: e for e in after.entries}
    assert fresh[str(kept.id)] is entry_of[str(kept.id)]
    assert fresh[str(renamed.id)].name == "Bosch GSR 180 шуруповерт"


def test_aggregates_over_mixed_offers(settings: Settings) -> None:
    """min_prices / min_price / availability from offers in several currencies and states (the SQL
    aggregation on PostgreSQL and the row loop on SQLite agree)."""
    from ingestion.linking import recalc_products

    supplier, _ = get_or_create_supplier("Смешанный")
    w = ItemWriter(supplier.id, "agg", None)
    offers = [  # sku, price, currency, available, stock
        ("A1", "100", "RUB", False, None), ("A2", "120", "RUB", None, "5"), ("A3", "10", "EUR", None, None),
        ("B1", "50", "RUB", False, None), ("B2", "70", "RUB", None, "0"),
        ("C1", None, None, None, None),
        ("D1", "30", "RUB", True, None), ("D2", "20", "RUB", True, None),
    ]
    for n, (sku, price, currency, available, stock) in enumerate(offers, start=2):
        w.add(Item(row=n, sku=sku, name=f"Товар {sku}", price=Decimal(price) if price else None, currency=currency,
                   available=available, stock=Decimal(stock) if stock is not None else None))
    publish(w)
    products = {key: product(f"Продукт {key}") for key in "ABCD"}
    for sku, *_ in offers:
        SupplierItem.update(product=products[sku[0]], match_status="verified_match").where(
            SupplierItem.supplier_sku == sku).execute()
    SupplierItem.update(match_status="potential_match").where(SupplierItem.supplier_sku == "D2").execute()
    assert recalc_products([p.id for p in products.values()]) == 4
    a, b, c, d = (Product.get_by_id(products[k].id) for k in "ABCD")
    assert (a.min_prices, a.min_price, a.availability) == ({"EUR": "10.00", "RUB": "120.00"}, None, True)
    assert (b.min_prices, Decimal(str(b.min_price)), b.min_price_currency, b.availability) == (
        {"RUB": "50.00"}, Decimal("50"), "RUB", False)
    assert (c.min_prices, c.min_price, c.availability) == (None, None, None)
    assert (d.min_prices, Decimal(str(d.min_price)), d.availability) == ({"RUB": "30.00"}, Decimal("30"), True)


def test_aggregates_of_random_offers_follow_the_rules(settings: Settings) -> None:
    """Random offers (prices, currencies, availability and stock in every combination, delisted and
    unlinked ones among them) give the aggregates the docstring's rules give, computed here offer by
    offer; on PostgreSQL the rules are one SQL statement, so this checks it against the rules."""
    import random

    from ingestion.linking import recalc_products

    rng = random.Random(11)
    supplier, _ = get_or_create_supplier("Случайный")
    w = ItemWriter(supplier.id, "rand", None)
    offers = []
    for n in range(240):
        price = rng.choice([None, "0.99", "10", "10.5", "99.99", "1500", "12.34"])
        currency = rng.choice([None, "RUB", "RUB", "EUR", "USD"]) if price else rng.choice([None, "RUB"])
        available = rng.choice([None, None, True, False])
        stock = rng.choice([None, None, "0", "3", "0.5"])
        offers.append((f"R{n}", price, currency, available, stock))
        w.add(Item(row=n + 2, sku=f"R{n}", name=f"Товар R{n}", price=Decimal(price) if price else None,
                   currency=currency, available=available, stock=Decimal(stock) if stock is not None else None))
    publish(w)
    products = [product(f"Продукт {k}") for k in range(40)]
    linked: dict[str, tuple[Product, str]] = {}
    for sku, *_ in offers:
        owner = rng.choice(products)
        status = rng.choice(["auto_matched", "verified_match", "verified_match", "potential_match"])
        linked[sku] = (owner, status)
        SupplierItem.update(product=owner, match_status=status).where(SupplierItem.supplier_sku == sku).execute()
    gone = {sku for sku, *_ in offers if rng.random() < 0.1}
    SupplierItem.update(delisted_job_id="later").where(SupplierItem.supplier_sku.in_(sorted(gone))).execute()

    expected: dict[uuid.UUID, tuple[object, object, object, object]] = {}
    for p in products:
        mine = [o for o in offers if linked[o[0]][0].id == p.id and linked[o[0]][1] != "potential_match"
                and o[0] not in gone]
        says = [o[3] if o[3] is not None else Decimal(o[4]) > 0 for o in mine if o[3] is not None or o[4] is not None]
        stocked: dict[str, Decimal] = {}
        every: dict[str, Decimal] = {}
        for sku, price, currency, available, stock in mine:
            if price is None or currency is None:
                continue
            in_stock = available if available is not None else (Decimal(stock) > 0 if stock is not None else True)
            every[currency] = min(every.get(currency, Decimal(price)), Decimal(price))
            if in_stock:
                stocked[currency] = min(stocked.get(currency, Decimal(price)), Decimal(price))
        chosen = stocked or every
        single = next(iter(chosen.items())) if len(chosen) == 1 else (None, None)
        expected[p.id] = ({k: f"{v:.2f}" for k, v in chosen.items()} or None, single[1], single[0],
                          any(says) if says else None)
    assert recalc_products([p.id for p in products] * 2) == 40  # repeated ids count once
    for p in products:
        got = Product.get_by_id(p.id)
        price = Decimal(str(got.min_price)) if got.min_price is not None else None
        assert (got.min_prices, price, got.min_price_currency, got.availability) == expected[p.id], p.name


def test_a_run_that_can_wait_hands_back_the_work_when_the_catalog_is_busy(settings: Settings) -> None:
    import time
    from unittest.mock import patch

    from ingestion import linking

    sid = store("Занятой", [(f"Z{n}", f"Дрель модель ZX-{n}", "100", "RUB") for n in range(5)])
    with patch.object(linking, "LOCK_WAIT_SECONDS", 0.05), linking.shared_catalog.lock:  # another run is matching
        started = time.monotonic()
        busy = match_supplier_items(sid, OPTIONS, deadline=time.monotonic() + 60)
        assert time.monotonic() - started < 5
    assert (busy.processed, busy.remaining) == (0, 5)
    assert SupplierItem.select().where(SupplierItem.match_status == "unmatched").count() == 5
    done = match_supplier_items(sid, OPTIONS, deadline=time.monotonic() + 60)
    assert (done.processed, done.remaining) == (5, 0)


def test_the_catalog_is_kept_out_of_full_garbage_collections_until_it_is_dropped(settings: Settings) -> None:
    """After a batch the process's heap is frozen (gc.freeze: the catalog is not walked by every full
    collection); dropping the catalog hands it back to the collector."""
    import gc

    from ingestion.linking import shared_catalog

    product("Makita HP1630 дрель")
    sid = store("Сборщик", [("G1", "Дрель Makita HP1630", "100", "RUB"), ("G2", "Перфоратор Bosch GBH 2-26", "90", "RUB")])
    try:
        match_supplier_items(sid, OPTIONS)
        assert gc.get_freeze_count() > 0
        shared_catalog.forget()
        assert gc.get_freeze_count() == 0
    finally:
        gc.unfreeze()


def test_drafts_reuse_category_ids_across_runs_and_forget_drops_them(settings: Settings) -> None:
    from unittest.mock import patch

    from ingestion import linking
    from ingestion.models import Category

    first = store("Категории 1", [("C1", "Светильник ДПО-40 IP65 арт.1", "100", "RUB")])
    SupplierItem.update(category_path="Свет / Светильники").execute()
    match_supplier_items(first, OPTIONS)
    second = store("Категории 2", [("C2", "Прожектор 50Вт 6500K арт.2", "100", "RUB")])
    SupplierItem.update(category_path="Свет / Светильники").where(SupplierItem.supplier_sku == "C2").execute()
    with patch.object(Category, "get_or_none", side_effect=AssertionError("looked up again")):
        match_supplier_items(second, OPTIONS)  # the ids of the first run are reused
    assert Category.select().count() == 2
    linking.shared_catalog.forget()
    assert linking.shared_catalog.categories == {}


def test_another_sku_of_the_same_list_is_another_product(settings: Settings) -> None:
    # look-alike names that differ in a number: each its own draft, none sent to review against the
    # drafts of the same list (the fault test's 10,000 "Изделие N" rows all went to review before)
    rows = [(f"F{n:03d}", f"Изделие {n}", "10", "RUB") for n in range(1, 41)]
    sid = store("Однотипный", rows)
    stats = match_supplier_items(sid, OPTIONS)
    assert (stats.processed, stats.review, stats.new) == (40, 0, 40)
    assert MatchReviewQueue.select().count() == 0
    assert len({item(sku).product_id for sku, *_ in rows}) == 40


def test_another_suppliers_items_still_match_those_drafts(settings: Settings) -> None:
    first = store("Первый", [("A1", "Кофеварка капельная Bosch TKA3A031", "3990", "RUB")])
    match_supplier_items(first, OPTIONS)
    second = store("Второй", [("B7", "Кофеварка капельная Bosch TKA3A031", "4100", "RUB")])
    match_supplier_items(second, OPTIONS)
    assert item("B7").match_status == "auto_matched" and item("B7").product_id == item("A1").product_id


def test_a_renumbered_sku_may_take_the_product_of_the_dropped_one(settings: Settings) -> None:
    phone = product("Samsung Galaxy A54 5G 128GB Black", "Samsung")
    sid = store("Перенумеровал", [("OLD-1", "Смартфон Samsung Galaxy A54 5G 128GB Black", "29990", "RUB")], "j1")
    match_supplier_items(sid, OPTIONS)
    assert item("OLD-1").product_id == phone.id
    store("Перенумеровал", [("NEW-1", "Смартфон Samsung Galaxy A54 5G 128GB Black (8/128)", "29990", "RUB")], "j2")
    assert item("OLD-1").delisted_job_id == "j2"  # gone from the new list
    match_supplier_items(sid, OPTIONS)
    assert (item("NEW-1").match_status, item("NEW-1").product_id) == ("auto_matched", phone.id)
