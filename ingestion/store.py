"""Write what a file gave into the database: staged rows, supplier items, price history, logs.

A list is stored in two steps, so a suspicious one can be held before it
touches the catalog (DESIGN §9):

1. :class:`ItemWriter` compares each row with the supplier's *current* list
   (the items not delisted) by a content hash and stages only what differs —
   ``new`` SKUs, ``price`` moves (price or currency), ``other`` changes — plus
   the SKUs the list no longer has (``gone``).  An identical row costs nothing:
   no write, no price history.  It also builds the :class:`ListDiff`.
2. :func:`publish_run` applies a run's staged rows in a few set-based
   statements: upsert by ``(supplier_id, supplier_sku)`` (a re-ingested item
   keeps its id, product link and match status — a re-ingestion never unlinks
   a match), a ``price_history`` row for each new priced item and each price
   move, and ``gone`` items marked unavailable (``delisted_job_id``), never
   deleted.  :func:`drop_run` forgets a run's staged rows instead.

Checks per row: a price that is not finite, negative or too large for
``NUMERIC(14, 2)`` fails the row (logged); more than two decimals are rounded
half up with a warning.  Keys: the item's SKU; when the file has no SKU the key
is the item's name (whitespace-collapsed, case-folded) and ``sku_from_name`` is
set.  A repeated key: the later row wins, with a ``duplicate_sku`` warning.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import heapq
import io
import json
import uuid
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Iterable, NamedTuple

import attrs
import peewee
import psycopg2

from ingestion.errors import Level, Problem
from ingestion.models import ParsingLog, StagedItem, Supplier, SupplierItem, database, utcnow
from ingestion.reading.model import Item

CENT = Decimal("0.01")
STOCK_STEP = Decimal("0.001")
MAX_PRICE = Decimal("999999999999.99")  # NUMERIC(14, 2)
MAX_STOCK = Decimal("99999999999.999")  # NUMERIC(14, 3)
MAX_KEY_LENGTH = 255
#: Largest price moves kept in a diff.
DIFF_TOP_MOVES = 10
#: SKUs listed by name in a diff (new and gone each).
DIFF_LISTED_SKUS = 50
STAGED_COLUMNS = (
    "job_id", "item_id", "supplier_id", "supplier_sku", "sku_from_name", "name", "price", "currency", "unit",
    "stock", "available", "category_path", "characteristics", "content_hash", "change", "source_sha256",
    "source_sheet", "source_row", "source_page",
)
ITEM_VALUE_COLUMNS = (
    "sku_from_name", "name", "price", "currency", "unit", "stock", "available", "category_path",
    "characteristics", "content_hash", "source_sha256", "source_sheet", "source_row", "source_page",
)


def item_key(item: Item) -> tuple[str, bool]:
    """``(supplier_sku, derived_from_name)`` for an item.

    Without a SKU the key is the name plus the values that qualify it
    (:attr:`Item.name_parts`: ``Бурт DIZAYN | 63`` — rows that share a name and
    differ in a size column under the same header stay apart).  A key longer than 255 characters is cut and given a
    hash suffix so two long keys that share a beginning stay apart.
    """
    if item.sku:
        return item.sku, False
    key = " | ".join([" ".join(item.name.split()), *(" ".join(v.split()) for v in item.name_parts)]).casefold()
    if len(key) > MAX_KEY_LENGTH:
        digest = hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]
        key = key[: MAX_KEY_LENGTH - 17] + "#" + digest
    return key, True


def content_hash(row: dict[str, Any]) -> str:
    """32 hex characters over the values a list sets for an item (not its provenance).

    ``row`` has the item's values and ``characteristics_json`` (sorted keys).
    """
    text = "\x1f".join(
        "" if row[c] is None else str(row[c])
        for c in ("name", "price", "currency", "unit", "stock", "available", "category_path", "characteristics_json")
    )
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


class Previous(NamedTuple):
    """What the supplier's current list says of one SKU."""

    content_hash: str | None
    price: Decimal | None
    currency: str | None
    stock: Decimal | None
    available: bool | None
    name: str


