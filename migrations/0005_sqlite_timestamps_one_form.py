"""SQLite: every timestamp in one text form, ``YYYY-MM-DD HH:MM:SS[.ffffff]``.

A database created by an earlier version could hold timestamps in two forms
(``…T…`` from the migration tool's adapter, ``… …`` from the service), and
SQLite compares them as text, so ordering by time was wrong (the "previous
list" of a supplier, held-list expiry).  The ``T`` form is rewritten to the
space form.  PostgreSQL has real timestamp columns: nothing to do.
"""

from typing import Any

from yoyo import step

__depends__ = {"0004_history_without_fk_check"}


def apply(conn: Any) -> None:
    if not type(conn).__module__.startswith("sqlite3"):
        return
    cursor = conn.cursor()
    tables = [row[0] for row in cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
              if not row[0].startswith(("_yoyo", "yoyo", "sqlite_"))]
    for table in tables:
        columns = cursor.execute(f'PRAGMA table_info("{table}")').fetchall()
        for column in columns:
            name, declared = column[1], str(column[2]).upper()
            if "TIMESTAMP" in declared or "DATETIME" in declared:
                cursor.execute(
                    f'UPDATE "{table}" SET "{name}" = substr("{name}", 1, 10) || \' \' || substr("{name}", 12) '
                    f'WHERE "{name}" LIKE \'____-__-__T%\''
                )


def rollback(conn: Any) -> None:
    """Nothing to undo: both forms are valid timestamps."""


steps = [step(apply, rollback)]
