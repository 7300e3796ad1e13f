"""Evidence → score (0–100) for one item/product pair.

The score is built from two parts:

* **text similarity** in [0, 1]: the mean of an IDF-weighted token overlap
  (rare words and codes count more: see :class:`~ingestion.matching.index.Catalog`)
  and RapidFuzz ``token_set_ratio`` / 100 on the normalised names (computed by the
  caller in one ``process.extract`` call per item over its surviving candidates);
* **code relation** between the two sides' model numbers / SKUs, which picks the
  score band.  A model number is the most specific thing in a product name, so it
  decides which band the text similarity moves in:

  ========== ============================================================ =================
  relation   meaning                                                       score
  ========== ============================================================ =================
  identical  same token set after normalisation                            100
  sku        equal SKU fields (5+ characters with a digit)                 96 + 4·sim
  exact      a shared specific code (4+ chars), or a short equal SKU       90 + 10·sim
  core       codes equal up to a trailing letter suffix (colour, variant)  70 + 22·sim
  none       no comparable codes (one side has none, or catalogue number)  94·sim^0.7
  mismatch   both have model codes, unrelated                              80·sim^0.7
  conflict   same family, different number ("pslx350h" vs "pslx300h")     50·sim
  ========== ============================================================ =================

  A *specific* code is held by few catalog products (:data:`COMMON_CODE_DF`) and is
  not a number glued to an ordinary word ("6-disc", "24port").  The exponent 0.7
  lifts mid-range text similarity so that a plausible but code-less pair reaches
  review instead of "new".

  Then: a brand conflict (both brands known, neither in the other's name)
  multiplies by 0.6 (0.85 when a brand was only guessed from the first word), or
  takes 8 points off a shared-code score; different colour words take 5 points
  off a code match or multiply by 0.93; a unit conflict (same unit, disjoint
  values: "16gb" vs "32gb") multiplies by 0.8, else disjoint bare numbers
  ("2007" vs "2003") by 0.9; a category conflict (both given, different)
  multiplies by 0.9.  Auto-linking therefore needs a shared specific code and a
  text similarity of at least one half with no conflict, or identical names —
  conservative on purpose, since a wrong automatic link costs more than a review.
"""

from __future__ import annotations

import re
from typing import Literal

from ingestion.matching.index import Catalog, Entry
from ingestion.matching.normalize import code_family

__all__ = ["CodeRelation", "code_relation", "text_similarity", "weighted_overlap", "pair_score"]

CodeRelation = Literal["sku", "exact", "core", "none", "mismatch", "conflict"]

_UNIT_SPLIT = re.compile(r"^(\d+(?:\.\d+)?)([a-z]+)$")


#: A code held by more catalog products than this (or this fraction of the catalog) is a spec
#: ("1080p", "2line"), not a model number: it counts as a plain word.
COMMON_CODE_DF = 5
COMMON_CODE_FRACTION = 0.0005


_NUMBER_WORD = re.compile(r"^(?:\d+([a-z]{3,})|([a-z]{3,})\d+)$")


def _spec_like(catalog: Catalog, code: str) -> bool:
    """A number glued to an ordinary word ("6disc", "24port", "2line") describes, not identifies.

    The word counts as ordinary when the catalog also uses it as a word of its own.
    """
    m = _NUMBER_WORD.match(code)
    if not m:
        return False
    word = m.group(1) or m.group(2)
    return catalog.df(word) > 0


