"""Write what a file gave into the database: supplier items, price history, parsing logs.

Items are upserted in batches by ``(supplier_id, supplier_sku)``; a re-ingested
item keeps its id, its product link and its match status (a re-ingestion
never unlinks a match).  A ``price_history`` row is written when an item is new
or its price or currency changed.  A row the database refuses (a value out of
range) is isolated from its batch, logged and skipped; the rest of the batch
is stored.

Keys: the item's SKU; when the file has no SKU the key is the item's name
(whitespace-collapsed, case-folded) and ``sku_from_name`` is set.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import uuid
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Iterable

import attrs
import peewee
import psycopg2

from ingestion.errors import Level, Problem
from ingestion.models import ParsingLog, PriceHistory, Supplier, SupplierItem, database, utcnow
from ingestion.reading.model import Item

CENT = Decimal("0.01")
STOCK_STEP = Decimal("0.001")
MAX_PRICE = Decimal("999999999999.99")  # NUMERIC(14, 2)
MAX_STOCK = Decimal("99999999999.999")  # NUMERIC(14, 3)
MAX_KEY_LENGTH = 255
UPDATED_ON_CONFLICT = (
    SupplierItem.name,
    SupplierItem.sku_from_name,
    SupplierItem.price,
    SupplierItem.currency,
    SupplierItem.unit,
    SupplierItem.stock,
    SupplierItem.available,
    SupplierItem.category_path,
    SupplierItem.characteristics,
    SupplierItem.last_seen_job_id,
    SupplierItem.source_sha256,
    SupplierItem.source_sheet,
    SupplierItem.source_row,
    SupplierItem.updated_at,
)


def item_key(item: Item) -> tuple[str, bool]:
    """``(supplier_sku, derived_from_name)`` for an item.

    A name longer than 255 characters is cut and given a hash suffix so two
    long names that share a beginning stay apart.
    """
    if item.sku:
        return item.sku, False
    key = " ".join(item.name.split()).casefold()
    if len(key) > MAX_KEY_LENGTH:
        digest = hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]
        key = key[: MAX_KEY_LENGTH - 17] + "#" + digest
    return key, True


@attrs.define
class StoreStats:
    """Counts for one job: rows stored, of which new and changed; rows failed by the store."""

    stored: int = 0
    new: int = 0
    price_changed: int = 0
    duplicates: int = 0
    failed: int = 0


def _row_problem(
    item: Item, type_: str, message: str, column: str | None = None, level: Level = "error"
) -> Problem:
    return Problem(
        type=type_, message=message, level=level, sheet=item.sheet, row=item.row, column=column, row_data=item.raw,
        page=item.page,
    )


class ItemWriter:
    """Buffers items and problems of one job and writes them in batches.

    Use :meth:`add` per item, :meth:`log` per problem, then :meth:`close`.
    Problems found while storing (duplicates, values out of range) are logged
    like reading problems and also returned by :meth:`add`/:meth:`flush` via
    :attr:`problems_found` so the caller can count them.
    """

    def __init__(self, supplier_id: uuid.UUID | str, job_id: str, sha256: str | None, batch_size: int = 1000) -> None:
        self.supplier_id = uuid.UUID(str(supplier_id))
        self.job_id = job_id
        self.sha256 = sha256
        self.batch_size = batch_size
        self.stats = StoreStats()
        self.problems_found: list[Problem] = []
        self._items: dict[str, tuple[Item, bool]] = {}
        self._seen: dict[str, int] = {}
        self._logs: list[Problem] = []

    # --- public -------------------------------------------------------------------
    def add(self, item: Item) -> None:
        """Queue ``item``; a batch is written when ``batch_size`` items are queued."""
        checked = self._check(item)
        if checked is None:
            return
        key, from_name = item_key(checked)
        earlier = self._seen.get(key)
        if earlier is not None:
            self.stats.duplicates += 1
            where = f"row {earlier}" + (f" of sheet {checked.sheet!r}" if checked.sheet else "")
            self._found(
                Problem(
                    type="duplicate_sku",
                    level="warning",
                    message=f"{'name' if from_name else 'SKU'} {key!r} already given at {where}; this row's values win",
                    sheet=checked.sheet,
                    row=checked.row,
                    column="sku" if not from_name else "name",
                    row_data=checked.raw,
                )
            )
        self._seen[key] = checked.row
        self._items[key] = (checked, from_name)
        if len(self._items) >= self.batch_size:
            self._write_items()

    def log(self, problem: Problem) -> None:
        """Queue a problem for ``parsing_logs``."""
        self._logs.append(problem)
        if len(self._logs) >= self.batch_size:
            self._write_logs()

    def flush(self) -> None:
        """Write everything queued."""
        if self._items:
            self._write_items()
        if self._logs:
            self._write_logs()

    # --- checks -------------------------------------------------------------------
    def _found(self, problem: Problem) -> None:
        self.problems_found.append(problem)
        self.log(problem)

    def _check(self, item: Item) -> Item | None:
        """The item with values the schema can hold, or ``None`` (logged) when it cannot be stored.

        A price that is not a finite number, is negative or does not fit
        ``NUMERIC(14, 2)`` fails the row; a price with more than two decimals is
        rounded half up with a warning; a stock that does not fit is dropped with
        a warning; a unit longer than 32 characters is cut with a warning.
        """
        if item.sku and len(item.sku) > MAX_KEY_LENGTH:
            self._fail(_row_problem(item, "sku_too_long", f"SKU longer than {MAX_KEY_LENGTH} characters", "sku"))
            return None
        price = item.price
        if price is not None:
            if not price.is_finite() or abs(price) > MAX_PRICE:
                self._fail(_row_problem(item, "price_out_of_range", f"price {item.price} cannot be stored", "price"))
                return None
            if price < 0:
                self._fail(_row_problem(item, "negative_price", f"price {item.price} is negative", "price"))
                return None
            price = price.quantize(CENT, rounding=ROUND_HALF_UP)
            if price != item.price:
                self._found(_row_problem(item, "price_rounded", f"price {item.price} rounded to {price} (two decimals are kept)",
                                         "price", level="warning"))
        stock = item.stock
        if stock is not None:
            if not stock.is_finite() or abs(stock) > MAX_STOCK:
                self._found(_row_problem(item, "stock_out_of_range", f"stock {item.stock} cannot be stored; left empty",
                                         "stock", level="warning"))
                stock = None
            else:
                stock = stock.quantize(STOCK_STEP, rounding=ROUND_HALF_UP)
        currency = item.currency if item.currency and len(item.currency) == 3 else None
        unit = item.unit
        if unit and len(unit) > 32:
            self._found(_row_problem(item, "unit_too_long", f"unit {unit[:40]!r}… cut to 32 characters", "unit",
                                     level="warning"))
            unit = unit[:32]
        sheet = item.sheet[:255] if item.sheet else None
        return attrs.evolve(item, price=price, stock=stock, currency=currency, unit=unit or None, sheet=sheet)

    def _fail(self, problem: Problem) -> None:
        self.stats.failed += 1
        self._found(problem)

    # --- writing ------------------------------------------------------------------
    def _row(self, item: Item, key: str, from_name: bool, now: Any) -> dict[str, Any]:
        characteristics: dict[str, Any] = {}
        if item.prices:
            characteristics["prices"] = {k: str(v) for k, v in item.prices.items()}
        if item.brand:
            characteristics["brand"] = item.brand
        if item.description:
            characteristics["description"] = item.description
        if item.page is not None:
            characteristics["page"] = item.page
        return {
            "id": uuid.uuid4(),
            "supplier": self.supplier_id,
            "supplier_sku": key,
            "sku_from_name": from_name,
            "name": item.name,
            "price": item.price,
            "currency": item.currency,
            "unit": item.unit,
            "stock": item.stock,
            "available": item.available,
            "category_path": " / ".join(item.category_path) or None,
            "characteristics": characteristics,
            "last_seen_job_id": self.job_id,
            "source_sha256": self.sha256,
            "source_sheet": item.sheet,
            "source_row": item.row,
            "created_at": now,
            "updated_at": now,
        }

    def _write_items(self) -> None:
        batch, self._items = self._items, {}
        now = utcnow()
        rows = {key: self._row(item, key, from_name, now) for key, (item, from_name) in batch.items()}
        if isinstance(database.obj, peewee.PostgresqlDatabase):
            try:
                with database.atomic():
                    new, changed = _copy_upsert(rows.values(), self.job_id, now)
                self.stats.new += new
                self.stats.price_changed += changed
                self.stats.stored += len(rows)
                return
            except (peewee.DataError, peewee.IntegrityError, psycopg2.DataError, psycopg2.IntegrityError):
                pass  # a value the database refuses: find it row by row below
        with database.atomic():
            existing = {
                r.supplier_sku: r
                for r in SupplierItem.select(SupplierItem.id, SupplierItem.supplier_sku, SupplierItem.price, SupplierItem.currency)
                .where((SupplierItem.supplier == self.supplier_id) & (SupplierItem.supplier_sku.in_(list(rows))))
            }
            try:
                with database.atomic():
                    self._upsert(rows.values())
                stored = rows
            except (peewee.DataError, peewee.IntegrityError, psycopg2.DataError, psycopg2.IntegrityError):
                stored = self._upsert_one_by_one(rows, batch)
            history = []
            for key, row in stored.items():
                old = existing.get(key)
                if old is None:
                    self.stats.new += 1
                    item_id = row["id"]
                elif _money(old.price) != row["price"] or (old.currency or None) != row["currency"]:
                    self.stats.price_changed += 1
                    item_id = old.id
                else:
                    continue
                if row["price"] is not None:
                    history.append(
                        {
                            "supplier_item": item_id,
                            "price": row["price"],
                            "currency": row["currency"],
                            "job_id": self.job_id,
                            "recorded_at": now,
                        }
                    )
            if history:
                PriceHistory.insert_many(history).execute()
            self.stats.stored += len(stored)

    def _upsert(self, rows: Iterable[dict[str, Any]]) -> None:
        (
            SupplierItem.insert_many(list(rows))
            .on_conflict(
                conflict_target=[SupplierItem.supplier, SupplierItem.supplier_sku],
                preserve=list(UPDATED_ON_CONFLICT),
            )
            .execute()
        )

    def _upsert_one_by_one(
        self, rows: dict[str, dict[str, Any]], batch: dict[str, tuple[Item, bool]]
    ) -> dict[str, dict[str, Any]]:
        stored = {}
        for key, row in rows.items():
            try:
                with database.atomic():
                    self._upsert([row])
                stored[key] = row
            except (peewee.DataError, peewee.IntegrityError) as exc:
                item = batch[key][0]
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                self._fail(_row_problem(item, "store_failed", f"the database refused this row: {reason}"))
        return stored

    def _write_logs(self) -> None:
        batch, self._logs = self._logs, []
        now = utcnow()
        ParsingLog.insert_many(
            [problem_to_log(p, self.job_id, self.supplier_id, now) for p in batch]
        ).execute()


# --- PostgreSQL: COPY into a temporary table, then one INSERT … ON CONFLICT -----------------
#: Columns written by the COPY path, in order (DESIGN §8: ≈10× Peewee's insert_many here).
COPY_COLUMNS = (
    "id", "supplier_id", "supplier_sku", "sku_from_name", "name", "price", "currency", "unit", "stock",
    "available", "category_path", "characteristics", "last_seen_job_id", "source_sha256", "source_sheet",
    "source_row", "created_at", "updated_at",
)
_FIELD_OF = {"supplier_id": "supplier"}
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: Any) -> str:
    """One value in PostgreSQL's COPY text format (``\\N`` for NULL)."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False, default=str)
    elif isinstance(value, dt.datetime):
        value = value.isoformat(sep=" ")
    return str(value).translate(_COPY_ESCAPES)


