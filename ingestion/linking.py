"""Linking supplier items to products: the database side of matching.

:func:`match_supplier_items` runs the pure matcher (:mod:`ingestion.matching`)
over every ``unmatched`` item of a supplier, in batches taken with
``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL so several workers share the
load, and applies each decision:

* ``auto`` → the item is linked (``auto_matched``, score and candidates kept);
* ``review`` → ``potential_match`` and a pending ``match_review_queue`` row with
  the candidates, expiring after :data:`REVIEW_TTL_DAYS`;
* ``new`` → a ``draft`` product is made from the item and linked; later items of
  the same run can match it.

Only ``unmatched`` items are taken, so a verified or earlier link is never
re-matched and a second run changes nothing.  :func:`apply_decision` carries out
a manager's ``link``/``unlink``/``reset_match``/``approve_match``/
``reject_match``.  Both recalculate the aggregates of every product they touched
(:func:`recalc_products`).

Cost: the catalog is kept per worker process and brought up to date incrementally
(:class:`_SharedCatalog`: the products other workers made are fetched, normalised and
indexed in one go, with at most one refresh of the catalog's norms); a batch of
:data:`MATCH_BATCH_SIZE` items is read as plain rows and written back in three
statements on PostgreSQL (drafts inserted, items updated, reviews upserted — each from
``unnest`` of column arrays), aggregates in one statement per 2,000 products; a draft's
catalog entry is made from its item's without normalising the name again; category
ids are kept by the process; after each batch the process's heap is exempted from
full garbage collections (:meth:`_SharedCatalog.settle`).
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import random
import threading
import time
import uuid
from decimal import Decimal
from typing import Any, Callable, Iterable, Literal

import attrs
import peewee

from ingestion.errors import PermanentError
from ingestion.matching import Catalog, Matcher, MatchResult
from ingestion.matching.index import Entry, as_product, prepare
from ingestion.matching import Item as MatchItem
from ingestion.matching import Product as MatchProduct
from ingestion.models import Category, MatchReviewQueue, Product, SupplierItem, database, utcnow

#: Days a review request waits for a manager before it expires.
REVIEW_TTL_DAYS = 14
#: Items taken (and locked) per transaction.
MATCH_BATCH_SIZE = 500
#: Seconds a run that can be continued later (it has a deadline) waits for another run of the process.
LOCK_WAIT_SECONDS = 2.0
#: Statuses whose link counts for product aggregates.
LINKED_STATUSES = ("auto_matched", "verified_match")

Action = Literal["link", "unlink", "reset_match", "approve_match", "reject_match"]
ProgressCallback = Callable[[int, int], None]
#: Called inside each batch's transaction, after its writes: ``(items decided, auto, review)`` of the batch.
BatchCallback = Callable[[int, int, int], None]


class ItemNotFound(PermanentError):
    slug = "supplier_item_not_found"


class ProductNotFound(PermanentError):
    slug = "product_not_found"


class DecisionRefused(PermanentError):
    slug = "decision_refused"


@attrs.define
class MatchStats:
    """Counts of one matching run; ``products`` are the ids whose aggregates were recalculated.

    ``total``: unmatched items when the run started; ``remaining``: unmatched items left when it stopped (0: none).  ``busy``: another run of this
    process held the catalog, so this one did nothing (``remaining`` is then every unmatched item).
    ``elsewhere``: the run stopped because every item left is locked by another run (a worker sharing
    the supplier, see :func:`match_supplier_items`) or arrived after it looked; ``remaining`` counts them.
    """

    total: int = 0
    processed: int = 0
    remaining: int = 0
    auto: int = 0
    review: int = 0
    new: int = 0
    products: set[str] = attrs.field(factory=set)
    busy: bool = False
    elsewhere: bool = False


# --- catalog ----------------------------------------------------------------------------
#: Seconds between full reloads of the shared catalog.
CATALOG_RELOAD_SECONDS = 600
#: Products created this many seconds before the newest one seen are looked at again: a draft's time stamp
#: is taken when its batch starts and it is seen when the batch commits (a second or so later), and worker
#: machines' clocks differ a little.  (Every id of the window is read on each refresh: at 2,000 drafts a
#: second, 120 s made that 240,000 ids every 5 s.)
CATALOG_OVERLAP_SECONDS = 30
#: During a run, products other workers created are picked up at most this often (seconds).
CATALOG_REFRESH_SECONDS = 5.0
#: Ids per ``IN (…)`` list when product rows are fetched by id.
_ID_CHUNK = 500


def _tuples(query: Any, stream: bool = False) -> Iterable[tuple[Any, ...]]:
    """The rows of a Peewee select as plain tuples (``stream``: without caching them in the query)."""
    rows = query.tuples()
    return rows.iterator() if stream else rows  # type: ignore[no-any-return]


def _is_pg() -> bool:
    return isinstance(database.obj, peewee.PostgresqlDatabase)


def _canonical_id(raw: Any) -> str:
    """A product id as the database returns it (UUID, dashed text, or SQLite's 32 hex digits) → dashed text."""
    text = str(raw)
    return text if len(text) == 36 else str(uuid.UUID(text))


def _as_datetime(value: Any) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))


