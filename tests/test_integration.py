"""End to end over the machine's RabbitMQ, Redis and PostgreSQL with a real worker process.

The job is published with pika as a raw Dramatiq JSON envelope, the way a
service in another language would, and followed through Redis.
"""

import csv
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Iterator

import pika
import psycopg2
import pytest
import redis

import fault_services
from conftest import RABBITMQ_TEST_URL, REDIS_TEST_URL

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[1]
JOB_TIMEOUT = 120


class Worker:
    def __init__(self, queue: str, env: dict[str, str], log: Path) -> None:
        self.queue = queue
        self.log = log
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dramatiq", "ingestion.actors", "--processes", "1", "--threads", "2"],
            cwd=ROOT, env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT,
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _channel() -> tuple[pika.BlockingConnection, "pika.adapters.blocking_connection.BlockingChannel"]:
    conn = pika.BlockingConnection(pika.URLParameters(RABBITMQ_TEST_URL))
    return conn, conn.channel()


def _wait_for_queue(queue: str, worker: Worker) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert worker.proc.poll() is None, worker.log.read_text(errors="replace")
        conn, ch = _channel()
        try:
            ch.queue_declare(queue=queue, passive=True)
            return
        except pika.exceptions.ChannelClosedByBroker:
            time.sleep(0.5)
        finally:
            if conn.is_open:
                conn.close()
    raise AssertionError("the worker never declared its queue:\n" + worker.log.read_text(errors="replace"))


@pytest.fixture
def worker(pg_url: str, tmp_path: Path) -> Iterator[Worker]:
    queue = f"ingestion_it_{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DATABASE_URL": pg_url,
        "RABBITMQ_URL": RABBITMQ_TEST_URL,
        "REDIS_URL": REDIS_TEST_URL,
        "UPLOADS_DIR": str(tmp_path / "uploads"),
        "INGESTION_QUEUE": queue,
        "DOWNLOAD_MAX_RETRIES": "1",
        "USE_ML_PROCESSING": "false",
        "DOWNLOAD_ALLOWED_HOSTS": "127.0.0.1",
        "DOWNLOAD_ALLOWED_ROOTS": str(tmp_path),
    }
    w = Worker(queue, env, tmp_path / "worker.log")
    try:
        _wait_for_queue(queue, w)
        yield w
    finally:
        w.stop()
        conn, ch = _channel()
        for name in (queue, f"{queue}.DQ", f"{queue}.XQ"):
            ch.queue_delete(queue=name)
        conn.close()


def publish(queue: str, actor: str, kwargs: dict[str, object]) -> None:
    """The raw envelope, as a non-Python upstream publishes it (shared with the fault tests)."""
    fault_services.publish(RABBITMQ_TEST_URL, queue, actor, dict(kwargs))


def wait_for_job(job_id: str, worker: Worker) -> dict[str, str]:
    client = redis.Redis.from_url(REDIS_TEST_URL, decode_responses=True)
    deadline = time.monotonic() + JOB_TIMEOUT
    while time.monotonic() < deadline:
        state: dict[str, str] = client.hgetall(f"job:{job_id}")  # type: ignore[assignment]
        if state.get("phase") in ("complete", "failed"):
            return state
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish: {state}\n" + worker.log.read_text(errors="replace"))


def test_published_job_is_stored_in_postgresql(worker: Worker, pg_url: str, http_dir: tuple[str, Path]) -> None:
    base, folder = http_dir
    with open(folder / "prices.csv", "w", encoding="utf-8", newline="") as f:
        out = csv.writer(f, delimiter=";")
        out.writerow(["Прайс-лист на 01.12.2026"])
        out.writerow(["Артикул", "Наименование", "Цена, руб", "Остаток"])
        for i in range(1, 2501):
            out.writerow([f"SKU-{i:05d}", f"Товар номер {i}", f"{i},50", str(i % 7)])
        out.writerow(["SKU-BAD", "Товар без цены", "нет", "1"])
    job_id = f"it-{uuid.uuid4().hex}"
    publish(worker.queue, "ingest", {"source_url": f"{base}/prices.csv", "supplier_name": "Интеграция", "job_id": job_id})
    state = wait_for_job(job_id, worker)
    assert (state["phase"], state["status"]) == ("complete", "completed"), state
    assert state["items_processed"] == "2501" and state["error_count"] == "1"
    assert not redis.Redis.from_url(REDIS_TEST_URL).sismember("jobs:active", job_id)

    conn = psycopg2.connect(pg_url)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT count(*), sum(price) FROM supplier_items WHERE last_seen_job_id = %s", (job_id,))
        count, total = cur.fetchone()
        assert count == 2500
        assert float(total) == sum(i + 0.5 for i in range(1, 2501))
        cur.execute("SELECT row_number, level FROM parsing_logs WHERE job_id = %s AND level = 'error'", (job_id,))
        assert cur.fetchall() == [(2503, "error")]
        cur.execute("SELECT count(*) FROM price_history WHERE job_id = %s", (job_id,))
        assert cur.fetchone()[0] == 2500
    conn.close()


def test_published_job_for_a_missing_file_fails(worker: Worker, http_dir: tuple[str, Path]) -> None:
    base, _ = http_dir
    job_id = f"it-{uuid.uuid4().hex}"
    publish(worker.queue, "ingest", {"source_url": f"{base}/gone.xlsx", "supplier_name": "Интеграция", "job_id": job_id})
    state = wait_for_job(job_id, worker)
    assert (state["phase"], state["status"]) == ("failed", "failed")
    assert "404" in state["error"]
    assert state["can_retry"] == "true"


def test_published_bad_message_fails_and_is_dead_lettered(worker: Worker) -> None:
    job_id = f"it-{uuid.uuid4().hex}"
    publish(worker.queue, "ingest", {"source_url": ["not", "a", "string"], "supplier_name": "X", "job_id": job_id})
    state = wait_for_job(job_id, worker)
    assert state["phase"] == "failed" and "source_url" in state["error"]
    conn, ch = _channel()
    deadline = time.monotonic() + 10
    while ch.queue_declare(queue=f"{worker.queue}.XQ", passive=True).method.message_count < 1:
        assert time.monotonic() < deadline, "the bad message never reached the dead-letter queue"
        time.sleep(0.2)
    conn.close()


def test_publish_and_job_commands(worker: Worker, pg_url: str, tmp_path: Path) -> None:
    from test_actors import write_price_list

    src = write_price_list(tmp_path / "list.csv")  # under the worker's DOWNLOAD_ALLOWED_ROOTS (tmp_path)
    env = {**os.environ, "RABBITMQ_URL": RABBITMQ_TEST_URL, "REDIS_URL": REDIS_TEST_URL,
           "INGESTION_QUEUE": worker.queue, "DATABASE_URL": pg_url, "USE_ML_PROCESSING": "false"}
    exe = str(Path(sys.executable).parent / "ingestion")
    out = subprocess.run([exe, "publish", "ingest", "--supplier", "Электромир", "--source", str(src)],
                         env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    job_id = json.loads(out.stdout)["job_id"]
    assert wait_for_job(job_id, worker)["phase"] == "complete"
    shown = subprocess.run([exe, "job", job_id], env=env, capture_output=True, text=True, timeout=60)
    state = json.loads(shown.stdout)
    assert state["items_processed"] == "4" and state["supplier_name"] == "Электромир"
    assert state["error_details"][0]["row"] == 6
