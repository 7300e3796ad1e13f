"""Retry of failed jobs, uploads cleanup and the master sheet sync."""

import csv
import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from ingestion.cleanup import cleanup_uploads
from ingestion.errors import PermanentError
from ingestion.locks import try_lock
from ingestion.master_sync import export_url
from ingestion.models import ParsingLog, Supplier, SupplierItem
from ingestion.pipeline import get_runtime
from ingestion.settings import Settings
from test_actors import run, write_price_list


# --- retry ------------------------------------------------------------------------------
def test_retry_reruns_a_failed_job_and_counts(stub_worker: Any, http_dir: tuple[str, Path]) -> None:
    base, folder = http_dir
    job_id = uuid.uuid4().hex
    state = run(stub_worker, source_url=f"{base}/late.csv", supplier_name="Повторщик", job_id=job_id)
    assert state["phase"] == "failed" and state["can_retry"] == "true"
    write_price_list(folder / "late.csv")  # the supplier uploads the file after all
    stub_worker.retry_job_task.send(job_id)
    stub_worker.broker.join(stub_worker.retry_job_task.queue_name, fail_fast=False)
    state = get_runtime().jobs.get(job_id)
    assert state is not None and state["phase"] == "complete" and state["retry_count"] == "1"
    assert SupplierItem.select().count() == 3

    # a complete job is not retried; the reason goes into the job
    stub_worker.retry_job_task.send(job_id)
    stub_worker.broker.join(stub_worker.retry_job_task.queue_name, fail_fast=False)
    state = get_runtime().jobs.get(job_id)
    assert state is not None and state["phase"] == "complete" and state["retry_count"] == "1"
    assert json.loads(state["error_details"])[0]["type"] == "retry_refused"


def test_retry_reuses_the_download_and_stops_at_max_retries(stub_worker: Any, tmp_path: Path) -> None:
    rt = get_runtime()
    src = write_price_list(tmp_path / "p.csv")
    job_id = uuid.uuid4().hex
    run(stub_worker, source_url=str(src), supplier_name="Парсер", job_id=job_id)
    # pretend the parse failed for a passing reason
    rt.jobs.update(job_id, phase="failed", status="failed", can_retry=True, error="database unavailable")
    rt.jobs.set_aux(job_id, failed_step="parse_task")
    src.unlink()  # the source is gone; the downloaded copy is still in UPLOADS_DIR
    from ingestion.retry import plan_retry

    plan = plan_retry(rt, job_id)
    assert plan.step == "parse" and plan.download is not None and Path(plan.download["file_path"]).is_file()
    rt.jobs.update(job_id, phase="failed", status="failed", can_retry=True, retry_count=3)
    with pytest.raises(PermanentError, match="used all its 3 retries"):
        plan_retry(rt, job_id)
    assert (rt.jobs.get(job_id) or {})["retry_count"] == "3"


# --- cleanup ----------------------------------------------------------------------------
def test_cleanup_keeps_active_jobs_and_recent_files(tmp_path: Path) -> None:
    up = tmp_path / "uploads"
    up.mkdir()
    old = time.time() - 48 * 3600

    def make(name: str, age: float | None = old, sidecar: bool = True) -> Path:
        p = up / name
        p.write_bytes(b"x" * 100)
        if sidecar:
            (up / f"{name}.meta.json").write_text("{}")
        if age:
            os.utime(p, (age, age))
        return p

    make("job1_old.csv")
    make("job2_active.xlsx")
    make("job3_new.csv", age=None)
    (up / "job4_gone.csv.meta.json").write_text("{}")  # orphan sidecar
    dry = cleanup_uploads(up, 24, {"job2"}, dry_run=True)
    assert dry.deleted_files == ["job1_old.csv"] and (up / "job1_old.csv").exists()
    report = cleanup_uploads(up, 24, {"job2"})
    assert report.deleted_files == ["job1_old.csv"] and report.kept_active == ["job2_active.xlsx"]
    assert report.orphan_sidecars == ["job4_gone.csv.meta.json"]
    assert report.freed_bytes >= 100
    assert sorted(p.name for p in up.iterdir()) == [
        "job2_active.xlsx", "job2_active.xlsx.meta.json", "job3_new.csv", "job3_new.csv.meta.json"]


def test_cleanup_actor_reports(stub_worker: Any, settings: Settings) -> None:
    up = Path(settings.uploads_dir)
    up.mkdir(parents=True, exist_ok=True)
    stale = up / "deadjob_list.csv"
    stale.write_bytes(b"1" * 10)
    os.utime(stale, (time.time() - 100 * 3600,) * 2)
    message = stub_worker.cleanup_shared_files_task.send(dry_run=True)
    stub_worker.broker.join(stub_worker.cleanup_shared_files_task.queue_name)
    report = message.get_result(block=True, timeout=5000)
    assert report["dry_run"] and report["deleted_files"] == 1 and report["freed_bytes"] == 10
    assert stale.exists()