def load_previous(supplier_id: uuid.UUID | str) -> dict[str, Previous]:
    """The supplier's current list: every item not delisted, by SKU key."""
    sid = uuid.UUID(str(supplier_id))
    query = (
        SupplierItem.select(
            SupplierItem.supplier_sku, SupplierItem.content_hash, SupplierItem.price, SupplierItem.currency,
            SupplierItem.stock, SupplierItem.available, SupplierItem.name,
        )
        .where((SupplierItem.supplier == sid) & SupplierItem.delisted_job_id.is_null())
        .tuples()
    )
    out: dict[str, Previous] = {}
    for sku, chash, price, currency, stock, available, name in query.iterator():  # type: ignore[misc]
        out[sku] = Previous(
            chash,
            _money(price),
            currency or None,
            Decimal(str(stock)) if stock is not None else None,
            bool(available) if available is not None else None,
            name,
        )
    return out


@attrs.define
class StoreStats:
    """Counts for one job: items read, and how they compare with the current list; rows failed in the store."""

    stored: int = 0
    new: int = 0
    price_changed: int = 0
    other_changed: int = 0
    unchanged: int = 0
    gone: int = 0
    duplicates: int = 0
    failed: int = 0


@attrs.define
class ListDiff:
    """A list against the supplier's current one (JSON-able with :meth:`to_dict`).

    ``priced_in_both`` counts SKUs priced in both lists in the same currency
    (changed or not); ``price_up``/``price_down`` those whose price moved; ``price_moved_over_half`` those that moved by more than 50%;
    ``currency_changed`` SKUs whose currency changed; ``largest_moves`` the
    biggest relative moves (old and new prices as strings, ``change_pct``).
    ``main_currency``/``previous_main_currency``: the most common currency of
    each list.
    """

    previous_items: int = 0
    items: int = 0
    new: int = 0
    gone: int = 0
    unchanged: int = 0
    changed: int = 0
    price_up: int = 0
    price_down: int = 0
    price_moved_over_half: int = 0
    priced_in_both: int = 0
    currency_changed: int = 0
    stock_changed: int = 0
    main_currency: str | None = None
    previous_main_currency: str | None = None
    largest_moves: list[dict[str, Any]] = attrs.field(factory=list)
    new_skus: list[str] = attrs.field(factory=list)
    gone_skus: list[str] = attrs.field(factory=list)

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)

    def summary(self) -> str:
        """One line for the job state and the CLI."""
        return (
            f"{self.items} items: {self.new} new, {self.gone} gone, {self.changed} changed ({self.price_up} price up, "
            f"{self.price_down} price down, {self.currency_changed} currency), {self.stock_changed} stock changes, "
            f"{self.unchanged} unchanged"
        )


def _row_problem(
    item: Item, type_: str, message: str, column: str | None = None, level: Level = "error"
) -> Problem:
    return Problem(
        type=type_, message=message, level=level, sheet=item.sheet, row=item.row, column=column, row_data=item.raw,
        page=item.page,
    )


