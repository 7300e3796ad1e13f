"""The ML courier path against a small real HTTP server speaking the ml-analyze contract."""

import json
import socket
import time
import uuid
from pathlib import Path
from typing import Any, Iterator

import attrs
import pytest

from ingestion.download import sidecar_path
from ingestion.ml_client import MLClient, MLJobUnknown, MLRequestRefused, MLUnavailable
from ingestion.models import Supplier, SupplierItem
from ingestion.pipeline import get_runtime, reset_runtime
from ingestion.settings import Settings, set_settings
from ml_server import FakeML
from test_actors import run, write_price_list


@pytest.fixture
def ml() -> Iterator[FakeML]:
    server = FakeML()
    yield server
    server.close()


@pytest.fixture
def ml_settings(settings: Settings, ml: FakeML) -> Iterator[Settings]:
    s = attrs.evolve(settings, use_ml_processing=True, ml_analyze_url=ml.url, ml_poll_interval_seconds=1)
    set_settings(s)
    reset_runtime()
    yield s


def free_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    sock.close()
    return port


# --- the client -------------------------------------------------------------------------
def test_client_speaks_the_contract(ml: FakeML) -> None:
    client = MLClient(ml.url)
    assert client.check_health()
    ml.health = "degraded"
    assert not client.check_health()
    ml.health = 503
    assert not client.check_health()
    answer = client.trigger_analysis("/data/x.xlsx", "s-1", "xlsx")
    assert ml.requests[-1] == {"file_url": "/data/x.xlsx", "supplier_id": "s-1", "file_type": "excel"}
    assert client.get_job_status(answer["job_id"])["status"] == "completed"
    with pytest.raises(MLJobUnknown):
        client.get_job_status("nope")
    ml.trigger_status = 422
    with pytest.raises(MLRequestRefused, match="422"):
        client.trigger_analysis("/x.pdf", "s-1", "pdf")
    ml.trigger_status = 503
    with pytest.raises(MLUnavailable, match="503"):
        client.trigger_analysis("/x.pdf", "s-1", "pdf")


def test_client_timeouts_and_refused_connections_are_transient(ml: FakeML) -> None:
    with pytest.raises(MLUnavailable):
        MLClient(f"http://127.0.0.1:{free_port()}", connect_timeout=1).get_job_status("x")
    ml.delay = 1.5
    with pytest.raises(MLUnavailable):
        MLClient(ml.url, read_timeout=0.5).get_job_status("x")


# --- the actors -------------------------------------------------------------------------
def test_courier_path_hands_over_polls_and_completes(stub_worker: Any, ml_settings: Settings, ml: FakeML,
                                                     tmp_path: Path) -> None:
    ml.script = [
        {"status": "processing", "progress_percentage": 40, "items_processed": 4, "items_total": 10},
        {"status": "completed", "progress_percentage": 100, "items_processed": 10, "items_total": 10},
    ]
    src = write_price_list(tmp_path / "p.csv")
    job_id = uuid.uuid4().hex
    state = run(stub_worker, source_url=str(src), supplier_name="ML-поставщик", job_id=job_id)
    assert (state["phase"], state["status"]) == ("complete", "completed"), state
    assert state["ml_job_id"] and state["file_type"] == "csv"
    sent = ml.requests[0]
    assert sent["file_type"] == "csv" and Path(sent["file_url"]).is_file() and Path(sent["file_url"]).is_absolute()
    assert sent["supplier_id"] == state["supplier_id"]
    meta = json.loads(sidecar_path(sent["file_url"]).read_text())
    assert meta["file_type"] == "csv" and meta["mime_type"] == "text/csv" and meta["job_id"] == job_id
    assert SupplierItem.select().count() == 0  # the ML service stores the items, not us


def test_the_suppliers_choice_wins_over_the_setting(stub_worker: Any, ml_settings: Settings, ml: FakeML,
                                                    tmp_path: Path) -> None:
    Supplier.create(name="Сам читает", name_key="сам читает", meta={"use_ml_processing": False})
    state = run(stub_worker, source_url=str(write_price_list(tmp_path / "p.csv")), supplier_name="Сам читает",
                job_id=uuid.uuid4().hex)
    assert state["phase"] == "complete" and not state["ml_job_id"]
    assert not ml.requests and SupplierItem.select().count() == 3


