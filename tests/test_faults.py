"""Fault tolerance with real worker processes: kills, shutdowns and service restarts mid-job.

Every test runs ``dramatiq ingestion.actors`` processes, publishes a raw envelope
and follows the job in Redis.  A service that is restarted is always a
throwaway instance of the test's own on another port (see ``fault_services``);
the machine's PostgreSQL, Redis and RabbitMQ are only ever used, never stopped.

Each test prints one line ``faults[name]: N cycles, L rows lost, D duplicated``
(also appended to ``$INGESTION_FAULTS_REPORT`` when set; ``bench/faults.py``
adds them up).  ``INGESTION_FAULTS=1`` runs the long versions (60k-row files,
more cycles).
"""

from __future__ import annotations

import http.server
import json
import os
import threading
import time
import uuid
from pathlib import Path
from typing import Callable, Iterator

import psycopg2
import pytest
import redis

from conftest import RABBITMQ_TEST_URL, REDIS_TEST_URL
from fault_services import (
    JobWatch,
    PostgresCluster,
    RabbitNode,
    RedisServer,
    Worker,
    db_counts,
    delete_queues,
    get_dead_letters,
    loss_and_duplicates,
    publish,
    queue_depth,
    running_worker,
    summary_line,
    wait_for_consumer,
    wait_for_queue,
    wait_until,
    worker_env,
    write_price_csv,
)

pytestmark = pytest.mark.integration

FULL = os.environ.get("INGESTION_FAULTS") == "1"
#: Rows of the big file: enough that reading it (≈50k rows/s) and matching it leave windows of a second or
#: more in which the test (polling every 50 ms) can catch the worker mid-step, even on a quiet machine.
BIG_ROWS = 100_000 if FULL else 40_000
#: Rows of the files of the service-restart tests (the restart, not the size, is the point there).
MID_ROWS = 30_000 if FULL else 5_000
BAD_EVERY = 2_000
JOB_TIMEOUT = 420 if FULL else 150
#: Fast progress so the test sees (and can hit) the middle of a step.
FAST_PROGRESS = {"PROGRESS_EVERY_ROWS": "250"}


# --- fixtures and helpers ---------------------------------------------------------------------
@pytest.fixture
def queue() -> Iterator[str]:
    name = f"ingestion_faults_{uuid.uuid4().hex[:8]}"
    yield name
    delete_queues(RABBITMQ_TEST_URL, name)


def report(capsys: pytest.CaptureFixture[str], line: str) -> None:
    """Print the test's summary line past pytest's capture (and into ``$INGESTION_FAULTS_REPORT``)."""
    with capsys.disabled():
        print("\n" + line)
    target = os.environ.get("INGESTION_FAULTS_REPORT")
    if target:
        with open(target, "a", encoding="utf-8") as f:
            f.write(line + "\n")


def mid_step(phase: str, at_least: int) -> Callable[[dict[str, str]], bool]:
    """A job-state predicate: in ``phase`` with at least ``at_least`` items done."""

    def check(state: dict[str, str]) -> bool:
        return state.get("phase") == phase and int(state.get("items_processed") or 0) >= at_least

    return check