class _SharedCatalog:
    """The catalog of this worker process, kept between matching runs (DESIGN §8: building it costs
    seconds for a large catalog, and every supplier's run needs it).

    Products created since the last look are added incrementally — at the start of each run and,
    during a run, every :data:`CATALOG_REFRESH_SECONDS` (so drafts another worker makes meanwhile
    are matched instead of duplicated): the ids created in the last
    :data:`CATALOG_OVERLAP_SECONDS` are read (one narrow query) and only the unknown ones fetched
    and normalised.  The whole catalog is read again every :data:`CATALOG_RELOAD_SECONDS` (names
    edited, products archived) and after a failed run; a reload reuses the normalised entries of
    products whose name, brand and category did not change
    (:meth:`~ingestion.matching.index.Entry.made_from`).  Matching runs of one process take turns
    (:data:`lock`): the matcher is CPU-bound, so threads would not run it in parallel anyway, and
    the catalog must not grow under a running match.

    Memory: per product the process keeps its catalog entry and one slot of :attr:`entries` (id →
    that same entry object): the ids known are that dict's keys, not a set of their own, and what a
    reload compares is read off the entry, not kept as a tuple of the raw fields.
    """

    lock = threading.Lock()

    def __init__(self) -> None:
        self.catalog: Catalog | None = None
        self.loaded_at = 0.0
        self.refreshed_at = 0.0
        self.newest: dt.datetime | None = None
        self.db: object = None
        #: product id (the entry's own id string) → the entry the catalog holds, for every product in
        #: it; reused by the next load when its fields did not change
        self.entries: dict[str, Entry] = {}
        #: (parent id, name) → category id, for the drafts' categories (see _category_id)
        self.categories: dict[tuple[int | None, str], int] = {}

    def get(self) -> Catalog:
        """The catalog, reloaded or brought up to date first (see the class docstring)."""
        db = database.obj
        now = time.monotonic()
        if self.catalog is None or self.db is not db or now - self.loaded_at > CATALOG_RELOAD_SECONDS:
            if self.db is not db:
                self.entries = {}
                self.categories = {}
            self._reload()
            self.db, self.loaded_at = db, now
        else:
            self._add_new()
        self.refreshed_at = time.monotonic()
        return self.catalog  # type: ignore[return-value]

    def due(self) -> bool:
        """True when :data:`CATALOG_REFRESH_SECONDS` have passed since the catalog was last brought up to date."""
        return time.monotonic() - self.refreshed_at >= CATALOG_REFRESH_SECONDS

    def settle(self) -> None:
        """Exempt what the process holds now — the catalog above all — from the cyclic garbage
        collector's full passes (``gc.freeze()``, O(1)).

        Why: the catalog is hundreds of thousands of long-lived container objects (entries, their
        sets, posting lists), and every time the heap has grown by a quarter the collector walks
        all of them (≈0.2 s at 30k products; ≈15 % of a matching run's CPU).  Frozen objects are
        still freed by reference counting; only a reference cycle that was already garbage when
        frozen waits for :meth:`unsettle`, which every reload of the catalog (at most
        :data:`CATALOG_RELOAD_SECONDS` apart) and :meth:`forget` call.
        """
        gc.freeze()

    @staticmethod
    def unsettle() -> None:
        """Hand everything frozen by :meth:`settle` back to the collector (the next full pass sees it)."""
        gc.unfreeze()

    def _reload(self) -> None:
        self.unsettle()  # the old catalog (and any frozen garbage) becomes collectable again
        names = _category_names()
        rows = _tuples(Product.select(Product.id, Product.name, Product.brand, Product.category, Product.created_at)
                       .where(Product.status != "archived"), stream=True)
        old: dict[str, Entry] = self.entries
        fresh: dict[str, Entry] = {}
        entries: list[Entry] = []
        self.newest = None
        for pid_raw, name, brand, category_id, created_at in rows:
            pid = str(pid_raw)
            category = names.get(category_id)
            entry = old.get(pid)
            if entry is None or not entry.made_from(name, brand, category):
                entry = prepare(MatchProduct(id=pid, name=name, brand=brand, category=category))
            fresh[entry.id] = entry  # the entry's id string as the key: one string per product
            entries.append(entry)
            created = _as_datetime(created_at)
            if self.newest is None or created > self.newest:
                self.newest = created
        self.entries = fresh
        self.catalog = Catalog.of_entries(entries)

    def _add_new(self) -> None:
        assert self.catalog is not None
        since = self.newest - dt.timedelta(seconds=CATALOG_OVERLAP_SECONDS) if self.newest else None
        p = database.param
        # The newest stamp first (a row committed meanwhile is read below, or by the next overlap),
        # then the ids of the window as text: no UUID or datetime objects for the known ones.
        newest = database.execute_sql("SELECT max(created_at) FROM products WHERE status <> 'archived'").fetchone()
        if newest is None or newest[0] is None:
            return
        sql = f"SELECT {'id::text' if _is_pg() else 'id'} FROM products WHERE status <> 'archived'"
        if since is not None:
            sql += f" AND created_at >= {p}"
        cursor = database.execute_sql(sql, (since,) if since is not None else ())
        known = self.entries
        if _is_pg():  # id::text is already the dashed form: the window's ids are checked in one C-level pass
            unknown = [pid for (pid,) in cursor.fetchall() if pid not in known]
        else:
            unknown = [pid for pid in (_canonical_id(raw) for (raw,) in cursor.fetchall()) if pid not in known]
        latest = _as_datetime(newest[0])
        if self.newest is None or latest > self.newest:
            self.newest = latest
        if not unknown:
            return
        names = _category_names()
        fresh: list[Entry] = []
        for start in range(0, len(unknown), _ID_CHUNK):
            ids = unknown[start : start + _ID_CHUNK]
            rows: Iterable[tuple[Any, ...]]
            if _is_pg():  # the same statement as below, ids in and out as text (no UUID objects)
                rows = database.execute_sql(
                    "SELECT id::text, name, brand, category_id FROM products WHERE id IN %s AND status <> 'archived'",
                    (tuple(ids),),
                ).fetchall()
            else:
                rows = _tuples(Product.select(Product.id, Product.name, Product.brand, Product.category).where(
                    Product.id.in_([uuid.UUID(u) for u in ids]) & (Product.status != "archived")))
            for pid_raw, name, brand, category_id in rows:
                pid = str(pid_raw)
                if pid in self.entries:
                    continue
                category = names.get(category_id)
                entry = prepare(MatchProduct(id=pid, name=name, brand=brand, category=category))
                self.entries[entry.id] = entry
                fresh.append(entry)
        # one call: the catalog's norms are refreshed at most once for the lot (Catalog.add_entries)
        self.catalog.add_entries(fresh)

    def _put(self, pid: str, name: str, brand: str | None, category: str | None, entry: Entry | None = None) -> None:
        assert self.catalog is not None
        if pid in self.entries:
            return
        if entry is None:
            entry = prepare(MatchProduct(id=pid, name=name, brand=brand, category=category))
        self.entries[entry.id] = entry
        self.catalog.add_entry(entry)

    def added(self, product_id: str, name: str, brand: str | None, category: str | None, entry: Entry) -> None:
        """Index a product this process just created (``entry`` prepared from exactly these fields)."""
        self._put(product_id, name, brand, category, entry)

    def forget(self) -> None:
        """Drop the catalog and the category ids: the next :meth:`get` reloads it (after a failed run)."""
        self.catalog = None
        self.categories = {}
        self.unsettle()


