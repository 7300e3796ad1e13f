"""Write what a file gave into the database: supplier items, price history, staged lists, logs.

A list is compared with the supplier's current one before anything of it is
written, so a suspicious list can be held before it touches the catalog
(DESIGN §9):

1. :class:`ItemWriter` checks each row (:func:`ingestion.checks.check_item`),
   compares it with the supplier's *current* list (the items not delisted) by
   a content hash and keeps only what differs — ``new`` SKUs, ``price`` moves
   (price or currency), ``other`` changes — plus the SKUs the list no longer
   has (``gone``).  An identical row costs nothing: no write, no price history.
   What differs is kept as PostgreSQL COPY text in spools (memory, then a
   temporary file past :data:`SPOOL_MEMORY_BYTES`), so a large list costs
   little Python per row and no database round trip while it is read.
   :meth:`ItemWriter.finish` gives the :class:`ListDiff`.
2. Then either :meth:`ItemWriter.publish` — new items go straight into
   ``supplier_items`` by COPY, changed ones by one ``UPDATE … FROM`` a COPY'd
   temporary table, price history by COPY, gone items marked unavailable
   (``delisted_job_id``), never deleted; a re-ingested item keeps its id,
   product link and match status — or :meth:`ItemWriter.stage`, which keeps
   the run in ``staged_items`` for a held list; :func:`publish_run` applies a
   staged run later (set-based upsert by ``(supplier_id, supplier_sku)``) and
   :func:`drop_run` forgets it.  When the direct path meets a row the database
   refuses (or a SKU another job inserted meanwhile) it falls back to staging
   the run row by row (a refused row is logged as ``store_failed``) and
   publishing it from there.  SQLite (the embedded mode) always goes through
   staging.

A SKU the supplier's current list does not have but an earlier one did (a
delisted item) *returns*: it keeps its item id, product link and match
status and is never ``new``.  Its price is compared with the last one it was
listed at (the price it was delisted with): back at that price and currency it
counts as ``returned``; back at another one it counts as a changed price —
``changed`` (and ``returned_changed``, not ``returned``), ``price_up`` /
``price_down``, ``priced_in_both``, ``price_moved_over_half`` and
``largest_moves`` — so the price guard-rail sees it like any other move, and
it gets a price-history row.  The diff's buckets stay disjoint:
``new + returned + changed + unchanged == items`` (:class:`ListDiff`).
Its stock is compared like any other item's (``stock_changed``), with what
the row kept through the delisting: the quantity it was last listed with
and, as delisting marks an item unavailable, ``available`` false — so a
SKU back with another quantity, or stated available again ("back in
stock"), counts as a stock change; one back at the same quantity whose
availability the list does not state does not.

New items get time-ordered ids (:class:`ItemIds`): PostgreSQL then appends
to the primary-key and price-history indexes instead of inserting at random
places, which is cheaper for a large list.

Keys (:mod:`ingestion.checks`): the item's SKU; when the file has no SKU the
key is the item's name (whitespace-collapsed, case-folded) and
``sku_from_name`` is set.  A repeated SKU: the later row wins, with a
``duplicate_sku`` warning; a repeated name without SKU is another offer, kept
as ``name #2`` … (``repeated_name`` note).  Prices are
:class:`~decimal.Decimal` in the item's currency (ISO 4217), two decimals.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import heapq
import json
import os
import re
import tempfile
import uuid
from decimal import Decimal
from typing import IO, Any, Iterator, NamedTuple

import attrs
import peewee
import psycopg2

from ingestion.checks import CENT, STOCK_STEP, ListKeys, check_item, item_key
from ingestion.errors import Problem
from ingestion.models import ParsingLog, StagedItem, Supplier, SupplierItem, database, utcnow
from ingestion.reading.model import Item

#: Largest price moves kept in a diff.
DIFF_TOP_MOVES = 10
#: SKUs listed by name in a diff (new and gone each).
DIFF_LISTED_SKUS = 50
#: COPY text a spool keeps in memory before it moves to a temporary file.
SPOOL_MEMORY_BYTES = 16 * 1024 * 1024
#: Characters of COPY text handed to the server per read of a spool.
COPY_CHUNK = 256 * 1024
STAGED_COLUMNS = (
    "job_id", "item_id", "supplier_id", "supplier_sku", "sku_from_name", "name", "price", "currency", "unit",
    "stock", "available", "category_path", "characteristics", "content_hash", "change", "source_sha256",
    "source_sheet", "source_row", "source_page",
)
ITEM_VALUE_COLUMNS = (
    "sku_from_name", "name", "price", "currency", "unit", "stock", "available", "category_path",
    "characteristics", "content_hash", "source_sha256", "source_sheet", "source_row", "source_page",
)
#: The fields of a spooled line, in order: a COPY into ``supplier_items`` takes them as they are.
LINE_COLUMNS = (
    "id", "supplier_id", "supplier_sku", "sku_from_name", "name", "price", "currency", "unit", "stock",
    "available", "category_path", "characteristics", "content_hash", "source_sha256", "source_sheet",
    "source_row", "source_page", "last_seen_job_id", "created_at", "updated_at",
)
#: The same line as a ``staged_items`` row: the two timestamps give way to ``change``.
STAGED_LINE_COLUMNS = (
    "item_id", "supplier_id", "supplier_sku", "sku_from_name", "name", "price", "currency", "unit", "stock",
    "available", "category_path", "characteristics", "content_hash", "source_sha256", "source_sheet",
    "source_row", "source_page", "job_id", "change",
)
HISTORY_COLUMNS = ("supplier_item_id", "price", "currency", "job_id", "recorded_at")
#: Spools of changed rows: ``new`` items are COPY'd in, the others update an existing row.  A returning
#: (delisted) SKU goes with ``price`` when it needs a price-history row, else with ``other``.
KINDS = ("new", "price", "other")


def content_hash(row: dict[str, Any]) -> str:
    """32 hex characters over the values a list sets for an item (not its provenance).

    ``row`` has the item's values (``name``, ``price``, ``currency``, ``unit``,
    ``stock``, ``available``, ``category_path``) and ``characteristics_json``
    (sorted keys).  :meth:`ItemWriter.add` computes the same hash inline.
    """
    return _hash((row["name"], row["price"], row["currency"], row["unit"], row["stock"], row["available"],
                  row["category_path"], row["characteristics_json"]))


def _hash(values: tuple[Any, ...]) -> str:
    text = "\x1f".join("" if v is None else str(v) for v in values)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


class ItemIds:
    """Time-ordered item ids (UUID version 7 layout) as 32 hex digits, the form COPY takes.

    48 bits of Unix time in milliseconds (when the writer started), the
    version, 12 random bits, the variant and a 62-bit counter that starts at a
    random value: the ids of one writer increase one by one, and a later
    writer's ids sort after an earlier one's.  Two writers started in the same
    millisecond collide only if they drew the same 12 random bits and their
    counters' random starts fall within a list's length of each other (for two
    million-row lists, about 2**-53); the primary key refuses a collision
    rather than merge two items.
    """

    #: Room left above the counter's random start (ids one writer can give).
    ROOM = 1 << 40

    def __init__(self, now_ms: int | None = None) -> None:
        ms = int(dt.datetime.now(dt.timezone.utc).timestamp() * 1000) if now_ms is None else now_ms
        rand = int.from_bytes(os.urandom(10), "big")
        self.head = f"{ms & 0xFFFF_FFFF_FFFF:012x}7{(rand >> 64) & 0xFFF:03x}"
        self.next = (1 << 63) | ((rand & ((1 << 62) - 1)) % ((1 << 62) - self.ROOM))  # variant bits 10

    def take(self) -> str:
        """The next id."""
        n = self.next
        self.next = n + 1
        return f"{self.head}{n:016x}"


class Previous(NamedTuple):
    """What the supplier's current list says of one SKU (``id`` is the item's UUID as text)."""

    content_hash: str | None
    price: Decimal | None
    currency: str | None
    stock: Decimal | None
    available: bool | None
    name: str
    id: str = ""


def load_previous(supplier_id: uuid.UUID | str) -> dict[str, Previous]:
    """The supplier's current list: every item not delisted, by SKU key (one query, no model objects)."""
    return load_current(supplier_id)[0]