def _specific_codes(catalog: Catalog, codes: frozenset[str]) -> set[str]:
    limit = max(COMMON_CODE_DF, int(COMMON_CODE_FRACTION * len(catalog)))
    return {
        c
        for c in codes
        if (len(c) >= 4 or (len(c) >= 3 and c[0].isalpha()))
        and len(catalog.code_index.get(c, ())) <= limit
        and not _spec_like(catalog, c)
    }


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def _clash(a: set[str], b: set[str]) -> bool:
    """Two code sets clash when some pair looks like one family with another number.

    Letter-bearing codes clash when they share their leading letters or a 3+ character
    prefix yet neither is a prefix of the other ("pslx350h" / "pslx300h", "kxts208w" /
    "kxtsc14w"); digit-only codes clash when they have the same length (5+) and differ.
    """
    for x in a:
        for y in b:
            if x == y or x.startswith(y) or y.startswith(x):
                continue
            if x.isdigit() and y.isdigit():
                if len(x) == len(y) and len(x) >= 5:
                    return True
                continue
            if x.isdigit() or y.isdigit():
                continue
            fam_x, fam_y = code_family(x), code_family(y)
            if (fam_x and fam_x == fam_y) or _common_prefix(x, y) >= 3:
                return True
    return False


def code_relation(catalog: Catalog, item: Entry, product: Entry) -> CodeRelation:
    """How the model numbers / SKUs of an item and a product relate (see the module table).

    Only *specific* codes count: held by at most ``max(COMMON_CODE_DF, COMMON_CODE_FRACTION × N)``
    catalog products.  A product code may also be met by a plain 5+ character item word
    (and the other way round): "mbaclrsee" equals the code of "mba-clr-see".
    """
    if item.sku and product.sku and item.sku == product.sku:
        return "sku" if len(item.sku) >= 5 and any(ch.isdigit() for ch in item.sku) else "exact"
    ic, pc = _specific_codes(catalog, item.codes), _specific_codes(catalog, product.codes)
    long_i = {t for t in item.norm.tokens if len(t) >= 5}
    long_p = {t for t in product.norm.tokens if len(t) >= 5}
    shared = (ic & pc) | (pc & long_i) | (ic & long_p)
    if shared:
        # A shared code next to two clashing ones (same family, other number) is only a near match.
        return "core" if _clash(ic - shared, pc - shared) else "exact"
    if item.cores & product.cores:
        return "core"
    for a in ic:
        for b in pc:
            short, long_ = (a, b) if len(a) <= len(b) else (b, a)
            if len(short) >= 4 and long_.startswith(short) and any(ch.isdigit() for ch in short):
                return "core"
    if _clash(ic, pc):
        return "conflict"
    letters_i = {c for c in ic if not c.isdigit()}
    letters_p = {c for c in pc if not c.isdigit()}
    # Model code on both sides, unrelated.  A model code against a catalogue number is no evidence.
    return "mismatch" if letters_i and letters_p else "none"


def weighted_overlap(catalog: Catalog, item: Entry, item_weight: float, row: int) -> float:
    """IDF-weighted overlap in [0, 1]: mean of shared/item weight and shared/product weight."""
    product = catalog.entries[row]
    shared = set(item.norm.tokens) & set(product.norm.tokens)
    if not shared or item_weight <= 0:
        return 0.0
    codes = item.norm.codes | product.norm.codes
    sw = sum(catalog.weight(t, t in codes) for t in shared)
    pw = catalog.norm(row)
    # A side's codes cannot be matched when the other side names no code: leave them out.
    if not product.norm.codes and item.norm.codes:
        item_weight -= sum(catalog.weight(t, True) for t in item.norm.tokens if t in item.norm.codes)
    if not item.norm.codes and product.norm.codes:
        pw -= sum(catalog.weight(t, True) for t in product.norm.tokens if t in product.norm.codes)
    ci = min(1.0, sw / item_weight) if item_weight > 0 else 0.0
    cp = min(1.0, sw / pw) if pw > 0 else 0.0
    return 0.5 * ci + 0.5 * cp


def text_similarity(overlap: float, token_set: float) -> float:
    """Text similarity in [0, 1] from a weighted overlap (0–1) and a token_set_ratio (0–100)."""
    return 0.5 * overlap + 0.5 * (token_set / 100.0)


