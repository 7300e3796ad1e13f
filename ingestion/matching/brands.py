"""Brand canonicalisation: a small alias table plus the catalog's own brand vocabulary.

Aliases (:data:`BRAND_ALIASES`) are the usual ways one maker is written in price
lists (full company names, transliterations, dashes).  They are applied to an
explicit brand field and, as phrases, to names before tokenising, so
"Hewlett-Packard LaserJet" and "HP LaserJet" share the token ``hp``.

:data:`KNOWN_BRANDS` is a compact built-in list of makers common in the price lists this
service reads (electrical, lighting, tools, plumbing, electronics), as canonical tokens:
a name holding one of them names that brand even when the catalog gives no brand field
(the matching trial auto-linked "EKF ВА47-63 1P C16" to "ABB S201 C16").  Cyrillic
spellings reach the same token through :data:`BRAND_ALIASES`.  Only unambiguous maker
names are listed — no ordinary words ("era", "universal") — since a brand found in both
names and differing makes the pair a conflict (see :mod:`ingestion.matching.scoring`).
:func:`name_brands` gives the brands of a tokenised name.

A brand field can contradict the name it comes with (hostile trial: "Автомат Schneider Easy9 C16
1P" with the brand field "IEK" was auto-linked to an IEK breaker because the two brand fields
agreed).  :func:`contradicting_brands` tells such a side apart: its field names a maker, its name
names built-in makers, and none of them is the field's (a company name that starts with one,
"appleinc" / "apple", counts as the same).  The scorer then asks each of the two to agree with the
other side, so agreement on the field alone never links.
"""

from __future__ import annotations

import re
from typing import AbstractSet, Iterable

__all__ = [
    "BRAND_ALIASES", "KNOWN_BRANDS", "canonical_brand", "apply_brand_aliases", "name_brands", "same_maker",
    "contradicting_brands",
]

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
    # Cyrillic and other common spellings of the makers in KNOWN_BRANDS
    "абб": "abb",
    "иек": "iek",
    "екф": "ekf",
    "экф": "ekf",
    "шнайдер": "schneider",
    "шнейдер": "schneider",
    "легранд": "legrand",
    "хагер": "hager",
    "сименс": "siemens",
    "тдм": "tdm",
    "тдм электрик": "tdm",
    "дкс": "dkc",
    "гаусс": "gauss",
    "ферон": "feron",
    "осрам": "osram",
    "макита": "makita",
    "де волт": "dewalt",
    "девольт": "dewalt",
    "деволт": "dewalt",
    "de walt": "dewalt",
    "de-walt": "dewalt",
    "эпл": "apple",
    "эппл": "apple",
    "хитачи": "hitachi",
    "метабо": "metabo",
    "интерскол": "interskol",
    "зубр": "zubr",
    "ресанта": "resanta",
    "рехау": "rehau",
    "валтек": "valtec",
    "грундфос": "grundfos",
    "калде": "kalde",
    "ксиаоми": "xiaomi",
    "сяоми": "xiaomi",
    "панасоник": "panasonic",
    "кингстон": "kingston",
    "кэнон": "canon",
    "никон": "nikon",
}

#: Canonical tokens of common makers (see the module docstring); a few dozen, not a registry.
KNOWN_BRANDS: frozenset[str] = frozenset(
    {
        # electrical installation
        "abb", "iek", "ekf", "schneider", "legrand", "hager", "siemens", "tdm", "dkc", "chint",
        "eaton", "wago", "werkel", "makel", "viko", "rexant", "resanta", "elektrostandard",
        # lighting
        "navigator", "gauss", "feron", "philips", "osram", "ledvance", "jazzway", "camelion",
        "varton",
        # tools
        "bosch", "makita", "dewalt", "metabo", "hitachi", "ryobi", "milwaukee", "stanley",
        "interskol", "zubr", "blackdecker", "karcher", "hilti", "einhell",
        # plumbing
        "rehau", "valtec", "grundfos", "kalde", "wilo", "grohe", "hansgrohe",
        # electronics
        "samsung", "apple", "sony", "lg", "panasonic", "toshiba", "xiaomi", "huawei", "lenovo",
        "asus", "acer", "dell", "hp", "canon", "nikon", "kingston", "sandisk", "logitech",
        "pioneer", "yamaha", "denon", "onkyo", "jvc", "garmin", "tomtom", "bose",
        "belkin", "linksys", "netgear", "dlink", "tplink", "wd", "seagate", "epson", "brother",
    }
)


_ALIAS_RE = re.compile(
    r"(?<!\w)(" + "|".join(re.escape(a) for a in sorted(BRAND_ALIASES, key=len, reverse=True)) + r")(?!\w)"
)


def apply_brand_aliases(text: str) -> str:
    """Replace known brand aliases inside already case-folded ``text`` by their canonical token."""
    return _ALIAS_RE.sub(lambda m: BRAND_ALIASES[m.group(1)], text)


def name_brands(tokens: Iterable[str]) -> frozenset[str]:
    """The :data:`KNOWN_BRANDS` among a name's tokens (empty when there is none)."""
    return KNOWN_BRANDS.intersection(tokens)


def same_maker(a: str, b: str) -> bool:
    """Whether two canonical brand tokens name one maker: equal, or one starts with the other
    ("appleinc" / "apple", "samsungelectronicsco" / "samsung"), as the scorer's brand penalty reads them."""
    return a.startswith(b) or b.startswith(a)


def contradicting_brands(
    field: str | None, tokens: Iterable[str], makers: AbstractSet[str] = frozenset()
) -> tuple[frozenset[str], frozenset[str]] | None:
    """``(field brand, name brands)`` of a side whose brand field contradicts its name, else None.

    ``field`` is the canonical brand field (:func:`canonical_brand`), ``tokens`` the name's tokens.
    A contradiction needs a field that names a maker (one of :data:`KNOWN_BRANDS`, or of
    ``makers``: the brand fields a catalog gives), built-in makers in the name (:func:`name_brands`)
    and none of those the field's maker (:func:`same_maker`).  A field that names no known maker
    ("OEM", a distributor) contradicts nothing: the name speaks alone.
    """
    if not field or not (field in KNOWN_BRANDS or field in makers):
        return None
    named = name_brands(tokens)
    if not named or any(same_maker(field, b) for b in named):
        return None
    return frozenset((field,)), named


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