class Delisted(NamedTuple):
    """A delisted item of the supplier: its id (32 hex digits), the price and currency it was delisted with, and its
    stock and availability as stored (the quantity it was last listed with; delisting set ``available`` false)."""

    id: str
    price: Decimal | None
    currency: str | None
    stock: Decimal | None = None
    available: bool | None = False


def load_delisted(supplier_id: uuid.UUID | str) -> dict[str, Delisted]:
    """The supplier's delisted items, by SKU key."""
    return load_current(supplier_id)[1]


def load_current(supplier_id: uuid.UUID | str) -> tuple[dict[str, Previous], dict[str, Delisted]]:
    """``(current list, delisted items)`` of the supplier, by SKU key: :func:`load_previous` and
    :func:`load_delisted` in one pass over the supplier's items (one query, no model objects)."""
    sid = uuid.UUID(str(supplier_id))
    postgres = isinstance(database.obj, peewee.PostgresqlDatabase)
    cursor = database.execute_sql(
        f"SELECT supplier_sku, content_hash, price, currency, stock, available, name, {'id::text' if postgres else 'id'}, "
        "delisted_job_id IS NOT NULL FROM supplier_items "
        f"WHERE supplier_id = {database.param}",
        (str(sid) if postgres else sid.hex,),
    )
    out: dict[str, Previous] = {}
    delisted: dict[str, Delisted] = {}
    if postgres:  # NUMERIC comes back as Decimal with its scale, booleans as bool, the id as text
        make = tuple.__new__  # a Previous without the keyword handling of its __new__: one per item of the list
        for sku, chash, price, currency, stock, available, name, item_id, gone in cursor:
            if gone:
                delisted[sku] = Delisted(uuid.UUID(item_id).hex, price, currency or None, stock, available)
            else:
                out[sku] = make(Previous, (chash, price, currency or None, stock, available, name, item_id))
        return out, delisted
    for sku, chash, price, currency, stock, available, name, item_id, gone in cursor:
        stock = Decimal(str(stock)).quantize(STOCK_STEP) if stock is not None else None
        available = bool(available) if available is not None else None
        if gone:
            delisted[sku] = Delisted(uuid.UUID(str(item_id)).hex, _money(price), currency or None, stock, available)
            continue
        out[sku] = Previous(chash, _money(price), currency or None, stock, available, name, uuid.UUID(str(item_id)).hex)
    return out, delisted


