"""Knowing each supplier: diffs between lists, guard-rails that hold a list, identical re-sends,
remembered layouts — through the real pipeline on the in-process broker."""

import csv
import json
import uuid
from pathlib import Path
from typing import Any, Sequence

import attrs

from ingestion.models import IngestionRun, ParsingLog, PriceHistory, StagedItem, SupplierItem, SupplierLayout
from ingestion.pipeline import get_runtime
from test_actors import run

HEADER = ["Артикул", "Наименование", "Цена, руб", "Остаток"]


def price_list(path: Path, rows: Sequence[Sequence[Any]], header: Sequence[str] = HEADER) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as f:
        out = csv.writer(f, delimiter=";")
        out.writerow(["Прайс-лист ООО «Пример»"])
        out.writerow(header)
        out.writerows(rows)
    return path


def base_rows(n: int = 40) -> list[list[Any]]:
    return [[f"S{i:03d}", f"Товар {i}", f"{100 + i},00", str(i % 5)] for i in range(n)]


def ingest(worker: Any, path: Path, supplier: str = "Постоянный") -> dict[str, str]:
    return run(worker, source_url=str(path), supplier_name=supplier, job_id=uuid.uuid4().hex)


def test_diff_new_gone_repriced_and_stock(stub_worker: Any, tmp_path: Path) -> None:
    first = ingest(stub_worker, price_list(tmp_path / "w1.csv", base_rows()))
    assert first["phase"] == "complete"
    rows = base_rows()
    rows = [r for r in rows if r[0] not in ("S000", "S001")]  # two SKUs gone
    rows[0][2] = "110,00"  # S002: 102 -> 110
    rows[1][2] = "90,00"  # S003: 103 -> 90
    rows[2][3] = "99"  # S004: stock change only
    rows.append(["S900", "Новинка", "55,00", "1"])
    second = ingest(stub_worker, price_list(tmp_path / "w2.csv", rows))
    assert second["phase"] == "complete", second
    assert "1 new, 2 gone, 3 changed (1 price up, 1 price down" in second["diff_summary"]
    diff = IngestionRun.get(IngestionRun.job_id == second["job_id"]).diff
    assert (diff["new"], diff["gone"], diff["price_up"], diff["price_down"]) == (1, 2, 1, 1)
    assert diff["new_skus"] == ["S900"] and sorted(diff["gone_skus"]) == ["S000", "S001"]
    assert diff["stock_changed"] == 1 and diff["unchanged"] == 35 and diff["changed"] == 3
    assert {m["sku"] for m in diff["largest_moves"]} == {"S002", "S003"}
    gone = SupplierItem.get(SupplierItem.supplier_sku == "S000")
    assert gone.available is False and gone.delisted_job_id == second["job_id"]  # kept, never deleted
    assert SupplierItem.select().count() == 41
    assert PriceHistory.select().where(PriceHistory.job_id == second["job_id"]).count() == 3  # 2 moves + 1 new
    assert StagedItem.select().count() == 0

    from test_cli import cli  # the diff command, as a manager runs it

    shown = cli("diff", second["job_id"], "--json", cwd=tmp_path, DATABASE_URL=get_runtime().settings.database_url)
    if get_runtime().settings.database_url.startswith("sqlite"):
        assert shown.returncode == 0, shown.stderr
        assert json.loads(shown.stdout)["diff"]["gone"] == 2

    back = ingest(stub_worker, price_list(tmp_path / "w3.csv", rows + [base_rows()[0]]))  # S000 listed again
    assert back["phase"] == "complete", back
    assert "0 new, 1 returned, 0 gone" in back["diff_summary"]  # S001 was gone already
    assert SupplierItem.get(SupplierItem.supplier_sku == "S000").id == gone.id
    if get_runtime().settings.database_url.startswith("sqlite"):
        text = cli("diff", back["job_id"], cwd=tmp_path, DATABASE_URL=get_runtime().settings.database_url)
        assert text.returncode == 0, text.stderr
        assert "0 new, 1 returned, 0 gone" in text.stdout and "returned: S000" in text.stdout


