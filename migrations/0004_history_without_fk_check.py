"""Price history written in bulk: no per-row foreign-key check on PostgreSQL.

``price_history`` is an append-only log of ``supplier_items``, whose rows are
never deleted (a SKU a list no longer has is delisted, not removed), so a
history row cannot lose its item.  The foreign key's check ran once per
history row and cost as much as writing the row itself (measured with
``bench/storage.py``: about 1 s per 100,000 rows on the 2-core test machine),
so the constraint goes and the index on ``supplier_item_id`` stays.  SQLite
(the embedded mode) keeps its table as it is: it cannot drop a constraint and
its lists are small.
"""

from typing import Any

from yoyo import step

__depends__ = {"0003_runs_diff_staging"}


def _postgresql(conn: Any) -> bool:
    return not type(conn).__module__.startswith("sqlite3")


def apply(conn: Any) -> None:
    if _postgresql(conn):
        conn.cursor().execute("ALTER TABLE price_history DROP CONSTRAINT IF EXISTS price_history_supplier_item_id_fkey")


def rollback(conn: Any) -> None:
    if _postgresql(conn):
        conn.cursor().execute(
            "ALTER TABLE price_history ADD CONSTRAINT price_history_supplier_item_id_fkey "
            "FOREIGN KEY (supplier_item_id) REFERENCES supplier_items (id)"
        )


steps = [step(apply, rollback)]