class ItemWriter:
    """Stages one job's items against the supplier's current list and queues its problems.

    Use :meth:`add` per item and :meth:`log` per problem, then :meth:`finish`
    (returns the :class:`ListDiff`), then :func:`publish_run` or :func:`drop_run`.
    ``previous`` is the current list (:func:`load_previous`), loaded when not given.
    Problems the store finds (duplicates, values it cannot hold) are logged and
    also collected in :attr:`problems_found`.
    """

    def __init__(
        self,
        supplier_id: uuid.UUID | str,
        job_id: str,
        sha256: str | None,
        batch_size: int = 1000,
        previous: dict[str, Previous] | None = None,
    ) -> None:
        self.supplier_id = uuid.UUID(str(supplier_id))
        self.job_id = job_id
        self.sha256 = sha256
        self.batch_size = batch_size
        self.previous = load_previous(self.supplier_id) if previous is None else previous
        self.stats = StoreStats()
        self.problems_found: list[Problem] = []
        self._pending: dict[str, dict[str, Any]] = {}  # staged rows not yet written
        self._written: set[str] = set()  # keys with a staged row in the database
        self._state: dict[str, str] = {}  # key -> new | price | other | same
        self._seen_row: dict[str, int] = {}
        self._moves: dict[str, dict[str, Any]] = {}
        self._stock_changed: set[str] = set()
        self._priced_both: set[str] = set()
        self._currencies: dict[str, int] = {}
        self._logs: list[Problem] = []

    # --- public -------------------------------------------------------------------
    def add(self, item: Item) -> None:
        """Compare ``item`` with the current list; stage it when it is new or differs."""
        adjusted = self._check(item)
        if adjusted is None:
            return
        checked = item
        key, from_name = item_key(checked)
        earlier = self._seen_row.get(key)
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
                    page=checked.page,
                )
            )
            self._forget(key)
        self._seen_row[key] = checked.row
        row = self._row(checked, key, from_name, adjusted)
        if row["currency"]:
            self._currencies[row["currency"]] = self._currencies.get(row["currency"], 0) + 1
        old = self.previous.get(key)
        if old is not None and old.price is not None and row["price"] is not None and old.currency == row["currency"]:
            self._priced_both.add(key)
        change = self._classify(key, row, old)
        self._state[key] = change
        if change != "same":
            row["change"] = change
            self._pending[key] = row
            if len(self._pending) >= self.batch_size:
                self._write_pending()

    def log(self, problem: Problem) -> None:
        """Queue a problem for ``parsing_logs``."""
        self._logs.append(problem)
        if len(self._logs) >= self.batch_size:
            self._write_logs()

    def flush(self) -> None:
        """Write everything queued."""
        if self._pending:
            self._write_pending()
        if self._logs:
            self._write_logs()

    def finish(self) -> ListDiff:
        """Flush, stage the SKUs the list no longer has, and return the diff."""
        gone = [k for k in self.previous if k not in self._state]
        for key in gone:
            self._pending[key] = {"supplier_sku": key, "change": "gone", "name": self.previous[key].name}
            if len(self._pending) >= self.batch_size:
                self._write_pending()
        self.flush()
        states = list(self._state.values())
        diff = ListDiff(
            previous_items=len(self.previous),
            items=len(states),
            new=states.count("new"),
            gone=len(gone),
            unchanged=states.count("same"),
            changed=states.count("price") + states.count("other"),
            stock_changed=len(self._stock_changed),
            main_currency=max(self._currencies, key=lambda c: self._currencies[c]) if self._currencies else None,
            previous_main_currency=_main_currency(self.previous),
            new_skus=[k for k, s in self._state.items() if s == "new"][:DIFF_LISTED_SKUS],
            gone_skus=gone[:DIFF_LISTED_SKUS],
        )
        for move in self._moves.values():
            if move["kind"] == "currency":
                diff.currency_changed += 1
                continue
            if move["kind"] == "up":
                diff.price_up += 1
            elif move["kind"] == "down":
                diff.price_down += 1
            if abs(move["change_pct"]) > 50:
                diff.price_moved_over_half += 1
        diff.priced_in_both = len(self._priced_both)
        diff.largest_moves = heapq.nlargest(
            DIFF_TOP_MOVES,
            (m for m in self._moves.values() if m["kind"] in ("up", "down")),
            key=lambda m: abs(m["change_pct"]),
        )
        self.stats.new, self.stats.gone, self.stats.unchanged = diff.new, diff.gone, diff.unchanged
        self.stats.price_changed = states.count("price")
        self.stats.other_changed = states.count("other")
        self.stats.stored = diff.items
        return diff

    # --- comparing ----------------------------------------------------------------
    def _classify(self, key: str, row: dict[str, Any], old: Previous | None) -> str:
        if old is None:
            return "new"
        if old.stock != row["stock"] or old.available != row["available"]:
            self._stock_changed.add(key)
        if old.content_hash == row["content_hash"]:
            return "same"
        price, currency = row["price"], row["currency"]
        if price == old.price and currency == old.currency:
            return "other"
        if old.price is not None and price is not None:
            if currency != old.currency and old.currency and currency:
                self._moves[key] = {"sku": key, "kind": "currency", "old_currency": old.currency, "currency": currency}
            elif old.price > 0:
                pct = float((price - old.price) / old.price * 100)
                self._moves[key] = {
                    "sku": key, "name": row["name"][:120], "old": str(old.price), "new": str(price),
                    "currency": currency, "change_pct": round(pct, 1),
                    "kind": "up" if price > old.price else ("down" if price < old.price else "same"),
                }
        return "price"

    def _forget(self, key: str) -> None:
        """Undo what an earlier row of the same key counted; its staged row is replaced."""
        self._pending.pop(key, None)
        self._moves.pop(key, None)
        self._stock_changed.discard(key)
        self._priced_both.discard(key)
        if key in self._written:
            StagedItem.delete().where((StagedItem.job_id == self.job_id) & (StagedItem.supplier_sku == key)).execute()
            self._written.discard(key)

    # --- checks -------------------------------------------------------------------
    def _found(self, problem: Problem) -> None:
        self.problems_found.append(problem)
        self.log(problem)

    def _check(self, item: Item) -> dict[str, Any] | None:
        """The item's values as the schema holds them (price, stock, currency, unit, sheet),
        or ``None`` (logged) when it cannot be stored.

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
        return {"price": price, "stock": stock, "currency": currency, "unit": unit or None, "sheet": sheet}

    def _fail(self, problem: Problem) -> None:
        self.stats.failed += 1
        self._found(problem)

    # --- writing ------------------------------------------------------------------
    def _row(self, item: Item, key: str, from_name: bool, adjusted: dict[str, Any]) -> dict[str, Any]:
        characteristics: dict[str, Any] = {}
        if item.prices:
            characteristics["prices"] = {k: str(v) for k, v in item.prices.items()}
        if item.brand:
            characteristics["brand"] = item.brand
        if item.description:
            characteristics["description"] = item.description
        if item.attributes:
            characteristics["attributes"] = item.attributes
        row = {
            "supplier_sku": key,
            "sku_from_name": from_name,
            "name": item.name,
            "price": adjusted["price"],
            "currency": adjusted["currency"],
            "unit": adjusted["unit"],
            "stock": adjusted["stock"],
            "available": item.available,
            "category_path": " / ".join(item.category_path) or None,
            "characteristics": characteristics,
            "characteristics_json": json.dumps(characteristics, ensure_ascii=False, sort_keys=True) if characteristics else "{}",
            "source_sheet": adjusted["sheet"],
            "source_row": item.row,
            "source_page": item.page,
        }
        row["content_hash"] = content_hash(row)
        return row

    def _write_pending(self) -> None:
        batch, self._pending = self._pending, {}
        rows = [self._staged(row) for row in batch.values()]
        with database.atomic():
            if isinstance(database.obj, peewee.PostgresqlDatabase):
                try:
                    with database.atomic():
                        _copy_staged(rows)
                except (peewee.DataError, peewee.IntegrityError, psycopg2.DataError, psycopg2.IntegrityError):
                    self._insert_one_by_one(rows)
            else:
                try:
                    with database.atomic():
                        StagedItem.insert_many([_model_row(r) for r in rows]).execute()
                except (peewee.DataError, peewee.IntegrityError):
                    self._insert_one_by_one(rows)
        self._written.update(batch)

    def _staged(self, row: dict[str, Any]) -> dict[str, Any]:
        """A ``staged_items`` row (with ``characteristics_json`` for the COPY path)."""
        out = {c: row.get(c) for c in STAGED_COLUMNS}
        out.update(
            job_id=self.job_id,
            item_id=uuid.uuid4(),
            supplier_id=self.supplier_id,
            source_sha256=self.sha256 if row["change"] != "gone" else None,
            characteristics=row.get("characteristics") or {},
            characteristics_json=row.get("characteristics_json") or "{}",
            content_hash=row.get("content_hash") or "",
            sku_from_name=bool(row.get("sku_from_name")),
        )
        return out

    def _insert_one_by_one(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            try:
                with database.atomic():
                    StagedItem.insert(_model_row(row)).execute()
            except (peewee.DataError, peewee.IntegrityError) as exc:
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                key = row["supplier_sku"]
                self._state.pop(key, None)
                self._fail(Problem(type="store_failed", message=f"the database refused this row: {reason}",
                                   row=row.get("source_row"), sheet=row.get("source_sheet"), page=row.get("source_page"),
                                   row_data={"sku": key, "name": row.get("name")}))

    def _write_logs(self) -> None:
        batch, self._logs = self._logs, []
        now = utcnow()
        ParsingLog.insert_many(
            [problem_to_log(p, self.job_id, self.supplier_id, now, self.sha256) for p in batch]
        ).execute()


def _model_row(row: dict[str, Any]) -> dict[str, Any]:
    return {c: row[c] for c in STAGED_COLUMNS}


def _main_currency(previous: dict[str, Previous]) -> str | None:
    counts: dict[str, int] = {}
    for p in previous.values():
        if p.currency:
            counts[p.currency] = counts.get(p.currency, 0) + 1
    return max(counts, key=lambda c: counts[c]) if counts else None


# --- PostgreSQL: staged rows go in by COPY (DESIGN §8) -----------------------------------
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: Any) -> str:
    """One value in PostgreSQL's COPY text format (``\\N`` for NULL)."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, default=str).translate(_COPY_ESCAPES)
    return str(value).translate(_COPY_ESCAPES)