def _category_names() -> dict[int, str]:
    return {c.id: c.name for c in Category.select(Category.id, Category.name)}


shared_catalog = _SharedCatalog()


def as_match_item(item: SupplierItem) -> MatchItem:
    """The matcher's view of a supplier item: name, real SKU (not a name-derived key), brand, leaf category."""
    return _match_item(item.id, item.name, item.supplier_sku, item.sku_from_name, item.characteristics,
                       item.category_path)


def _match_item(item_id: Any, name: str, sku: str | None, sku_from_name: bool, characteristics: Any,
                category_path: str | None) -> MatchItem:
    return MatchItem(
        id=str(item_id),
        name=name,
        sku=None if sku_from_name else sku,
        brand=(characteristics or {}).get("brand"),
        category=_leaf(category_path),
    )


def _leaf(category_path: str | None) -> str | None:
    return category_path.split(" / ")[-1] if category_path else None


def _candidates_json(result: MatchResult) -> list[dict[str, Any]]:
    return [{"product_id": c.product_id, "score": round(c.score, 2)} for c in result.candidates]


# --- a run ------------------------------------------------------------------------------
def match_supplier_items(
    supplier_id: str,
    matcher_options: dict[str, Any],
    *,
    batch_size: int = MATCH_BATCH_SIZE,
    progress: ProgressCallback | None = None,
    deadline: float | None = None,
    on_batch: BatchCallback | None = None,
    recalc_linked: bool = True,
) -> MatchStats:
    """Match the ``unmatched`` items of ``supplier_id``; returns the counts.

    ``matcher_options`` are :class:`~ingestion.matching.Matcher` keywords
    (``auto_threshold``, ``potential_threshold``, ``max_candidates``).
    ``progress(done, total)`` is called after each batch, ``on_batch(decided, auto, review)``
    inside each batch's transaction (what it writes commits or rolls back with the batch).
    With ``deadline`` (a ``time.monotonic()`` value) it stops after the batch that passes it and
    reports what is left in ``remaining``, so the caller can continue in a new
    message instead of running into its time limit; with a ``deadline`` it also
    waits at most :data:`LOCK_WAIT_SECONDS` for another run of this process to
    release the catalog, and otherwise does nothing and reports every item as
    ``remaining`` and ``busy`` (the worker thread is then free for other messages, such as the
    next list to read).  Without one it waits.  Products whose linked items'
    prices may have changed with this list count as touched and are recalculated
    unless ``recalc_linked`` is false (a run continuing or sharing the work of one that did).

    Each batch of ``batch_size`` items is one transaction: the items are locked
    (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so runs on other workers take other
    items of the same supplier), matched, and written back in a few statements (drafts inserted,
    items updated and reviews upserted in bulk).  When no unlocked item is left but some are
    still unmatched — other runs hold them in their open batches — the run stops with
    ``elsewhere`` and those in ``remaining`` (it does not wait on their locks).
    """
    sid = uuid.UUID(str(supplier_id))
    unmatched = (SupplierItem.supplier == sid) & (SupplierItem.match_status == "unmatched")
    total = SupplierItem.select().where(unmatched).count()
    stats = MatchStats(total=total)
    already = _linked_products(sid) if recalc_linked else set()
    if total == 0:
        recalc_products(already)
        return stats
    lock = shared_catalog.lock
    if not lock.acquire(timeout=-1 if deadline is None else LOCK_WAIT_SECONDS):
        # Another run of this process holds the catalog: hand the work back (the caller sends the
        # step again) rather than keep a worker thread idle that could read a list meanwhile.
        stats.remaining = total
        stats.busy = True
        recalc_products(already)
        return stats
    if progress:
        progress(0, total)  # the job shows the matching's own count from its start
    try:
        _match_batches(sid, unmatched, total, matcher_options, batch_size, progress, deadline, on_batch, stats)
    except BaseException:
        shared_catalog.forget()  # drafts of a rolled-back batch may be in it
        raise
    finally:
        lock.release()
    recalc_products(stats.products | already)
    return stats


