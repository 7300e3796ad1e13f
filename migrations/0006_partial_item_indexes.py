"""Index only the supplier items a query looks for: unmatched ones, and linked ones by product.

Every query of ``supplier_items`` by ``match_status`` or ``product_id``
(``ingestion/linking.py``, the only module that asks) is one of:

* the supplier's *unmatched* items — ``supplier_id = ? AND match_status =
  'unmatched'``, counted and taken in batches ``ORDER BY id LIMIT n`` (``FOR
  UPDATE SKIP LOCKED``): served by ``supplier_items_unmatched_idx`` on
  ``(supplier_id, id)`` over unmatched rows only, which also gives the batches
  in id order without a sort;
* the items linked to some products — ``product_id = ANY(…)`` /
  ``product_id IN (…)`` (a comparison implies ``product_id IS NOT NULL``, so
  both PostgreSQL and SQLite use the partial index): served by
  ``supplier_items_product_idx`` over rows with a product;
* ``supplier_id = ? AND product_id IS NOT NULL`` and ``id IN (…) AND
  match_status = …``: served by the ``(supplier_id, supplier_sku)`` key and
  the primary key, as before.

The full ``(supplier_id, match_status)`` and ``(product_id)`` indexes held an
entry for every item — a new item has no product, and matched items stay
matched — so every row a list adds cost two index insertions that no query
needed.  Partial indexes work the same on PostgreSQL and SQLite.
"""

from typing import Any

from yoyo import step

__depends__ = {"0005_sqlite_timestamps_one_form"}

APPLY = (
    "DROP INDEX IF EXISTS supplier_items_match_status_idx",
    "CREATE INDEX supplier_items_unmatched_idx ON supplier_items (supplier_id, id) WHERE match_status = 'unmatched'",
    "DROP INDEX IF EXISTS supplier_items_product_idx",
    "CREATE INDEX supplier_items_product_idx ON supplier_items (product_id) WHERE product_id IS NOT NULL",
)

ROLLBACK = (
    "DROP INDEX IF EXISTS supplier_items_unmatched_idx",
    "CREATE INDEX supplier_items_match_status_idx ON supplier_items (supplier_id, match_status)",
    "DROP INDEX IF EXISTS supplier_items_product_idx",
    "CREATE INDEX supplier_items_product_idx ON supplier_items (product_id)",
)


def apply(conn: Any) -> None:
    cursor = conn.cursor()
    for statement in APPLY:
        cursor.execute(statement)


def rollback(conn: Any) -> None:
    cursor = conn.cursor()
    for statement in ROLLBACK:
        cursor.execute(statement)


steps = [step(apply, rollback)]