@pytest.mark.parametrize(
    "final, expected",
    [
        ({"status": "failed", "errors": ["table not found", "bad header"]}, "table not found"),
    ],
)
def test_an_ml_failure_fails_the_job(stub_worker: Any, ml_settings: Settings, ml: FakeML, tmp_path: Path,
                                     final: dict[str, Any], expected: str) -> None:
    ml.script = [final]
    state = run(stub_worker, source_url=str(write_price_list(tmp_path / "p.csv")), supplier_name="ML",
                job_id=uuid.uuid4().hex)
    assert state["phase"] == "failed" and expected in state["error"] and state["can_retry"] == "true"


def test_ml_down_falls_back_to_local_parsing_when_allowed(stub_worker: Any, ml_settings: Settings, ml: FakeML,
                                                         tmp_path: Path) -> None:
    ml.health = 503
    set_settings(attrs.evolve(ml_settings, ml_fallback_to_local=True))
    reset_runtime()
    state = run(stub_worker, source_url=str(write_price_list(tmp_path / "p.csv")), supplier_name="Запасной",
                job_id=uuid.uuid4().hex)
    assert state["phase"] == "complete" and SupplierItem.select().count() == 3
    assert not ml.requests


def test_ml_down_without_fallback_fails_retryably(stub_worker: Any, ml_settings: Settings, ml: FakeML,
                                                  tmp_path: Path) -> None:
    ml.health = 503
    state = run(stub_worker, source_url=str(write_price_list(tmp_path / "p.csv")), supplier_name="Без запасного",
                job_id=uuid.uuid4().hex)
    assert state["phase"] == "failed" and "not healthy" in state["error"] and state["can_retry"] == "true"


def test_polling_rules(ml_settings: Settings, ml: FakeML) -> None:
    from ingestion.courier import lost_polls, poll_ml_step

    rt = get_runtime()
    ml.script = [{"status": "processing", "progress_percentage": 10, "items_processed": 1, "items_total": 10}]
    ml_job = MLClient(ml.url).trigger_analysis("/x.csv", "s", "csv")["job_id"]
    job_id = uuid.uuid4().hex
    rt.jobs.create(job_id, phase="analyzing", status="processing", ml_job_id=ml_job)
    rt.jobs.set_aux(job_id, ml_poll_token="t1", ml_progress_changed_at=time.time(), ml_last_polled_at=time.time())
    assert poll_ml_step(rt, job_id, "t1") == "again"
    assert rt.jobs.get(job_id)["items_processed"] == "1"  # type: ignore[index]
    assert poll_ml_step(rt, job_id, "old-chain") == "stop"
    # the poll message got lost: the sweep picks the job up with a new token
    rt.jobs.set_aux(job_id, ml_last_polled_at=time.time() - 3600)
    [(found, token)] = lost_polls(rt)
    assert found == job_id and token != "t1"
    assert poll_ml_step(rt, job_id, "t1") == "stop"
    # no progress for longer than ML_JOB_TIMEOUT_MINUTES: stalled
    rt.jobs.set_aux(job_id, ml_progress_changed_at=time.time() - 31 * 60)
    assert poll_ml_step(rt, job_id, token) == "done"
    state = rt.jobs.get(job_id)
    assert state is not None and state["phase"] == "failed" and "stalled" in state["error"]
    # an ML job ml-analyze does not know
    other = uuid.uuid4().hex
    rt.jobs.create(other, phase="analyzing", status="processing", ml_job_id="unknown-ml-job")
    assert poll_ml_step(rt, other, None) == "done"
    assert "does not know" in (rt.jobs.get(other) or {})["error"]


def test_periodic_schedules(stub_worker: Any) -> None:
    assert str(stub_worker.ml_sweep_task.options["periodic"]).startswith("* * * * *")
    assert str(stub_worker.cleanup_shared_files_task.options["periodic"]).split()[1] == "*/6"
    assert "periodic" in stub_worker.master_sync_task.options


def test_file_url_is_the_shared_path_or_a_url_under_the_base(tmp_path: Path) -> None:
    import attrs

    from ingestion.courier import ml_file_url

    uploads = tmp_path / "uploads"
    settings = Settings.from_env({"UPLOADS_DIR": str(uploads)})
    inside = uploads / "job 1" / "прайс.xlsx"
    assert ml_file_url(settings, str(inside)) == str(inside)
    based = attrs.evolve(settings, ml_file_url_base="http://files.internal:8080/uploads/")
    assert ml_file_url(based, str(inside)) == (
        "http://files.internal:8080/uploads/job%201/%D0%BF%D1%80%D0%B0%D0%B9%D1%81.xlsx")
    outside = tmp_path / "elsewhere.csv"
    assert ml_file_url(based, str(outside)) == str(outside)
    with pytest.raises(Exception, match="ML_FILE_URL_BASE"):
        Settings.from_env({"ML_FILE_URL_BASE": "ftp://x/"})