# --- master sheet -----------------------------------------------------------------------
def test_google_sheets_links_become_exports() -> None:
    url = "https://docs.google.com/spreadsheets/d/1AbC-d_9/edit#gid=42"
    assert export_url(url) == "https://docs.google.com/spreadsheets/d/1AbC-d_9/export?format=csv&gid=42"
    assert export_url("https://example.invalid/p.csv") == "https://example.invalid/p.csv"


def test_master_sync_upserts_deactivates_and_ingests(stub_worker: Any, http_dir: tuple[str, Path]) -> None:
    base, folder = http_dir
    write_price_list(folder / "a.csv")
    write_price_list(folder / "b.csv")
    kept = Supplier.create(name="Старый", name_key="старый", meta={"managed_by": "master_sheet"})
    manual = Supplier.create(name="Ручной", name_key="ручной", meta={})
    Supplier.create(name="Альфа", name_key="альфа", meta={"currency": "RUB", "use_ml_processing": True})
    with open(folder / "master.csv", "w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(["Поставщик", "Ссылка на прайс", "Формат", "Активен", "Примечание", "ML"])
        out.writerow(["альфа", f"{base}/a.csv", "csv", "да", "каждую неделю", "нет"])
        out.writerow(["Бета", f"{base}/b.csv", "csv", "да", "", ""])
        out.writerow(["Гамма", "", "excel", "нет", "", ""])
        out.writerow(["", f"{base}/c.csv", "csv", "да", "", ""])  # no name: logged, skipped
        out.writerow(["Дельта", f"{base}/d.doc", "word", "да", "", ""])  # unknown format
    stub_worker.master_sync_task.send(f"{base}/master.csv")
    stub_worker.broker.join(stub_worker.master_sync_task.queue_name, fail_fast=False)

    alpha = Supplier.get(Supplier.name_key == "альфа")
    assert alpha.meta["currency"] == "RUB" and alpha.meta["use_ml_processing"] is False
    assert alpha.meta["notes"] == "каждую неделю" and alpha.source_type == "csv" and alpha.is_active
    assert not Supplier.get(Supplier.name_key == "гамма").is_active
    assert not Supplier.get_by_id(kept.id).is_active  # left the sheet
    assert Supplier.get_by_id(manual.id).is_active  # never managed by the sheet
    bad = {(log.row_number, log.column_name) for log in ParsingLog.select().where(ParsingLog.error_type == "master_sheet_row")}
    assert bad == {(5, "name"), (6, "format")}
    # one ingestion per active supplier with a source, all the way through
    assert SupplierItem.select().where(SupplierItem.supplier == alpha.id).count() == 3
    assert SupplierItem.select().join(Supplier).where(Supplier.name_key == "бета").count() == 3


def test_one_master_sync_at_a_time(stub_worker: Any, http_dir: tuple[str, Path]) -> None:
    base, _ = http_dir
    with try_lock("lock:master_sync", 60) as held:
        assert held
        result = stub_worker.master_sync_task.fn(f"{base}/master.csv")
    assert result == {"skipped": "another master sync is running"}


def test_a_master_sheet_that_drops_most_suppliers_is_refused(stub_worker: Any, http_dir: tuple[str, Path]) -> None:
    base, folder = http_dir
    for name in ("Один", "Два", "Три", "Четыре"):
        Supplier.create(name=name, name_key=Supplier.key_for(name), meta={"managed_by": "master_sheet"})
    (folder / "empty.csv").write_text("Поставщик;Ссылка\n", encoding="utf-8")
    (folder / "bad.csv").write_text("Поставщик;Ссылка\nОдин;not a url at all\nДва;\nТри;\nЧетыре;\n", encoding="utf-8")
    with pytest.raises(PermanentError, match="would deactivate 4 of the 4"):
        stub_worker.master_sync_task.fn(f"{base}/empty.csv")
    assert Supplier.select().where(Supplier.is_active == True).count() == 4  # noqa: E712
    result = stub_worker.master_sync_task.fn(f"{base}/bad.csv")
    assert result["bad_rows"] == 1  # the source that is neither a URL nor a path
    forced = stub_worker.master_sync_task.fn(f"{base}/empty.csv", force=True)
    assert forced["deactivated"] == 3  # "Один" left with the bad row of the run before
