"""Know each supplier's lists: runs with their diff, staged rows, item content hashes.

* ``supplier_items.content_hash`` — hash of the values a list sets (name, price,
  currency, unit, stock, availability, category, characteristics): an identical
  row is not written again.  ``delisted_job_id`` — the run whose list no longer
  had the SKU (the item is kept, marked unavailable).  ``source_page`` — the PDF
  page of the row.
* ``ingestion_runs`` — one row per parsed list: counts, the diff against the
  supplier's previous published list, guard-rail reasons, and whether it was
  published, held, released, rejected or expired.
* ``staged_items`` — the new and changed rows of a run and the SKUs it no longer
  lists (``change``: ``new``, ``price`` (price or currency moved), ``other``,
  ``gone``), kept until the run is published (at once, or when a held run is
  released) or dropped.
* ``supplier_layouts`` — the layout of the supplier's last good list and its
  header signature.
"""

from typing import Any

from yoyo import step

__depends__ = {"0002_matching"}


def _dialect(conn: Any) -> str:
    return "sqlite" if type(conn).__module__.startswith("sqlite3") else "postgresql"


def apply(conn: Any) -> None:
    pg = _dialect(conn) == "postgresql"
    json_type = "JSONB" if pg else "TEXT"
    uuid_type = "UUID" if pg else "TEXT"
    cursor = conn.cursor()
    for statement in (
        "ALTER TABLE supplier_items ADD COLUMN content_hash CHAR(32)",
        "ALTER TABLE supplier_items ADD COLUMN delisted_job_id VARCHAR(64)",
        "ALTER TABLE supplier_items ADD COLUMN source_page INTEGER",
        "ALTER TABLE parsing_logs ADD COLUMN source_sha256 CHAR(64)",
        "ALTER TABLE parsing_logs ADD COLUMN page INTEGER",
        f"""CREATE TABLE ingestion_runs (
            job_id VARCHAR(64) PRIMARY KEY,
            supplier_id {uuid_type} NOT NULL REFERENCES suppliers (id),
            status VARCHAR(16) NOT NULL,
            source_sha256 CHAR(64),
            file_type VARCHAR(16),
            rows_read INTEGER NOT NULL DEFAULT 0,
            items INTEGER NOT NULL DEFAULT 0,
            rows_failed INTEGER NOT NULL DEFAULT 0,
            previous_job_id VARCHAR(64),
            diff {json_type},
            held_reasons {json_type},
            decided_by VARCHAR(255),
            created_at TIMESTAMP NOT NULL,
            finished_at TIMESTAMP
        )""",
        "CREATE INDEX ingestion_runs_supplier_idx ON ingestion_runs (supplier_id, created_at)",
        f"""CREATE TABLE staged_items (
            job_id VARCHAR(64) NOT NULL,
            item_id {uuid_type} NOT NULL,
            supplier_id {uuid_type} NOT NULL,
            supplier_sku VARCHAR(255) NOT NULL,
            sku_from_name BOOLEAN NOT NULL DEFAULT FALSE,
            name TEXT NOT NULL,
            price NUMERIC(14, 2),
            currency CHAR(3),
            unit VARCHAR(32),
            stock NUMERIC(14, 3),
            available BOOLEAN,
            category_path TEXT,
            characteristics {json_type} NOT NULL DEFAULT '{{}}',
            content_hash CHAR(32) NOT NULL,
            change VARCHAR(8) NOT NULL,
            source_sha256 CHAR(64),
            source_sheet VARCHAR(255),
            source_row INTEGER,
            source_page INTEGER,
            PRIMARY KEY (job_id, supplier_sku)
        )""",
        f"""CREATE TABLE supplier_layouts (
            supplier_id {uuid_type} PRIMARY KEY REFERENCES suppliers (id),
            signature CHAR(40) NOT NULL,
            layout {json_type} NOT NULL,
            job_id VARCHAR(64),
            updated_at TIMESTAMP NOT NULL
        )""",
    ):
        cursor.execute(statement)


def rollback(conn: Any) -> None:
    cursor = conn.cursor()
    for table in ("supplier_layouts", "staged_items", "ingestion_runs"):
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
    for column in ("content_hash", "delisted_job_id", "source_page"):
        cursor.execute(f"ALTER TABLE supplier_items DROP COLUMN {column}")
    for column in ("source_sha256", "page"):
        cursor.execute(f"ALTER TABLE parsing_logs DROP COLUMN {column}")


steps = [step(apply, rollback)]
