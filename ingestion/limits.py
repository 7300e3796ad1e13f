"""The sizes of the stored columns (migrations/0001): what a value must fit to be stored.

Kept apart so the reader (which counts what the store will refuse) and the
store's row checks (:mod:`ingestion.checks`) read one definition; this module
imports nothing of the package.
"""

from decimal import Decimal

#: ``supplier_items.price``: NUMERIC(14, 2).
MAX_PRICE = Decimal("999999999999.99")
#: ``supplier_items.stock``: NUMERIC(14, 3).
MAX_STOCK = Decimal("99999999999.999")
#: ``supplier_items.supplier_sku`` and other keys: VARCHAR(255).
MAX_KEY_LENGTH = 255
#: ``supplier_items.unit``: VARCHAR(32).
MAX_UNIT_LENGTH = 32
#: ``parsing_logs.sheet`` and the items' sheet: VARCHAR(255).
MAX_SHEET_LENGTH = 255