def test_an_identical_resend_writes_nothing(stub_worker: Any, tmp_path: Path) -> None:
    path = price_list(tmp_path / "same.csv", base_rows())
    first = ingest(stub_worker, path)
    history = PriceHistory.select().count()
    stamps = {i.supplier_sku: i.updated_at for i in SupplierItem.select()}
    again = ingest(stub_worker, price_list(tmp_path / "same-again.csv", base_rows()))
    assert first["phase"] == again["phase"] == "complete"
    assert "0 new, 0 gone" in again["diff_summary"] and "40 unchanged" in again["diff_summary"]
    assert PriceHistory.select().count() == history
    assert {i.supplier_sku: i.updated_at for i in SupplierItem.select()} == stamps  # no row rewritten
    assert IngestionRun.get(IngestionRun.job_id == again["job_id"]).diff["unchanged"] == 40


def test_a_list_that_lost_most_skus_is_held_then_released(stub_worker: Any, tmp_path: Path) -> None:
    ingest(stub_worker, price_list(tmp_path / "full.csv", base_rows()))
    before = {i.supplier_sku: (i.price, i.available) for i in SupplierItem.select()}
    held = ingest(stub_worker, price_list(tmp_path / "short.csv", base_rows(10)))
    assert (held["phase"], held["status"]) == ("held", "pending")
    assert "30 of the 40 SKUs" in held["error"]
    assert json.loads(held["error_details"])[0]["type"] == "list_held"
    assert {i.supplier_sku: (i.price, i.available) for i in SupplierItem.select()} == before  # nothing published
    assert StagedItem.select().where(StagedItem.job_id == held["job_id"]).count() == 30  # the gone SKUs, kept
    assert IngestionRun.get(IngestionRun.job_id == held["job_id"]).status == "held"
    assert held["job_id"] not in get_runtime().jobs.active()

    stub_worker.release_job.send(job_id=held["job_id"], decided_by="anna")
    stub_worker.broker.join(stub_worker.release_job.queue_name, fail_fast=False)
    state = get_runtime().jobs.get(held["job_id"])
    assert state is not None and state["phase"] == "complete"
    assert SupplierItem.select().where(SupplierItem.delisted_job_id == held["job_id"]).count() == 30
    run_row = IngestionRun.get(IngestionRun.job_id == held["job_id"])
    assert (run_row.status, run_row.decided_by) == ("released", "anna")


def test_a_held_list_can_be_rejected(stub_worker: Any, tmp_path: Path) -> None:
    ingest(stub_worker, price_list(tmp_path / "rub.csv", base_rows()))
    eur = [[r[0], r[1], r[2], r[3]] for r in base_rows()]
    held = ingest(stub_worker, price_list(tmp_path / "eur.csv", eur, header=["Артикул", "Наименование", "Цена, EUR", "Остаток"]))
    assert held["phase"] == "held" and "currency changed from RUB to EUR" in held["error"]
    stub_worker.reject_job.send(job_id=held["job_id"], decided_by="ivan")
    stub_worker.broker.join(stub_worker.reject_job.queue_name, fail_fast=False)
    state = get_runtime().jobs.get(held["job_id"])
    assert state is not None and state["phase"] == "failed" and "rejected by ivan" in state["error"]
    assert {i.currency for i in SupplierItem.select()} == {"RUB"}
    assert StagedItem.select().count() == 0
    # a second decision on the same job is refused, not retried
    stub_worker.release_job.send(job_id=held["job_id"])
    stub_worker.broker.join(stub_worker.release_job.queue_name, fail_fast=False)
    assert IngestionRun.get(IngestionRun.job_id == held["job_id"]).status == "rejected"