@attrs.define
class StoreStats:
    """Counts for one job: items read, and how they compare with the current list; rows failed in the store.

    The same buckets as :class:`ListDiff`: ``price_changed`` includes the ``returned_changed`` SKUs (back at
    another price or currency than they were delisted with), ``returned`` only those back at their last price.
    """

    stored: int = 0
    new: int = 0
    returned: int = 0
    returned_changed: int = 0
    price_changed: int = 0
    other_changed: int = 0
    unchanged: int = 0
    gone: int = 0
    duplicates: int = 0
    failed: int = 0


@attrs.define
class ListDiff:
    """A list against the supplier's current one (JSON-able with :meth:`to_dict`).

    Every SKU of the list is in exactly one of four buckets, so
    ``new + returned + changed + unchanged == items``:

    * ``new`` — SKUs the supplier never listed (``new_skus`` names the first);
    * ``returned`` — SKUs it had delisted (gone from an earlier list) and lists
      again at the price and currency they were delisted with;
    * ``changed`` — SKUs of the current list whose values changed, *and*
      delisted SKUs that come back at another price or currency than they were
      delisted with (``returned_changed`` of them);
    * ``unchanged`` — SKUs of the current list listed as they were.

    ``returned_skus`` names the first SKUs that came back, whether counted in
    ``returned`` or in ``returned_changed``.  A price is compared with the
    SKU's last known one — the current list's, or for a returning SKU the one
    it was delisted with: ``priced_in_both`` counts SKUs priced both times in
    the same currency (changed or not); ``price_up``/``price_down`` those whose
    price moved; ``price_moved_over_half`` those that moved by more than the
    writer's ``price_move`` (50% unless GUARD_PRICE_MOVE says otherwise; the
    name stays for the readers of stored diffs);
    ``currency_changed`` SKUs priced both times whose currency changed — to
    another one, or from one to none (the list left the currency out);
    ``largest_moves`` the
    biggest relative moves (``sku``, ``name``, old and new prices as strings,
    ``currency``, ``change_pct``, ``kind`` up/down, ``returned`` true for a
    SKU that came back).  ``main_currency``/``previous_main_currency``: the
    most common currency of each list's priced items, ``None`` when no item
    is priced or when more of them have no currency than the most common one
    (``priced_without_currency`` counts those of this list).  ``stock_changed`` counts SKUs of the
    current list whose stock or availability changed, and returning SKUs
    back with another quantity than they were delisted with or stated
    available again (in ``returned`` or ``returned_changed`` all the same).
    """

    previous_items: int = 0
    items: int = 0
    new: int = 0
    returned: int = 0
    gone: int = 0
    unchanged: int = 0
    changed: int = 0
    returned_changed: int = 0
    price_up: int = 0
    price_down: int = 0
    price_moved_over_half: int = 0
    priced_in_both: int = 0
    currency_changed: int = 0
    #: of those, SKUs whose currency was left out (had one, have none now)
    currency_lost: int = 0
    stock_changed: int = 0
    main_currency: str | None = None
    previous_main_currency: str | None = None
    priced_without_currency: int = 0
    largest_moves: list[dict[str, Any]] = attrs.field(factory=list)
    new_skus: list[str] = attrs.field(factory=list)
    gone_skus: list[str] = attrs.field(factory=list)
    returned_skus: list[str] = attrs.field(factory=list)

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)

    def summary(self) -> str:
        """One line for the job state and the CLI: the four buckets (adding up to ``items``), gone, price moves."""
        return (
            f"{self.items} items: {self.new} new, "
            + (f"{self.returned} returned, " if self.returned else "")
            + f"{self.gone} gone, {self.changed} changed ("
            + (f"{self.returned_changed} of them returned at a new price; " if self.returned_changed else "")
            + f"{self.price_up} price up, "
            f"{self.price_down} price down, {self.currency_changed} currency), {self.stock_changed} stock changes, "
            f"{self.unchanged} unchanged"
        )


# --- spools of COPY text ----------------------------------------------------------------
NULL = "\\N"  # COPY text for NULL


def _escape(text: str) -> str:
    """``text`` as a COPY text field (backslash, tab and line breaks escaped).

    A chain of ``replace`` is several times faster than ``str.translate`` on
    Cyrillic text, and this runs for every field of every row.
    """
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


