"""Guard-rail defects fixed together: held lists superseded by a newer held list, the stock of a returning SKU,
re-decoded records refused by ``ingestion match``, and ``release``/``reject`` sharing one body."""

from __future__ import annotations

import json
import sqlite3
import uuid
from decimal import Decimal
from pathlib import Path

import pytest

from ingestion.models import IngestionRun, SupplierItem
from ingestion.reading.model import Item
from ingestion.runs import RunNotHeld, finish_run, reject_run, release_run, start_run
from ingestion.settings import Settings
from ingestion.store import ItemWriter, get_or_create_supplier, publish
from test_cli import _list, cli


def _item(row: int, sku: str, price: str, stock: str | None = None, available: bool | None = None) -> Item:
    return Item(row=row, name=f"item {sku}", sku=sku, price=Decimal(price), sheet="Лист1", currency="RUB",
                raw={"sku": sku}, stock=Decimal(stock) if stock is not None else None, available=available)


def _run(supplier_id: uuid.UUID, job_id: str, items: list[Item], hold: bool) -> None:
    """Read ``items`` as the supplier's list ``job_id``: held when ``hold``, else published."""
    run = start_run(job_id, str(supplier_id), None, "csv")
    writer = ItemWriter(supplier_id, job_id, None)
    for item in items:
        writer.add(item)
    diff = writer.finish()
    finish_run(run, writer, diff, len(items), 0, ["held for the test"] if hold else [])


def _prices(supplier_id: uuid.UUID) -> dict[str, Decimal]:
    items = SupplierItem.select().where(SupplierItem.supplier == supplier_id)
    return {i.supplier_sku: Decimal(str(i.price)) for i in items}


# --- 1. a newer held list puts every older held list of the supplier out of date ----------------
def test_a_newer_held_list_puts_the_older_held_lists_out_of_date(settings: Settings) -> None:
    supplier, _ = get_or_create_supplier("Два удержания")
    sid = supplier.id
    _run(sid, "current", [_item(2, "A", "100"), _item(3, "B", "200")], hold=False)
    _run(sid, "held-1", [_item(2, "A", "110"), _item(3, "B", "210")], hold=True)
    _run(sid, "held-2", [_item(2, "A", "120"), _item(3, "B", "220")], hold=True)
    _run(sid, "held-3", [_item(2, "A", "130"), _item(3, "B", "230")], hold=True)

    for older in ("held-1", "held-2"):  # each older held list is out of date, and the newest newer one is named
        with pytest.raises(RunNotHeld) as refused:
            release_run(older, "anna")
        assert "out of date" in refused.value.message and "held-3" in refused.value.message
        assert f"reject job {older}" in refused.value.message
    assert _prices(sid) == {"A": Decimal("100.00"), "B": Decimal("200.00")}  # nothing was rolled anywhere
    assert IngestionRun.get(IngestionRun.job_id == "held-1").status == "held"  # still there to be rejected

    release_run("held-3", "anna")  # the newest list can be released
    assert _prices(sid) == {"A": Decimal("130.00"), "B": Decimal("230.00")}
    with pytest.raises(RunNotHeld, match="current list is now job held-3"):
        release_run("held-1", "anna")  # and then the older ones stay out of date: the current list moved on
    assert reject_run("held-1", "anna") > 0 and reject_run("held-2", "anna") > 0


def test_once_the_newer_held_list_is_rejected_the_older_one_can_be_released(settings: Settings) -> None:
    supplier, _ = get_or_create_supplier("Отклонён новый")
    sid = supplier.id
    _run(sid, "current", [_item(2, "A", "100")], hold=False)
    _run(sid, "older", [_item(2, "A", "110")], hold=True)
    _run(sid, "newer", [_item(2, "A", "999")], hold=True)
    with pytest.raises(RunNotHeld, match="newer"):
        release_run("older", None)
    reject_run("newer", "boris")  # the newer file was the wrong one: the older list is the supplier's latest again
    release_run("older", "boris")
    assert _prices(sid) == {"A": Decimal("110.00")}


