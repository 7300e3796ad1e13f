"""Helpers of the fault tests: throwaway services, worker processes, publishing, checks.

The machine's own PostgreSQL (5432), Redis (6379) and RabbitMQ (5672) are never
stopped.  A test that restarts a service starts its own instance of it on a
free port in a temporary folder (:class:`RedisServer`, :class:`PostgresCluster`,
:class:`RabbitNode`) and points the worker at that one.

Workers are real ``dramatiq ingestion.actors`` processes, each in a session of
its own so the whole process tree (main process, worker processes) can be
killed at once like a container would be.
"""

from __future__ import annotations

import contextlib
import csv
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import pika
import psycopg2
import redis

ROOT = Path(__file__).resolve().parents[1]
TERMINAL = ("complete", "failed")


# --- small things -----------------------------------------------------------------------
def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_until(check: Callable[[], bool], timeout: float, what: str, every: float = 0.1) -> None:
    """Poll ``check`` until it is true; ``AssertionError`` naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # a service still starting answers with errors
            pass
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def _as_postgres() -> list[str]:
    """The prefix that runs a PostgreSQL tool as the ``postgres`` user (initdb refuses root)."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


# --- Redis ------------------------------------------------------------------------------
class RedisServer:
    """A throwaway ``redis-server`` on its own port, without persistence."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.proc: subprocess.Popen[bytes] | None = None
        self.restarts = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--daemonize", "no", "--dir", str(self.folder)],
            stdout=open(self.folder / "redis.log", "ab"), stderr=subprocess.STDOUT, start_new_session=True,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        wait_until(lambda: bool(client.ping()), 20, f"redis on port {self.port}")
        client.close()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self, down_seconds: float = 0.0) -> None:
        self.stop()
        time.sleep(down_seconds)
        self.start()
        self.restarts += 1


# --- PostgreSQL -------------------------------------------------------------------------
def _pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise FileNotFoundError("no PostgreSQL binaries under /usr/lib/postgresql/*/bin")
    return Path(found[-1]).parent


class PostgresCluster:
    """A throwaway PostgreSQL cluster (``initdb`` in a temporary folder, ``pg_ctl`` on its own port)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.bin = _pg_bin()
        # A folder of its own under /tmp that the postgres user owns (the test's tmp_path is root's).
        self.base = Path(tempfile.mkdtemp(prefix="ingestion-faults-pg-"))
        self.data = self.base / "data"
        self.sockets = self.base / "run"
        self.sockets.mkdir()
        self.log = self.base / "postgres.log"
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres", "postgres")
            shutil.chown(self.sockets, "postgres", "postgres")
        self.restarts = 0
        self._run([str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                   "--no-sync", "--no-instructions"])

    def _run(self, cmd: list[str]) -> None:
        out = subprocess.run(_as_postgres() + cmd, capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({out.returncode}): {out.stdout}\n{out.stderr}")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
                   "-o", options, "start"])

    def stop(self, mode: str = "fast") -> None:
        """``fast`` ends every client connection (what a restart does to the workers); ``immediate`` is a crash."""
        if (self.data / "postmaster.pid").exists():
            self._run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop"])

    def restart(self, down_seconds: float = 0.0, mode: str = "fast") -> None:
        self.stop(mode)
        time.sleep(down_seconds)
        self.start()
        self.restarts += 1

    def create_database(self, name: str) -> str:
        conn = psycopg2.connect(self.url())
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        conn.close()
        return self.url(name)

    def destroy(self) -> None:
        with contextlib.suppress(Exception):
            self.stop("immediate")
        shutil.rmtree(self.base, ignore_errors=True)


# --- RabbitMQ ---------------------------------------------------------------------------
RABBIT_SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"