_COPY_UNESCAPE = re.compile(r"\\(.)")
_UNESCAPED = {"t": "\t", "n": "\n", "r": "\r", "\\": "\\"}


class Spool:
    """COPY text lines, in memory up to :data:`SPOOL_MEMORY_BYTES` and then in a temporary file.

    Lines are numbered from 0 as written; :meth:`drop` forgets one (a row a
    later duplicate replaced) and :meth:`reader` gives what is left as a file.
    """

    def __init__(self) -> None:
        self._file = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES, mode="w+", encoding="utf-8", newline="")
        self._buffer: list[str] = []
        self.written = 0
        self.dropped: set[int] = set()

    def __len__(self) -> int:
        return self.written - len(self.dropped)

    def write(self, line: str) -> int:
        """Append one line (ending in ``\\n``); returns its number."""
        number = self.written
        self.written = number + 1
        buffer = self._buffer
        buffer.append(line)
        if len(buffer) >= 2000:
            self._file.write("".join(buffer))
            buffer.clear()
        return number

    def drop(self, number: int) -> None:
        self.dropped.add(number)

    def _rewind(self) -> None:
        if self._buffer:
            self._file.write("".join(self._buffer))
            self._buffer.clear()
        self._file.seek(0)

    def lines(self) -> Iterator[str]:
        """The lines kept, in order."""
        self._rewind()
        dropped = self.dropped
        for number, line in enumerate(self._file):
            if number not in dropped:
                yield line

    def reader(self) -> IO[str] | LineReader:
        """The lines kept as a file for ``copy_expert``."""
        if not self.dropped:
            self._rewind()
            return self._file
        return LineReader(self.lines())

    def close(self) -> None:
        self._file.close()


class LineReader:
    """A read-only text file over an iterator of lines (what ``copy_expert`` needs: ``read(size)``)."""

    def __init__(self, lines: Iterator[str]) -> None:
        self._lines = lines
        self._rest = ""

    def read(self, size: int | None = -1) -> str:
        want = None if size is None or size < 0 else size
        parts = [self._rest]
        have = len(self._rest)
        while want is None or have < want:
            line = next(self._lines, None)
            if line is None:
                break
            parts.append(line)
            have += len(line)
        text = "".join(parts)
        if want is None:
            self._rest = ""
            return text
        self._rest = text[want:]
        return text[:want]

    def readline(self, size: int | None = -1) -> str:
        if self._rest:
            line, self._rest = self._rest, ""
            return line
        return next(self._lines, "")


def _from_copy_text(field: str) -> str | None:
    """The text of one COPY field (``None`` for ``\\N``)."""
    if field == "\\N":
        return None
    if "\\" not in field:
        return field
    return _COPY_UNESCAPE.sub(lambda m: _UNESCAPED.get(m.group(1), m.group(1)), field)


def _staged_row(line: str, tail: int, change: str) -> dict[str, Any]:
    """A spooled line as a ``staged_items`` row for Peewee (the SQLite path and the row-by-row fallback)."""
    fields = [_from_copy_text(f) for f in line[:-tail].split("\t")]
    row: dict[str, Any] = dict(zip(STAGED_LINE_COLUMNS, [*fields, change]))
    row["item_id"] = uuid.UUID(str(row["item_id"]))
    row["supplier_id"] = uuid.UUID(str(row["supplier_id"]))
    row["sku_from_name"] = row["sku_from_name"] == "t"
    row["available"] = None if row["available"] is None else row["available"] == "t"
    for column in ("price", "stock"):
        row[column] = None if row[column] is None else Decimal(row[column])
    for column in ("source_row", "source_page"):
        row[column] = None if row[column] is None else int(row[column])
    row["characteristics"] = json.loads(row["characteristics"] or "{}")
    row["content_hash"] = row["content_hash"] or ""
    return row


