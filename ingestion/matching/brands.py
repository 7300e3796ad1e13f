"""Brand canonicalisation: a small alias table plus the catalog's own brand vocabulary.

Aliases (:data:`BRAND_ALIASES`) are the usual ways one maker is written in price
lists (full company names, transliterations, dashes).  They are applied to an
explicit brand field and, as phrases, to names before tokenising, so
"Hewlett-Packard LaserJet" and "HP LaserJet" share the token ``hp``.
"""

from __future__ import annotations

import re

__all__ = ["BRAND_ALIASES", "canonical_brand", "apply_brand_aliases"]

#: alias (lower case, normalised spaces) → canonical brand token.
BRAND_ALIASES: dict[str, str] = {
    "hewlett packard": "hp",
    "hewlett-packard": "hp",
    "хьюлетт паккард": "hp",
    "lg electronics": "lg",
    "samsung electronics": "samsung",
    "самсунг": "samsung",
    "филипс": "philips",
    "сони": "sony",
    "бош": "bosch",
    "шнайдер электрик": "schneider",
    "schneider electric": "schneider",
    "iek": "iek",
    "иэк": "iek",
    "d-link": "dlink",
    "tp-link": "tplink",
    "western digital": "wd",
    "black & decker": "blackdecker",
    "black and decker": "blackdecker",
    "black+decker": "blackdecker",
    "panasonic corporation": "panasonic",
}

_ALIAS_RE = re.compile(
    r"(?<!\w)(" + "|".join(re.escape(a) for a in sorted(BRAND_ALIASES, key=len, reverse=True)) + r")(?!\w)"
)


def apply_brand_aliases(text: str) -> str:
    """Replace known brand aliases inside already case-folded ``text`` by their canonical token."""
    return _ALIAS_RE.sub(lambda m: BRAND_ALIASES[m.group(1)], text)


def canonical_brand(brand: str | None) -> str | None:
    """Canonical brand token of an explicit brand field, or None for an empty one.

    Case-folded, aliases applied, spaces and dashes removed ("TP-Link" → "tplink").
    """
    if brand is None:
        return None
    b = " ".join(brand.casefold().split())
    if not b:
        return None
    b = BRAND_ALIASES.get(b, b)
    return re.sub(r"[\s\-.]+", "", b) or None
