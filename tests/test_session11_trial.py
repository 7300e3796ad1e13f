"""Defects a hostile tester found (session 11 trial): a currency erased by an empty currency column, zero prices,
kopecks in a column of another currency and Russian cents, a bare "Price per" header taken for the price, the
held-list summary's placeholder job id and an unquoted negative cell, and the compose restart policy.

Every file is written here, in ``tmp_path``; the texts are made-up catalogue lines.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ingestion.checks import check_item
from ingestion.cli import _render_summary
from ingestion.models import IngestionRun, ParsingLog, StagedItem, SupplierItem
from ingestion.reading.model import Item
from ingestion.reading.synonyms import header_role
from ingestion.runs import GuardRails, check_guard_rails, finish_run, start_run
from ingestion.settings import Settings
from ingestion.store import ItemWriter, ListDiff, get_or_create_supplier
from reading_fixtures import read_all
from test_lists import ingest

ROOT = Path(__file__).resolve().parent.parent


def _csv(tmp_path: Path, text: str, name: str = "list.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _by_sku(items: list[Item]) -> dict[str | None, tuple[Decimal | None, str | None]]:
    return {i.sku: (i.price, i.currency) for i in items}


# ---------------------------------------------------------------- 1. a currency erased by an empty column
def _rub_item(row: int, sku: str, price: str, currency: str | None = "RUB") -> Item:
    return Item(row=row, name=f"item {sku}", sku=sku, price=Decimal(price), sheet="Лист1", currency=currency,
                raw={"sku": sku, "price": price})


def _publish(supplier_id: Any, job_id: str, items: list[Item]) -> None:
    """Publish ``items`` as the supplier's list ``job_id`` (no guard-rail asked)."""
    run = start_run(job_id, str(supplier_id), None, "csv")
    writer = ItemWriter(supplier_id, job_id, None)
    for item in items:
        writer.add(item)
    finish_run(run, writer, writer.finish(), len(items), 0, [])


def _diff(supplier_id: Any, job_id: str, items: list[Item]) -> ListDiff:
    """The diff of ``items`` against the supplier's current list; nothing written."""
    writer = ItemWriter(supplier_id, job_id, None)
    for item in items:
        writer.add(item)
    diff = writer.finish()
    writer.discard()
    return diff


def test_a_currency_left_out_counts_as_a_currency_change_and_holds_the_list(settings: Settings) -> None:
    supplier, _ = get_or_create_supplier("Рублёвый")
    _publish(supplier.id, "rub", [_rub_item(i + 2, f"S{i}", "100") for i in range(5)])
    diff = _diff(supplier.id, "none", [_rub_item(i + 2, f"S{i}", "100", currency=None) for i in range(5)])
    assert diff.currency_changed == 5 and diff.changed == 5
    assert (diff.previous_main_currency, diff.main_currency, diff.priced_without_currency) == ("RUB", None, 5)
    assert "5 currency" in diff.summary()
    reasons = check_guard_rails(GuardRails(), diff, 5, 0)
    assert len(reasons) == 1 and "currency changed from RUB to none" in reasons[0]
    assert check_guard_rails(GuardRails(hold_on_currency_change=False), diff, 5, 0) == []


def test_a_list_with_no_currency_after_one_without_is_not_held(settings: Settings) -> None:
    supplier, _ = get_or_create_supplier("Без валюты")
    _publish(supplier.id, "first", [_rub_item(i + 2, f"S{i}", "100", currency=None) for i in range(5)])
    diff = _diff(supplier.id, "second", [_rub_item(i + 2, f"S{i}", "100", currency=None) for i in range(5)])
    assert (diff.previous_main_currency, diff.main_currency, diff.currency_changed) == (None, None, 0)
    assert check_guard_rails(GuardRails(), diff, 5, 0) == []


def test_one_row_without_a_currency_is_counted_but_does_not_hold(settings: Settings) -> None:
    supplier, _ = get_or_create_supplier("Одна пустая")
    _publish(supplier.id, "first", [_rub_item(i + 2, f"S{i}", "100") for i in range(5)])
    diff = _diff(supplier.id, "second", [_rub_item(i + 2, f"S{i}", "100", currency=None if i == 0 else "RUB")
                                         for i in range(5)])
    assert (diff.main_currency, diff.currency_changed, diff.priced_without_currency) == ("RUB", 1, 1)
    assert check_guard_rails(GuardRails(), diff, 5, 0) == []