def match_invariants(database_url: str, supplier_name: str) -> dict[str, int]:
    """After a completed job: items left unmatched, draft products no item links, review rows per item."""
    conn = psycopg2.connect(database_url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(
                "SELECT count(*) FROM supplier_items i JOIN suppliers s ON s.id = i.supplier_id "
                "WHERE s.name = %s AND i.match_status = 'unmatched'", (supplier_name,))
            unmatched = cur.fetchone()[0]
            cur.execute(
                "SELECT count(*) FROM products p WHERE NOT EXISTS "
                "(SELECT 1 FROM supplier_items i WHERE i.product_id = p.id)")
            orphans = cur.fetchone()[0]
            cur.execute("SELECT count(*) - count(DISTINCT supplier_item_id) FROM match_review_queue")
            review_dups = cur.fetchone()[0]
    finally:
        conn.close()
    return {"unmatched": int(unmatched), "orphan_products": int(orphans), "review_duplicates": int(review_dups)}


def assert_exact(counts: dict[str, int], good: int, bad: int) -> None:
    """Every good row stored once with one price-history row; every bad row logged once.

    (How many ``parse_summary`` rows a job got is checked by
    ``test_a_repeated_parse_logs_one_summary``, not here.)
    """
    assert counts["items"] == counts["distinct_skus"] == good, counts
    assert counts["price_history"] == counts["price_history_items"] == good, counts
    assert counts["row_errors"] == counts["distinct_row_errors"] == bad, counts
    assert counts["parse_summaries"] >= 1, counts


def assert_done_or_retryable(state: dict[str, str], *fault_words: str) -> None:
    """The outcome a fault may leave: complete, or failed, retryable, with the fault as its reason
    (a failure that blames the data — "no readable items" — would be a wrong outcome)."""
    if state["phase"] == "complete":
        assert state["status"] == "completed", state
    else:
        assert (state["phase"], state["status"]) == ("failed", "failed"), state
        assert state.get("error") and state.get("can_retry") == "true", state
        assert any(w in state["error"].lower() for w in fault_words), f"failed for another reason than the fault: {state}"


# --- 1. SIGKILL ----------------------------------------------------------------------------------
def test_sigkill_mid_parse_and_mid_match_loses_and_duplicates_nothing(
    pg_url: str, tmp_path: Path, queue: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The whole worker tree is SIGKILLed while parsing, the next one while matching; a third finishes.

    Nothing is acked by a killed worker, so RabbitMQ redelivers the step to the
    next one, which must redo it without losing or doubling a row.
    """
    began = time.monotonic()
    good, bad = write_price_csv(tmp_path / "big.csv", BIG_ROWS, bad_every=BAD_EVERY)
    env = worker_env(database_url=pg_url, rabbitmq_url=RABBITMQ_TEST_URL, redis_url=REDIS_TEST_URL, queue=queue,
                     uploads=tmp_path / "uploads", allowed_root=tmp_path, extra=FAST_PROGRESS)
    watch = JobWatch(REDIS_TEST_URL)
    job_id, supplier = f"faults-kill-{uuid.uuid4().hex}", f"Faults kill {uuid.uuid4().hex[:6]}"
    logs: list[Worker] = []
    cycles = 0

    # cycle 1: killed while parsing, with part of the file stored
    first = Worker(env, tmp_path / "worker1.log")
    logs.append(first)
    try:
        wait_for_queue(RABBITMQ_TEST_URL, queue, first)
        publish(RABBITMQ_TEST_URL, queue, "ingest", {"source_url": str(tmp_path / "big.csv"),
                                                     "supplier_name": supplier, "job_id": job_id})
        watch.wait(job_id, JOB_TIMEOUT, logs, until=mid_step("parsing", BIG_ROWS // 5))
        first.kill()
        cycles += 1
    finally:
        first.stop()
    at_kill = watch.state(job_id)
    read_at_kill = int(at_kill.get("items_processed") or 0)
    assert at_kill["phase"] == "parsing" and 0 < read_at_kill < BIG_ROWS, f"the kill did not land mid-parse: {at_kill}"

    # cycle 2: the next worker re-parses, and is killed while matching
    with running_worker(env, tmp_path / "worker2.log") as second:
        logs.append(second)
        watch.wait(job_id, JOB_TIMEOUT, logs, until=mid_step("matching", 500))
        # the parse is over: the data must be exact already
        assert_exact(db_counts(pg_url, job_id, supplier), good, bad)
        second.kill()
        cycles += 1

    # the third worker completes the job
    with running_worker(env, tmp_path / "worker3.log") as third:
        logs.append(third)
        state = watch.wait(job_id, JOB_TIMEOUT, logs)
    assert (state["phase"], state["status"]) == ("complete", "completed"), state
    assert state["items_processed"] == str(BIG_ROWS) and state["error_count"] == str(bad), state
    assert not redis.Redis.from_url(REDIS_TEST_URL).sismember("jobs:active", job_id)
    counts = db_counts(pg_url, job_id, supplier)
    assert_exact(counts, good, bad)
    assert match_invariants(pg_url, supplier) == {"unmatched": 0, "orphan_products": 0, "review_duplicates": 0}
    lost, duplicated = loss_and_duplicates(counts, good, bad)
    report(capsys, summary_line("sigkill", cycles, lost, duplicated, time.monotonic() - began,
                                f"{BIG_ROWS} rows, killed at row {read_at_kill} and in matching"))


# --- 2. SIGTERM ----------------------------------------------------------------------------------
SHUTDOWN_TIMEOUT_MS = 3000
#: What a worker may take beyond its shutdown timeout to exit (the main process polls its children each second).
EXIT_SLACK_S = 8.0


def test_sigterm_stops_within_the_shutdown_timeout_and_the_job_is_finished_by_the_next_worker(
    pg_url: str, tmp_path: Path, queue: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """SIGTERM while parsing (the step may finish before exit) and while matching (it cannot: abandoned,
    redelivered); each worker exits within its ``--worker-shutdown-timeout`` and the job completes."""
    began = time.monotonic()
    good, bad = write_price_csv(tmp_path / "big.csv", BIG_ROWS, bad_every=BAD_EVERY)
    env = worker_env(database_url=pg_url, rabbitmq_url=RABBITMQ_TEST_URL, redis_url=REDIS_TEST_URL, queue=queue,
                     uploads=tmp_path / "uploads", allowed_root=tmp_path, extra=FAST_PROGRESS)
    watch = JobWatch(REDIS_TEST_URL)
    job_id, supplier = f"faults-term-{uuid.uuid4().hex}", f"Faults term {uuid.uuid4().hex[:6]}"
    logs: list[Worker] = []
    exits: list[float] = []

    def terminate(w: Worker) -> None:
        t0 = time.monotonic()
        w.terminate()
        try:
            code = w.wait(SHUTDOWN_TIMEOUT_MS / 1000 + EXIT_SLACK_S)
        except Exception:
            raise AssertionError("the worker did not stop within its shutdown timeout:\n" + w.text()[-5000:])
        exits.append(time.monotonic() - t0)
        assert code == 0, w.text()[-5000:]
        state = watch.state(job_id)
        assert state.get("phase") != "failed", f"a shutdown failed the job: {state}"

    with running_worker(env, tmp_path / "worker1.log", shutdown_timeout_ms=SHUTDOWN_TIMEOUT_MS) as first:
        logs.append(first)
        wait_for_queue(RABBITMQ_TEST_URL, queue, first)
        publish(RABBITMQ_TEST_URL, queue, "ingest", {"source_url": str(tmp_path / "big.csv"),
                                                     "supplier_name": supplier, "job_id": job_id})
        watch.wait(job_id, JOB_TIMEOUT, logs, until=mid_step("parsing", BIG_ROWS // 5))
        terminate(first)
    with running_worker(env, tmp_path / "worker2.log", shutdown_timeout_ms=SHUTDOWN_TIMEOUT_MS) as second:
        logs.append(second)
        # consuming first: the first worker may have finished the parse and matched a batch before it exited,
        # and a SIGTERM before dramatiq has set up its handlers is a plain kill (exit -15), not a shutdown
        wait_for_consumer(RABBITMQ_TEST_URL, queue, second)
        watch.wait(job_id, JOB_TIMEOUT, logs, until=mid_step("matching", 500))
        terminate(second)
    stopped_in = watch.state(job_id)
    assert stopped_in.get("phase") in ("matching", "complete"), stopped_in  # never left failed or half-done
    with running_worker(env, tmp_path / "worker3.log") as third:
        logs.append(third)
        state = watch.wait(job_id, JOB_TIMEOUT, logs)
    assert (state["phase"], state["status"]) == ("complete", "completed"), state
    counts = db_counts(pg_url, job_id, supplier)
    assert_exact(counts, good, bad)
    assert match_invariants(pg_url, supplier) == {"unmatched": 0, "orphan_products": 0, "review_duplicates": 0}
    lost, duplicated = loss_and_duplicates(counts, good, bad)
    report(capsys, summary_line("sigterm", len(exits), lost, duplicated, time.monotonic() - began,
                                "exits after " + ", ".join(f"{s:.1f}s" for s in exits)
                                + f" (timeout {SHUTDOWN_TIMEOUT_MS / 1000:.0f}s)"))


# --- 3. Redis restarted ------------------------------------------------------------------------------
def test_redis_restarted_during_a_job(pg_url: str, tmp_path: Path, queue: str,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    """The worker's Redis (job state and results; throwaway, no persistence) is restarted while parsing
    and again while matching: the job ends complete — or failed, retryable, with its reason — never stuck.

    Without persistence a restart empties Redis, so the job's hash after it holds
    only what the worker wrote since; the data in PostgreSQL must be exact all the same.
    """
    began = time.monotonic()
    rows = MID_ROWS
    good, bad = write_price_csv(tmp_path / "big.csv", rows, bad_every=BAD_EVERY)
    import shutil

    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed: no throwaway Redis")
    server = RedisServer(tmp_path / "redis")
    server.start()
    try:
        env = worker_env(database_url=pg_url, rabbitmq_url=RABBITMQ_TEST_URL, redis_url=server.url, queue=queue,
                         uploads=tmp_path / "uploads", allowed_root=tmp_path, extra=FAST_PROGRESS)
        watch = JobWatch(server.url)
        job_id, supplier = f"faults-redis-{uuid.uuid4().hex}", f"Faults redis {uuid.uuid4().hex[:6]}"
        with running_worker(env, tmp_path / "worker.log") as w:
            wait_for_queue(RABBITMQ_TEST_URL, queue, w)
            publish(RABBITMQ_TEST_URL, queue, "ingest", {"source_url": str(tmp_path / "big.csv"),
                                                         "supplier_name": supplier, "job_id": job_id})
            watch.wait(job_id, JOB_TIMEOUT, [w], until=mid_step("parsing", rows // 5))
            server.restart(down_seconds=1.5)
            watch.wait(job_id, JOB_TIMEOUT, [w], until=lambda s: s.get("phase") in ("matching", "complete", "failed"))
            if watch.state(job_id).get("phase") == "matching":
                server.restart(down_seconds=1.5)
            state = watch.wait(job_id, JOB_TIMEOUT, [w])
            log = w.text()
        assert_done_or_retryable(state, "redis", "connection", "timeout")
        counts = db_counts(pg_url, job_id, supplier)
        if state["phase"] == "complete":
            assert_exact(counts, good, bad)
            assert match_invariants(pg_url, supplier)["unmatched"] == 0
        lost, duplicated = loss_and_duplicates(counts, good, bad)
        assert duplicated == 0, counts
        retried = log.count("will retry")
    finally:
        server.stop()
    report(capsys, summary_line("redis-restart", server.restarts, lost, duplicated, time.monotonic() - began,
                                f"job {state['phase']}, {retried} step retries"))


# --- 4. PostgreSQL restarted --------------------------------------------------------------------------
@pytest.fixture
def pg_cluster() -> Iterator[PostgresCluster]:
    import glob

    if not glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        pytest.skip("no PostgreSQL server binaries (/usr/lib/postgresql/*/bin) for a throwaway cluster")
    cluster = PostgresCluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


def _migrated(cluster: PostgresCluster) -> str:
    from ingestion.models import apply_migrations, database

    url = cluster.create_database("faults")
    apply_migrations(url)
    if database.obj is not None and not database.is_closed():
        database.close()
    return url


def test_postgresql_restarted_during_a_parse(pg_cluster: PostgresCluster, tmp_path: Path, queue: str,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """The worker's PostgreSQL (a throwaway cluster) is restarted (``pg_ctl stop -m fast``: every
    connection is ended) while a job parses: the job ends complete or failed-retryable, never stuck,
    and whatever was stored is not doubled."""
    began = time.monotonic()
    url = _migrated(pg_cluster)
    good, bad = write_price_csv(tmp_path / "big.csv", MID_ROWS, bad_every=BAD_EVERY)
    env = worker_env(database_url=url, rabbitmq_url=RABBITMQ_TEST_URL, redis_url=REDIS_TEST_URL, queue=queue,
                     uploads=tmp_path / "uploads", allowed_root=tmp_path, extra=FAST_PROGRESS)
    watch = JobWatch(REDIS_TEST_URL)
    job_id, supplier = f"faults-pg-{uuid.uuid4().hex}", f"Faults pg {uuid.uuid4().hex[:6]}"
    with running_worker(env, tmp_path / "worker.log") as w:
        wait_for_queue(RABBITMQ_TEST_URL, queue, w)
        publish(RABBITMQ_TEST_URL, queue, "ingest", {"source_url": str(tmp_path / "big.csv"),
                                                     "supplier_name": supplier, "job_id": job_id})
        watch.wait(job_id, JOB_TIMEOUT, [w], until=mid_step("parsing", MID_ROWS // 5))
        pg_cluster.restart(down_seconds=1.0)
        state = watch.wait(job_id, JOB_TIMEOUT, [w])
        log = w.text()
    assert_done_or_retryable(state, "database", "connection", "server")
    counts = db_counts(url, job_id, supplier)
    if state["phase"] == "complete":
        assert_exact(counts, good, bad)
    lost, duplicated = loss_and_duplicates(counts, good, bad)
    assert duplicated == 0, counts
    report(capsys, summary_line("postgres-restart", pg_cluster.restarts, lost if state["phase"] == "complete" else 0,
                                duplicated, time.monotonic() - began,
                                f"job {state['phase']}" + (f": {state.get('error')}" if state["phase"] == "failed" else "") + "; "
                                f"{log.count('will retry')} step retries"))


# Regression: a worker thread used to keep a dead PostgreSQL connection after a restart (the reconnect
# errors of playhouse's ReconnectMixin list only MySQL errors); see ReconnectingPostgresqlDatabase.


def test_a_worker_works_again_after_postgresql_restarted(pg_cluster: PostgresCluster, tmp_path: Path, queue: str,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """A job published after the worker's PostgreSQL came back completes (one worker thread, so the job
    runs on the connection the restart cut)."""
    began = time.monotonic()
    url = _migrated(pg_cluster)
    write_price_csv(tmp_path / "small.csv", 40)
    env = worker_env(database_url=url, rabbitmq_url=RABBITMQ_TEST_URL, redis_url=REDIS_TEST_URL, queue=queue,
                     uploads=tmp_path / "uploads", allowed_root=tmp_path)
    watch = JobWatch(REDIS_TEST_URL)
    with running_worker(env, tmp_path / "worker.log", threads=1) as w:
        wait_for_queue(RABBITMQ_TEST_URL, queue, w)
        states = []
        for n in range(2):
            job_id = f"faults-pg-again-{n}-{uuid.uuid4().hex}"
            publish(RABBITMQ_TEST_URL, queue, "ingest", {"source_url": str(tmp_path / "small.csv"),
                                                         "supplier_name": "Faults pg again", "job_id": job_id})
            states.append(watch.wait(job_id, 90, [w]))
            if n == 0:
                assert states[0]["phase"] == "complete", states[0]
                pg_cluster.restart(down_seconds=0.5)
    report(capsys, summary_line("postgres-reconnect", pg_cluster.restarts, 0, 0, time.monotonic() - began,
                                f"job after the restart: {states[1]['phase']} {states[1].get('error') or ''}"))
    assert (states[1]["phase"], states[1]["status"]) == ("complete", "completed"), states[1]


# --- 5. RabbitMQ restarted ------------------------------------------------------------------------------
@pytest.fixture
def rabbit_node(tmp_path: Path) -> Iterator[RabbitNode]:
    if not RabbitNode.available():
        pytest.skip("rabbitmq-server (/usr/lib/rabbitmq/bin) or erl is not installed here")
    node = RabbitNode(tmp_path / "rabbit")
    try:
        node.start()
    except AssertionError as exc:
        node.stop()
        pytest.skip(f"a throwaway RabbitMQ node did not start here: {exc}\n{node.log_tail()}")
    try:
        yield node
    finally:
        node.stop()


def test_rabbitmq_restarted_while_jobs_run(rabbit_node: RabbitNode, pg_url: str, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """The worker's RabbitMQ (a throwaway node) is stopped and started while three jobs are under way:
    the worker reconnects and every job completes with exact data."""
    began = time.monotonic()
    queue = "ingestion_faults"
    rows = MID_ROWS // 2
    jobs = []
    for n in range(3):
        name = f"list{n}.csv"
        good, bad = write_price_csv(tmp_path / name, rows, bad_every=BAD_EVERY)
        jobs.append((f"faults-rmq-{n}-{uuid.uuid4().hex}", f"Faults rmq {n} {uuid.uuid4().hex[:6]}", name, good, bad))
    env = worker_env(database_url=pg_url, rabbitmq_url=rabbit_node.url, redis_url=REDIS_TEST_URL, queue=queue,
                     uploads=tmp_path / "uploads", allowed_root=tmp_path, extra=FAST_PROGRESS)
    watch = JobWatch(REDIS_TEST_URL)
    with running_worker(env, tmp_path / "worker.log") as w:
        wait_for_queue(rabbit_node.url, queue, w)
        for job_id, supplier, name, _, _ in jobs:
            publish(rabbit_node.url, queue, "ingest", {"source_url": str(tmp_path / name),
                                                       "supplier_name": supplier, "job_id": job_id})
        first = jobs[0][0]
        watch.wait(first, JOB_TIMEOUT, [w], until=lambda s: s.get("phase") in ("parsing", "matching")
                   and int(s.get("items_processed") or 0) >= 500)
        restart_took = rabbit_node.restart(down_seconds=1.0)
        states = [watch.wait(job_id, JOB_TIMEOUT, [w]) for job_id, *_ in jobs]
        assert w.alive(), w.text()[-5000:]
        log = w.text()
    lost = duplicated = summaries = 0
    for (job_id, supplier, _, good, bad), state in zip(jobs, states):
        assert (state["phase"], state["status"]) == ("complete", "completed"), (state, rabbit_node.log_tail())
        counts = db_counts(pg_url, job_id, supplier)
        assert_exact(counts, good, bad)
        l, d = loss_and_duplicates(counts, good, bad)
        lost, duplicated, summaries = lost + l, duplicated + d, summaries + counts["parse_summaries"]
    report(capsys, summary_line("rabbitmq-restart", rabbit_node.restarts, lost, duplicated, time.monotonic() - began,
                                f"3 jobs of {rows} rows, node back in {restart_took:.1f}s, "
                                f"{log.count('Failed to post_process_message')} acks lost, "
                                f"{summaries} parse_summary rows for 3 jobs"))


# --- 6. dead letters ---------------------------------------------------------------------------------------
class _Always503(http.server.BaseHTTPRequestHandler):
    hits = 0

    def do_GET(self) -> None:  # noqa: N802
        type(self).hits += 1
        body = b"maintenance"
        self.send_response(503)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Retry-After", "1")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def test_a_message_that_keeps_failing_is_dead_lettered_with_its_job_failed(
    pg_url: str, tmp_path: Path, queue: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A source that always answers 503 (transient) with ``DOWNLOAD_MAX_RETRIES=1``: tried twice, then the
    job is failed with the reason (retryable) and the message lies in ``<queue>.XQ``."""
    began = time.monotonic()
    handler: type[_Always503] = type("Always503", (_Always503,), {"hits": 0})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    env = worker_env(database_url=pg_url, rabbitmq_url=RABBITMQ_TEST_URL, redis_url=REDIS_TEST_URL, queue=queue,
                     uploads=tmp_path / "uploads", allowed_root=tmp_path)
    watch = JobWatch(REDIS_TEST_URL)
    job_id = f"faults-dlq-{uuid.uuid4().hex}"
    source = f"http://127.0.0.1:{server.server_address[1]}/prices.xlsx"
    try:
        with running_worker(env, tmp_path / "worker.log") as w:
            wait_for_queue(RABBITMQ_TEST_URL, queue, w)
            publish(RABBITMQ_TEST_URL, queue, "ingest", {"source_url": source, "supplier_name": "Faults 503",
                                                         "job_id": job_id})
            state = watch.wait(job_id, 60, [w])
            wait_until(lambda: (queue_depth(RABBITMQ_TEST_URL, f"{queue}.XQ") or 0) >= 1, 20,
                       "the message in the dead-letter queue")
            dead = get_dead_letters(RABBITMQ_TEST_URL, queue)
    finally:
        server.shutdown()
        server.server_close()

    assert (state["phase"], state["status"]) == ("failed", "failed"), state
    assert "503" in state["error"], state
    assert state["can_retry"] == "true", state
    details = json.loads(state["error_details"])
    assert details and "503" in details[0]["message"], details
    assert handler.hits == 2, f"expected the first try and DOWNLOAD_MAX_RETRIES=1 retry, the server saw {handler.hits}"
    assert len(dead) == 1, dead
    assert dead[0]["actor_name"] == "download_file" and dead[0]["kwargs"]["job_id"] == job_id, dead
    assert dead[0]["options"].get("retries") == 1, dead[0]["options"]
    conn = psycopg2.connect(pg_url)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT level, message FROM parsing_logs WHERE job_id = %s", (job_id,))
        logged = cur.fetchall()
    conn.close()
    assert len(logged) == 1 and logged[0][0] == "error" and "503" in logged[0][1], logged
    report(capsys, summary_line("dead-letter", 0, 0, 0, time.monotonic() - began,
                                f"{handler.hits} tries, then {queue}.XQ; error: {state['error']}"))


