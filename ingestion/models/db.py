"""The database handle: one Peewee proxy bound to ``DATABASE_URL`` and the
migration runner (yoyo) that builds the schema the models describe.

PostgreSQL in production, SQLite for the embedded local mode; the same models
and migrations serve both.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import sys
from pathlib import Path
from typing import Any

import peewee
from playhouse.db_url import connect
from playhouse.shortcuts import ReconnectMixin

database = peewee.DatabaseProxy()


class ReconnectingPostgresqlDatabase(ReconnectMixin, peewee.PostgresqlDatabase):  # type: ignore[misc]
    """PostgreSQL that reconnects when the server dropped the connection (a restart, a failover).

    Outside a transaction a statement that meets a dead connection is run again
    on a new one; inside one the error is raised (the transaction is lost) and
    the next transaction starts on a new connection.
    """

    reconnect_errors = (
        (peewee.OperationalError, "server closed the connection"),
        (peewee.OperationalError, "terminating connection"),
        (peewee.OperationalError, "connection already closed"),
        (peewee.OperationalError, "connection not open"),
        (peewee.OperationalError, "could not receive data"),
        (peewee.OperationalError, "ssl connection has been closed"),
        (peewee.InterfaceError, "connection already closed"),
        (peewee.InterfaceError, "cursor already closed"),
    )


class JSONField(peewee.Field):
    """JSON stored as ``JSONB`` on PostgreSQL and ``TEXT`` on SQLite.

    Values go in as any JSON-able Python value and come out the same; decimals
    are written as strings so no money is rounded through ``float``.
    """

    field_type = "JSON"

    def db_value(self, value: Any) -> str | None:
        if value is None:
            return None
        return json.dumps(value, ensure_ascii=False, default=str)

    def python_value(self, value: Any) -> Any:
        if value is None or not isinstance(value, (str, bytes)):
            return value
        return json.loads(value)


def _sqlite_datetime(value: dt.datetime) -> str:
    return value.isoformat(" ")


def use_sqlite_datetime_text() -> None:
    """Make sqlite3 write datetimes as ``YYYY-MM-DD HH:MM:SS[.ffffff]`` (what Peewee reads and sorts).

    yoyo registers a process-wide adapter writing ``…T…`` when it opens a
    SQLite database; mixed with the space form, text order is no longer time
    order (``'T' > ' '``), which broke "the supplier's last list" in the
    embedded mode.  Called after migrations and whenever SQLite is opened.
    """
    sqlite3.register_adapter(dt.datetime, _sqlite_datetime)


def open_database(url: str) -> peewee.Database:
    """Open (lazily) the database at ``url`` and bind the models' proxy to it.

    ``url`` is ``sqlite:///relative/path.db``, ``sqlite:////abs/path.db`` or
    ``postgresql://user@host:port/db``.  SQLite gets WAL and a busy timeout
    so the worker threads of the local mode can share it.
    """
    if url.startswith("sqlite"):
        use_sqlite_datetime_text()
        db: peewee.Database = connect(
            url,
            pragmas={"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 30000},
            check_same_thread=False,
        )
    else:
        parsed = connect(url)  # parse only; the real handle reconnects
        db = ReconnectingPostgresqlDatabase(parsed.database, **parsed.connect_params)
    database.initialize(db)
    return db


def drop_dead_connection() -> None:
    """Close this thread's connection when it is no longer usable, so the next use opens a new one."""
    db = database.obj
    if db is None or db.is_closed():
        return
    try:
        usable = db.is_connection_usable()
    except Exception:
        usable = False
    if not usable:
        try:
            db.close()
        except Exception:  # closing a dead connection may fail too; forget it either way
            db._state.reset()


def migrations_dir() -> Path:
    """Where the yoyo migrations are: ``MIGRATIONS_DIR``, the source tree, or the installed share folder."""
    env = os.environ.get("MIGRATIONS_DIR")
    candidates = [Path(env)] if env else []
    candidates += [
        Path(__file__).resolve().parents[2] / "migrations",
        Path(sys.prefix) / "share" / "ingestion" / "migrations",
    ]
    for path in candidates:
        if path.is_dir():
            return path
    raise FileNotFoundError("migrations folder not found; set MIGRATIONS_DIR")


def yoyo_url(url: str) -> str:
    """The yoyo form of a database URL (yoyo wants ``postgresql://``)."""
    if url.startswith("postgres://"):
        return "postgresql://" + url[len("postgres://") :]
    return url


def apply_migrations(url: str) -> list[str]:
    """Apply every pending migration to ``url``; returns the ids applied (may be empty)."""
    from yoyo import get_backend, read_migrations

    backend = get_backend(yoyo_url(url))
    migrations = read_migrations(str(migrations_dir()))
    with backend.lock():
        pending = backend.to_apply(migrations)
        backend.apply_migrations(pending)
    use_sqlite_datetime_text()
    return [m.id for m in pending]