def _currency_list(path: Path, currency: str | None, with_column: bool = True) -> Path:
    header = "Артикул;Наименование;Цена" + (";Валюта" if with_column else "")
    rows = [f"S{i:03d};Товар {i};{100 + i},00" + (f";{currency or ''}" if with_column else "") for i in range(20)]
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("with_column", [True, False], ids=["empty-column", "no-column"])
def test_a_rub_list_followed_by_one_without_currency_is_held(stub_worker: Any, tmp_path: Path,
                                                             with_column: bool) -> None:
    first = ingest(stub_worker, _currency_list(tmp_path / "rub.csv", "RUB"), supplier="Рубли")
    assert first["phase"] == "complete", first
    held = ingest(stub_worker, _currency_list(tmp_path / "none.csv", None, with_column), supplier="Рубли")
    assert held["phase"] == "held", held
    assert "currency changed from RUB to none" in held["error"]
    assert "20 currency" in held["diff_summary"]
    assert IngestionRun.get(IngestionRun.job_id == held["job_id"]).diff["currency_changed"] == 20
    assert {i.currency for i in SupplierItem.select()} == {"RUB"}  # nothing erased
    assert StagedItem.select().where(StagedItem.job_id == held["job_id"]).count() == 20


# ---------------------------------------------------------------- 2. zero prices
@pytest.mark.parametrize(("cell", "rounded"), [("0", False), ("0,00", False), ("0.001", True), ("0.004", True)])
def test_a_zero_price_is_no_price_with_a_warning(tmp_path: Path, cell: str, rounded: bool) -> None:
    body = f"SKU;Name;Price\nS1;Cable;100\nZ1;Socket;{cell}\nS3;Bolt;12,50\n"
    items, problems = read_all(_csv(tmp_path, body))
    got = _by_sku(items)
    assert got["Z1"] == (None, None) and got["S1"][0] == Decimal("100")
    zero = [p for p in problems if p.type == "zero_price"]
    assert [(p.level, p.row, p.column) for p in zero] == [("warning", 3, "Price")]
    assert repr(cell) in zero[0].message and "kept without a price" in zero[0].message
    assert ("rounded" in zero[0].message) is rounded
    assert not [p for p in problems if p.level == "error"]


def test_half_a_cent_is_a_price_and_a_negative_price_is_still_refused(tmp_path: Path) -> None:
    items, problems = read_all(_csv(tmp_path, "SKU;Name;Price\nS1;Cable;0.005\nN1;Nut;-5\nS3;Bolt;12,50\n"))
    assert _by_sku(items)["S1"][0] == Decimal("0.005")
    assert not [p for p in problems if p.type == "zero_price"]
    neg = next(i for i in items if i.sku == "N1")
    checked, found = check_item(neg)
    assert checked is None and found[0].type == "negative_price"


def test_a_zero_in_one_price_column_leaves_the_other(tmp_path: Path) -> None:
    body = "SKU;Name;Розница;Опт\nS1;Cable;100;90\nZ1;Socket;0;55\nS3;Bolt;12,50;11\n"
    items, problems = read_all(_csv(tmp_path, body))
    z = next(i for i in items if i.sku == "Z1")
    assert z.price == Decimal("55") and "retail" not in z.prices
    (zero,) = [p for p in problems if p.type == "zero_price"]
    assert (zero.row, zero.column, zero.level) == (3, "Розница", "warning")


def test_the_store_keeps_a_zero_price_item_without_a_price(settings: Settings) -> None:
    item = Item(row=4, name="Шайба", sku="Z1", price=Decimal("0.001"), raw={"Цена": "0.001"})
    checked, problems = check_item(item)
    assert checked is not None and checked.price is None
    assert [(p.type, p.level, p.column, p.row) for p in problems] == [("zero_price", "warning", "Цена", 4)]
    assert "'0.001'" in problems[0].message


def test_zero_prices_through_the_pipeline(stub_worker: Any, tmp_path: Path) -> None:
    rows = [f"S{i:03d};Товар {i};{100 + i},00" for i in range(10)] + ["Z1;Шайба;0", "Z2;Гайка;0,00"]
    path = _csv(tmp_path, "Артикул;Наименование;Цена, руб\n" + "\n".join(rows) + "\n")
    state = ingest(stub_worker, path, supplier="Нули")
    assert state["phase"] == "complete", state
    prices = {i.supplier_sku: i.price for i in SupplierItem.select()}
    assert prices["Z1"] is None and prices["Z2"] is None and len(prices) == 12
    logs = ParsingLog.select().where((ParsingLog.job_id == state["job_id"]) & (ParsingLog.error_type == "zero_price"))
    assert sorted(log.row_number for log in logs) == [12, 13]


# ---------------------------------------------------------------- 3. minor units and the column's currency
@pytest.mark.parametrize("cell", ["50 коп", "50 копеек", "50 коп."])
@pytest.mark.parametrize("currency", ["USD", "EUR"])
def test_kopecks_in_a_column_of_another_currency_are_refused(tmp_path: Path, cell: str, currency: str) -> None:
    body = f"SKU,Name,Price,Currency\nS1,Cable,1.50,{currency}\nK1,Washer,{cell},{currency}\nS3,Bolt,2.00,{currency}\n"
    items, problems = read_all(_csv(tmp_path, body))
    assert "K1" not in _by_sku(items)
    (bad,) = [p for p in problems if p.level == "error"]
    assert (bad.type, bad.row, bad.column) == ("bad_price", 3, "Price")
    assert "RUB" in bad.message and currency in bad.message and repr(cell) in bad.message