# --- 7. a repeated parse (its ack lost after it finished) -----------------------------------------------------
# Regression: a repeated parse of a job still in phase "parsing" used to log a second parse_summary row.


def test_a_repeated_parse_logs_one_summary(pg_url: str, tmp_path: Path, queue: str,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """The same parse step delivered twice (as after a lost ack) leaves the job's data and logs as one parse does."""
    import dramatiq
    from dramatiq.results.backends import RedisBackend

    began = time.monotonic()
    good, bad = write_price_csv(tmp_path / "small.csv", 300, bad_every=100)
    env = worker_env(database_url=pg_url, rabbitmq_url=RABBITMQ_TEST_URL, redis_url=REDIS_TEST_URL, queue=queue,
                     uploads=tmp_path / "uploads", allowed_root=tmp_path)
    watch = JobWatch(REDIS_TEST_URL)
    backend = RedisBackend(url=REDIS_TEST_URL)
    supplier = f"Faults repeat {uuid.uuid4().hex[:6]}"
    with running_worker(env, tmp_path / "worker.log", threads=1) as w:
        wait_for_queue(RABBITMQ_TEST_URL, queue, w)
        # a first job makes the supplier
        first = f"faults-repeat-a-{uuid.uuid4().hex}"
        publish(RABBITMQ_TEST_URL, queue, "ingest", {"source_url": str(tmp_path / "small.csv"),
                                                     "supplier_name": supplier, "job_id": first})
        done = watch.wait(first, 90, [w])
        assert done["phase"] == "complete", done
        # the job under test: downloaded, in phase parsing; its parse step arrives twice
        job_id = f"faults-repeat-b-{uuid.uuid4().hex}"
        redis.Redis.from_url(REDIS_TEST_URL).hset(f"job:{job_id}", mapping={
            "job_id": job_id, "supplier_id": done["supplier_id"], "supplier_name": supplier,
            "phase": "parsing", "status": "processing"})
        download = {"job_id": job_id, "supplier_id": done["supplier_id"], "file_path": str(tmp_path / "small.csv"),
                    "sha256": None, "size": (tmp_path / "small.csv").stat().st_size, "original_name": "small.csv"}
        for _ in range(2):
            message: dramatiq.Message[object] = dramatiq.Message(queue_name=queue, actor_name="parse_task", args=(download,), kwargs={},
                                       options={}, message_id=str(uuid.uuid4()),
                                       message_timestamp=int(time.time() * 1000))
            publish_envelope(queue, message.asdict())
            backend.get_result(message, block=True, timeout=60_000)
    counts = db_counts(pg_url, job_id, supplier)
    report(capsys, summary_line("repeated-parse", 1, 0, counts["parse_summaries"] - 1, time.monotonic() - began,
                                f"parse_summary rows of the job: {counts['parse_summaries']}"))
    assert counts["row_errors"] == counts["distinct_row_errors"] == bad, counts
    assert counts["parse_summaries"] == 1, counts


def publish_envelope(queue: str, envelope: dict[str, object]) -> None:
    import pika

    from fault_services import channel

    conn, ch = channel(RABBITMQ_TEST_URL)
    ch.basic_publish(exchange="", routing_key=queue, body=json.dumps(envelope).encode("utf-8"),
                     properties=pika.BasicProperties(delivery_mode=2, content_type="application/json"))
    conn.close()


# --- 8. metrics on a fresh worker ------------------------------------------------------------------------------
def test_the_first_metrics_of_two_threads_at_once_do_not_fail_a_step() -> None:
    """Two threads record their first metric together (collector creation slowed down so they always overlap).

    Found by test_rabbitmq_restarted_while_jobs_run: a fresh worker's download_file failed with
    "internal error: DuplicateTimeseries" when two downloads finished together, because ``_metrics()``
    was memoised with an unlocked ``functools.cache`` and both threads registered the collectors.
    """
    import subprocess
    import sys

    from fault_services import ROOT

    script = """
import json, threading, time
import prometheus_client

class SlowCounter(prometheus_client.Counter):
    def __init__(self, *args, **kwargs):
        time.sleep(0.2)  # widens the window the two threads race through; it exists without this too
        super().__init__(*args, **kwargs)

prometheus_client.Counter = SlowCounter
from ingestion import metrics

errors = []
def record():
    try:
        metrics.phase("complete")
    except Exception as exc:
        errors.append(f"{type(exc).__name__}: {exc}")

threads = [threading.Thread(target=record) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(json.dumps(errors))
"""
    env = {k: v for k, v in os.environ.items() if k not in ("RABBITMQ_URL", "REDIS_URL")}
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [], out.stdout