def test_layout_is_remembered_and_a_change_is_reported(stub_worker: Any, tmp_path: Path) -> None:
    first = ingest(stub_worker, price_list(tmp_path / "a.csv", base_rows()))
    layout = SupplierLayout.get()
    assert layout.job_id == first["job_id"] and layout.layout["sheets"][0]["columns"]["Артикул"] == "sku"
    same = ingest(stub_worker, price_list(tmp_path / "b.csv", base_rows()))
    assert not ParsingLog.select().where((ParsingLog.job_id == same["job_id"]) & (ParsingLog.error_type == "layout_changed")).exists()
    other_header = ["Код", "Товар", "Стоимость, руб", "Наличие"]
    changed = ingest(stub_worker, price_list(tmp_path / "c.csv", base_rows(), header=other_header))
    assert changed["phase"] == "complete"
    warning = ParsingLog.get((ParsingLog.job_id == changed["job_id"]) & (ParsingLog.error_type == "layout_changed"))
    assert warning.level == "warning" and "Артикул" in json.dumps(warning.row_data, ensure_ascii=False)
    assert any(d["type"] == "layout_changed" for d in json.loads(changed["error_details"]))
    assert SupplierLayout.get().job_id == changed["job_id"]  # the new layout is the one remembered now


def test_provenance_of_items_and_problems(stub_worker: Any, tmp_path: Path) -> None:
    rows = base_rows(3) + [["BAD", "Плохая цена", "abc", "1"]]
    state = ingest(stub_worker, price_list(tmp_path / "prov.csv", rows))
    sha = json.loads((Path(get_runtime().settings.uploads_dir) / f"{state['job_id']}_prov.csv.meta.json").read_text())["sha256"]
    item = SupplierItem.get(SupplierItem.supplier_sku == "S001")
    assert (item.source_sha256, item.source_row, item.source_sheet) == (sha, 4, None)
    bad = ParsingLog.get((ParsingLog.job_id == state["job_id"]) & (ParsingLog.level == "error"))
    assert (bad.source_sha256, bad.row_number, bad.column_name) == (sha, 6, "Цена, руб")


def test_store_errors_name_the_column_as_the_file_shows_it(stub_worker: Any, tmp_path: Path) -> None:
    rows = base_rows(12) + [["HUGE", "Слишком дорогой", "5 000 000 000 000,00", "1"], ["BAD", "Плохая цена", "abc", "1"],
                            ["S001", "Повтор артикула", "101,00", "1"]]
    state = ingest(stub_worker, price_list(tmp_path / "cols.csv", rows))
    assert state["phase"] == "complete"
    logs = {log.error_type: log for log in ParsingLog.select().where(ParsingLog.job_id == state["job_id"])}
    assert (logs["price_out_of_range"].row_number, logs["price_out_of_range"].column_name) == (15, "Цена, руб")
    assert logs["bad_price"].column_name == "Цена, руб"  # the reader's own error names the same column
    assert (logs["duplicate_sku"].row_number, logs["duplicate_sku"].column_name) == (17, "Артикул")
    assert not SupplierItem.select().where(SupplierItem.supplier_sku == "HUGE").exists()


def test_an_ambiguous_price_column_is_decided_by_the_suppliers_history(stub_worker: Any, tmp_path: Path) -> None:
    header = ["Артикул", "Наименование", "Price"]
    clear = [[f"L{i}", f"Item {i}", f"{i},25"] for i in range(1, 6)]  # decimal comma, told by the values
    assert ingest(stub_worker, price_list(tmp_path / "clear.csv", clear, header=header), "Локаль")["phase"] == "complete"
    assert SupplierLayout.get().layout["sheets"][0]["decimal_separators"] == {"Price": ","}
    ambiguous = [[f"L{i}", f"Item {i}", f"{i},500"] for i in range(1, 6)]  # "1,500" reads either way
    state = ingest(stub_worker, price_list(tmp_path / "amb.csv", ambiguous, header=header), "Локаль")
    assert state["phase"] == "complete", state
    assert str(SupplierItem.get(SupplierItem.supplier_sku == "L2").price) in ("2.50", "2.5")
    note = ParsingLog.get((ParsingLog.job_id == state["job_id"]) & (ParsingLog.error_type == "ambiguous_number_locale"))
    assert "earlier lists" in note.message
    # a new supplier with the same file: English header, no history -> the language decides ("." for English)
    fresh = ingest(stub_worker, price_list(tmp_path / "amb2.csv", ambiguous, header=header), "Новый")
    assert fresh["phase"] == "complete"