def test_kopecks_in_a_usd_header_column_are_refused(tmp_path: Path) -> None:
    items, problems = read_all(_csv(tmp_path, "SKU;Name;Price, USD\nS1;Cable;1.50\nK1;Washer;50 коп\nS3;Bolt;2\n"))
    assert "K1" not in _by_sku(items)
    assert [(p.type, p.row) for p in problems if p.level == "error"] == [("bad_price", 3)]


@pytest.mark.parametrize("header", ["Цена, руб", "Цена"])
def test_kopecks_in_a_rub_column_or_without_a_currency_still_read(tmp_path: Path, header: str) -> None:
    items, problems = read_all(_csv(tmp_path, f"Артикул;Наименование;{header}\nS1;Кабель;100\nK1;Шайба;50 коп\n"
                                              "S3;Болт;200\n"))
    assert _by_sku(items)["K1"] == (Decimal("0.50"), "RUB")
    assert not [p for p in problems if p.level == "error"]


@pytest.mark.parametrize(("cell", "amount"), [("99 центов", "0.99"), ("99 цента", "0.99"), ("1 цент", "0.01")])
def test_russian_cents_are_cents_of_the_columns_currency(tmp_path: Path, cell: str, amount: str) -> None:
    body = f"SKU,Name,Price,Currency\nS1,Cable,1.50,EUR\nC1,Washer,{cell},EUR\nS3,Bolt,2.00,EUR\n"
    items, problems = read_all(_csv(tmp_path, body))
    assert _by_sku(items)["C1"] == (Decimal(amount), "EUR")
    assert not [p for p in problems if p.level == "error"]


def test_a_fraction_of_a_russian_cent_is_refused(tmp_path: Path) -> None:
    items, problems = read_all(_csv(tmp_path, "SKU;Name;Price, EUR\nS1;Cable;1.50\nC1;Washer;12,5 центов\n"
                                              "S3;Bolt;2\n"))
    assert "C1" not in _by_sku(items)
    assert [(p.type, p.row) for p in problems if p.level == "error"] == [("bad_price", 3)]


# ---------------------------------------------------------------- 4. a bare "Price per" header
@pytest.mark.parametrize("header", ["Price per", "Preis pro", "Preis je", "PRICE PER"])
def test_a_bare_price_per_header_is_not_a_price(header: str) -> None:
    assert header_role(header)[0] != "price"


@pytest.mark.parametrize("header", ["Price per unit", "Preis pro Einheit", "Цена за шт.", "Price/per", "Preis je Stück"])
def test_a_price_per_a_unit_is_still_a_price(header: str) -> None:
    assert header_role(header)[0] == "price"


@pytest.mark.parametrize(("per", "price"), [("Price per", "Price"), ("Preis pro", "Preis"), ("Preis je", "Preis")])
def test_the_real_price_column_is_taken_beside_a_bare_price_per(tmp_path: Path, per: str, price: str) -> None:
    body = f"SKU,Description,{per},{price},Currency\nB1,Screw M6,100,12.50,USD\nB2,Screw M8,100,13.75,USD\n"
    items, problems = read_all(_csv(tmp_path, body))
    assert _by_sku(items) == {"B1": (Decimal("12.50"), "USD"), "B2": (Decimal("13.75"), "USD")}
    assert not [p for p in problems if p.level == "error"]


def test_a_refusal_instead_of_another_price_says_it_once(tmp_path: Path) -> None:
    body = "SKU;Name;Розница;Опт\nS1;Cable;100;90\nD1;Socket;5 мм;55\nS3;Bolt;12,50;11\n"
    _, problems = read_all(_csv(tmp_path, body))
    (bad,) = [p for p in problems if p.level == "error"]
    assert bad.message.count("not taken in its place") == 1, bad.message
    assert "'5 мм'" in bad.message and (bad.row, bad.column) == (3, "Розница")


# ---------------------------------------------------------------- 6. messages
def test_the_summary_of_a_newer_held_list_names_the_older_job_to_reject() -> None:
    s: dict[str, Any] = {
        "phase": "held", "job_id": "held-new", "supplier": "Скачок", "held_reasons": ["prices moved"], "error": "",
        "file_type": "csv", "rows_read": 3, "rows_failed": 0, "seconds": 0.1, "items_held": 3, "diff": "",
        "problem_counts": {}, "first_problems": [], "older_held_job_ids": ["held-old"],
    }
    text = _render_summary(s)
    assert "`ingestion reject held-old`" in text and "JOB_ID" not in text
    s["older_held_job_ids"] = ["held-a", "held-b"]
    text = _render_summary(s)
    assert "`ingestion reject held-a`, `ingestion reject held-b`" in text and "JOB_ID" not in text