def _unit_conflict(item: Entry, product: Entry) -> bool:
    def by_unit(units: frozenset[str]) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for u in units:
            m = _UNIT_SPLIT.match(u)
            if m:
                out.setdefault(m.group(2), set()).add(m.group(1))
        return out

    iu, pu = by_unit(item.norm.units), by_unit(product.norm.units)
    return any(unit in pu and not (vals & pu[unit]) for unit, vals in iu.items())


#: Colour words (English, Russian): an item and a product naming different colours are variants.
COLOURS: frozenset[str] = frozenset(
    """black white silver red blue green yellow pink purple violet gray grey gold brown orange beige
    bronze plum graphite titanium bisque ivory cream navy teal turquoise
    черный белый серебристый красный синий зеленый желтый розовый фиолетовый серый золотой
    коричневый оранжевый бежевый голубой бордовый""".split()
)
COLOUR_CLASH_POINTS = 5.0
BRAND_CLASH_POINTS = 8.0


def _colour_conflict(item: Entry, product: Entry) -> bool:
    ci = COLOURS.intersection(item.norm.tokens)
    cp = COLOURS.intersection(product.norm.tokens)
    return bool(ci and cp and not (ci & cp))


NUMBER_CLASH_FACTOR = 0.9


def _bare_numbers(entry: Entry) -> set[str]:
    return {t for t in entry.norm.tokens if t.isdigit() and len(t) >= 2}


def _number_conflict(item: Entry, product: Entry) -> bool:
    """Both names carry bare numbers (2+ digits: versions, years, sizes) and share none,
    not even inside the other side's codes ("office 2007" vs "office 2003")."""
    ni, np_ = _bare_numbers(item), _bare_numbers(product)
    if not ni or not np_ or ni & np_:
        return False
    text_i, text_p = " ".join(item.codes), " ".join(product.codes)
    return not any(n in text_p for n in ni) and not any(n in text_i for n in np_)


def _brand_penalty(catalog: Catalog, item: Entry, product: Entry) -> float:
    """Multiplier for clashing brands: 0.6 when both brands were given, 0.85 when one was guessed
    from a name's first word; 1.0 when they agree, one contains the other, or one is unknown."""
    bi, bp = catalog.brand_of(item), catalog.brand_of(product)
    if not bi or not bp or bi.startswith(bp) or bp.startswith(bi):
        return 1.0
    if bi in product.norm.tokens or bp in item.norm.tokens:
        return 1.0
    return 0.6 if item.brand and product.brand else 0.85


def pair_score(catalog: Catalog, item: Entry, item_weight: float, row: int, token_set: float) -> float:
    """The 0–100 score of one item against catalog row ``row``; ``token_set`` is its token_set_ratio."""
    product = catalog.entries[row]
    if item.norm.tokens and set(item.norm.tokens) == set(product.norm.tokens):
        score = 100.0
    else:
        sim = text_similarity(weighted_overlap(catalog, item, item_weight, row), token_set)
        rel = code_relation(catalog, item, product)
        if rel == "sku":
            score = 96.0 + 4.0 * sim
        elif rel == "exact":
            score = 90.0 + 10.0 * sim
        elif rel == "core":
            score = 70.0 + 22.0 * sim
        elif rel == "none":
            score = 94.0 * sim**0.7
        elif rel == "mismatch":
            score = 80.0 * sim**0.7
        else:
            score = 50.0 * sim
        penalty = _brand_penalty(catalog, item, product)
        if rel in ("exact", "sku"):
            # a shared code across two makers: keep it on top, but never link it unseen
            score -= BRAND_CLASH_POINTS if penalty < 1.0 else 0.0
        else:
            score *= penalty
        if _colour_conflict(item, product):
            score = score - COLOUR_CLASH_POINTS if rel in ("exact", "sku", "core") else score * 0.93
    if _unit_conflict(item, product):
        score *= 0.8
    elif _number_conflict(item, product):
        score *= NUMBER_CLASH_FACTOR
    if item.category and product.category and item.category != product.category:
        score *= 0.9
    return round(min(100.0, max(0.0, score)), 2)
