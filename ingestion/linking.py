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
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
import uuid
from decimal import Decimal
from typing import Any, Callable, Iterable, Literal

import attrs
import peewee

from ingestion.errors import PermanentError
from ingestion.matching import Catalog, Matcher, MatchResult
from ingestion.matching import Item as MatchItem
from ingestion.matching import Product as MatchProduct
from ingestion.models import Category, MatchReviewQueue, Product, SupplierItem, database, utcnow

#: Days a review request waits for a manager before it expires.
REVIEW_TTL_DAYS = 14
#: Items taken (and locked) per transaction.
MATCH_BATCH_SIZE = 200
#: Statuses whose link counts for product aggregates.
LINKED_STATUSES = ("auto_matched", "verified_match")

Action = Literal["link", "unlink", "reset_match", "approve_match", "reject_match"]
ProgressCallback = Callable[[int, int], None]


class ItemNotFound(PermanentError):
    slug = "supplier_item_not_found"


class ProductNotFound(PermanentError):
    slug = "product_not_found"


class DecisionRefused(PermanentError):
    slug = "decision_refused"


@attrs.define
class MatchStats:
    """Counts of one matching run; ``products`` are the ids whose aggregates were recalculated."""

    processed: int = 0
    remaining: int = 0
    auto: int = 0
    review: int = 0
    new: int = 0
    products: set[str] = attrs.field(factory=set)


# --- catalog ----------------------------------------------------------------------------
def _category_names() -> dict[int, str]:
    return {c.id: c.name for c in Category.select(Category.id, Category.name)}


class _SharedCatalog:
    """The catalog of this worker process, kept between matching runs (DESIGN §8: building it costs
    seconds for a large catalog, and every supplier's run needs it).

    Products created since the last run are added incrementally; the whole catalog is read again
    every :data:`CATALOG_RELOAD_SECONDS` (names edited, products archived) and after a failed run.
    Matching runs of one process take turns (:data:`lock`): the matcher is CPU-bound, so threads
    would not run it in parallel anyway, and the catalog must not grow under a running match.
    """

    lock = threading.Lock()

    def __init__(self) -> None:
        self.catalog: Catalog | None = None
        self.known: set[str] = set()
        self.loaded_at = 0.0
        self.newest: dt.datetime | None = None
        self.db: object = None

    def get(self) -> Catalog:
        db = database.obj
        if self.catalog is None or self.db is not db or time.monotonic() - self.loaded_at > CATALOG_RELOAD_SECONDS:
            self.catalog, self.known, self.newest = Catalog(), set(), None
            self.db, self.loaded_at = db, time.monotonic()
            self._add(Product.select(Product.id, Product.name, Product.brand, Product.category, Product.created_at)
                      .where(Product.status != "archived"))
        else:
            since = self.newest - dt.timedelta(seconds=CATALOG_OVERLAP_SECONDS) if self.newest else None
            query = Product.select(Product.id, Product.name, Product.brand, Product.category, Product.created_at).where(
                Product.status != "archived")
            if since is not None:
                query = query.where(Product.created_at >= since)
            self._add(query)
        return self.catalog

    def _add(self, query: Any) -> None:
        assert self.catalog is not None
        names = _category_names()
        for p in query.iterator():
            pid = str(p.id)
            if pid in self.known:
                continue
            self.known.add(pid)
            self.catalog.add(MatchProduct(id=pid, name=p.name, brand=p.brand, category=names.get(p.category_id)))
            if self.newest is None or p.created_at > self.newest:
                self.newest = p.created_at

    def added(self, product_id: str) -> None:
        """A product this process created and already added to the catalog."""
        self.known.add(product_id)

    def forget(self) -> None:
        self.catalog = None


#: Seconds between full reloads of the shared catalog.
CATALOG_RELOAD_SECONDS = 600
#: Products created this many seconds before the newest one seen are looked at again (clocks, late commits).
CATALOG_OVERLAP_SECONDS = 120
shared_catalog = _SharedCatalog()


def as_match_item(item: SupplierItem) -> MatchItem:
    """The matcher's view of a supplier item: name, real SKU (not a name-derived key), brand, leaf category."""
    characteristics = item.characteristics or {}
    category = item.category_path.split(" / ")[-1] if item.category_path else None
    return MatchItem(
        id=str(item.id),
        name=item.name,
        sku=None if item.sku_from_name else item.supplier_sku,
        brand=characteristics.get("brand"),
        category=category,
    )


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
) -> MatchStats:
    """Match the ``unmatched`` items of ``supplier_id``; returns the counts.

    ``matcher_options`` are :class:`~ingestion.matching.Matcher` keywords
    (``auto_threshold``, ``potential_threshold``, ``max_candidates``).
    ``progress(done, total)`` is called after each batch.  With ``deadline``
    (a ``time.monotonic()`` value) it stops after the batch that passes it and
    reports what is left in ``remaining``, so the caller can continue in a new
    message instead of running into its time limit.  Products whose linked
    items' prices may have changed with this list count as touched.
    """
    sid = uuid.UUID(str(supplier_id))
    unmatched = (SupplierItem.supplier == sid) & (SupplierItem.match_status == "unmatched")
    total = SupplierItem.select().where(unmatched).count()
    stats = MatchStats()
    linked = (
        SupplierItem.select(SupplierItem.product)
        .where((SupplierItem.supplier == sid) & SupplierItem.product.is_null(False))
        .distinct()
    )
    already = {str(r.product_id) for r in linked}  # type: ignore[attr-defined]
    if total == 0:
        recalc_products(already)
        return stats
    with shared_catalog.lock:
        try:
            _match_batches(sid, unmatched, total, matcher_options, batch_size, progress, deadline, stats)
        except BaseException:
            shared_catalog.forget()  # drafts of a rolled-back batch may be in it
            raise
    recalc_products(stats.products | already)
    return stats