class RabbitNode:
    """A throwaway RabbitMQ node: its own node name, AMQP and distribution ports, data and logs in a temp folder.

    Management and every other plugin are off; the node shares only the machine's
    ``epmd`` (which maps node names to ports) with the machine's own node.
    """

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.dist_port = free_port()
        self.folder = folder
        self.name = f"ingestion_faults_{self.port}@localhost"
        self.proc: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "rabbitmq.conf").write_text(
            f"listeners.tcp.1 = 127.0.0.1:{self.port}\nloopback_users.guest = true\n", encoding="utf-8"
        )
        (folder / "enabled_plugins").write_text("[].\n", encoding="utf-8")
        (folder / "rabbitmq-env.conf").write_text("", encoding="utf-8")

    @staticmethod
    def available() -> bool:
        return os.access(RABBIT_SERVER, os.X_OK) and shutil.which("erl") is not None

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/%2F"

    def _env(self) -> dict[str, str]:
        f = self.folder
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(f),  # the Erlang cookie is made here, not in the machine node's home
            "LANG": "C.UTF-8",
            "RABBITMQ_NODENAME": self.name,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(f / "mnesia"),
            "RABBITMQ_LOG_BASE": str(f / "log"),
            "RABBITMQ_PID_FILE": str(f / "rabbit.pid"),
            "RABBITMQ_CONFIG_FILE": str(f / "rabbitmq.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(f / "enabled_plugins"),
            "RABBITMQ_CONF_ENV_FILE": str(f / "rabbitmq-env.conf"),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
            "ERL_EPMD_ADDRESS": "127.0.0.1",
        }

    def start(self, timeout: float = 60) -> float:
        """Start the node; returns the seconds it took to accept AMQP connections."""
        began = time.monotonic()
        self.proc = subprocess.Popen(
            [RABBIT_SERVER], env=self._env(), cwd=self.folder, stdout=open(self.folder / "server.log", "ab"),
            stderr=subprocess.STDOUT, start_new_session=True,
        )

        def ready() -> bool:
            assert self.proc is not None and self.proc.poll() is None, self.log_tail()
            conn = pika.BlockingConnection(pika.URLParameters(self.url + "?connection_attempts=1&socket_timeout=2"))
            conn.close()
            return True

        wait_until(ready, timeout, f"RabbitMQ node {self.name}", every=0.25)
        return time.monotonic() - began

    def stop(self, timeout: float = 60) -> None:
        """A graceful stop (SIGTERM: the node closes its connections and flushes its message store)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        wait_until(lambda: not port_open(self.port), 30, f"RabbitMQ node {self.name} to close its port")
        # the Erlang VM may outlive the wrapper script for a moment
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc = None

    def restart(self, down_seconds: float = 0.0) -> float:
        self.stop()
        time.sleep(down_seconds)
        took = self.start()
        self.restarts += 1
        return took

    def log_tail(self, chars: int = 3000) -> str:
        parts = []
        for path in [self.folder / "server.log", *sorted((self.folder / "log").glob("*.log"))]:
            if path.exists():
                parts.append(f"--- {path.name}\n" + path.read_text(errors="replace")[-chars:])
        return "\n".join(parts)


# --- workers ----------------------------------------------------------------------------
def worker_env(
    *,
    database_url: str,
    rabbitmq_url: str,
    redis_url: str,
    queue: str,
    uploads: Path,
    allowed_root: Path,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "RABBITMQ_URL": rabbitmq_url,
        "REDIS_URL": redis_url,
        "UPLOADS_DIR": str(uploads),
        "INGESTION_QUEUE": queue,
        "USE_ML_PROCESSING": "false",
        "DOWNLOAD_ALLOWED_HOSTS": "127.0.0.1",
        "DOWNLOAD_ALLOWED_ROOTS": str(allowed_root),
        "DOWNLOAD_MAX_RETRIES": "1",
        "LOG_FORMAT": "text",
        "dramatiq_prom_host": "127.0.0.1",
        "dramatiq_prom_port": str(free_port()),
    }
    env.update(extra or {})
    return env


class Worker:
    """One ``dramatiq ingestion.actors`` process tree in a session of its own."""

    def __init__(self, env: Mapping[str, str], log: Path, *, threads: int = 2, shutdown_timeout_ms: int | None = None) -> None:
        self.log = log
        cmd = [sys.executable, "-m", "dramatiq", "ingestion.actors", "--processes", "1", "--threads", str(threads)]
        if shutdown_timeout_ms is not None:
            cmd += ["--worker-shutdown-timeout", str(shutdown_timeout_ms)]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=dict(env), stdout=open(log, "ab"), stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL to the whole tree: no handler runs, nothing is acked, connections just drop."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def terminate(self) -> None:
        """SIGTERM to the main process, as ``docker stop`` does; it passes it on to its worker processes."""
        self.proc.send_signal(signal.SIGTERM)

    def wait(self, timeout: float) -> int:
        return self.proc.wait(timeout)

    def stop(self) -> None:
        if self.alive():
            self.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                pass
        # whatever is left of the tree (a worker process that outlived its parent)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@contextlib.contextmanager
def running_worker(env: Mapping[str, str], log: Path, **kwargs: Any) -> Iterator[Worker]:
    w = Worker(env, log, **kwargs)
    try:
        yield w
    finally:
        w.stop()


# --- RabbitMQ client side -----------------------------------------------------------------
def channel(url: str) -> tuple[pika.BlockingConnection, Any]:
    conn = pika.BlockingConnection(pika.URLParameters(url))
    return conn, conn.channel()


def queue_depth(url: str, queue: str) -> int | None:
    """Messages ready in ``queue``, or ``None`` when it does not exist."""
    conn, ch = channel(url)
    try:
        return int(ch.queue_declare(queue=queue, passive=True).method.message_count)
    except pika.exceptions.ChannelClosedByBroker:
        return None
    finally:
        if conn.is_open:
            conn.close()


def consumers(url: str, queue: str) -> int:
    """Consumers of ``queue`` (0 when it does not exist)."""
    conn, ch = channel(url)
    try:
        return int(ch.queue_declare(queue=queue, passive=True).method.consumer_count)
    except pika.exceptions.ChannelClosedByBroker:
        return 0
    finally:
        if conn.is_open:
            conn.close()


def wait_for_consumer(url: str, queue: str, worker: Worker, timeout: float = 60) -> None:
    """Until some process consumes ``queue`` (the queue may exist from an earlier worker already)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert worker.alive(), "the worker died:\n" + worker.text()[-5000:]
        if consumers(url, queue) > 0:
            return
        time.sleep(0.3)
    raise AssertionError("nothing consumed the queue:\n" + worker.text()[-5000:])