def _linked_products(supplier: uuid.UUID, listed_only: bool = False) -> set[str]:
    """Ids (text) of the products linked to an item of ``supplier`` (with ``listed_only``: an item that is
    not delisted)."""
    if _is_pg():
        cursor = database.execute_sql(
            "SELECT DISTINCT product_id::text FROM supplier_items WHERE supplier_id = %s AND product_id IS NOT NULL"
            + (" AND delisted_job_id IS NULL" if listed_only else ""), (str(supplier),))
        return {pid for (pid,) in cursor.fetchall()}
    where = (SupplierItem.supplier == supplier) & SupplierItem.product.is_null(False)
    if listed_only:
        where &= SupplierItem.delisted_job_id.is_null()
    return {str(r[0]) for r in _tuples(SupplierItem.select(SupplierItem.product).where(where).distinct())}


def _match_batches(
    sid: uuid.UUID,
    unmatched: Any,
    total: int,
    matcher_options: dict[str, Any],
    batch_size: int,
    progress: ProgressCallback | None,
    deadline: float | None,
    on_batch: BatchCallback | None,
    stats: MatchStats,
) -> None:
    catalog = shared_catalog.get()
    matcher = Matcher(catalog, **matcher_options)
    own = _offered_products(sid)
    # category ids are kept by the process (categories are never deleted; dropped with the catalog
    # after a failed run, whose rolled-back batch may have created some)
    categories = shared_catalog.categories
    while True:
        if shared_catalog.due():
            catalog = shared_catalog.get()
            if catalog is not matcher.catalog:
                matcher = Matcher(catalog, **matcher_options)
        with database.atomic():
            query = (
                SupplierItem.select(SupplierItem.id, SupplierItem.name, SupplierItem.supplier_sku,
                                    SupplierItem.sku_from_name, SupplierItem.characteristics,
                                    SupplierItem.category_path)
                .where(unmatched).order_by(SupplierItem.id).limit(batch_size)
            )
            if _is_pg():
                query = query.for_update(skip_locked=True)
            batch = list(_tuples(query))
            if not batch:
                break
            before = (stats.processed, stats.auto, stats.review)
            writes = _BatchWrites(utcnow())
            for item_id, name, sku, sku_from_name, characteristics, category_path in batch:
                entry = prepare(_match_item(item_id, name, sku, sku_from_name, characteristics, category_path))
                result = matcher.match_entry(entry, own)
                _apply_result(item_id, name, characteristics, category_path, entry, result, categories, stats, writes)
                if writes.items[-1][1] is not None:  # linked (automatically, or to its new draft)
                    own.add(str(writes.items[-1][1]))
            writes.flush()
            if on_batch is not None:
                on_batch(stats.processed - before[0], stats.auto - before[1], stats.review - before[2])
        shared_catalog.settle()
        if progress:
            progress(stats.processed, total)
        if deadline is not None and time.monotonic() > deadline:
            stats.remaining = SupplierItem.select().where(unmatched).count()
            if stats.remaining:
                return
    if _is_pg():
        # No unlocked item is left; any still unmatched is in another run's open batch (or came after).
        stats.remaining = SupplierItem.select().where(unmatched).count()
        stats.elsewhere = stats.remaining > 0