_BATCH_CONSTANT = ("supplier_id", "last_seen_job_id", "source_sha256", "created_at", "updated_at")


def _copy_line(row: dict[str, Any], same: dict[str, str]) -> str:
    """One COPY line for a row; the hot loop of a large file, so written out by hand."""
    esc = _COPY_ESCAPES
    price, stock, available, chars = row["price"], row["stock"], row["available"], row["characteristics"]
    return "\t".join((
        str(row["id"]),
        same["supplier_id"],
        row["supplier_sku"].translate(esc),
        "t" if row["sku_from_name"] else "f",
        row["name"].translate(esc),
        "\\N" if price is None else str(price),
        row["currency"] or "\\N",
        "\\N" if row["unit"] is None else row["unit"].translate(esc),
        "\\N" if stock is None else str(stock),
        "\\N" if available is None else ("t" if available else "f"),
        "\\N" if row["category_path"] is None else row["category_path"].translate(esc),
        json.dumps(chars, ensure_ascii=False, default=str).translate(esc) if chars else "{}",
        same["last_seen_job_id"],
        same["source_sha256"],
        "\\N" if row["source_sheet"] is None else row["source_sheet"].translate(esc),
        str(row["source_row"]),
        same["created_at"],
        same["updated_at"],
    )) + "\n"