def test_one_big_price_move_among_many_is_published(stub_worker: Any, tmp_path: Path) -> None:
    ingest(stub_worker, price_list(tmp_path / "a.csv", base_rows()))
    rows = base_rows()
    rows[5][2] = "999,00"  # one SKU of 40 moves by far more than 50%
    state = ingest(stub_worker, price_list(tmp_path / "b.csv", rows))
    assert state["phase"] == "complete", state["error"]
    assert IngestionRun.get(IngestionRun.job_id == state["job_id"]).diff["priced_in_both"] == 40


def test_an_out_of_date_held_list_cannot_be_released(stub_worker: Any, tmp_path: Path) -> None:
    ingest(stub_worker, price_list(tmp_path / "a.csv", base_rows()))
    first_held = ingest(stub_worker, price_list(tmp_path / "b.csv", base_rows(10)))
    second_held = ingest(stub_worker, price_list(tmp_path / "c.csv", base_rows(12)))
    assert first_held["phase"] == second_held["phase"] == "held"
    # session 11: the newer held list puts the older one out of date (releasing the older one first used to be
    # allowed, and then the newer one was refused); once the newer one is released the older one stays refused
    for job in (first_held["job_id"], second_held["job_id"], first_held["job_id"]):
        stub_worker.release_job.send(job_id=job)
        stub_worker.broker.join(stub_worker.release_job.queue_name, fail_fast=False)
    assert IngestionRun.get(IngestionRun.job_id == first_held["job_id"]).status == "held"  # out of date
    assert IngestionRun.get(IngestionRun.job_id == second_held["job_id"]).status == "released"
    # the refusal is kept where people look: the job's error (still held) and parsing_logs
    state = get_runtime().jobs.get(first_held["job_id"]) or {}
    assert state["phase"] == "held" and "release by someone refused" in state["error"] and "out of date" in state["error"]
    refused = list(ParsingLog.select().where((ParsingLog.job_id == first_held["job_id"])
                                             & (ParsingLog.error_type == "decision_refused")).order_by(ParsingLog.id))
    assert [r.level for r in refused] == ["warning", "warning"]
    assert f"held too (job {second_held['job_id']})" in refused[0].message  # the newer held list is named
    assert "send the file again" in refused[1].message  # then compared with a list now replaced


def test_min_price_leaves_out_delisted_and_unavailable_offers(stub_worker: Any, tmp_path: Path) -> None:
    from ingestion.linking import recalc_products
    from ingestion.models import Product

    ingest(stub_worker, price_list(tmp_path / "a.csv", [["P1", "Кофемолка Bosch TSM6A013B", "900,00", "5"],
                                                       ["P2", "Кофемолка Bosch TSM6A013B белая", "500,00", "0"]]))
    product = Product.create(internal_sku="P-KM", name="Кофемолка Bosch TSM6A013B", status="active")
    SupplierItem.update(product=product.id, match_status="verified_match").execute()
    recalc_products([product.id])
    assert Product.get_by_id(product.id).min_prices == {"RUB": "900.00"}  # P2 is out of stock
    SupplierItem.update(delisted_job_id="x").where(SupplierItem.supplier_sku == "P1").execute()
    recalc_products([product.id])
    assert Product.get_by_id(product.id).min_prices == {"RUB": "500.00"}  # the only listed offer, unavailable