def _match_batches(
    sid: uuid.UUID,
    unmatched: Any,
    total: int,
    matcher_options: dict[str, Any],
    batch_size: int,
    progress: ProgressCallback | None,
    deadline: float | None,
    stats: MatchStats,
) -> None:
    catalog = shared_catalog.get()
    matcher = Matcher(catalog, **matcher_options)
    categories: dict[tuple[int | None, str], int] = {}
    while True:
        with database.atomic():
            query = SupplierItem.select().where(unmatched).order_by(SupplierItem.id).limit(batch_size)
            if isinstance(database.obj, peewee.PostgresqlDatabase):
                query = query.for_update(skip_locked=True)
            batch = list(query)
            if not batch:
                break
            writes = _BatchWrites(utcnow())
            for item in batch:
                result = matcher.match_one(as_match_item(item))
                _apply_result(item, result, catalog, categories, stats, writes)
            writes.flush()
        if progress:
            progress(stats.processed, total)
        if deadline is not None and time.monotonic() > deadline:
            stats.remaining = SupplierItem.select().where(unmatched).count()
            if stats.remaining:
                break


class _BatchWrites:
    """The writes of one batch of decisions, made in a few statements instead of one per item."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now
        self.products: list[dict[str, Any]] = []
        self.items: list[tuple[Any, ...]] = []
        self.reviews: list[dict[str, Any]] = []

    def flush(self) -> None:
        if self.products:
            Product.insert_many(self.products).execute()
        if self.items:
            pg = isinstance(database.obj, peewee.PostgresqlDatabase)
            p = database.param
            sql = (f"UPDATE supplier_items SET product_id = {p}, match_status = {p}, match_score = {p}, "
                   f"match_candidates = {p}, updated_at = {p} WHERE id = {p}")
            rows = [
                (
                    (str(product) if pg else product.hex) if product else None,
                    status,
                    score,
                    json.dumps(candidates) if candidates is not None else None,
                    self.now,
                    str(item_id) if pg else uuid.UUID(str(item_id)).hex,
                )
                for item_id, product, status, score, candidates in self.items
            ]
            cursor = database.cursor()
            if pg:
                from psycopg2.extras import execute_batch

                execute_batch(cursor, sql, rows, page_size=500)
            else:
                cursor.executemany(sql, rows)
        for review in self.reviews:
            _queue_review(review["item_id"], review["candidates"], review["best"], self.now)


def _apply_result(
    item: SupplierItem,
    result: MatchResult,
    catalog: Catalog,
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
        writes.items.append((item.id, uuid.UUID(result.product_id), "auto_matched", score, candidates))
    elif result.decision == "review":
        stats.review += 1
        writes.items.append((item.id, None, "potential_match", score, candidates))
        writes.reviews.append({"item_id": item.id, "candidates": candidates, "best": result.score})
    else:
        stats.new += 1
        product = draft_product(item, categories, writes.now)
        writes.products.append(product)
        catalog.add(MatchProduct(id=str(product["id"]), name=product["name"], brand=product["brand"],
                                 category=item.category_path.split(" / ")[-1] if item.category_path else None))
        stats.products.add(str(product["id"]))
        shared_catalog.added(str(product["id"]))
        writes.items.append((item.id, product["id"], "auto_matched", None, candidates))


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
    return {
        "id": uuid.uuid4(),
        "internal_sku": f"DRAFT-{uuid.uuid4().hex[:12].upper()}",
        "name": item.name,
        "brand": (item.characteristics or {}).get("brand"),
        "category": _category_id(item.category_path, categories),
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
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        in_stock: dict[uuid.UUID, dict[str, Decimal]] = {pid: {} for pid in chunk}
        any_offer: dict[uuid.UUID, dict[str, Decimal]] = {pid: {} for pid in chunk}
        availability: dict[uuid.UUID, bool | None] = {pid: None for pid in chunk}
        rows = SupplierItem.select(
            SupplierItem.product, SupplierItem.price, SupplierItem.currency, SupplierItem.available, SupplierItem.stock
        ).where(
            SupplierItem.product.in_(chunk)
            & SupplierItem.match_status.in_(LINKED_STATUSES)
            & SupplierItem.delisted_job_id.is_null()
        )
        for row in rows.iterator():
            raw_pid = row.product_id  # type: ignore[attr-defined]
            pid = raw_pid if isinstance(raw_pid, uuid.UUID) else uuid.UUID(str(raw_pid))
            says = row.available if row.available is not None else (
                Decimal(str(row.stock)) > 0 if row.stock is not None else None)
            if says is not None:
                availability[pid] = bool(availability[pid]) or says
            if row.price is None or not row.currency:
                continue
            price = Decimal(str(row.price))
            for table in (any_offer, in_stock) if says is not False else (any_offer,):
                best = table[pid].get(row.currency)
                if best is None or price < best:
                    table[pid][row.currency] = price
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