def _copy_upsert(rows: Iterable[dict[str, Any]], job_id: str, now: dt.datetime) -> tuple[int, int]:
    """Upsert ``rows`` (as :meth:`ItemWriter._row` builds them) through COPY and record price history.

    One statement after the COPY: the items are inserted or updated (product
    link and match status untouched), and a ``price_history`` row is added for
    every new item with a price and every item whose price or currency
    changed.  Returns ``(new items, changed prices)``.
    """
    buf = io.StringIO()
    write = buf.write
    same: dict[str, str] = {}  # columns equal on every row of a batch, escaped once
    for row in rows:
        if not same:
            same = {c: _copy_text(row[_FIELD_OF.get(c, c)]) for c in _BATCH_CONSTANT}
        write(_copy_line(row, same))
    buf.seek(0)
    cols = ", ".join(COPY_COLUMNS)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in COPY_COLUMNS if c not in ("id", "supplier_id", "supplier_sku", "created_at"))
    cursor = database.connection().cursor()
    cursor.execute(
        "CREATE TEMP TABLE IF NOT EXISTS supplier_items_in (LIKE supplier_items INCLUDING DEFAULTS) "
        "ON COMMIT DELETE ROWS"
    )
    cursor.copy_expert(f"COPY supplier_items_in ({cols}) FROM STDIN", buf)
    cursor.execute(
        f"""
        WITH old AS (
            SELECT s.supplier_id, s.supplier_sku, s.price, s.currency
            FROM supplier_items s JOIN supplier_items_in i USING (supplier_id, supplier_sku)
        ), up AS (
            INSERT INTO supplier_items ({cols}) SELECT {cols} FROM supplier_items_in
            ON CONFLICT (supplier_id, supplier_sku) DO UPDATE SET {updates}
            RETURNING id, supplier_id, supplier_sku, price, currency, (xmax = 0) AS inserted
        ), moved AS (
            SELECT up.id, up.price, up.currency, up.inserted
            FROM up LEFT JOIN old USING (supplier_id, supplier_sku)
            WHERE up.inserted OR old.price IS DISTINCT FROM up.price OR old.currency IS DISTINCT FROM up.currency
        ), history AS (
            INSERT INTO price_history (supplier_item_id, price, currency, job_id, recorded_at)
            SELECT id, price, currency, %s, %s FROM moved WHERE price IS NOT NULL
        )
        SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM moved
        """,
        (job_id, now),
    )
    new, changed = cursor.fetchone()
    cursor.execute("TRUNCATE supplier_items_in")
    return int(new), int(changed)