@pytest.mark.parametrize(("cell", "amount"), [("(100)", "-100"), ("-5,50", "-5.50")])
def test_a_negative_price_quotes_the_cell(tmp_path: Path, cell: str, amount: str) -> None:
    items, _ = read_all(_csv(tmp_path, f"SKU;Name;Price\nS1;Cable;100\nN1;Nut;{cell}\nS3;Bolt;12,50\n"))
    neg = next(i for i in items if i.sku == "N1")
    checked, problems = check_item(neg)
    assert checked is None
    (p,) = problems
    assert (p.type, p.row, p.column) == ("negative_price", 3, "Price")
    assert f"price {amount} is negative" in p.message and repr(cell) in p.message


# ---------------------------------------------------------------- 5. compose: long-running services restart
def _services(text: str) -> dict[str, str]:
    """Each top-level service of docker-compose.yml → its block of text (no YAML library here)."""
    body = text.split("\nservices:\n", 1)[1].split("\nvolumes:\n", 1)[0]
    parts = re.split(r"\n  (?=[a-z][\w-]*:\n)", "\n" + body)
    return {p.split(":", 1)[0].strip(): p for p in parts if p.strip()}


def test_long_running_compose_services_restart_unless_stopped() -> None:
    services = _services((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert {"worker", "scheduler", "rabbitmq", "redis", "postgres", "migrations"} <= set(services)
    for name in ("worker", "scheduler", "rabbitmq", "redis", "postgres"):
        assert "restart: unless-stopped" in services[name], name
    assert "restart:" not in services["migrations"]  # one-shot: it must not loop
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "restart: unless-stopped" in readme and "delivered again" in readme


# ---------------------------------------------------------------- 7. the README on exponents
def test_the_readme_says_which_exponents_are_read(tmp_path: Path) -> None:
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert "a whole number with a bare exponent (`1e3`, `5E2`" in readme and "`1.5E+03`" in readme
    items, problems = read_all(_csv(tmp_path, "SKU;Name;Price\nS1;Cable;1.5E+03\nS2;Nut;1e3\nS3;Bolt;5E2\n"))
    assert _by_sku(items)["S1"][0] == Decimal("1500")
    assert sorted(p.row for p in problems if p.type == "bad_price") == [3, 4]


# ---------------------------------------------------------------- a third trial (late session 11)
def test_half_the_skus_losing_their_currency_holds_the_list(settings: Settings) -> None:
    """The list keeps RUB as its currency, but 3 of 6 SKUs lost theirs: held (they would become NULL)."""
    supplier, _ = get_or_create_supplier("Наполовину")
    _publish(supplier.id, "first", [_rub_item(i + 2, f"S{i}", "100") for i in range(6)])
    diff = _diff(supplier.id, "half", [_rub_item(i + 2, f"S{i}", "100", currency=None if i >= 3 else "RUB")
                                       for i in range(6)])
    assert (diff.main_currency, diff.currency_lost, diff.priced_in_both + diff.currency_changed) == ("RUB", 3, 6)
    reasons = check_guard_rails(GuardRails(), diff, 6, 0)
    assert len(reasons) == 1 and "3 of 6 SKUs priced before lost their currency" in reasons[0]
    assert check_guard_rails(GuardRails(hold_on_currency_change=False), diff, 6, 0) == []


@pytest.mark.parametrize("cell", ["99c", "99c.", "99 c", "99 ц.", "99ц"])
def test_cents_written_short_read_as_cents(tmp_path: Path, cell: str) -> None:
    items, _ = read_all(_csv(tmp_path, f"SKU;Name;Price;Currency\nS1;Cable;{cell};USD\n"))
    assert _by_sku(items)["S1"] == (Decimal("0.99"), "USD")


def test_a_price_for_a_pack_is_never_the_main_price_beside_a_plain_one(tmp_path: Path) -> None:
    from ingestion.reading.synonyms import price_kind

    items, _ = read_all(_csv(tmp_path, "SKU;Name;Price per 100;Price;Currency\nP1;Widget;100;7;RUB\n"))
    assert _by_sku(items)["P1"] == (Decimal("7"), "RUB")
    assert [price_kind(h) for h in ("Price per 100", "Цена за упаковку", "Preis je 100 Stk", "Цена за 10 шт")] == \
        ["per_pack"] * 4
    assert [price_kind(h) for h in ("Price per unit", "Цена за шт.", "Цена за 1 шт", "Цена, руб", "Price")] == \
        ["price"] * 5