def _copy_staged_line(row: dict[str, Any], same: str) -> str:
    """One COPY line of a staged row (the hot loop of a large file, so written out by hand).

    ``same`` is the escaped ``job_id``; the columns follow :data:`STAGED_COLUMNS`.
    """
    esc = _COPY_ESCAPES
    price, stock, available, unit, path, sheet, page = (
        row["price"], row["stock"], row["available"], row["unit"], row["category_path"], row["source_sheet"],
        row["source_page"],
    )
    return "\t".join((
        same,
        str(row["item_id"]),
        str(row["supplier_id"]),
        row["supplier_sku"].translate(esc),
        "t" if row["sku_from_name"] else "f",
        row["name"].translate(esc),
        "\\N" if price is None else str(price),
        row["currency"] or "\\N",
        "\\N" if unit is None else unit.translate(esc),
        "\\N" if stock is None else str(stock),
        "\\N" if available is None else ("t" if available else "f"),
        "\\N" if path is None else path.translate(esc),
        row["characteristics_json"].translate(esc),
        row["content_hash"],
        row["change"],
        row["source_sha256"] or "\\N",
        "\\N" if sheet is None else sheet.translate(esc),
        "\\N" if row["source_row"] is None else str(row["source_row"]),
        "\\N" if page is None else str(page),
    )) + "\n"