def _offered_products(supplier: uuid.UUID) -> set[str]:
    """Ids of the products ``supplier`` already offers under a listed SKU: linked to one of its items
    that is not delisted.

    An unmatched item of the same supplier is not matched to one of them unless their names read the same
    (:data:`~ingestion.matching.matcher.IDENTICAL`): a supplier lists a product once, so another SKU of
    its list is another product (the trial: "Schneider Easy9 … 16А С" went to
    review against the draft made from the same supplier's "EKF … 10А (C)", and a list of 10,000
    look-alike names "Изделие N" sent 9,994 items to review against each other).  A product it offered
    under a SKU it has since dropped stays open (suppliers renumber their SKUs).
    """
    return _linked_products(supplier, listed_only=True)


class _BatchWrites:
    """The writes of one batch of decisions, made in a few statements instead of one per item."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now
        self.products: list[dict[str, Any]] = []
        self.items: list[tuple[Any, ...]] = []
        self.reviews: list[tuple[Any, list[dict[str, Any]], float]] = []

    def flush(self) -> None:
        """Insert the drafts, update the items, upsert the reviews (in that order: items refer to drafts)."""
        if _is_pg():
            self._flush_pg()
        else:
            self._flush_other()

    def _flush_pg(self) -> None:
        # Each statement takes its columns as arrays (``unnest``): psycopg2 turns a list into an array
        # literal in C, where a VALUES list is formatted row by row in Python; the time stamps, the
        # same for every row, are one parameter each.
        cursor = database.cursor()
        now = self.now
        if self.products:
            products = self.products
            cursor.execute(
                "INSERT INTO products (id, internal_sku, name, brand, category_id, status, created_at, updated_at) "
                "SELECT v.id, v.internal_sku, v.name, v.brand, v.category_id, v.status, %s, %s "
                "FROM unnest(%s::uuid[], %s::varchar[], %s::text[], %s::varchar[], %s::int[], %s::varchar[]) "
                "AS v(id, internal_sku, name, brand, category_id, status)",
                (now, now, [str(p["id"]) for p in products], [p["internal_sku"] for p in products],
                 [p["name"] for p in products], [p["brand"] for p in products], [p["category"] for p in products],
                 [p["status"] for p in products]),
            )
        if self.items:
            items = self.items
            cursor.execute(
                "UPDATE supplier_items AS s SET product_id = v.product_id, match_status = v.status, "
                "match_score = v.score, match_candidates = v.candidates, updated_at = %s "
                "FROM unnest(%s::uuid[], %s::uuid[], %s::varchar[], %s::real[], %s::jsonb[]) "
                "AS v(id, product_id, status, score, candidates) WHERE s.id = v.id",
                (now, [str(i[0]) for i in items], [str(i[1]) if i[1] else None for i in items],
                 [i[2] for i in items], [i[3] for i in items],
                 [json.dumps(i[4]) if i[4] is not None else None for i in items]),
            )
        if self.reviews:
            reviews = self.reviews
            cursor.execute(
                "INSERT INTO match_review_queue (supplier_item_id, candidate_products, status, best_score, "
                "expires_at, created_at, updated_at) "
                "SELECT v.id, v.candidates, 'pending', v.best, %s, %s, %s "
                "FROM unnest(%s::uuid[], %s::jsonb[], %s::real[]) AS v(id, candidates, best) "
                "ON CONFLICT (supplier_item_id) DO UPDATE SET candidate_products = EXCLUDED.candidate_products, "
                "status = EXCLUDED.status, best_score = EXCLUDED.best_score, expires_at = EXCLUDED.expires_at, "
                "updated_at = EXCLUDED.updated_at, decided_by = NULL, decided_product_id = NULL",
                (now + dt.timedelta(days=REVIEW_TTL_DAYS), now, now, [str(r[0]) for r in reviews],
                 [json.dumps(r[1], ensure_ascii=False) for r in reviews], [round(r[2], 2) for r in reviews]),
            )

    def _flush_other(self) -> None:
        for start in range(0, len(self.products), 50):
            Product.insert_many(self.products[start : start + 50]).execute()
        if self.items:
            p = database.param
            sql = (f"UPDATE supplier_items SET product_id = {p}, match_status = {p}, match_score = {p}, "
                   f"match_candidates = {p}, updated_at = {p} WHERE id = {p}")
            rows = [
                (
                    product.hex if product else None,
                    status,
                    score,
                    json.dumps(candidates) if candidates is not None else None,
                    self.now,
                    uuid.UUID(str(item_id)).hex,
                )
                for item_id, product, status, score, candidates in self.items
            ]
            database.cursor().executemany(sql, rows)
        for item_id, candidates, best in self.reviews:
            _queue_review(item_id, candidates, best, self.now)


def _apply_result(
    item_id: Any,
    name: str,
    characteristics: Any,
    category_path: str | None,
    entry: Entry,
    result: MatchResult,
    categories: dict[tuple[int | None, str], int],
    stats: MatchStats,
    writes: _BatchWrites,
) -> None:
    stats.processed += 1
    candidates = _candidates_json(result)
    score = round(result.score, 2)
    if result.decision == "auto" and result.product_id:
        stats.auto += 1
        stats.products.add(result.product_id)
        writes.items.append((item_id, uuid.UUID(result.product_id), "auto_matched", score, candidates))
    elif result.decision == "review":
        stats.review += 1
        writes.items.append((item_id, None, "potential_match", score, candidates))
        writes.reviews.append((item_id, candidates, result.score))
    else:
        stats.new += 1
        brand = (characteristics or {}).get("brand")
        product = _draft_row(name, brand, category_path, categories, writes.now)
        writes.products.append(product)
        pid = str(product["id"])
        category = _leaf(category_path)
        shared_catalog.added(pid, name, brand, category, as_product(entry, pid))
        stats.products.add(pid)
        writes.items.append((item_id, product["id"], "auto_matched", None, candidates))


def _update_item(
    item: SupplierItem,
    *,
    product: uuid.UUID | None,
    status: str,
    score: float | None,
    candidates: list[dict[str, Any]] | None,
    now: dt.datetime,
) -> None:
    SupplierItem.update(
        product=product,
        match_status=status,
        match_score=round(score, 2) if score is not None else None,
        match_candidates=candidates,
        updated_at=now,
    ).where(SupplierItem.id == item.id).execute()


def _queue_review(item_id: Any, candidates: list[dict[str, Any]], best: float, now: dt.datetime) -> None:
    (
        MatchReviewQueue.insert(
            supplier_item=item_id,
            candidate_products=candidates,
            status="pending",
            best_score=round(best, 2),
            expires_at=now + dt.timedelta(days=REVIEW_TTL_DAYS),
            created_at=now,
            updated_at=now,
        )
        .on_conflict(
            conflict_target=[MatchReviewQueue.supplier_item],
            preserve=[
                MatchReviewQueue.candidate_products,
                MatchReviewQueue.status,
                MatchReviewQueue.best_score,
                MatchReviewQueue.expires_at,
                MatchReviewQueue.updated_at,
            ],
            update={MatchReviewQueue.decided_by: None, MatchReviewQueue.decided_product_id: None},
        )
        .execute()
    )


def _category_id(path: str | None, cache: dict[tuple[int | None, str], int]) -> int | None:
    """The id of the last category of ``"A / B / C"``, creating the chain where missing."""
    parent: int | None = None
    for name in [p.strip()[:255] for p in (path or "").split(" / ") if p.strip()]:
        key = (parent, name)
        if key not in cache:
            found = Category.get_or_none((Category.name == name) & (
                Category.parent.is_null() if parent is None else Category.parent == parent))
            cache[key] = found.id if found else Category.create(name=name, parent=parent).id
        parent = cache[key]
    return parent


def draft_product(
    item: SupplierItem, categories: dict[tuple[int | None, str], int], now: dt.datetime
) -> dict[str, Any]:
    """The row of a ``draft`` product made from ``item`` (name, brand, category path), not yet inserted."""
    return _draft_row(item.name, (item.characteristics or {}).get("brand"), item.category_path, categories, now)


def _draft_row(
    name: str, brand: str | None, category_path: str | None, categories: dict[tuple[int | None, str], int],
    now: dt.datetime,
) -> dict[str, Any]:
    # Not uuid4(): its os.urandom call releases the GIL, and with matching threads busy that hand-off
    # cost more than the whole row; an id needs uniqueness, not secrecy (random is reseeded after fork).
    pid = uuid.UUID(int=random.getrandbits(128), version=4)
    return {
        "id": pid,
        "internal_sku": f"DRAFT-{pid.hex[:12].upper()}",
        "name": name,
        "brand": brand,
        "category": _category_id(category_path, categories),
        "status": "draft",
        "created_at": now,
        "updated_at": now,
    }


def create_draft_product(
    item: SupplierItem, categories: dict[tuple[int | None, str], int], now: dt.datetime
) -> Product:
    """A ``draft`` product made from ``item`` and inserted."""
    row = draft_product(item, categories, now)
    Product.insert(row).execute()
    return Product.get_by_id(row["id"])


# --- aggregates -------------------------------------------------------------------------
def recalc_products(product_ids: Iterable[str | uuid.UUID]) -> int:
    """Recalculate ``min_prices``/``min_price``/``availability`` of these products; returns how many.

    Over the offers linked to a product (``auto_matched`` or ``verified_match``)
    that are still listed (not delisted): the lowest price per currency among
    the available ones (``available`` true, or a stock above zero, or nothing
    said); when no offer is available, the lowest price among all of them, so
    a product keeps a reference price.  Availability: true when any offer is
    available, false when every offer says it is not, null when none says.
    """
    ids = sorted({uuid.UUID(str(p)) for p in product_ids})
    if _is_pg():
        now = utcnow()
        for start in range(0, len(ids), _RECALC_CHUNK_PG):
            batch = [str(pid) for pid in ids[start : start + _RECALC_CHUNK_PG]]
            with database.atomic():
                cursor = database.execute_sql(_RECALC_PG, (now, batch, LINKED_STATUSES))
                offered = {pid for (pid,) in cursor.fetchall()}
                without = [pid for pid in batch if pid not in offered]
                if without:
                    database.execute_sql(_RECALC_PG_NO_OFFER, (now, without))
        return len(ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        in_stock: dict[uuid.UUID, dict[str, Decimal]] = {pid: {} for pid in chunk}
        any_offer: dict[uuid.UUID, dict[str, Decimal]] = {pid: {} for pid in chunk}
        availability: dict[uuid.UUID, bool | None] = {pid: None for pid in chunk}
        rows = _tuples(SupplierItem.select(
            SupplierItem.product, SupplierItem.price, SupplierItem.currency, SupplierItem.available,
            SupplierItem.stock
        ).where(
            SupplierItem.product.in_(chunk)
            & SupplierItem.match_status.in_(LINKED_STATUSES)
            & SupplierItem.delisted_job_id.is_null()
        ), stream=True)
        for raw_pid, raw_price, currency, available, stock in rows:
            pid = raw_pid if isinstance(raw_pid, uuid.UUID) else uuid.UUID(str(raw_pid))
            says = available if available is not None else (Decimal(str(stock)) > 0 if stock is not None else None)
            if says is not None:
                availability[pid] = bool(availability[pid]) or says
            if raw_price is None or not currency:
                continue
            price = Decimal(str(raw_price))
            for table in (any_offer, in_stock) if says is not False else (any_offer,):
                best = table[pid].get(currency)
                if best is None or price < best:
                    table[pid][currency] = price
        now = utcnow()
        with database.atomic():
            for pid in chunk:
                per_currency = in_stock[pid] or any_offer[pid]
                single = next(iter(per_currency.items())) if len(per_currency) == 1 else None
                Product.update(
                    min_prices={k: f"{v:.2f}" for k, v in sorted(per_currency.items())} or None,
                    min_price=single[1] if single else None,
                    min_price_currency=single[0] if single else None,
                    availability=availability[pid],
                    updated_at=now,
                ).where(Product.id == pid).execute()
    return len(ids)


#: Products per transaction of :func:`recalc_products` on PostgreSQL.
_RECALC_CHUNK_PG = 2000

#: :func:`recalc_products` on PostgreSQL for the products with linked listed offers (params: the time
#: stamp, product ids as text[], the linked statuses); the rules of the Python loop of the other databases,
#: in one statement: per product and currency (``g``) the lowest price of the offers not known to be out of
#: stock (``available``, else a stock above zero, else nothing said: counted as available), the lowest of
#: all, and whether any offer says it is available; per product (``w``) whether it has such an in-stock
#: price in a named currency — then it lists only those currencies, else every currency (``chosen``);
#: ``{"RUB": "12.50"}`` (numeric(14,2) as text is the two-decimal form) and the single price and currency
#: when there is one.  Shaped for a planner that has no statistics yet (tables filled minutes ago): the
#: offers come by index (``= ANY``), one window and two GROUP BYs, and the products by primary key —
#: no join between two derived tables (one took 7 s for 5,000 products).
_RECALC_PG = """
UPDATE products AS p
SET min_prices = a.min_prices,
    min_price = CASE WHEN a.n = 1 THEN a.one_price END,
    min_price_currency = CASE WHEN a.n = 1 THEN a.one_currency END,
    availability = a.available,
    updated_at = %s
