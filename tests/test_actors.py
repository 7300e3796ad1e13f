"""The pipeline's actors on the in-process StubBroker with a real worker thread."""

import csv
import json
import uuid
from pathlib import Path
from typing import Any

from ingestion.models import ParsingLog, PriceHistory, SupplierItem
from ingestion.pipeline import get_runtime, parse_step
from ingestion.settings import Settings

HEADER = ["Артикул", "Наименование", "Цена, руб", "Остаток"]
ROWS = [
    ["A-001", "Кабель ВВГнг 3х1,5", "45,50", "120"],
    ["A-002", "Кабель ВВГнг 3х2,5", "1 234,56", "7"],
    ["A-003", "Автомат ВА47-29 16А", "abc", "3"],  # bad price: logged, not stored
    ["A-004", "Розетка двойная", "199", "0"],
]


def write_price_list(path: Path) -> Path:
    with open(path, "w", encoding="cp1251", newline="") as f:
        out = csv.writer(f, delimiter=";")
        out.writerow(["ООО «Электромир» — прайс-лист"])
        out.writerow([])
        out.writerow(HEADER)
        out.writerows(ROWS)
    return path


def run(actors: Any, **kwargs: Any) -> dict[str, str]:
    actors.ingest.send(**kwargs)
    actors.broker.join(actors.ingest.queue_name, fail_fast=False)
    state = get_runtime().jobs.get(kwargs["job_id"])
    assert state is not None
    return state


def test_a_price_list_is_downloaded_parsed_and_stored(stub_worker: Any, http_dir: tuple[str, Path]) -> None:
    base, folder = http_dir
    write_price_list(folder / "price.csv")
    job_id = uuid.uuid4().hex
    state = run(stub_worker, source_url=f"{base}/price.csv", supplier_name="Электромир", job_id=job_id)

    assert (state["phase"], state["status"]) == ("complete", "completed"), state
    assert state["file_type"] == "csv" and state["supplier_name"] == "Электромир"
    assert state["completed_at"] and state["started_at"]
    assert int(state["error_count"]) == 1
    assert json.loads(state["error_details"])[0]["row"] == 6
    items = {i.supplier_sku: i for i in SupplierItem.select()}
    assert set(items) == {"A-001", "A-002", "A-004"}
    assert str(items["A-002"].price) in ("1234.56", "1234.560")
    assert items["A-001"].currency == "RUB"
    bad = ParsingLog.get((ParsingLog.job_id == job_id) & (ParsingLog.level == "error"))
    assert (bad.row_number, bad.sheet is None or isinstance(bad.sheet, str)) == (6, True)
    assert bad.row_data and "abc" in json.dumps(bad.row_data, ensure_ascii=False)
    assert PriceHistory.select().count() == 3
    # a second message with the same job id starts nothing
    state2 = run(stub_worker, source_url=f"{base}/other.csv", supplier_name="Электромир", job_id=job_id)
    assert state2["source_url"] == f"{base}/price.csv"
    assert ParsingLog.select().where((ParsingLog.job_id == job_id) & (ParsingLog.error_type == "parse_summary")).count() == 1


def test_404_fails_the_job_at_once(stub_worker: Any, http_dir: tuple[str, Path]) -> None:
    base, _ = http_dir
    job_id = uuid.uuid4().hex
    state = run(stub_worker, source_url=f"{base}/missing.xlsx", supplier_name="Нет файла", job_id=job_id)
    assert (state["phase"], state["status"]) == ("failed", "failed")
    assert "404" in state["error"]
    assert json.loads(state["error_details"])[0]["type"] == "source_not_found"
    assert ParsingLog.get(ParsingLog.job_id == job_id).error_type == "source_not_found"
    dead = [
        m for m in stub_worker.broker.dead_letters_by_queue[stub_worker.ingest.queue_name]
        if m.actor_name == "download_file" and m.kwargs["job_id"] == job_id
    ]
    assert len(dead) == 1 and dead[0].options.get("retries", 0) == 0  # permanent: not retried


def test_an_invalid_message_fails_its_job_without_retries(stub_worker: Any) -> None:
    job_id = uuid.uuid4().hex
    state = run(stub_worker, source_url=123, supplier_name="X", job_id=job_id)
    assert state["phase"] == "failed" and "source_url" in state["error"]
    assert state["can_retry"] == "false"
    dead = stub_worker.broker.dead_letters_by_queue[stub_worker.ingest.queue_name]
    assert len(dead) == 1 and dead[0].options.get("retries", 0) == 0