def wait_for_queue(url: str, queue: str, worker: Worker, timeout: float = 60) -> None:
    """Until the worker has declared its queue (it is consuming then)."""

    def declared() -> bool:
        assert worker.alive(), "the worker died:\n" + worker.text()[-5000:]
        return queue_depth(url, queue) is not None

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if declared():
            return
        time.sleep(0.3)
    raise AssertionError("the worker never declared its queue:\n" + worker.text()[-5000:])


def delete_queues(url: str, queue: str) -> None:
    with contextlib.suppress(Exception):
        conn, ch = channel(url)
        for name in (queue, f"{queue}.DQ", f"{queue}.XQ"):
            ch.queue_delete(queue=name)
        conn.close()


def publish(url: str, queue: str, actor: str, kwargs: dict[str, Any]) -> None:
    """The raw Dramatiq envelope through the default exchange, as a non-Python upstream sends it."""
    envelope = {
        "queue_name": queue,
        "actor_name": actor,
        "args": [],
        "kwargs": kwargs,
        "options": {},
        "message_id": str(uuid.uuid4()),
        "message_timestamp": int(time.time() * 1000),
    }
    conn, ch = channel(url)
    ch.basic_publish(
        exchange="",
        routing_key=queue,
        body=json.dumps(envelope).encode("utf-8"),
        properties=pika.BasicProperties(delivery_mode=2, content_type="application/json"),
    )
    conn.close()


def get_dead_letters(url: str, queue: str) -> list[dict[str, Any]]:
    """The envelopes in ``<queue>.XQ`` (read and put back: nacked with requeue)."""
    conn, ch = channel(url)
    found: list[dict[str, Any]] = []
    tags = []
    try:
        while True:
            method, _props, body = ch.basic_get(queue=f"{queue}.XQ", auto_ack=False)
            if method is None:
                break
            tags.append(method.delivery_tag)
            found.append(json.loads(body))
        for tag in tags:
            ch.basic_nack(delivery_tag=tag, requeue=True)
    finally:
        conn.close()
    return found