# --- the writer -------------------------------------------------------------------------
class ItemWriter:
    """Compares one job's items with the supplier's current list, queues its problems, then publishes or stages it.

    Use :meth:`add` per item and :meth:`log` per problem, then :meth:`finish`
    (returns the :class:`ListDiff`), then :meth:`publish` (or :meth:`stage`
    for a held list, or :meth:`discard`).  ``previous`` is the current list
    (:func:`load_previous`) and ``delisted`` the delisted SKUs
    (:func:`load_delisted`), loaded (in one query, :func:`load_current`) when
    not given.  Problems the store finds
    (duplicates, values it cannot hold) go to ``parsing_logs`` (in batches of
    ``batch_size``) and also to :attr:`problems_found`.  ``price_move``: the
    relative move (a share, 0.5 = 50%) that ``ListDiff.price_moved_over_half``
    counts, for the price guard-rail.
    """

    def __init__(
        self,
        supplier_id: uuid.UUID | str,
        job_id: str,
        sha256: str | None,
        batch_size: int = 1000,
        previous: dict[str, Previous] | None = None,
        delisted: dict[str, Delisted] | None = None,
        price_move: float = 0.5,
    ) -> None:
        self.supplier_id = uuid.UUID(str(supplier_id))
        #: a price move counted in ``ListDiff.price_moved_over_half``, as a share (settings: GUARD_PRICE_MOVE)
        self.price_move_pct = price_move * 100
        self.job_id = job_id
        self.sha256 = sha256
        self.batch_size = batch_size
        if previous is None or delisted is None:
            loaded_previous, loaded_delisted = load_current(self.supplier_id)
            previous = loaded_previous if previous is None else previous
            delisted = loaded_delisted if delisted is None else delisted
        self.previous = previous
        self.delisted = delisted
        self.stats = StoreStats()
        self.problems_found: list[Problem] = []
        self.stamp = utcnow()
        stamp = self.stamp.strftime("%Y-%m-%d %H:%M:%S.%f")
        self._sid = str(self.supplier_id)
        self._sha = sha256 or "\\N"
        self._job = _escape(job_id)
        self._tail = f"\t{self._job}\t{stamp}\t{stamp}\n"
        self._history_tail = f"\t{self._job}\t{stamp}\n"
        self._spools = {kind: Spool() for kind in KINDS}
        self._history = Spool()
        self._where: dict[str, tuple[str, int, int]] = {}  # key -> (kind, line, history line or -1)
        self._state: dict[str, str] = {}  # key -> new | returned | returned_price | price | other | same
        self._ids = ItemIds()
        self._keys = ListKeys()
        self._gone: list[str] = []
        self._moves: dict[str, dict[str, Any]] = {}
        self._stock_changed: set[str] = set()
        self._priced_both: set[str] = set()
        self._currencies: dict[str, int] = {}
        #: priced items of the list without a currency (``ListDiff.priced_without_currency``)
        self._no_currency = 0
        self._logs: list[Problem] = []
        self._finished = False

    # --- public -------------------------------------------------------------------
    def add(self, item: Item) -> None:
        """Check ``item`` and compare it with the current list; keep it when it is new or differs.

        This runs for every row of a list: the common row (nothing to escape,
        no characteristics) takes no more than one pass over its values.
        """
        checked, problems = check_item(item)
        if problems:
            for problem in problems:
                self._found(problem)
        if checked is None:
            self.stats.failed += 1
            return
        key, from_name, replaces, key_problem = self._keys.assign(item)
        if key_problem is not None:
            self._found(key_problem)
        if replaces:
            self.stats.duplicates += 1
            self._forget(key)
        price, stock, currency, unit, sheet = checked
        name, available = item.name, item.available
        if item.prices or item.brand or item.description or item.attributes:
            cjson = _characteristics_json(item)
        else:
            cjson = "{}"
        path = " / ".join(item.category_path) or None
        price_text = "" if price is None else str(price)
        stock_text = "" if stock is None else str(stock)
        chash = hashlib.blake2b("\x1f".join((
            name, price_text, currency or "", unit or "", stock_text,
            "" if available is None else str(available), path or "", cjson,
        )).encode("utf-8"), digest_size=16).hexdigest()  # the same text as content_hash()
        if currency:
            currencies = self._currencies
            currencies[currency] = currencies.get(currency, 0) + 1
        elif price is not None:
            self._no_currency += 1
        old = self.previous.get(key)
        if old is None:
            back = self.delisted.get(key)
            if back is None:
                ids = self._ids  # ItemIds.take(), inlined
                number = ids.next
                ids.next = number + 1
                change, kind, item_id, history = "new", "new", f"{ids.head}{number:016x}", price is not None
            else:  # a delisted SKU returns: its row and id come back; compared with the price it was delisted with
                moved = price != back.price or currency != back.currency
                if moved:
                    self._note_move(key, name, price, currency, back.price, back.currency, returned=True)
                if back.price is not None and price is not None and back.currency == currency:
                    self._priced_both.add(key)
                if stock != back.stock or (available is not None and available != back.available):
                    self._stock_changed.add(key)  # its stock moved since it was delisted (module docstring)
                history = price is not None and moved
                change = "returned_price" if moved else "returned"
                kind, item_id = "price" if history else "other", back.id
        else:
            if old.price is not None and price is not None and old.currency == currency:
                self._priced_both.add(key)
            change = self._classify(key, name, price, currency, stock, available, chash, old)
            if change == "same":
                self._state[key] = change
                return
            kind, item_id, history = change, old.id, change == "price" and price is not None
        self._state[key] = change
        # the COPY text of the row's own texts; escaping (rarely needed) only when one has a special character
        key_text = key
        texts = f"{key}{name}{unit or ''}{path or ''}{cjson}{sheet or ''}"
        if "\\" in texts or "\t" in texts or "\n" in texts or "\r" in texts:
            key_text, name, cjson = _escape(key), _escape(name), _escape(cjson)
            unit = None if unit is None else _escape(unit)
            path = None if path is None else _escape(path)
            sheet = None if sheet is None else _escape(sheet)
        line = "\t".join((
            item_id,
            self._sid,
            key_text,
            "t" if from_name else "f",
            name,
            price_text or NULL,
            currency or NULL,
            unit or NULL,
            stock_text or NULL,
            NULL if available is None else ("t" if available else "f"),
            path or NULL,
            cjson,
            chash,
            self._sha,
            sheet or NULL,
            NULL if item.row is None else str(item.row),
            NULL if item.page is None else str(item.page),
        )) + self._tail
        history_line = self._history.write(f"{item_id}\t{price_text}\t{currency or NULL}{self._history_tail}") \
            if history else -1
        self._where[key] = (kind, self._spools[kind].write(line), history_line)

    def log(self, problem: Problem) -> None:
        """Queue a problem for ``parsing_logs``."""
        self._logs.append(problem)
        if len(self._logs) >= self.batch_size:
            self._write_logs()

    def flush(self) -> None:
        """Write the queued problems."""
        if self._logs:
            self._write_logs()

    def finish(self) -> ListDiff:
        """Flush the problems, note the SKUs the list no longer has, and return the diff."""
        self._gone = [k for k in self.previous if k not in self._state]
        self._finished = True
        self.flush()
        states = list(self._state.values())
        gone = self._gone
        diff = ListDiff(
            previous_items=len(self.previous),
            items=len(states),
            new=states.count("new"),
            returned=states.count("returned"),
            gone=len(gone),
            unchanged=states.count("same"),
            changed=states.count("price") + states.count("other") + states.count("returned_price"),
            returned_changed=states.count("returned_price"),
            stock_changed=len(self._stock_changed),
            main_currency=_most_common(self._currencies, self._no_currency),
            previous_main_currency=_main_currency(self.previous),
            priced_without_currency=self._no_currency,
            new_skus=[k for k, s in self._state.items() if s == "new"][:DIFF_LISTED_SKUS],
            gone_skus=gone[:DIFF_LISTED_SKUS],
            returned_skus=[k for k, s in self._state.items() if s in ("returned", "returned_price")][:DIFF_LISTED_SKUS],
        )
        for move in self._moves.values():
            if move["kind"] == "currency":
                diff.currency_changed += 1
                if move["currency"] is None:
                    diff.currency_lost += 1
                continue
            if move["kind"] == "up":
                diff.price_up += 1
            elif move["kind"] == "down":
                diff.price_down += 1
            if abs(move["change_pct"]) > self.price_move_pct:
                diff.price_moved_over_half += 1
        diff.priced_in_both = len(self._priced_both)
        diff.largest_moves = heapq.nlargest(
            DIFF_TOP_MOVES,
            (m for m in self._moves.values() if m["kind"] in ("up", "down")),
            key=lambda m: abs(m["change_pct"]),
        )
        self.stats.new, self.stats.gone, self.stats.unchanged = diff.new, diff.gone, diff.unchanged
        self.stats.returned, self.stats.returned_changed = diff.returned, diff.returned_changed
        self.stats.price_changed = states.count("price") + diff.returned_changed
        self.stats.other_changed = states.count("other")
        self.stats.stored = diff.items
        return diff

    def publish(self) -> Published:
        """Write the list into ``supplier_items`` and ``price_history`` now (after :meth:`finish`).

        One savepoint: on PostgreSQL new items are COPY'd in, changed ones
        updated from a COPY'd temporary table, history COPY'd, gone items
        delisted.  If the database refuses any of it (a value it cannot hold,
        a SKU another job inserted meanwhile) the run is staged row by row
        instead (refused rows logged as ``store_failed``) and published from
        ``staged_items`` by :func:`publish_run`.  SQLite always goes that way.
        """
        self._require_finished()
        try:
            if isinstance(database.obj, peewee.PostgresqlDatabase):
                try:
                    with database.atomic():
                        return self._copy_publish()
                except (peewee.DataError, peewee.IntegrityError, psycopg2.DataError, psycopg2.IntegrityError):
                    pass
            self._stage()
            return publish_run(self.job_id, self.supplier_id, self.stamp)
        finally:
            self.discard()

    def stage(self) -> int:
        """Keep the list in ``staged_items`` (a held list; :func:`publish_run` applies it later). Returns rows staged."""
        self._require_finished()
        try:
            return self._stage()
        finally:
            self.discard()

    def discard(self) -> None:
        """Free the spools (nothing of the list is written)."""
        for spool in (*self._spools.values(), self._history):
            spool.close()

    # --- comparing ----------------------------------------------------------------
    def _classify(
        self, key: str, name: str, price: Decimal | None, currency: str | None, stock: Decimal | None,
        available: bool | None, chash: str, old: Previous | None,
    ) -> str:
        if old is None:
            return "new"
        if old.stock != stock or old.available != available:
            self._stock_changed.add(key)
        if old.content_hash == chash:
            return "same"
        if price == old.price and currency == old.currency:
            return "other"
        self._note_move(key, name, price, currency, old.price, old.currency)
        return "price"

    def _note_move(
        self, key: str, name: str, price: Decimal | None, currency: str | None, old_price: Decimal | None,
        old_currency: str | None, returned: bool = False,
    ) -> None:
        """Keep the move of a SKU whose price or currency differs from its last known one (both priced).

        A currency left out where the SKU had one (``old_currency`` set, ``currency`` ``None``) is a currency
        change (kind ``currency``, ``currency`` ``None``), never a price compared across it.
        """
        if old_price is None or price is None:
            return
        if currency != old_currency and old_currency:
            move: dict[str, Any] = {"sku": key, "kind": "currency", "old_currency": old_currency, "currency": currency}
        elif old_price > 0:
            pct = float((price - old_price) / old_price * 100)
            move = {
                "sku": key, "name": name[:120], "old": str(old_price), "new": str(price),
                "currency": currency, "change_pct": round(pct, 1),
                "kind": "up" if price > old_price else ("down" if price < old_price else "same"),
            }
        else:
            return
        if returned:
            move["returned"] = True
        self._moves[key] = move

    def _forget(self, key: str) -> None:
        """Undo what an earlier row of the same key counted; its spooled lines are dropped."""
        where = self._where.pop(key, None)
        if where is not None:
            kind, line, history = where
            self._spools[kind].drop(line)
            if history >= 0:
                self._history.drop(history)
        self._moves.pop(key, None)
        self._stock_changed.discard(key)
        self._priced_both.discard(key)

    def _found(self, problem: Problem) -> None:
        self.problems_found.append(problem)
        self.log(problem)

    def _fail(self, problem: Problem) -> None:
        self.stats.failed += 1
        self._found(problem)

    def _require_finished(self) -> None:
        if not self._finished:
            raise RuntimeError("ItemWriter.finish() must come before publish() or stage()")

    # --- publishing directly (PostgreSQL) -----------------------------------------------
    def _copy_publish(self) -> Published:
        cursor = database.connection().cursor()
        new = self._spools["new"]
        if len(new):
            cursor.copy_expert(f"COPY supplier_items ({', '.join(LINE_COLUMNS)}) FROM STDIN", new.reader(), COPY_CHUNK)
        changed = [self._spools[k] for k in ("price", "other") if len(self._spools[k])]
        if changed:
            cursor.execute("DROP TABLE IF EXISTS pg_temp.publish_rows")
            cursor.execute("CREATE TEMP TABLE publish_rows (LIKE supplier_items INCLUDING DEFAULTS) ON COMMIT DROP")
            for spool in changed:
                cursor.copy_expert(f"COPY publish_rows ({', '.join(LINE_COLUMNS)}) FROM STDIN", spool.reader())
            values = ("sku_from_name", "name", "price", "currency", "unit", "stock", "available", "category_path",
                      "characteristics", "content_hash", "source_sha256", "source_sheet", "source_row", "source_page",
                      "last_seen_job_id", "updated_at")
            cursor.execute(
                f"UPDATE supplier_items i SET {', '.join(f'{c} = p.{c}' for c in values)}, delisted_job_id = NULL "
                "FROM publish_rows p WHERE i.id = p.id"
            )
        if len(self._history):
            cursor.copy_expert(
                f"COPY price_history ({', '.join(HISTORY_COLUMNS)}) FROM STDIN", self._history.reader(), COPY_CHUNK
            )
        delisted = 0
        if self._gone:
            cursor.execute(
                "UPDATE supplier_items SET available = FALSE, delisted_job_id = %s, updated_at = %s "
                "WHERE id = ANY(%s::uuid[]) AND delisted_job_id IS NULL",
                (self.job_id, self.stamp, [self.previous[k].id for k in self._gone]),
            )
            delisted = max(cursor.rowcount, 0)
        return Published(
            upserted=sum(len(s) for s in self._spools.values()), history=len(self._history), delisted=delisted
        )

    # --- staging ------------------------------------------------------------------
    def _staged_lines(self) -> Iterator[tuple[str, str]]:
        """``(line, change)`` of every row to stage (spooled rows, then the gone SKUs)."""
        for kind, spool in self._spools.items():
            for line in spool.lines():
                yield line, kind
        for key in self._gone:
            old = self.previous[key]
            yield "\t".join((
                old.id, self._sid, _escape(key), "f", _escape(old.name),
                *(["\\N"] * 6), "{}", "", "\\N", "\\N", "\\N", "\\N",
            )) + self._tail, "gone"

    def _stage(self) -> int:
        drop_run(self.job_id)
        tail = len(self._tail) - len(self._job) - 1
        count = 0
        if isinstance(database.obj, peewee.PostgresqlDatabase):
            def lines() -> Iterator[str]:
                nonlocal count
                for line, change in self._staged_lines():
                    count += 1
                    yield f"{line[:-tail]}\t{change}\n"
            try:
                with database.atomic():
                    database.connection().cursor().copy_expert(
                        f"COPY staged_items ({', '.join(STAGED_LINE_COLUMNS)}) FROM STDIN", LineReader(lines())
                    )
                return count
            except (peewee.DataError, peewee.IntegrityError, psycopg2.DataError, psycopg2.IntegrityError):
                pass
        return self._stage_in_batches(tail)

    def _stage_in_batches(self, tail: int) -> int:
        """Stage through Peewee in batches; a batch the database refuses goes row by row (refused rows logged)."""
        count = 0
        batch: list[dict[str, Any]] = []
        for line, change in self._staged_lines():
            batch.append(_staged_row(line, tail, change))
            if len(batch) >= self.batch_size:
                count += self._insert_staged(batch)
                batch = []
        if batch:
            count += self._insert_staged(batch)
        self.flush()
        return count

    def _insert_staged(self, rows: list[dict[str, Any]]) -> int:
        try:
            with database.atomic():
                StagedItem.insert_many(rows).execute()
            return len(rows)
        except (peewee.DataError, peewee.IntegrityError, ValueError):
            pass
        count = 0
        for row in rows:
            try:
                with database.atomic():
                    StagedItem.insert(row).execute()
                count += 1
            except (peewee.DataError, peewee.IntegrityError, ValueError) as exc:  # ValueError: psycopg2 refuses NUL
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                key = row["supplier_sku"]
                self._state.pop(key, None)
                self._fail(Problem(type="store_failed", message=f"the database refused this row: {reason}",
                                   row=row.get("source_row"), sheet=row.get("source_sheet"), page=row.get("source_page"),
                                   row_data={"sku": key, "name": row.get("name")}))
        return count

    def _write_logs(self) -> None:
        batch, self._logs = self._logs, []
        now = utcnow()
        ParsingLog.insert_many(
            [problem_to_log(p, self.job_id, self.supplier_id, now, self.sha256) for p in batch]
        ).execute()


