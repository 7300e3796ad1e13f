"""Storage speed: our batched upsert of supplier items next to PostgreSQL COPY of the same rows.

Run: .venv/bin/python bench/storage.py [--rows 100000] [--admin-dsn "host=127.0.0.1 user=postgres dbname=test"]

Makes a scratch database, stores N generated items with ItemWriter and
publish (the path parse_task uses: checks, dedupe, content hashes against the
current list, staging, set-based publish with price history), then the same
list again (an identical re-send: nothing to write), then with 10% of the
prices changed (the weekly re-send), and COPYs the same rows into a bare copy
of the table (the physical limit on this machine).  Prints
rows/s of each and the ratios; the scratch database is dropped at the end.
"""

from __future__ import annotations

import argparse
import io
import time
import uuid
from decimal import Decimal

import psycopg2

from ingestion.models import apply_migrations, database, open_database
from ingestion.reading.model import Item
from ingestion.store import ItemWriter, publish, get_or_create_supplier


def items(n: int, bump: bool = False) -> list[Item]:
    out = []
    for i in range(n):
        price = Decimal(1000 + i % 5000) / 100
        if bump and i % 10 == 0:
            price += 1
        out.append(Item(row=i + 2, sku=f"SKU-{i:07d}", name=f"Товар номер {i} кабель ВВГнг 3х{1 + i % 7},5",
                        price=price, currency="RUB", unit="шт", stock=Decimal(i % 40), sheet="Прайс",
                        category_path=("Кабель", f"Группа {i % 50}"), raw={"Артикул": f"SKU-{i:07d}"}))
    return out


def store(supplier_id: uuid.UUID, rows: list[Item], job: str) -> float:
    start = time.perf_counter()
    writer = ItemWriter(supplier_id, job, "ab" * 32, batch_size=1000)
    for item in rows:
        writer.add(item)
    publish(writer)
    return time.perf_counter() - start


def copy_limit(dsn: str, rows: list[Item]) -> float:
    buf = io.StringIO()
    sid = uuid.uuid4()
    for it in rows:
        buf.write(f"{uuid.uuid4()}\t{sid}\t{it.sku}\t{it.name}\t{it.price}\tRUB\tшт\t{it.stock}\t"
                  f"Кабель / Группа\t{{}}\t2026-01-01\t2026-01-01\n")
    conn = psycopg2.connect(dsn)
    with conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE copy_target (LIKE supplier_items INCLUDING DEFAULTS)")
        buf.seek(0)
        start = time.perf_counter()
        cur.copy_expert(
            "COPY copy_target (id, supplier_id, supplier_sku, name, price, currency, unit, stock, category_path, "
            "characteristics, created_at, updated_at) FROM STDIN",
            buf,
        )
        elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--admin-dsn", default="host=127.0.0.1 port=5432 user=postgres dbname=test")
    a = ap.parse_args()
    name = f"bench_storage_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(a.admin_dsn)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    try:
        apply_migrations(url)
        open_database(url)
        supplier, _ = get_or_create_supplier("Bench")
        first = items(a.rows)
        t_first = store(supplier.id, first, "bench-1")
        t_same = store(supplier.id, items(a.rows), "bench-same")
        t_again = store(supplier.id, items(a.rows, bump=True), "bench-2")
        t_copy = copy_limit(f"host=127.0.0.1 port=5432 user=postgres dbname={name}", first)
        database.close()
        n = a.rows
        print(f"storage: {n} rows | first ingestion {n / t_first:,.0f} rows/s ({t_first:.1f} s) | identical re-send "
              f"{n / t_same:,.0f} rows/s ({t_same:.1f} s, {t_first / t_same:.1f}x faster) | re-send with 10% price "
              f"changes {n / t_again:,.0f} rows/s | plain COPY {n / t_copy:,.0f} rows/s | "
              f"ours/COPY = {t_copy / t_first:.2f} (first)")
    finally:
        if database.obj is not None and not database.is_closed():
            database.close()
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


if __name__ == "__main__":
    main()