# --- job state ----------------------------------------------------------------------------
class JobWatch:
    """Reads ``job:<id>`` from a Redis that may be restarting under it."""

    def __init__(self, redis_url: str) -> None:
        self.url = redis_url
        self.client = redis.Redis.from_url(redis_url, decode_responses=True, socket_timeout=2, socket_connect_timeout=1)

    def state(self, job_id: str) -> dict[str, str]:
        try:
            return dict(self.client.hgetall(f"job:{job_id}"))  # type: ignore[arg-type]
        except redis.exceptions.RedisError:
            return {}

    def wait(self, job_id: str, timeout: float, workers: list[Worker] | None = None,
             until: Callable[[dict[str, str]], bool] | None = None) -> dict[str, str]:
        """Until the job is in a terminal phase (or ``until(state)``); the last state seen is in the error."""
        check = until or (lambda s: s.get("phase") in TERMINAL)
        deadline = time.monotonic() + timeout
        state: dict[str, str] = {}
        while time.monotonic() < deadline:
            state = self.state(job_id)
            if state and check(state):
                return state
            if until is not None and state.get("phase") in TERMINAL:
                raise AssertionError(f"job {job_id} ended {state['phase']} before the point the test waits for: "
                                     f"{state.get('error')!r}\nstate: {state}")
            time.sleep(0.05)
        logs = "\n".join(w.text()[-6000:] for w in workers or [])
        raise AssertionError(f"job {job_id} stuck: last state {state}\n{logs}")


# --- data -----------------------------------------------------------------------------------
def write_price_csv(path: Path, rows: int, *, bad_every: int = 0, price_of: Callable[[int], str] | None = None) -> tuple[int, int]:
    """A ``;``-separated price list with a title line and ``rows`` data rows.

    Every ``bad_every``-th row has the price "нет" (read as an error row, logged
    in ``parsing_logs``).  Returns ``(good_rows, bad_rows)``.
    """
    bad = 0
    with open(path, "w", encoding="utf-8", newline="") as f:
        out = csv.writer(f, delimiter=";")
        out.writerow(["Прайс-лист отказоустойчивости"])
        out.writerow(["Артикул", "Наименование", "Цена, руб", "Остаток"])
        for i in range(1, rows + 1):
            if bad_every and i % bad_every == 0:
                out.writerow([f"F-{i:07d}", f"Изделие {i} без цены", "нет", "1"])
                bad += 1
            else:
                price = price_of(i) if price_of else f"{i % 9973 + 1},{i % 100:02d}"
                out.writerow([f"F-{i:07d}", f"Изделие номер {i} серии {i % 97}", price, str(i % 13)])
    return rows - bad, bad


def db_counts(database_url: str, job_id: str, supplier_name: str) -> dict[str, int]:
    """What the database holds for a job: items of its supplier, price-history rows, row errors."""
    conn = psycopg2.connect(database_url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(
                "SELECT count(*), count(DISTINCT i.supplier_sku) FROM supplier_items i "
                "JOIN suppliers s ON s.id = i.supplier_id WHERE s.name = %s", (supplier_name,))
            items, distinct = cur.fetchone()
            cur.execute(
                "SELECT count(*), count(DISTINCT h.supplier_item_id) FROM price_history h "
                "JOIN supplier_items i ON i.id = h.supplier_item_id JOIN suppliers s ON s.id = i.supplier_id "
                "WHERE s.name = %s", (supplier_name,))
            history, history_items = cur.fetchone()
            cur.execute(
                "SELECT count(*), count(DISTINCT row_number) FROM parsing_logs "
                "WHERE job_id = %s AND level = 'error' AND row_number IS NOT NULL", (job_id,))
            row_errors, distinct_row_errors = cur.fetchone()
            cur.execute("SELECT count(*) FROM parsing_logs WHERE job_id = %s AND error_type = 'parse_summary'", (job_id,))
            summaries = cur.fetchone()[0]
    finally:
        conn.close()
    return {
        "items": int(items),
        "distinct_skus": int(distinct),
        "price_history": int(history),
        "price_history_items": int(history_items),
        "row_errors": int(row_errors),
        "distinct_row_errors": int(distinct_row_errors),
        "parse_summaries": int(summaries),
    }


def loss_and_duplicates(counts: Mapping[str, int], good: int, bad: int) -> tuple[int, int]:
    """``(rows lost, rows duplicated)`` of one job from :func:`db_counts`."""
    lost = max(0, good - counts["distinct_skus"]) + max(0, bad - counts["distinct_row_errors"])
    duplicated = (
        (counts["items"] - counts["distinct_skus"])
        + (counts["price_history"] - counts["price_history_items"])
        + (counts["row_errors"] - counts["distinct_row_errors"])
        + max(0, counts["distinct_skus"] - good)
    )
    return lost, duplicated


def summary_line(name: str, cycles: int, lost: int, duplicated: int, seconds: float, extra: str = "") -> str:
    line = f"faults[{name}]: {cycles} cycles, {lost} rows lost, {duplicated} duplicated, {seconds:.1f}s"
    return line + (f" ({extra})" if extra else "")