#: Price kinds as JSON strings (a list has a few kinds, repeated on every row).
_JSON_KINDS: dict[str, str] = {}


def _json_kind(kind: str) -> str:
    text = _JSON_KINDS.get(kind)
    if text is None:
        text = _JSON_KINDS[kind] = json.dumps(kind, ensure_ascii=False)
    return text


def _characteristics_json(item: Item) -> str:
    """The item's ``characteristics`` as JSON text (sorted keys): price kinds, brand, description, attributes.

    Exactly what ``json.dumps(…, ensure_ascii=False, sort_keys=True)`` gives
    (content hashes depend on it).  A row with price kinds only — what the
    reader gives for nearly every row — is written without ``json.dumps``: the
    amounts are :class:`~decimal.Decimal` texts, which need no escaping.
    """
    prices = item.prices
    if prices and not (item.brand or item.description or item.attributes):
        if len(prices) == 1:
            for kind, amount in prices.items():
                return f'{{"prices": {{{_json_kind(kind)}: "{str(amount)}"}}}}'
        return '{"prices": {' + ", ".join(f'{_json_kind(k)}: "{str(prices[k])}"' for k in sorted(prices)) + "}}"
    characteristics: dict[str, Any] = {}
    if item.prices:
        characteristics["prices"] = {k: str(v) for k, v in item.prices.items()}
    if item.brand:
        characteristics["brand"] = item.brand
    if item.description:
        characteristics["description"] = item.description
    if item.attributes:
        characteristics["attributes"] = item.attributes
    return json.dumps(characteristics, ensure_ascii=False, sort_keys=True) if characteristics else "{}"


