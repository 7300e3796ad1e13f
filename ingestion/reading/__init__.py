"""Reading layer: supplier price lists (CSV/TSV, XLS, XLSX) → items and problems.

Pure (DESIGN §10): a path and :class:`ReadOptions` in, a :class:`PriceList`
whose ``records()`` yields :class:`Item` and :class:`~ingestion.errors.Problem`
in file order.  Modules: ``csv_reader``/``xls_reader``/``xlsx_reader`` (one
reader per format), ``layout`` (header and column roles), ``synonyms``
(multilingual header words), ``normalize``/``currency`` (cell values →
fields), ``rows`` (row classification), ``api`` (format sniffing).
"""

from ingestion.reading.api import open_price_list, sniff_format
from ingestion.reading.model import ROLES, Item, PriceList, ReadOptions, SheetLayout

__all__ = ["ROLES", "Item", "PriceList", "ReadOptions", "SheetLayout", "open_price_list", "sniff_format"]