FROM (
    SELECT product_id,
           jsonb_object_agg(currency, price::text) FILTER (WHERE chosen) AS min_prices,
           count(*) FILTER (WHERE chosen) AS n,
           min(price) FILTER (WHERE chosen) AS one_price,
           min(currency) FILTER (WHERE chosen) AS one_currency,
           bool_or(says) AS available
    FROM (
        SELECT product_id, currency, says,
               CASE WHEN stocked THEN stocked_min ELSE any_min END AS price,
               currency IS NOT NULL AND currency <> '' AND any_min IS NOT NULL
                   AND (NOT stocked OR stocked_min IS NOT NULL) AS chosen
        FROM (
            SELECT product_id, currency, stocked_min, any_min, says,
                   bool_or(currency IS NOT NULL AND currency <> '' AND stocked_min IS NOT NULL)
                       OVER (PARTITION BY product_id) AS stocked
            FROM (
                SELECT product_id, currency,
                       min(price) FILTER (WHERE coalesce(available, stock > 0, true)) AS stocked_min,
                       min(price) AS any_min,
                       bool_or(coalesce(available, stock > 0)) AS says
                FROM supplier_items
                WHERE product_id = ANY(%s::uuid[]) AND match_status IN %s AND delisted_job_id IS NULL
                GROUP BY product_id, currency
            ) AS g
        ) AS w
    ) AS c
    GROUP BY product_id
) AS a
WHERE p.id = a.product_id
RETURNING p.id::text
"""

#: ... and for the products it did not return (no linked listed offer; params: the time stamp, their ids):
#: every aggregate empty.
_RECALC_PG_NO_OFFER = """
UPDATE products SET min_prices = NULL, min_price = NULL, min_price_currency = NULL, availability = NULL,
updated_at = %s WHERE id = ANY(%s::uuid[])
"""


# --- manual decisions -------------------------------------------------------------------
def apply_decision(
    action: Action,
    supplier_item_id: str,
    product_id: str | None = None,
    decided_by: str | None = None,
) -> dict[str, Any]:
    """Carry out a manager's decision on one supplier item; returns its new state.

    * ``link`` (``product_id`` required): link, ``verified_match``; a pending
      review is approved.
    * ``approve_match`` (``product_id`` optional: the best candidate): same as
      link, for an item under review.
    * ``reject_match``: none of the candidates fits — the review is rejected and
      the item is linked to a new draft product, ``verified_match``.
    * ``unlink``: the link is wrong — no product, ``potential_match``, a pending
      review with the other candidates.
    * ``reset_match``: forget link, score, candidates and review; ``unmatched``
      again, so the next run matches it afresh.

    Raises :class:`ItemNotFound`, :class:`ProductNotFound` or
    :class:`DecisionRefused` (e.g. ``approve_match`` with nothing to approve).
    """
    now = utcnow()
    with database.atomic():
        item = SupplierItem.get_or_none(SupplierItem.id == uuid.UUID(supplier_item_id))
        if item is None:
            raise ItemNotFound(f"no supplier item {supplier_item_id}")
        linked = item.product_id  # type: ignore[attr-defined]
        touched = {str(linked)} if linked else set()
        review = MatchReviewQueue.get_or_none(MatchReviewQueue.supplier_item == item.id)
        candidates = list(item.match_candidates or [])

        if action in ("link", "approve_match"):
            if product_id is None and action == "approve_match":
                if not candidates:
                    raise DecisionRefused(f"supplier item {supplier_item_id} has no candidate to approve")
                product_id = str(candidates[0]["product_id"])
            if product_id is None:
                raise DecisionRefused("link needs a product_id")
            if Product.get_or_none(Product.id == uuid.UUID(product_id)) is None:
                raise ProductNotFound(f"no product {product_id}")
            _update_item(item, product=uuid.UUID(product_id), status="verified_match", score=item.match_score,
                         candidates=candidates, now=now)
            touched.add(product_id)
            _close_review(review, "approved", decided_by, product_id, now)
        elif action == "reject_match":
            product = create_draft_product(item, {}, now)
            _update_item(item, product=product.id, status="verified_match", score=None, candidates=candidates, now=now)
            touched.add(str(product.id))
            _close_review(review, "rejected", decided_by, str(product.id), now)
        elif action == "unlink":
            wrong = str(linked) if linked else None
            rest = [c for c in candidates if str(c.get("product_id")) != wrong]
            _update_item(item, product=None, status="potential_match", score=None, candidates=rest, now=now)
            _queue_review(item.id, rest, float(rest[0]["score"]) if rest else 0.0, now)
        elif action == "reset_match":
            _update_item(item, product=None, status="unmatched", score=None, candidates=None, now=now)
            MatchReviewQueue.delete().where(MatchReviewQueue.supplier_item == item.id).execute()
        else:  # pragma: no cover - the message schema admits only the actions above
            raise DecisionRefused(f"unknown action {action!r}")
    recalc_products(touched)
    fresh = SupplierItem.get_by_id(item.id)
    now_linked = fresh.product_id  # type: ignore[attr-defined]
    return {
        "supplier_item_id": str(fresh.id),
        "action": action,
        "match_status": fresh.match_status,
        "product_id": str(now_linked) if now_linked else None,
    }


def _close_review(
    review: MatchReviewQueue | None, status: str, decided_by: str | None, product_id: str | None, now: dt.datetime
) -> None:
    if review is None:
        return
    MatchReviewQueue.update(
        status=status,
        decided_by=decided_by,
        decided_product_id=uuid.UUID(product_id) if product_id else None,
        updated_at=now,
    ).where(MatchReviewQueue.id == review.id).execute()


def expire_reviews(now: dt.datetime | None = None) -> int:
    """Expire pending reviews past ``expires_at``; their items go back to ``unmatched``. Returns how many."""
    now = now or utcnow()
    with database.atomic():
        expired = list(
            MatchReviewQueue.select(MatchReviewQueue.id, MatchReviewQueue.supplier_item).where(
                (MatchReviewQueue.status == "pending") & (MatchReviewQueue.expires_at < now)
            )
        )
        if not expired:
            return 0
        MatchReviewQueue.update(status="expired", updated_at=now).where(
            MatchReviewQueue.id.in_([r.id for r in expired])
        ).execute()
        SupplierItem.update(match_status="unmatched", updated_at=now).where(
            SupplierItem.id.in_([r.supplier_item_id for r in expired])  # type: ignore[attr-defined]
            & (SupplierItem.match_status == "potential_match")
        ).execute()
    return len(expired)