def test_a_file_without_items_fails_with_a_reason(stub_worker: Any, tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    path.write_text("Просто текст\nи ещё строка\n", encoding="utf-8")
    job_id = uuid.uuid4().hex
    state = run(stub_worker, source_url=str(path), supplier_name="Пусто", job_id=job_id)
    assert state["phase"] == "failed"
    assert state["error"], state
    assert SupplierItem.select().count() == 0


def test_parse_repeated_after_a_redelivery_changes_nothing(stub_worker: Any, tmp_path: Path) -> None:
    path = write_price_list(tmp_path / "p.csv")
    job_id = uuid.uuid4().hex
    state = run(stub_worker, source_url=str(path), supplier_name="Повтор", job_id=job_id)
    assert state["phase"] == "complete"
    rt = get_runtime()
    download = {"job_id": job_id, "supplier_id": state["supplier_id"], "file_path": str(path), "sha256": None}
    rt.jobs.update(job_id, phase="parsing")  # as if the worker died before it finished
    parse_step(rt, download)
    assert SupplierItem.select().count() == 3
    assert PriceHistory.select().count() == 3
    assert ParsingLog.select().where((ParsingLog.job_id == job_id) & (ParsingLog.level == "error")).count() == 1


def test_the_pipeline_matches_and_reports_it(stub_worker: Any, tmp_path: Path) -> None:
    from ingestion.models import MatchReviewQueue, Product

    cable = Product.create(internal_sku="P-CABLE", name="Кабель ВВГнг 3х1,5", status="active")
    Product.create(internal_sku="P-SOCKET", name="Розетка двойная с заземлением белая", status="active")
    path = write_price_list(tmp_path / "p.csv")
    job_id = uuid.uuid4().hex
    state = run(stub_worker, source_url=str(path), supplier_name="Матчинг", job_id=job_id)
    assert (state["phase"], state["status"]) == ("complete", "completed"), state
    assert state["items_processed"] == "4"  # the rows the parse read
    assert int(state["matches_found"]) >= 1
    assert int(state["review_queue_count"]) == MatchReviewQueue.select().count()
    assert SupplierItem.get(SupplierItem.supplier_sku == "A-001").product_id == cable.id
    assert SupplierItem.select().where(SupplierItem.match_status == "unmatched").count() == 0


def test_match_decision_messages(stub_worker: Any, tmp_path: Path) -> None:
    from ingestion.models import Product

    path = write_price_list(tmp_path / "p.csv")
    state = run(stub_worker, source_url=str(path), supplier_name="Решения", job_id=uuid.uuid4().hex)
    target = Product.create(internal_sku="P-X", name="Что-то", status="active")
    item = SupplierItem.get(SupplierItem.supplier_sku == "A-002")
    stub_worker.match_decision.send(action="link", supplier_item_id=str(item.id), product_id=str(target.id),
                                    decided_by="manager@example.invalid")
    stub_worker.match_decision.send(action="link", supplier_item_id=str(item.id))  # no product_id: refused
    stub_worker.broker.join(stub_worker.match_decision.queue_name, fail_fast=False)
    linked = SupplierItem.get_by_id(item.id)
    assert (linked.match_status, linked.product_id) == ("verified_match", target.id)
    dead = [m for m in stub_worker.broker.dead_letters_by_queue[stub_worker.match_decision.queue_name]
            if m.actor_name == "match_decision"]
    assert len(dead) == 1 and dead[0].options.get("retries", 0) == 0
    from ingestion.models import ParsingLog

    refused = ParsingLog.get(ParsingLog.error_type == "decision_refused")
    assert "product_id: required for link" in refused.message
    assert refused.row_data == {"action": "link", "supplier_item_id": str(item.id)}
    assert state["supplier_id"]


def test_the_review_expiry_is_a_daily_periodic_actor(stub_worker: Any) -> None:
    spec = stub_worker.expire_review_queue_task.options["periodic"]
    assert str(spec).split()[2:] == ["*", "*", "*"]


def test_a_bad_message_never_touches_an_existing_job(stub_worker: Any, tmp_path: Path) -> None:
    path = write_price_list(tmp_path / "p.csv")
    job_id = uuid.uuid4().hex
    assert run(stub_worker, source_url=str(path), supplier_name="Цел", job_id=job_id)["phase"] == "complete"
    state = run(stub_worker, source_url=str(path), supplier_name="Цел", job_id=job_id, bogus=1)
    assert state["phase"] == "complete" and not state["error"]
    bad_id = "bad id/../x"
    stub_worker.ingest.send(source_url="x", supplier_name="Y", job_id=bad_id, bogus=1)
    stub_worker.broker.join(stub_worker.ingest.queue_name, fail_fast=False)
    assert get_runtime().jobs.get(bad_id) is None


def test_nul_and_broken_unicode_are_invalid_not_retried(stub_worker: Any) -> None:
    for name in ("NUL\x00name", "UT\ud800"):
        job_id = uuid.uuid4().hex
        state = run(stub_worker, source_url="/x.csv", supplier_name=name, job_id=job_id)
        assert state["phase"] == "failed" and "supplier_name" in state["error"] and state["can_retry"] == "false"


def test_messages_of_the_wrong_shape_are_dead_lettered_at_once(stub_worker: Any) -> None:
    import dramatiq

    bad = dramatiq.Message(queue_name=stub_worker.ingest.queue_name, actor_name="ingest", args=(),
                           kwargs=["not", "an", "object"], options={})  # type: ignore[arg-type]
    stub_worker.broker.enqueue(bad)
    stub_worker.broker.join(stub_worker.ingest.queue_name, fail_fast=False)
    dead = [m for m in stub_worker.broker.dead_letters_by_queue[stub_worker.ingest.queue_name]
            if m.message_id == bad.message_id]
    assert len(dead) == 1 and not dead[0].options.get("retries")


def test_a_step_over_its_time_limit_fails_the_job(stub_worker: Any, tmp_path: Path) -> None:
    import http.server
    import threading
    import time as _time

    class Slow(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.end_headers()
            for _ in range(20):
                self.wfile.write(b"a;b;c\n")
                self.wfile.flush()
                _time.sleep(0.5)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        rt = get_runtime()
        job_id = uuid.uuid4().hex
        rt.jobs.create(job_id, status="pending")
        stub_worker.download_file.send_with_options(
            kwargs={"job_id": job_id, "supplier_id": str(uuid.uuid4()),
                    "source_url": f"http://127.0.0.1:{server.server_address[1]}/slow.csv"},
            time_limit=1500, max_retries=0,
        )
        stub_worker.broker.join(stub_worker.download_file.queue_name, fail_fast=False)
        state = rt.jobs.get(job_id)
        assert state is not None and state["phase"] == "failed" and "time limit" in state["error"]
        assert job_id not in rt.jobs.active()
    finally:
        server.shutdown()
        server.server_close()