def test_release_and_diff_of_a_held_list_superseded_by_a_newer_held_one(tmp_path: Path) -> None:
    assert cli("ingest", str(_list(tmp_path / "first.csv")), "--supplier", "Скачок", cwd=tmp_path).returncode == 0
    moved = _list(tmp_path / "moved.csv", 3)
    assert cli("ingest", str(moved), "--supplier", "Скачок", "--job-id", "held-old", cwd=tmp_path).returncode == 3
    newer = cli("ingest", str(moved), "--supplier", "Скачок", "--job-id", "held-new", cwd=tmp_path)
    assert newer.returncode == 3
    assert "older held list (job held-old) can no longer be released" in newer.stdout  # said when it happens

    out = cli("release", "held-old", cwd=tmp_path)
    assert out.returncode == 7, out.stdout + out.stderr
    assert "out of date" in out.stderr and "job held-new" in out.stderr
    assert "ingestion reject held-old" in out.stderr and "ingestion diff held-new" in out.stderr

    stale = cli("diff", "held-old", cwd=tmp_path)
    assert stale.returncode == 0, stale.stderr
    first, second = stale.stdout.splitlines()[:2]
    assert first.startswith("job held-old: held, OUT OF DATE — it can no longer be released")
    assert "job held-new" in second and "ingestion reject held-old" in second
    held = json.loads(cli("diff", "held-old", "--json", cwd=tmp_path).stdout)["held"]
    assert held["can_be_released"] is False and held["newer_held_job_ids"] == ["held-new"]
    assert "held-new" in held["why_not"]

    newest = cli("diff", "held-new", cwd=tmp_path)
    assert newest.returncode == 0 and newest.stdout.startswith("job held-new: held (against job")
    assert "job held-old" in newest.stdout and "out of date" in newest.stdout
    doc = json.loads(cli("diff", "held-new", "--json", cwd=tmp_path).stdout)["held"]
    assert doc["can_be_released"] is True and doc["older_held_job_ids"] == ["held-old"]

    released = cli("release", "held-new", "--by", "anna", cwd=tmp_path)
    assert released.returncode == 0, released.stdout + released.stderr
    with sqlite3.connect(tmp_path / "ingestion.db") as db:
        price = db.execute("SELECT price FROM supplier_items WHERE supplier_sku = 'S000'").fetchone()[0]
    assert str(price).startswith("300")
    assert cli("release", "held-old", cwd=tmp_path).returncode == 7
    assert cli("reject", "held-old", cwd=tmp_path).returncode == 0


# --- 2. a returning SKU's stock change is counted like any other -------------------------------
def test_the_stock_change_of_a_returning_sku_is_counted(settings: Settings) -> None:
    supplier, _ = get_or_create_supplier("Склад возврата")
    sid = supplier.id
    first = ItemWriter(sid, "s1", None)
    for item in (_item(2, "A", "1", "5", True), _item(3, "B", "2", "3", True), _item(4, "C", "3", "4", True),
                 _item(5, "D", "4", "6", True)):
        first.add(item)
    publish(first)
    gone = ItemWriter(sid, "s2", None)
    gone.add(_item(2, "A", "1", "5", True))
    publish(gone)  # B, C and D delisted (and so unavailable)

    back = ItemWriter(sid, "s3", None)
    back.add(_item(2, "A", "1", "5", True))
    back.add(_item(3, "B", "2", "9", True))  # back at its price, with another quantity
    back.add(_item(4, "C", "3", "4", None))  # back at its price and quantity, availability not stated: no change
    back.add(_item(5, "D", "4", "6", True))  # back at its price and quantity, available again: back in stock
    diff = publish(back)
    assert (diff.returned, diff.returned_changed, diff.changed, diff.unchanged) == (3, 0, 0, 1)  # buckets as before
    assert diff.stock_changed == 2
    assert "2 stock changes" in diff.summary()
    assert Decimal(str(SupplierItem.get(SupplierItem.supplier_sku == "B").stock)) == Decimal("9")

    again = ItemWriter(sid, "s4", None)
    again.add(_item(2, "A", "1", "5", True))
    publish(again)  # B, C and D delisted again
    price_too = ItemWriter(sid, "s5", None)
    price_too.add(_item(2, "A", "1", "5", True))
    price_too.add(_item(3, "B", "2.50", "0", False))  # back at a new price, out of stock: 9 -> 0
    price_too.add(_item(4, "C", "3", "4", None))  # the same quantity, availability not stated
    price_too.add(_item(5, "D", "4", "6", False))  # the same quantity, still not available
    moved = publish(price_too)
    assert (moved.returned, moved.returned_changed, moved.stock_changed) == (2, 1, 1)


