"""Peewee models over the tables the yoyo migrations create (DESIGN §4).

Money columns are ``NUMERIC(14, 2)`` read back as :class:`~decimal.Decimal`;
currencies are ISO 4217 codes; timestamps are naive UTC.
"""

from __future__ import annotations

import datetime as dt
import uuid

import peewee

from ingestion.models.db import JSONField, database


def utcnow() -> dt.datetime:
    """Now in UTC, without a zone (the schema stores UTC)."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class BaseModel(peewee.Model):
    class Meta:
        database = database
        legacy_table_names = False


class Supplier(BaseModel):
    """A supplier; ``name_key`` is the case-folded name that makes names unique."""

    id = peewee.UUIDField(primary_key=True, default=uuid.uuid4)
    name = peewee.CharField(max_length=255)
    name_key = peewee.CharField(max_length=255, unique=True)
    source_type = peewee.CharField(max_length=32, null=True)
    source_url = peewee.TextField(null=True)
    meta = JSONField(default=dict)
    is_active = peewee.BooleanField(default=True)
    created_at = peewee.DateTimeField(default=utcnow)
    updated_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "suppliers"

    @staticmethod
    def key_for(name: str) -> str:
        """The case-insensitive key of a supplier name ("ООО Ромашка " → "ооо ромашка")."""
        return " ".join(name.split()).casefold()


class Category(BaseModel):
    id = peewee.AutoField()
    name = peewee.CharField(max_length=255)
    parent = peewee.ForeignKeyField("self", null=True, column_name="parent_id", backref="children")

    class Meta:
        table_name = "categories"


class Product(BaseModel):
    """A master-catalog product.

    ``status``: ``draft`` (made by the matcher for an item nothing matched),
    ``active``, ``archived``.  Aggregates over linked supplier items
    (auto-matched or verified): ``min_prices`` ``{ISO 4217: "12.50"}``;
    ``min_price``/``min_price_currency`` when they share one currency;
    ``availability`` true when any is available, false when all are not,
    null when none says.
    """

    id = peewee.UUIDField(primary_key=True, default=uuid.uuid4)
    internal_sku = peewee.CharField(max_length=64, unique=True)
    name = peewee.TextField()
    category = peewee.ForeignKeyField(Category, null=True, column_name="category_id")
    status = peewee.CharField(max_length=16, default="draft")
    brand = peewee.CharField(max_length=255, null=True)
    min_price = peewee.DecimalField(max_digits=14, decimal_places=2, null=True)
    min_price_currency = peewee.CharField(max_length=3, null=True)
    min_prices = JSONField(null=True)
    availability = peewee.BooleanField(null=True)
    created_at = peewee.DateTimeField(default=utcnow)
    updated_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "products"


class SupplierItem(BaseModel):
    """One supplier's offer of one product, keyed by ``(supplier, supplier_sku)``.

    When the file has no SKU column the key is derived from the name and
    ``sku_from_name`` is true.  ``source_*`` columns are the provenance: the
    file's sha256, sheet and row the current values came from.
    """

    id = peewee.UUIDField(primary_key=True, default=uuid.uuid4)
    supplier = peewee.ForeignKeyField(Supplier, column_name="supplier_id", backref="items")
    supplier_sku = peewee.CharField(max_length=255)
    sku_from_name = peewee.BooleanField(default=False)
    name = peewee.TextField()
    price = peewee.DecimalField(max_digits=14, decimal_places=2, null=True, auto_round=True)
    currency = peewee.CharField(max_length=3, null=True)
    unit = peewee.CharField(max_length=32, null=True)
    stock = peewee.DecimalField(max_digits=14, decimal_places=3, null=True, auto_round=True)
    available = peewee.BooleanField(null=True)
    category_path = peewee.TextField(null=True)
    characteristics = JSONField(default=dict)
    product = peewee.ForeignKeyField(Product, null=True, column_name="product_id")
    match_status = peewee.CharField(max_length=20, default="unmatched")
    match_score = peewee.FloatField(null=True)
    match_candidates = JSONField(null=True)
    last_seen_job_id = peewee.CharField(max_length=64, null=True)
    source_sha256 = peewee.CharField(max_length=64, null=True)
    source_sheet = peewee.CharField(max_length=255, null=True)
    source_row = peewee.IntegerField(null=True)
    source_page = peewee.IntegerField(null=True)
    content_hash = peewee.CharField(max_length=32, null=True)
    delisted_job_id = peewee.CharField(max_length=64, null=True)
    created_at = peewee.DateTimeField(default=utcnow)
    updated_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "supplier_items"
        indexes = ((("supplier", "supplier_sku"), True),)


class PriceHistory(BaseModel):
    id = peewee.AutoField()
    supplier_item = peewee.ForeignKeyField(SupplierItem, column_name="supplier_item_id")
    price = peewee.DecimalField(max_digits=14, decimal_places=2)
    currency = peewee.CharField(max_length=3, null=True)
    job_id = peewee.CharField(max_length=64, null=True)
    recorded_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "price_history"


class ParsingLog(BaseModel):
    """One problem met while ingesting (a row, a file or a message); never wiped wholesale."""

    id = peewee.AutoField()
    job_id = peewee.CharField(max_length=64, null=True)
    supplier_id = peewee.UUIDField(null=True)
    level = peewee.CharField(max_length=10)
    error_type = peewee.CharField(max_length=64)
    message = peewee.TextField()
    sheet = peewee.CharField(max_length=255, null=True)
    row_number = peewee.IntegerField(null=True)
    column_name = peewee.CharField(max_length=255, null=True)
    page = peewee.IntegerField(null=True)
    source_sha256 = peewee.CharField(max_length=64, null=True)
    row_data = JSONField(null=True)
    created_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "parsing_logs"


class MatchReviewQueue(BaseModel):
    id = peewee.AutoField()
    supplier_item = peewee.ForeignKeyField(SupplierItem, column_name="supplier_item_id", unique=True)
    candidate_products = JSONField()
    status = peewee.CharField(max_length=16, default="pending")
    best_score = peewee.FloatField(null=True)
    decided_by = peewee.CharField(max_length=255, null=True)
    decided_product_id = peewee.UUIDField(null=True)
    expires_at = peewee.DateTimeField(null=True)
    created_at = peewee.DateTimeField(default=utcnow)
    updated_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "match_review_queue"


class IngestionRun(BaseModel):
    """One parsed list of a supplier: counts, diff against the previous published list, guard-rail verdict.

    ``status``: ``staged`` (being parsed), ``published``, ``held`` (waiting for
    ``release_job``/``reject_job``), ``released``, ``rejected``, ``expired``.
    """

    job_id = peewee.CharField(max_length=64, primary_key=True)
    supplier = peewee.ForeignKeyField(Supplier, column_name="supplier_id")
    status = peewee.CharField(max_length=16)
    source_sha256 = peewee.CharField(max_length=64, null=True)
    file_type = peewee.CharField(max_length=16, null=True)
    rows_read = peewee.IntegerField(default=0)
    items = peewee.IntegerField(default=0)
    rows_failed = peewee.IntegerField(default=0)
    previous_job_id = peewee.CharField(max_length=64, null=True)
    diff = JSONField(null=True)
    held_reasons = JSONField(null=True)
    decided_by = peewee.CharField(max_length=255, null=True)
    created_at = peewee.DateTimeField(default=utcnow)
    finished_at = peewee.DateTimeField(null=True)

    class Meta:
        table_name = "ingestion_runs"


class StagedItem(BaseModel):
    """A row of a run kept until the run is published or dropped.

    ``change``: ``new`` (SKU not in the previous list), ``price`` (price or
    currency moved), ``other`` (another value changed), ``gone`` (listed before,
    not now; only the key columns are filled).  A SKU that returns (delisted
    before, listed again) is staged as ``price`` when its price or currency
    differs from the one it was delisted with (it gets a price-history row),
    else as ``other``.  ``item_id`` is the id a new item gets (a returning
    item's own id).
    """

    job_id = peewee.CharField(max_length=64)
    item_id = peewee.UUIDField()
    supplier_id = peewee.UUIDField()
    supplier_sku = peewee.CharField(max_length=255)
    sku_from_name = peewee.BooleanField(default=False)
    name = peewee.TextField()
    price = peewee.DecimalField(max_digits=14, decimal_places=2, null=True)
    currency = peewee.CharField(max_length=3, null=True)
    unit = peewee.CharField(max_length=32, null=True)
    stock = peewee.DecimalField(max_digits=14, decimal_places=3, null=True)
    available = peewee.BooleanField(null=True)
    category_path = peewee.TextField(null=True)
    characteristics = JSONField(default=dict)
    content_hash = peewee.CharField(max_length=32)
    change = peewee.CharField(max_length=8)
    source_sha256 = peewee.CharField(max_length=64, null=True)
    source_sheet = peewee.CharField(max_length=255, null=True)
    source_row = peewee.IntegerField(null=True)
    source_page = peewee.IntegerField(null=True)

    class Meta:
        table_name = "staged_items"
        primary_key = peewee.CompositeKey("job_id", "supplier_sku")


class SupplierLayout(BaseModel):
    """The layout of a supplier's last good list and its header signature (sha1 hex)."""

    supplier = peewee.ForeignKeyField(Supplier, column_name="supplier_id", primary_key=True)
    signature = peewee.CharField(max_length=40)
    layout = JSONField()
    job_id = peewee.CharField(max_length=64, null=True)
    updated_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "supplier_layouts"


ALL_MODELS = [
    Supplier, Category, Product, SupplierItem, PriceHistory, ParsingLog, MatchReviewQueue,
    IngestionRun, StagedItem, SupplierLayout,
]