def test_local_ingest_returns_when_the_list_is_held(tmp_path: Path) -> None:
    from test_cli import cli

    good = price_list(tmp_path / "good.csv", base_rows())
    assert cli("ingest", str(good), "--supplier", "Держатель", cwd=tmp_path).returncode == 0
    short = price_list(tmp_path / "short.csv", base_rows(5))
    held = cli("ingest", str(short), "--supplier", "Держатель", cwd=tmp_path)
    assert held.returncode == 3 and "held" in held.stdout and "GUARD_ENABLED=false" in held.stdout


def test_a_held_list_whose_job_state_expired_is_released_and_matched(stub_worker: Any, tmp_path: Path) -> None:
    from unittest import mock

    from ingestion.jobstate import MemoryJobStore

    ingest(stub_worker, price_list(tmp_path / "full.csv", base_rows()))
    held = ingest(stub_worker, price_list(tmp_path / "short.csv", base_rows(10)))
    assert held["phase"] == "held"
    # the job state outlived by the held list (JOB_STATE_TTL_SECONDS < HELD_TTL_DAYS): a store that forgot it
    with mock.patch.object(get_runtime(), "jobs", MemoryJobStore()):
        stub_worker.release_job.send(job_id=held["job_id"], decided_by="anna")
        stub_worker.broker.join(stub_worker.release_job.queue_name, fail_fast=False)
        stub_worker.broker.join(stub_worker.release_job.queue_name, fail_fast=False)
        state = get_runtime().jobs.get(held["job_id"]) or {}
    assert state.get("phase") == "complete", state
    assert state.get("supplier_id") == held["supplier_id"]
    assert IngestionRun.get(IngestionRun.job_id == held["job_id"]).status == "released"


# --- returned SKUs and small suppliers under the guard-rails -------------------------------
PRICE_ONLY = ["Артикул", "Наименование", "Цена, руб"]


def test_skus_back_at_ten_times_their_price_are_held(stub_worker: Any, tmp_path: Path) -> None:
    full = [[f"SKU{i}", f"Товар {i}", f"{100 + i},00"] for i in range(1, 51)]
    assert ingest(stub_worker, price_list(tmp_path / "g1.csv", full, PRICE_ONLY))["phase"] == "complete"
    g2 = ingest(stub_worker, price_list(tmp_path / "g2.csv", full[24:], PRICE_ONLY))  # 24 of 50 gone (48%)
    assert g2["phase"] == "complete", g2["error"]
    tenfold = [[s, n, f"{(100 + i) * 10},00"] if i <= 24 else [s, n, p] for i, (s, n, p) in enumerate(full, start=1)]
    g3 = ingest(stub_worker, price_list(tmp_path / "g3.csv", tenfold, PRICE_ONLY))
    assert g3["phase"] == "held", g3
    assert "24 of 50 prices moved by more than 50%" in g3["error"] and "24 of the SKUs came back" in g3["error"]
    assert "50 items: 0 new, 0 gone, 24 changed (24 of them returned at a new price; 24 price up" in g3["diff_summary"]
    sku1 = SupplierItem.get(SupplierItem.supplier_sku == "SKU1")
    assert str(sku1.price) in ("101.00", "101.0", "101") and sku1.delisted_job_id == g2["job_id"]  # nothing published
    diff = IngestionRun.get(IngestionRun.job_id == g3["job_id"]).diff
    assert (diff["returned"], diff["returned_changed"], diff["changed"], diff["price_moved_over_half"]) == (0, 24, 24, 24)
    assert diff["new"] + diff["returned"] + diff["changed"] + diff["unchanged"] == diff["items"] == 50
    assert {m["sku"] for m in diff["largest_moves"]} <= {f"SKU{i}" for i in range(1, 25)}


