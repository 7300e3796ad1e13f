"""The catalog index: normalised products plus inverted indexes for candidate blocking.

:class:`Catalog` is built once from products and grows with :meth:`Catalog.add`
(amortised O(tokens of the product); no rebuild).  Token weights are inverse
document frequencies computed from the live counts; each product's total weight
(its "norm") is cached and recomputed lazily, all at once, when the catalog has
grown by more than :data:`NORM_REFRESH_GROWTH` since the last refresh (so a run
adding products one by one stays linear).
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Iterable

import attrs

from ingestion.matching.brands import canonical_brand
from ingestion.matching.normalize import NormalizedName, code_core, normalize_name
from ingestion.matching.records import Item, Product

__all__ = ["Catalog", "Entry", "CODE_WEIGHT", "NORM_REFRESH_GROWTH", "prepare"]

#: Weight multiplier of a model number / code over a word of the same rarity.
CODE_WEIGHT = 2.5
#: Relative catalog growth after which cached product norms are recomputed.
NORM_REFRESH_GROWTH = 0.10


@attrs.frozen
class Entry:
    """A product or item after normalisation: what the scorer reads.

    ``codes`` include the normalised SKU key when one is given; ``cores`` are the
    codes without trailing letter suffixes; ``brand`` and ``category`` are
    canonical tokens or None.
    """

    id: str
    name: str
    norm: NormalizedName
    codes: frozenset[str]
    cores: frozenset[str]
    sku: str | None
    brand: str | None
    category: str | None


def _sku_key(sku: str | None) -> str | None:
    if not sku:
        return None
    key = normalize_name(sku)
    joined = "".join(key.tokens)
    return joined or None


def _strong(code: str) -> bool:
    """A code long enough to be evidence on its own (4+ characters)."""
    return len(code) >= 4


def prepare(record: Product | Item) -> Entry:
    """Normalise a product or item into an :class:`Entry` (never raises)."""
    norm = normalize_name(record.name)
    sku = _sku_key(record.sku)
    codes = set(norm.codes)
    if sku:
        codes.add(sku)
    cores = {code_core(c) for c in codes if _strong(code_core(c)) and any(ch.isdigit() for ch in c)}
    category = " ".join(record.category.casefold().split()) if record.category else None
    return Entry(
        id=str(record.id),
        name=record.name,
        norm=norm,
        codes=frozenset(codes),
        cores=frozenset(cores),
        sku=sku,
        brand=canonical_brand(record.brand),
        category=category or None,
    )


class Catalog:
    """Products indexed for matching.

    ``Catalog(products)`` normalises and indexes each product; ``add(product)``
    appends one more (a product id seen before replaces nothing: ids are taken as
    given, duplicates are indexed twice).  Lookups return internal row numbers
    (``int``) into :attr:`entries`; :attr:`texts` holds the normalised names in the same
    order (for whole-catalog RapidFuzz calls).
    """

    def __init__(self, products: Iterable[Product] = ()) -> None:
        self.entries: list[Entry] = []
        self.texts: list[str] = []
        self.postings: dict[str, list[int]] = {}
        self.code_index: dict[str, list[int]] = {}
        self.core_index: dict[str, list[int]] = {}
        self.sku_index: dict[str, list[int]] = {}
        self.first_tokens: Counter[str] = Counter()
        self.explicit_brands: set[str] = set()
        self._norms: list[float] = []
        self._norms_at: int = 0
        for p in products:
            self.add(p)

    def __len__(self) -> int:
        return len(self.entries)

    def add(self, product: Product) -> int:
        """Index one product; returns its row number.  Cost: O(its tokens)."""
        entry = prepare(product)
        row = len(self.entries)
        self.entries.append(entry)
        self.texts.append(entry.norm.text)
        for tok in entry.norm.tokens:
            self.postings.setdefault(tok, []).append(row)
        for code in entry.codes:
            self.code_index.setdefault(code, []).append(row)
        for core in entry.cores:
            self.core_index.setdefault(core, []).append(row)
        if entry.sku:
            self.sku_index.setdefault(entry.sku, []).append(row)
        if entry.norm.tokens and entry.norm.tokens[0].isalpha():
            self.first_tokens[entry.norm.tokens[0]] += 1
        if entry.brand:
            self.explicit_brands.add(entry.brand)
        return row

    # -- weights ---------------------------------------------------------------------------

    def df(self, token: str) -> int:
        """How many products hold ``token`` (0 if none)."""
        return len(self.postings.get(token, ()))

    def weight(self, token: str, is_code: bool = False) -> float:
        """IDF weight of a token, ×:data:`CODE_WEIGHT` for codes: ``log(1 + (N + 1) / (df + 1))``."""
        n = len(self.entries)
        w = math.log(1.0 + (n + 1) / (self.df(token) + 1))
        return w * CODE_WEIGHT if is_code else w

    def entry_weight(self, entry: Entry) -> float:
        """Sum of token weights of an entry (codes weighted up)."""
        codes = entry.norm.codes
        return sum(self.weight(t, t in codes) for t in entry.norm.tokens)

    def norm(self, row: int) -> float:
        """Cached :meth:`entry_weight` of a product, refreshed lazily as the catalog grows."""
        n = len(self.entries)
        if n > self._norms_at * (1.0 + NORM_REFRESH_GROWTH) or not self._norms:
            self._norms = [self.entry_weight(e) for e in self.entries]
            self._norms_at = n
        while len(self._norms) < n:
            self._norms.append(self.entry_weight(self.entries[len(self._norms)]))
        return self._norms[row]

    # -- brands ----------------------------------------------------------------------------

    def is_brand(self, token: str) -> bool:
        """True when ``token`` is a brand here: given as a brand, or the first word of 2+ product names."""
        return token in self.explicit_brands or self.first_tokens.get(token, 0) >= 2

    def brand_of(self, entry: Entry) -> str | None:
        """The explicit brand, else the first name token when :meth:`is_brand` says it is one."""
        if entry.brand:
            return entry.brand
        toks = entry.norm.tokens
        if toks and self.is_brand(toks[0]):
            return toks[0]
        return None
