"""Health command, JSON logs with the job's ids, our Prometheus metrics, per-file row limit."""

import io
import json
import logging
import uuid
from pathlib import Path
from typing import Any

import attrs

from conftest import RABBITMQ_TEST_URL, REDIS_TEST_URL
from ingestion.logs import JobContextFilter, configure, job_context
from ingestion.pipeline import get_runtime, reset_runtime
from ingestion.settings import Settings, set_settings
from test_actors import run, write_price_list
from test_cli import cli


def test_health_reports_each_service(tmp_path: Path) -> None:
    up = cli("health", cwd=tmp_path, REDIS_URL=REDIS_TEST_URL, RABBITMQ_URL=RABBITMQ_TEST_URL)
    assert up.returncode == 0, up.stdout + up.stderr
    assert json.loads(up.stdout) == {"ok": True, "checks": {"database": "ok", "redis": "ok", "rabbitmq": "ok"}}
    down = cli("health", "--timeout", "2", cwd=tmp_path, REDIS_URL="redis://127.0.0.1:1/0",
               RABBITMQ_URL="amqp://guest:guest@127.0.0.1:1/%2F")
    report = json.loads(down.stdout)
    assert down.returncode == 1 and not report["ok"]
    assert report["checks"]["database"] == "ok" and report["checks"]["redis"] != "ok"
    assert report["checks"]["rabbitmq"] != "ok"


def test_json_logs_carry_the_job_and_supplier() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        configure("json")
        with job_context("job-42", "sup-7"):
            logging.getLogger("ingestion.test").warning("row %d failed", 5)
        logging.getLogger("ingestion.test").warning("outside")
    finally:
        root.removeHandler(handler)
        for h in root.handlers:  # leave pytest's handlers as they were
            h.filters = [f for f in h.filters if not isinstance(f, JobContextFilter)]
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == "row 5 failed" and first["job_id"] == "job-42" and first["supplier_id"] == "sup-7"
    assert first["level"] == "WARNING" and "time" in first
    assert second["job_id"] is None


def _sample(name: str, **labels: str) -> float:
    import prometheus_client

    value = prometheus_client.REGISTRY.get_sample_value(name, labels)
    return value or 0.0


def test_our_metrics_count_jobs_rows_and_decisions(stub_worker: Any, tmp_path: Path) -> None:
    before = {
        "complete": _sample("ingestion_job_phase_total", phase="complete"),
        "read": _sample("ingestion_rows_total", kind="read"),
        "failed": _sample("ingestion_rows_total", kind="failed"),
        "decisions": sum(_sample("ingestion_match_decisions_total", decision=d) for d in ("auto", "review", "new")),
    }
    state = run(stub_worker, source_url=str(write_price_list(tmp_path / "p.csv")), supplier_name="Метрики",
                job_id=uuid.uuid4().hex)
    assert state["phase"] == "complete"
    assert _sample("ingestion_job_phase_total", phase="complete") == before["complete"] + 1
    assert _sample("ingestion_rows_total", kind="read") == before["read"] + 4
    assert _sample("ingestion_rows_total", kind="failed") == before["failed"] + 1
    decisions = sum(_sample("ingestion_match_decisions_total", decision=d) for d in ("auto", "review", "new"))
    assert decisions == before["decisions"] + 3  # one per stored item
    assert _sample("ingestion_download_bytes_total") > 0


def test_a_file_over_the_row_limit_fails_loudly(stub_worker: Any, settings: Settings, tmp_path: Path) -> None:
    set_settings(attrs.evolve(settings, max_rows_per_file=2))
    reset_runtime()
    job_id = uuid.uuid4().hex
    state = run(stub_worker, source_url=str(write_price_list(tmp_path / "p.csv")), supplier_name="Лимит",
                job_id=job_id)
    assert state["phase"] == "failed" and "MAX_ROWS_PER_FILE" in state["error"]
    assert get_runtime().jobs.get(job_id) is not None
