"""Storage: Peewee models over the yoyo-migrated schema, and the database handle."""

from ingestion.models.db import JSONField, apply_migrations, database, open_database
from ingestion.models.tables import (
    ALL_MODELS,
    Category,
    IngestionRun,
    MatchReviewQueue,
    ParsingLog,
    PriceHistory,
    Product,
    StagedItem,
    Supplier,
    SupplierItem,
    SupplierLayout,
    utcnow,
)

__all__ = [
    "ALL_MODELS",
    "Category",
    "IngestionRun",
    "JSONField",
    "MatchReviewQueue",
    "ParsingLog",
    "PriceHistory",
    "Product",
    "StagedItem",
    "Supplier",
    "SupplierItem",
    "SupplierLayout",
    "apply_migrations",
    "database",
    "open_database",
    "utcnow",
]
