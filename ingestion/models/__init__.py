"""Storage: Peewee models over the yoyo-migrated schema, and the database handle."""

from ingestion.models.db import JSONField, apply_migrations, database, open_database
from ingestion.models.tables import (
    ALL_MODELS,
    Category,
    MatchReviewQueue,
    ParsingLog,
    PriceHistory,
    Product,
    Supplier,
    SupplierItem,
    utcnow,
)

__all__ = [
    "ALL_MODELS",
    "Category",
    "JSONField",
    "MatchReviewQueue",
    "ParsingLog",
    "PriceHistory",
    "Product",
    "Supplier",
    "SupplierItem",
    "apply_migrations",
    "database",
    "open_database",
    "utcnow",
]