def _most_common(counts: dict[str, int], without: int) -> str | None:
    """The currency (ISO 4217) most priced items have, from ``counts`` (currency → items); ``None`` when there is
    none, or when ``without`` (priced items with no currency) outnumbers it."""
    if not counts:
        return None
    main = max(counts, key=lambda c: counts[c])
    return None if without > counts[main] else main


def _main_currency(previous: dict[str, Previous]) -> str | None:
    """:func:`_most_common` of the priced items of the supplier's current list."""
    counts: dict[str, int] = {}
    without = 0
    for p in previous.values():
        if p.currency:
            counts[p.currency] = counts.get(p.currency, 0) + 1
        elif p.price is not None:
            without += 1
    return _most_common(counts, without)


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
    writer.publish()
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
        "message": problem.message.replace("\x00", ""),
        "sheet": problem.sheet[:255] if problem.sheet else None,
        "row_number": problem.row,
        "column_name": problem.column[:255] if problem.column else None,
        "page": problem.page,
        "source_sha256": sha256,
        "row_data": _without_nul(problem.row_data),
        "created_at": now or utcnow(),
    }


def _without_nul(data: Any) -> Any:
    """``data`` with NUL characters dropped from its strings (PostgreSQL text and JSON cannot hold them)."""
    if isinstance(data, str):
        return data.replace("\x00", "")
    if isinstance(data, dict):
        return {_without_nul(k): _without_nul(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_without_nul(v) for v in data]
    return data


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