# --- 3. `ingestion match` refuses records the reader re-decoded ---------------------------------
def _mojibake(text: str) -> str:
    """``text`` as it reads when its UTF-8 bytes were decoded as cp1251 once ("Прайс" -> "РџСЂР°Р№СЃ")."""
    return text.encode("utf-8").decode("cp1251")


def test_match_refuses_records_the_reader_re_decoded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from ingestion.matching.cli import main

    catalog = tmp_path / "catalog.csv"
    catalog.write_text("id,name\np1,Кабель ВВГ 3х1.5\np2,Cable NYM\n", encoding="utf-8")
    items = tmp_path / "items.csv"
    items.write_text(
        "id,name\n"
        f"i1,{_mojibake('Кабель ВВГ 3х1.5 медный')}\n"
        "i2,Cable NYM 3x1.5\n"
        f"i3,\"{_mojibake('Розетка двойная')}\n{_mojibake('с заземлением')}\"\n"
        f"i4,{_mojibake('Выключатель')}\n",
        encoding="utf-8",
    )
    assert main(["--catalog", str(catalog), "--items", str(items)]) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert [line.split(": ", 2)[1] for line in lines] == [f"{items}:2", f"{items}:4", f"{items}:6"]
    assert all("text_repaired" in line for line in lines)
    assert "Кабель ВВГ 3х1.5 медный" in lines[0] and _mojibake("Кабель")[:6] in lines[0]  # what it read and made
    assert "UTF-8" in lines[0]
    assert str(catalog) not in err  # the catalog's text is clean: nothing of it is refused

    clean = tmp_path / "clean.csv"
    clean.write_text("id,name\ni1,Кабель ВВГ 3х1.5 медный\n", encoding="utf-8")
    assert main(["--catalog", str(catalog), "--items", str(clean)]) == 0


def test_match_refuses_a_re_decoded_header(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from ingestion.matching.cli import main

    items = tmp_path / "items.csv"
    items.write_text(f"id,name,{_mojibake('Примечание поставщика')}\n"
                     f"i1,{_mojibake('Кабель ВВГ медный')},{_mojibake('Новинка')}\n", encoding="utf-8")
    assert main(["--catalog", str(items), "--items", str(items)]) == 2
    err = capsys.readouterr().err
    assert f"{items}:1: " in err and "text_repaired" in err


# --- 4. `release` and `reject` share one body: a decision someone else made meanwhile -----------
@pytest.mark.parametrize("releasing", [True, False])
def test_a_list_decided_meanwhile_is_reported_the_same_by_release_and_reject(
    settings: Settings, capsys: pytest.CaptureFixture[str], releasing: bool
) -> None:
    import argparse

    from ingestion.cli import EXIT_NOT_HELD, _decide, _Decided

    supplier, _ = get_or_create_supplier("Гонка решений")
    _run(supplier.id, "current", [_item(2, "A", "100")], hold=False)
    _run(supplier.id, "held", [_item(2, "A", "900")], hold=True)
    args = argparse.Namespace(job_id="held", decided_by="anna", verbose=True, json=False)

    def meanwhile(decided_by: str | None) -> None:
        reject_run("held", "boris")  # another person was quicker; the actor then refuses
        raise RunNotHeld("job held has no held list (status rejected)")

    assert _decide(args, settings, releasing, meanwhile) == EXIT_NOT_HELD
    err = capsys.readouterr().err
    assert err.startswith("ingestion: job held holds no list to ") and "already rejected by boris" in err

    _run(supplier.id, "held-2", [_item(2, "A", "900")], hold=True)
    args.job_id = "held-2"
    decided = _decide(args, settings, releasing, lambda by: f"decided by {by}")
    assert isinstance(decided, _Decided) and decided.outcome == "decided by anna" and decided.decided_by == "anna"
    assert decided.run.job_id == "held-2" and decided.run.status == "held"  # `act` did nothing here
