"""Matching: product brand and per-currency minimum prices, review-queue details.

* ``products.brand`` — used by the matcher when both sides name one.
* ``products.min_prices`` — ``{"RUB": "10.50", "EUR": "3.20"}``: the lowest price
  per ISO 4217 currency over linked items (auto-matched or verified, with a
  price); ``products.min_price`` keeps the lowest price when every such item
  shares one currency, named by ``products.min_price_currency``.
* ``match_review_queue.best_score``, ``decided_by``, ``decided_product_id`` — what a
  manager sees and what was decided.
"""

from typing import Any

from yoyo import step

__depends__ = {"0001_initial"}


def _dialect(conn: Any) -> str:
    return "sqlite" if type(conn).__module__.startswith("sqlite3") else "postgresql"


def apply(conn: Any) -> None:
    json_type = "TEXT" if _dialect(conn) == "sqlite" else "JSONB"
    uuid_type = "TEXT" if _dialect(conn) == "sqlite" else "UUID"
    cursor = conn.cursor()
    for statement in (
        "ALTER TABLE products ADD COLUMN brand VARCHAR(255)",
        f"ALTER TABLE products ADD COLUMN min_prices {json_type}",
        "ALTER TABLE products ADD COLUMN min_price_currency CHAR(3)",
        "ALTER TABLE match_review_queue ADD COLUMN best_score REAL",
        "ALTER TABLE match_review_queue ADD COLUMN decided_by VARCHAR(255)",
        f"ALTER TABLE match_review_queue ADD COLUMN decided_product_id {uuid_type}",
        "CREATE INDEX match_review_queue_status_idx ON match_review_queue (status, expires_at)",
        "CREATE INDEX products_status_idx ON products (status)",
    ):
        cursor.execute(statement)


def rollback(conn: Any) -> None:
    cursor = conn.cursor()
    cursor.execute("DROP INDEX IF EXISTS match_review_queue_status_idx")
    cursor.execute("DROP INDEX IF EXISTS products_status_idx")
    for table, column in (
        ("products", "brand"),
        ("products", "min_prices"),
        ("products", "min_price_currency"),
        ("match_review_queue", "best_score"),
        ("match_review_queue", "decided_by"),
        ("match_review_queue", "decided_product_id"),
    ):
        cursor.execute(f"ALTER TABLE {table} DROP COLUMN {column}")


steps = [step(apply, rollback)]