def _copy_staged(rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    buf = io.StringIO()
    write = buf.write
    same = _copy_text(rows[0]["job_id"])
    for row in rows:
        write(_copy_staged_line(row, same))
    buf.seek(0)
    cursor = database.connection().cursor()
    cursor.copy_expert(f"COPY staged_items ({', '.join(STAGED_COLUMNS)}) FROM STDIN", buf)


# --- publishing a run -------------------------------------------------------------------
@attrs.frozen
class Published:
    """What publishing wrote: items inserted or updated, price-history rows, items delisted."""

    upserted: int
    history: int
    delisted: int


def publish_run(job_id: str, supplier_id: uuid.UUID | str, now: dt.datetime | None = None) -> Published:
    """Apply a run's staged rows to ``supplier_items`` and drop them (one transaction)."""
    now = now or utcnow()
    sid = uuid.UUID(str(supplier_id)).hex
    stamp = now.strftime("%Y-%m-%d %H:%M:%S.%f")
    p = database.param
    values = ", ".join(ITEM_VALUE_COLUMNS)
    updates = ", ".join(f"{c} = excluded.{c}" for c in ITEM_VALUE_COLUMNS)
    with database.atomic():
        upserted = database.execute_sql(
            f"INSERT INTO supplier_items (id, supplier_id, supplier_sku, {values}, last_seen_job_id, created_at, updated_at) "
            f"SELECT item_id, supplier_id, supplier_sku, {values}, job_id, {p}, {p} FROM staged_items "
            f"WHERE job_id = {p} AND change <> 'gone' "
            f"ON CONFLICT (supplier_id, supplier_sku) DO UPDATE SET {updates}, "
            f"last_seen_job_id = excluded.last_seen_job_id, delisted_job_id = NULL, updated_at = excluded.updated_at",
            (stamp, stamp, job_id),
        ).rowcount
        history = database.execute_sql(
            "INSERT INTO price_history (supplier_item_id, price, currency, job_id, recorded_at) "
            f"SELECT i.id, s.price, s.currency, s.job_id, {p} FROM staged_items s "
            "JOIN supplier_items i ON i.supplier_id = s.supplier_id AND i.supplier_sku = s.supplier_sku "
            f"WHERE s.job_id = {p} AND s.change IN ('new', 'price') AND s.price IS NOT NULL",
            (stamp, job_id),
        ).rowcount
        delisted = database.execute_sql(
            f"UPDATE supplier_items SET available = FALSE, delisted_job_id = {p}, updated_at = {p} "
            f"WHERE supplier_id = {p} AND delisted_job_id IS NULL AND supplier_sku IN "
            f"(SELECT supplier_sku FROM staged_items WHERE job_id = {p} AND change = 'gone')",
            (job_id, stamp, sid, job_id),
        ).rowcount
        drop_run(job_id)
    return Published(upserted=max(upserted, 0), history=max(history, 0), delisted=max(delisted, 0))


def publish(writer: ItemWriter) -> ListDiff:
    """Finish ``writer`` and publish its run at once (no guard-rails): for tools and tests."""
    diff = writer.finish()
    publish_run(writer.job_id, writer.supplier_id)
    return diff


def drop_run(job_id: str) -> int:
    """Forget a run's staged rows; returns how many."""
    return int(StagedItem.delete().where(StagedItem.job_id == job_id).execute())


def _money(value: Any) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(CENT)


# --- logs and suppliers -----------------------------------------------------------------
def problem_to_log(
    problem: Problem,
    job_id: str | None,
    supplier_id: uuid.UUID | str | None,
    now: Any = None,
    sha256: str | None = None,
) -> dict[str, Any]:
    """The ``parsing_logs`` row of a problem, with its provenance (file sha256, sheet, row, page)."""
    return {
        "job_id": job_id,
        "supplier_id": uuid.UUID(str(supplier_id)) if supplier_id else None,
        "level": problem.level,
        "error_type": problem.type[:64],
        "message": problem.message,
        "sheet": problem.sheet[:255] if problem.sheet else None,
        "row_number": problem.row,
        "column_name": problem.column[:255] if problem.column else None,
        "page": problem.page,
        "source_sha256": sha256,
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