def _money(value: Any) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(CENT)


def problem_to_log(
    problem: Problem, job_id: str | None, supplier_id: uuid.UUID | str | None, now: Any = None
) -> dict[str, Any]:
    """The ``parsing_logs`` row of a problem."""
    return {
        "job_id": job_id,
        "supplier_id": uuid.UUID(str(supplier_id)) if supplier_id else None,
        "level": problem.level,
        "error_type": problem.type[:64],
        "message": problem.message,
        "sheet": problem.sheet[:255] if problem.sheet else None,
        "row_number": problem.row,
        "column_name": problem.column[:255] if problem.column else None,
        "row_data": problem.row_data,
        "created_at": now or utcnow(),
    }


def log_problem(problem: Problem, job_id: str | None, supplier_id: uuid.UUID | str | None) -> None:
    """Write one problem to ``parsing_logs`` at once (file- and message-level problems)."""
    ParsingLog.insert(problem_to_log(problem, job_id, supplier_id)).execute()


def get_or_create_supplier(name: str) -> tuple[Supplier, bool]:
    """The supplier named ``name`` (case-insensitively), created when new."""
    clean = " ".join(name.split())
    key = Supplier.key_for(clean)
    supplier = Supplier.get_or_none(Supplier.name_key == key)
    if supplier is not None:
        return supplier, False
    try:
        with database.atomic():
            return Supplier.create(name=clean, name_key=key), True
    except peewee.IntegrityError:  # created meanwhile by another worker
        return Supplier.get(Supplier.name_key == key), False