def test_a_small_supplier_whose_list_mostly_fails_is_held(stub_worker: Any, tmp_path: Path) -> None:
    good = [[f"M{i}", f"Муфта {i}", f"{10 + i},00"] for i in range(5)]
    assert ingest(stub_worker, price_list(tmp_path / "m1.csv", good, PRICE_ONLY), "Малый")["phase"] == "complete"
    broken = [good[0]] + [[s, n, "-" + p] for s, n, p in good[1:]]  # 4 of 5 rows refused (negative prices)
    held = ingest(stub_worker, price_list(tmp_path / "m2.csv", broken, PRICE_ONLY), "Малый")
    assert held["phase"] == "held", held
    assert "4 of 5 rows failed (80%" in held["error"] and "4 of the 5 SKUs of the previous list are gone" in held["error"]
    assert SupplierItem.select().where(SupplierItem.delisted_job_id.is_null(False)).count() == 0  # nothing delisted


def test_a_first_list_with_most_rows_failed_is_held(stub_worker: Any, tmp_path: Path) -> None:
    rows = [["F0", "Фитинг", "10,00"]] + [[f"F{i}", f"Фитинг {i}", f"-{i},00"] for i in range(1, 5)]
    held = ingest(stub_worker, price_list(tmp_path / "first.csv", rows, PRICE_ONLY), "Новичок")
    assert held["phase"] == "held" and "4 of 5 rows failed" in held["error"], held
    assert SupplierItem.select().count() == 0


def test_ordinary_updates_of_small_suppliers_are_published(stub_worker: Any, tmp_path: Path) -> None:
    good = [[f"T{i}", f"Тройник {i}", f"{10 + i},00"] for i in range(5)]
    ingest(stub_worker, price_list(tmp_path / "t1.csv", good, PRICE_ONLY), "Тройники")
    # one bad row of 5, two SKUs dropped, two prices doubled: each under its minimum of 3
    update = [good[0], [good[1][0], good[1][1], "22,00"], [good[2][0], good[2][1], "24,00"], ["T9", "Новый", "-1"]]
    state = ingest(stub_worker, price_list(tmp_path / "t2.csv", update, PRICE_ONLY), "Тройники")
    assert state["phase"] == "complete", state["error"]
    # a one-item supplier that swaps its only SKU
    ingest(stub_worker, price_list(tmp_path / "o1.csv", [["X1", "Кран", "5,00"]], PRICE_ONLY), "Один товар")
    swap = ingest(stub_worker, price_list(tmp_path / "o2.csv", [["X2", "Кран новый", "6,00"]], PRICE_ONLY), "Один товар")
    assert swap["phase"] == "complete", swap["error"]


def test_guard_rail_minimums() -> None:
    from ingestion.runs import MIN_RULE_COUNT, GuardRails, check_guard_rails
    from ingestion.store import ListDiff

    rails = GuardRails()
    assert MIN_RULE_COUNT == 3
    assert check_guard_rails(rails, ListDiff(), rows=5, rows_failed=4)  # a first list, 80% failed
    assert check_guard_rails(rails, ListDiff(), rows=4, rows_failed=3)
    assert not check_guard_rails(rails, ListDiff(), rows=2, rows_failed=1)  # 50%, but one row
    assert not check_guard_rails(rails, ListDiff(), rows=10, rows_failed=2)  # 20%: not over the limit
    assert check_guard_rails(rails, ListDiff(), rows=1000, rows_failed=201)
    assert check_guard_rails(rails, ListDiff(previous_items=5, items=1, gone=4), rows=1, rows_failed=0)
    assert check_guard_rails(rails, ListDiff(previous_items=3, items=3, new=3, gone=3), rows=3, rows_failed=0)
    assert not check_guard_rails(rails, ListDiff(previous_items=3, items=1, gone=2), rows=1, rows_failed=0)
    assert not check_guard_rails(rails, ListDiff(previous_items=40, items=20, gone=20), rows=20, rows_failed=0)
    moved = ListDiff(previous_items=5, items=5, priced_in_both=5, price_moved_over_half=3)
    assert check_guard_rails(rails, moved, rows=5, rows_failed=0)
    assert not check_guard_rails(rails, attrs.evolve(moved, price_moved_over_half=2), rows=5, rows_failed=0)
    assert not check_guard_rails(GuardRails(enabled=False), moved, rows=5, rows_failed=4)
