"""Storage speed: our batched upsert of supplier items next to PostgreSQL COPY of the same rows.

Run: .venv/bin/python bench/storage.py [--rows 100000] [--repeat 3] [--admin-dsn "host=127.0.0.1 user=postgres dbname=test"]

Makes a scratch database, stores N generated items with ItemWriter (the path
parse_task uses: row checks, dedupe, content hashes against the current list,
the diff, then the direct publish: COPY of new items into supplier_items and of
their price history), then the same list again (an identical re-send: nothing
to write), then with 10% of the prices changed (the weekly re-send).  In the
same run it COPYs the same rows into a table shaped like supplier_items (its
keys, indexes and foreign key: the physical limit for these rows in this
schema) and into a bare table of the same columns (no index, no constraint:
the raw write speed).  Prints rows/s of each and the ratios; the scratch
database is dropped at the end.

The machine is shared (2 cores, other workers), so one measurement can be off
by a factor of three: ``--repeat N`` runs the whole sequence N times (the
supplier's items and history emptied before each) and reports the best time of
each measure, and the range of the first-ingestion ratio over the repeats
(each ratio from the same repeat, so both sides met the same load).
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


def copy_limit(dsn: str, rows: list[Item], target: str) -> float:
    """Seconds to COPY ``rows`` into a new table made by ``target`` (DDL with ``{t}`` for its name)."""
    buf = io.StringIO()
    for it in rows:
        buf.write(f"{uuid.uuid4()}\t{SUPPLIER}\t{it.sku}\t{it.name}\t{it.price}\tRUB\tшт\t{it.stock}\t"
                  f"Кабель / Группа\t{{}}\t2026-01-01\t2026-01-01\n")
    name = f"copy_{uuid.uuid4().hex[:8]}"
    conn = psycopg2.connect(dsn)
    with conn, conn.cursor() as cur:
        cur.execute(target.format(t=name))
        buf.seek(0)
        start = time.perf_counter()
        cur.copy_expert(
            f"COPY {name} (id, supplier_id, supplier_sku, name, price, currency, unit, stock, category_path, "
            "characteristics, created_at, updated_at) FROM STDIN",
            buf,
        )
        elapsed = time.perf_counter() - start
        cur.execute(f"DROP TABLE {name}")
    conn.close()
    return elapsed


#: A bare table of supplier_items' columns: no index, no constraint (the raw write speed).
BARE = "CREATE TABLE {t} (LIKE supplier_items INCLUDING DEFAULTS)"
#: The same shape as supplier_items: its primary key, unique key, indexes and the foreign key to suppliers.
SAME = ("CREATE TABLE {t} (LIKE supplier_items INCLUDING ALL); "
        "ALTER TABLE {t} ADD FOREIGN KEY (supplier_id) REFERENCES suppliers (id)")
SUPPLIER = uuid.UUID(int=0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3, help="runs of the whole sequence; the best time of each counts")
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
        global SUPPLIER
        SUPPLIER = supplier.id
        first = items(a.rows)
        dsn = f"host=127.0.0.1 port=5432 user=postgres dbname={name}"
        runs: list[tuple[float, float, float, float, float]] = []
        for r in range(max(1, a.repeat)):
            database.execute_sql("TRUNCATE price_history, match_review_queue, supplier_items")
            t_first = store(supplier.id, first, f"bench-1-{r}")
            t_same = store(supplier.id, items(a.rows), f"bench-same-{r}")
            t_again = store(supplier.id, items(a.rows, bump=True), f"bench-2-{r}")
            t_bare = copy_limit(dsn, first, BARE)
            t_same_shape = copy_limit(dsn, first, SAME)
            runs.append((t_first, t_same, t_again, t_bare, t_same_shape))
        database.close()
        ratios = sorted(run[4] / run[0] for run in runs)
        t_first, t_same, t_again, t_bare, t_same_shape = (min(run[i] for run in runs) for i in range(5))
        n = a.rows
        print(f"storage: {n} rows | first ingestion {n / t_first:,.0f} rows/s ({t_first:.1f} s) | identical re-send "
              f"{n / t_same:,.0f} rows/s ({t_same:.1f} s, {t_first / t_same:.1f}x faster) | re-send with 10% price "
              f"changes {n / t_again:,.0f} rows/s ({t_again:.1f} s) | COPY into a table shaped like supplier_items "
              f"{n / t_same_shape:,.0f} rows/s ({t_same_shape:.1f} s), into a bare table {n / t_bare:,.0f} rows/s "
              f"({t_bare:.1f} s) | ours/COPY (first ingestion, same-shaped table) = {t_same_shape / t_first:.2f}, "
              f"re-send with changes = {t_same_shape / t_again:.2f}; against the bare table {t_bare / t_first:.2f} | "
              f"best of {len(runs)}; first-ingestion ratio per run {ratios[0]:.2f}–{ratios[-1]:.2f}")
    finally:
        if database.obj is not None and not database.is_closed():
            database.close()
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


if __name__ == "__main__":
    main()
