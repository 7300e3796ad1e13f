"""Shared fixtures: isolated settings, real databases, a local HTTP server, a stub worker.

Unit tests run on the in-process ``StubBroker`` (no ``RABBITMQ_URL``); the
environment is cleaned before anything of ``ingestion`` is imported.
Integration tests use the machine's PostgreSQL (127.0.0.1:5432, database
``test`` to create scratch databases), Redis and RabbitMQ.
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
import uuid
from pathlib import Path
from typing import Iterator

for _var in ("RABBITMQ_URL", "REDIS_URL", "DATABASE_URL", "UPLOADS_DIR", "INGESTION_QUEUE"):
    os.environ.pop(_var, None)
os.environ["DOWNLOAD_MAX_RETRIES"] = "1"

import psycopg2  # noqa: E402
import pytest  # noqa: E402

from ingestion.settings import Settings, set_settings  # noqa: E402

PG_ADMIN_DSN = os.environ.get("TEST_PG_ADMIN_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=test")
PG_URL_TEMPLATE = os.environ.get("TEST_PG_URL_TEMPLATE", "postgresql://postgres@127.0.0.1:5432/{name}")
REDIS_TEST_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
RABBITMQ_TEST_URL = os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")


def _admin(sql: str) -> None:
    conn = psycopg2.connect(PG_ADMIN_DSN)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for one test; dropped afterwards."""
    from ingestion.models import apply_migrations

    name = f"ingestion_test_{uuid.uuid4().hex[:10]}"
    _admin(f'CREATE DATABASE "{name}"')
    url = PG_URL_TEMPLATE.format(name=name)
    try:
        apply_migrations(url)
        yield url
    finally:
        from ingestion.models import database

        if database.obj is not None and not database.is_closed():
            database.close()
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh, migrated SQLite database file for one test."""
    from ingestion.models import apply_migrations

    url = f"sqlite:///{tmp_path / 'ingestion.db'}"
    apply_migrations(url)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test that takes this runs on SQLite and on PostgreSQL."""
    name = "sqlite_url" if request.param == "sqlite" else "pg_url"
    return str(request.getfixturevalue(name))


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Iterator[Settings]:
    """Local-mode settings on a fresh database, uploads in a temporary folder."""
    from ingestion.models import open_database
    from ingestion.pipeline import reset_runtime

    s = Settings(database_url=db_url, uploads_dir=str(tmp_path / "uploads"), download_max_retries=1,
                 use_ml_processing=False, download_allowed_hosts=("127.0.0.1",),
                 download_allowed_roots=(str(tmp_path),))
    set_settings(s)
    reset_runtime()
    open_database(db_url)
    yield s
    set_settings(None)
    reset_runtime()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def http_dir(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``(base_url, folder)``: a local HTTP server on 127.0.0.1 serving ``folder``."""
    folder = tmp_path / "www"
    folder.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", folder
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def stub_worker(settings: Settings) -> Iterator[object]:
    """A Dramatiq worker on the in-process StubBroker, with the actors loaded."""
    import dramatiq

    from ingestion import actors

    actors.broker.flush_all()
    worker = dramatiq.Worker(actors.broker, worker_timeout=50, worker_threads=2)
    worker.start()
    yield actors
    worker.stop()
    actors.broker.flush_all()
