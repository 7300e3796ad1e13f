"""Initial schema: suppliers, categories, products, supplier items, price history,
parsing logs and the match review queue (DESIGN §4).

One migration for PostgreSQL and SQLite: the column types that differ are
chosen from the connection's driver.  Timestamps are UTC without a zone.
"""

from typing import Any

from yoyo import step

__depends__: set[str] = set()

TYPES = {
    "postgresql": {
        "uuid": "UUID",
        "json": "JSONB",
        "serial": "BIGSERIAL PRIMARY KEY",
        "bigint": "BIGINT",
        "bool": "BOOLEAN",
        "true": "TRUE",
    },
    "sqlite": {
        "uuid": "TEXT",
        "json": "TEXT",
        "serial": "INTEGER PRIMARY KEY AUTOINCREMENT",
        "bigint": "INTEGER",
        "bool": "BOOLEAN",
        "true": "1",
    },
}

SCHEMA = """
CREATE TABLE suppliers (
    id {uuid} PRIMARY KEY,
    name VARCHAR(255) NOT NULL,
    name_key VARCHAR(255) NOT NULL,
    source_type VARCHAR(32),
    source_url TEXT,
    meta {json} NOT NULL DEFAULT '{{}}',
    is_active {bool} NOT NULL DEFAULT {true},
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX suppliers_name_key_uniq ON suppliers (name_key);

CREATE TABLE categories (
    id {serial},
    name VARCHAR(255) NOT NULL,
    parent_id {bigint} REFERENCES categories (id)
);
CREATE UNIQUE INDEX categories_parent_name_uniq ON categories (parent_id, name);

CREATE TABLE products (
    id {uuid} PRIMARY KEY,
    internal_sku VARCHAR(64) NOT NULL,
    name TEXT NOT NULL,
    category_id {bigint} REFERENCES categories (id),
    status VARCHAR(16) NOT NULL DEFAULT 'draft',
    min_price NUMERIC(14, 2),
    availability {bool},
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX products_internal_sku_uniq ON products (internal_sku);

CREATE TABLE supplier_items (
    id {uuid} PRIMARY KEY,
    supplier_id {uuid} NOT NULL REFERENCES suppliers (id),
    supplier_sku VARCHAR(255) NOT NULL,
    sku_from_name {bool} NOT NULL DEFAULT FALSE,
    name TEXT NOT NULL,
    price NUMERIC(14, 2),
    currency CHAR(3),
    unit VARCHAR(32),
    stock NUMERIC(14, 3),
    available {bool},
    category_path TEXT,
    characteristics {json} NOT NULL DEFAULT '{{}}',
    product_id {uuid} REFERENCES products (id),
    match_status VARCHAR(20) NOT NULL DEFAULT 'unmatched',
    match_score REAL,
    match_candidates {json},
    last_seen_job_id VARCHAR(64),
    source_sha256 CHAR(64),
    source_sheet VARCHAR(255),
    source_row INTEGER,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX supplier_items_supplier_sku_uniq ON supplier_items (supplier_id, supplier_sku);
CREATE INDEX supplier_items_product_idx ON supplier_items (product_id);
CREATE INDEX supplier_items_match_status_idx ON supplier_items (supplier_id, match_status);

CREATE TABLE price_history (
    id {serial},
    supplier_item_id {uuid} NOT NULL REFERENCES supplier_items (id),
    price NUMERIC(14, 2) NOT NULL,
    currency CHAR(3),
    job_id VARCHAR(64),
    recorded_at TIMESTAMP NOT NULL
);
CREATE INDEX price_history_item_idx ON price_history (supplier_item_id, recorded_at);

CREATE TABLE parsing_logs (
    id {serial},
    job_id VARCHAR(64),
    supplier_id {uuid},
    level VARCHAR(10) NOT NULL,
    error_type VARCHAR(64) NOT NULL,
    message TEXT NOT NULL,
    sheet VARCHAR(255),
    row_number INTEGER,
    column_name VARCHAR(255),
    row_data {json},
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX parsing_logs_job_idx ON parsing_logs (job_id);
CREATE INDEX parsing_logs_supplier_idx ON parsing_logs (supplier_id, created_at);

CREATE TABLE match_review_queue (
    id {serial},
    supplier_item_id {uuid} NOT NULL REFERENCES supplier_items (id),
    candidate_products {json} NOT NULL,
    status VARCHAR(16) NOT NULL DEFAULT 'pending',
    expires_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX match_review_queue_item_uniq ON match_review_queue (supplier_item_id);
"""

TABLES = [
    "match_review_queue",
    "parsing_logs",
    "price_history",
    "supplier_items",
    "products",
    "categories",
    "suppliers",
]


def _dialect(conn: Any) -> str:
    return "sqlite" if type(conn).__module__.startswith("sqlite3") else "postgresql"


def apply(conn: Any) -> None:
    sql = SCHEMA.format(**TYPES[_dialect(conn)])
    cursor = conn.cursor()
    for statement in sql.split(";"):
        if statement.strip():
            cursor.execute(statement)


def rollback(conn: Any) -> None:
    cursor = conn.cursor()
    for table in TABLES:
        cursor.execute(f"DROP TABLE IF EXISTS {table}")


steps = [step(apply, rollback)]
