"""Product-name normalisation for matching (DESIGN §8, matching).

:func:`normalize_name` turns a raw supplier or catalog name into a
:class:`NormalizedName`: the cleaned text, its word tokens, and the model
numbers / codes found in it.  The rules, and where each comes from:

* Unicode NFKC + case folding, ``ё`` → ``е`` (Russian price lists mix both).
* Cyrillic letters that look like Latin ones (``А В С Е Н К М О Р Т Х`` and
  lower-case ``а в с е к м о р т х у``) are mapped to Latin inside tokens that
  also hold a digit or a Latin letter: model codes typed on a Russian keyboard
  ("ВА47-29", "МТ-120") then equal their Latin spelling.  For such tokens the
  transliterated spelling ("ВА" → "va") is kept as an alternative code key, so
  "ВА47-29" matches both "BA47-29" and "va 47-29".
* Units: a number followed by a unit word becomes one token of number + canonical
  unit, with a decimal comma turned into a dot and trailing zeros dropped:
  "16 GB" / "16гб" / "16Gb" → ``16gb``; "1,5 л" → ``1.5l``; "20.0 W" → ``20w``.
  The unit table (:data:`UNIT_ALIASES`) covers storage, length, mass, volume,
  power, voltage, current, capacity, frequency and screen inches; and, from the
  matching trial on electrical price lists, volt-amperes ("1200 ВА" → ``1200va``),
  cable sections in square millimetres ("1,5 кв.мм" / "2.5 mm2" → ``1.5sqmm``, no
  longer read as "1.5 kV" plus a code) and colour temperature ("4000K" / "4000 К"
  → ``4000k``, kelvin only for a 4-digit number: "4K" stays what it was); and horsepower ("1.5 hp",
  "2 HP", "3 л.с." → ``1.5hp``: after a number "hp" is the unit, not the maker HP, hostile trial).
* The one-letter units that are also words — amps "A" / "А" and volts "В" — count written apart
  from the number ("25 A", "25 А", "230 В") in an electrical name (a breaker or switch word, or
  another electrical unit in it: "10Вт", "230 V", "4,5 кА"), or when another electrical attribute
  follows ("25 А C", "25 A 1P", "16 А 250 В"), or when the letter ends the name ("Makita DF333
  18 В").  Never before a bare number ("3 в 1", "1 а 2") nor, for «в», before a Cyrillic word
  ("5 в упаковке"); elsewhere they stay words ("кабель в бухте").  Matching trial: "1P 25 A C"
  was auto-linked to "1P 16А C" at 99, the "25" a bare number.
* Memory written as a pair ("8/256GB", "8GB/256GB", "8 ГБ / 256 ГБ") is two storage units
  (``8gb 256gb``): the two spellings had been two different codes.
* Breaking capacity and leakage current are units too ("4,5кА" / "4.5 kA" → ``4.5ka``, "30мА" →
  ``30ma``; matching trial: "4,5кА" was read as the code ``45ka`` and "6кА" against "4,5кА" did not
  count as a difference).
* A cable section written as a size then square millimetres ("3х2,5 мм²", "3x2.5mm2", "3x2,5 кв.мм")
  is the size alone (``3x2.5``): NFKC has already made "²" a "2", and the "мм2" left after a size
  was a model code of its own (matching trial: "Кабель ВВГ 3x2,5 мм²" against "Кабель ВВГ 3x2.5
  мм2" scored 66, ``new``).
* Breaker trip curves (IEC 60898-1 curves B, C, D; also K and Z; matching trial: "1P 16А C" was
  auto-linked to "1P 16А B", "(C)" to "(D)", "тип C" to "тип B", Cyrillic "16А С" to "16А В" at
  100).  In a name that looks like a circuit breaker — an amp rating ("16А", "16A"), a breaker word
  (автомат…, АВДТ, дифавтомат, MCB, RCBO, breaker) or a breaker series ("ВА47", "S201") — a single
  letter B, C, D, K, Z (or the Cyrillic В, С, Д, К written for them) standing alone, in parentheses
  ("(C)") or after «тип», «хар-ка», «характеристика», «кривая», "type", "curve", "char" is the
  curve: it becomes the Latin letter, a word token that is also an *attribute* (below), so "16А С"
  and "16A C" are one spelling and "C" against "B" is a conflict (the glued form "C16" already is a
  code the attributes read, see :func:`ingestion.matching.index.attribute_groups`).  A Cyrillic
  letter standing alone stays the preposition «в» / «с» / «к» (a stop word) when a Cyrillic word
  follows it ("автомат в корпусе") or a bare number precedes it ("230 в") — unless it is in
  parentheses or after a curve word ("тип С серия") — and so does every lone letter in a name
  without the breaker signs ("кабель в бухте", "розетка с заземлением", "USB type C").
* Attributes (matching trial: "4000" and "ip45" were taken for shared model codes):
  an IP rating ("IP44", "IPX4"), one Latin letter and 1–3 digits followed by a
  length unit (a diameter: "d20 мм", "D 110 mm" is not joined) and a size / cable
  section made of numbers joined by ``x`` ("3х2,5" → ``3x2.5``, kept as one token)
  are *attribute* tokens
  (:attr:`NormalizedName.attributes`): word tokens that must agree between two
  names of one product, never model codes; so is a breaker curve letter (above).  Unit tokens are attributes of the
  same kind (kept in :attr:`NormalizedName.units`).
* Model numbers / codes: a token holding both letters and digits, or digit
  groups joined by a dash ("47-29"), is a code.  Its *key* drops dashes, dots and
  slashes ("PS-LX350H" → ``pslx350h``), its *core* drops a trailing letter
  suffix (colour / variant: ``pm1327bk`` → ``pm1327``) and its *family* is the
  leading letters (``pslx``).  A short letter group right before a code
  ("va 47-29", "ps lx350h", Cyrillic "ВА 47-29" too, look-alikes folded and transliterated:
  ``ba4729``, ``va4729``) gives an extra joined key, and so does a model code written in spaced
  groups: a 2–3 letter group, a number and a letter suffix of up to 4 letters ("DF 333 DWYE" →
  ``df333dwye``), or without the suffix when the number has 3+ digits ("DF 333" → ``df333``;
  "HP 15" gives none); a suffix written apart after the glued letters and number joins the same way
  ("DF333 DWYE" → ``df333dwye``; hostile trial: it went to review against "DF333DWYE").  The joined
  keys are codes only, not tokens.
* Model variants (matching trial: "Galaxy S24+" and "Redmi Note 13 Pro+" / "Pro Plus" were
  auto-linked to the model without the "+"): "+" glued to a word or model ("S24+", "Pro+") is read
  as the word "plus"; "plus", "max", "ultra", "lite", "mini" right after a model code or number
  (through "pro" or another variant word: "13 Pro Max") are the name's *variant*, an attribute
  ``~plus`` (no token); "pro" right after a model number or a short code ("15", "S24", "M3"; not a
  long part number) with no other variant word after it is the variant ``~pro`` (hostile trial:
  "iPhone 15 Pro" against "iPhone 15").  A name with a model code or number and no variant word has
  the attribute ``~`` (the base model), so "S24" against "S24+" is a conflict (the variant group of
  :func:`ingestion.matching.index.attribute_groups`); "mini" not after a model ("mini USB", "Mac mini")
  is an ordinary word.
* Colour words with an English equivalent are read as it, in every form (hostile trial: "черный"
  against "Black" was a colour conflict, "белая" no colour): "черный" / "черная" / "Black" →
  ``black``, "grey" → ``gray`` (:data:`COLOUR_NAMES`); the colours of two names are then compared
  as one vocabulary (:data:`COLOURS`).
* Brand aliases ("Hewlett-Packard" → ``hp``, see :mod:`ingestion.matching.brands`).
* A dash- or slash-joined group of words also gives its joined spelling
  ("lcs-csh" → ``lcs csh lcscsh``; "wi-fi" → ``wi fi wifi``).
* Stop words (English and Russian function words) are dropped from the word
  tokens, never from codes.

Names are cached (:data:`NAME_CACHE_SIZE`), and so are the readings of the pieces
a name splits into (:data:`PIECE_CACHE_SIZE`: words such as "кабель", "16gb" or
"ва47-29" recur from name to name), so a name seen before costs a dictionary
look-up and a new one mostly look-ups too.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Hashable, Iterable, TypeVar

import attrs

from ingestion.matching.brands import apply_brand_aliases

__all__ = [
    "NormalizedName",
    "COLOURS",
    "COLOUR_NAMES",
    "CURVE_LETTERS",
    "UNIT_ALIASES",
    "VARIANT_MARK",
    "VARIANT_WORDS",
    "STOP_WORDS",
    "fold_lookalikes",
    "normalize_name",
    "normalize_uncached",
    "shared",
    "SHARED_VALUES_SIZE",
    "normalize_units",
    "code_key",
    "code_core",
    "code_family",
    "is_code",
    "is_unit_token",
]

# Cyrillic → Latin by shape (for codes typed with a Russian layout).
_LOOKALIKE = str.maketrans(
    {
        "а": "a", "в": "b", "с": "c", "е": "e", "н": "h", "к": "k", "м": "m",
        "о": "o", "р": "p", "т": "t", "х": "x", "у": "y", "і": "i", "ј": "j",
        "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w",
    }
)
# Cyrillic → Latin by sound (the other way people type a Russian code in Latin).
_TRANSLIT = str.maketrans(
    {
        "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ж": "zh",
        "з": "z", "и": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n",
        "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f",
        "х": "h", "ц": "c", "ч": "ch", "ш": "sh", "щ": "sch", "ы": "y", "э": "e",
        "ю": "yu", "я": "ya", "ь": "", "ъ": "",
    }
)

_CYR = re.compile(r"[а-яё]")
_LATIN_OR_DIGIT = re.compile(r"[a-z0-9]")

#: Unit spellings (lower case, after look-alike folding is NOT applied) → canonical unit.
UNIT_ALIASES: dict[str, str] = {
    # storage
    "tb": "tb", "тб": "tb", "gb": "gb", "гб": "gb", "mb": "mb", "мб": "mb", "kb": "kb", "кб": "kb",
    "gbit": "gbit", "mbit": "mbit",
    # frequency
    "ghz": "ghz", "ггц": "ghz", "mhz": "mhz", "мгц": "mhz", "khz": "khz", "кгц": "khz", "hz": "hz", "гц": "hz",
    # length
    "mm": "mm", "мм": "mm", "cm": "cm", "см": "cm", "m": "m", "м": "m", "km": "km", "км": "km",
    "inch": "in", "inches": "in", "in": "in", '"': "in", "''": "in", "дюйм": "in", "дюйма": "in",
    "дюймов": "in",
    # mass
    "kg": "kg", "кг": "kg", "g": "g", "гр": "g", "г": "g", "mg": "mg", "мг": "mg", "lb": "lb", "lbs": "lb",
    "oz": "oz",
    # volume
    "l": "l", "л": "l", "ltr": "l", "ml": "ml", "мл": "ml",
    # power / electrical
    "w": "w", "вт": "w", "watt": "w", "watts": "w", "kw": "kw", "квт": "kw", "v": "v", "в": "v",
    "volt": "v", "kv": "kv", "кв": "kv", "mah": "mah", "мач": "mah", "мa·ч": "mah", "ah": "ah", "ач": "ah",
    "wh": "wh", "втч": "wh", "a": "a", "а": "a", "ма": "ma", "ma": "ma", "mа": "ma", "мa": "ma",
    "ка": "ka", "ka": "ka", "kа": "ka", "кa": "ka",
    # count / misc
    "pcs": "pcs", "шт": "pcs", "pc": "pcs", "pack": "pack", "pk": "pack", "mp": "mp", "мп": "mp",
    "cup": "cup", "cups": "cup", "disc": "disc", "%": "pct",
    # electrical price lists (matching trial): volt-amperes, square millimetres, kelvin
    "ва": "va", "va": "va", "кв.мм": "sqmm", "кв. мм": "sqmm", "мм2": "sqmm", "mm2": "sqmm", "sq.mm": "sqmm",
    "k": "k", "к": "k",
    # horsepower (hostile trial: "Насос 1.5 hp" / "мотор 2 HP" were read as the maker HP): after a
    # number "hp" is the unit, glued or spaced; the maker keeps every other place ("HP LaserJet")
    "hp": "hp", "л.с.": "hp", "л. с.": "hp", "лс": "hp",
}

# Units that are single letters shared with ordinary words: only taken when glued to the number.
_GLUED_ONLY = {"a", "а", "в", "in", "cup", "cups", "disc", "pack", "pk", "pc", "va"}
# Kelvin: only after a 4-digit whole number (colour temperature "2700K"–"6500K"), glued or not.
_KELVIN = {"k", "к"}

STOP_WORDS: frozenset[str] = frozenset(
    """a an and the of for with without in on to by or from w/ & + - x
    и с со для в во на по из от к до без или под над""".split()
)

#: Colour words (English, Russian): an item and a product naming different colours are variants.
#: A name's tokens hold the English word for the Russian ones :data:`COLOUR_NAMES` maps ("черная" →
#: ``black``), so one colour in either language is one colour; the others stay as written.
COLOURS: frozenset[str] = frozenset(
    """black white silver red blue green yellow pink purple violet gray grey gold brown orange beige
    bronze plum graphite titanium bisque ivory cream navy teal turquoise
    черный белый серебристый красный синий зеленый желтый розовый фиолетовый серый золотой
    коричневый оранжевый бежевый голубой бордовый""".split()
)


def _colour_forms() -> dict[str, str]:
    """Every case / gender / number form of the Russian colour adjectives that have one English
    colour word, and the other English spelling, mapped to the English word (see :data:`COLOUR_NAMES`)."""
    hard = ("ый", "ая", "ое", "ые", "ого", "ой", "ому", "ым", "ом", "ую", "ых", "ыми")
    stressed = ("ой", "ая", "ое", "ые", "ого", "ому", "ым", "ом", "ую", "ых", "ыми")
    soft = ("ий", "яя", "ее", "ие", "его", "ей", "ему", "им", "ем", "юю", "их", "ими")
    stems: tuple[tuple[str, tuple[str, ...], str], ...] = (
        ("черн", hard, "black"), ("бел", hard, "white"), ("сер", hard, "gray"), ("красн", hard, "red"),
        ("син", soft, "blue"), ("серебрист", hard, "silver"), ("золот", stressed, "gold"),
        ("золотист", hard, "gold"), ("зелен", hard, "green"), ("желт", hard, "yellow"),
        ("розов", hard, "pink"), ("коричнев", hard, "brown"), ("оранжев", hard, "orange"),
        ("бежев", hard, "beige"),
    )
    forms = {stem + end: english for stem, ends, english in stems for end in ends}
    forms["grey"] = "gray"
    return forms


#: Colour words that have an English equivalent → that English word (hostile trial: "черный" against
#: "Black" counted as two colours, a conflict; "белая" was no colour at all): every form of the
#: Russian adjective ("черный", "черная", "черном" → ``black``) and "grey" → ``gray``.  Word tokens
#: are read through it, so one colour in either language is one token and one colour.  A colour
#: without an English equivalent here ("голубой", "бордовый") stays as written.
COLOUR_NAMES: dict[str, str] = _colour_forms()
#: Variant words written in Cyrillic read as the English ones (a second trial: "S24 Ультра" was
#: auto-linked to "S24", "R6 Боди" to "R6 Кит"); applied with the colours, word by word.
VARIANT_NAMES: dict[str, str] = {
    "плюс": "plus", "макс": "max", "ультра": "ultra", "лайт": "lite", "мини": "mini", "про": "pro",
    "фе": "fe", "боди": "body", "кит": "kit",
}
#: Word maps applied to every word of a name (colours, variant words).
_WORD_NAMES: dict[str, str] = {**COLOUR_NAMES, **VARIANT_NAMES}
#: "Fan Edition" is Samsung's "FE".
_FAN_EDITION = re.compile(r"(?<!\w)fan\s+edition(?!\w)")

_NUM = r"\d+(?:[.,]\d+)?"
_unit_alt = "|".join(sorted((re.escape(u) for u in UNIT_ALIASES), key=len, reverse=True))
_UNIT_RE = re.compile(rf"(?<![\w.,])({_NUM})(\s?)({_unit_alt})(?![\w])")
_UNIT_TOKEN_RE = re.compile(
    r"^(?:\d+(?:\.\d+)?("
    + "|".join(sorted(set(UNIT_ALIASES.values()) - {"k"}, key=len, reverse=True))
    + r")|\d{4}k)$"
)
_CODE_CHARS = re.compile(r"[-./]")
_SPLIT = re.compile(r"[^\w\-./\"']+|_")
_EDGE = re.compile(r"^[-./'\"]+|[-./'\"]+$")
_HAS_DIGIT = re.compile(r"\d")
_HAS_ALPHA = re.compile(r"[^\W\d_]")
_PLAIN_NUMBER = re.compile(r"^\d+(?:[.,]\d+)?$")
_ORDINAL = re.compile(r"^\d+(st|nd|rd|th|x)$")
#: IP rating ("ip44", "ipx4", "ip2x"): an attribute, not a model code.
_IP_RATING = re.compile(r"^ip[0-9x][0-9x]$")
#: One Latin letter and 1–3 digits ("d20"): before a length unit word a size, not a model code.
_LETTER_RATING = re.compile(r"^[a-z]\d{1,3}$")
_LENGTH_WORDS = frozenset({"мм", "mm", "см", "cm", "м", "m"})
#: Square millimetres right after an ``x``-joined size ("3x2.5 мм2", "3x2.5mm2", "3x2.5 кв.мм"):
#: dropped, the size alone is the cable section (read after NFKC, which makes "²" a "2").
_SECTION_AFTER_SIZE = re.compile(r"((?<=\d)x\d+(?:\.\d+)?)\s?(?:мм2|mm2|кв\.\s?мм|sq\.\s?mm)(?!\w)")

#: Trip curve letters (IEC 60898-1: B, C, D; also K, Z) and the Cyrillic letters written for them.
CURVE_LETTERS: frozenset[str] = frozenset("bcdkz")
_CYRILLIC_CURVES = {"в": "b", "с": "c", "д": "d", "к": "k"}
_CURVE_PIECES = CURVE_LETTERS | frozenset(_CYRILLIC_CURVES)
#: A single letter that may name a curve: not part of a word, code or number (read after units).
_CURVE_LETTER = re.compile(r"(?<![\w\-./])[bcdkzвсдк](?![\w\-./])")
#: Signs that a name is a circuit breaker's: a breaker word, an amp rating ("16А", "16 A"; read after
#: units: "16a"), a breaker series ("ВА47", "BA 47-29", "S201").  The two patterns have no leading
#: look-behind (a look-behind first makes ``re`` try every position): :func:`_looks_like_breaker`
#: checks that a hit starts a word.
_BREAKER_WORDS = ("автомат", "авдт", "mcb", "rcbo", "breaker")
_AMP_HINT = re.compile(r"\d ?[aа](?!\w)")
_SERIES_HINT = re.compile(r"(?:ва|ba|va|s2)[ -]?\d\d")
#: What makes the letter right after it a curve whatever follows: "(", or a word naming the curve.
_CURVE_MARK = re.compile(
    r"(?:\(|(?<!\w)(?:тип|хар-ка|хар|характеристика|характеристикой|кривая|type|curve|char))[\s:.\-]*$"
)
#: After a lone Cyrillic letter: a Cyrillic word ("в корпусе"): the letter is a preposition.
_CYRILLIC_WORD_AHEAD = re.compile(r"\s*[а-я]{2}")
#: A spaced letter that ends the name (or a part of it: "18 В, кейс") is no preposition: the unit.
_END_AHEAD = re.compile(r"\s*(?:$|[,;)\]])")
#: Before a lone Cyrillic letter: a bare number ("230 в"): the letter is a spaced unit.
_NUMBER_BEHIND = re.compile(r"(?<![\w.\-/])\d+(?:\.\d+)?\s+$")


#: Model variant words (matching trial: "Galaxy S24+" was auto-linked to "Galaxy S24", "Redmi Note 13
#: Pro+" to "… Pro"; a later trial: "S24 FE" to "S24", "EOS R50 Body" to "EOS R50 Kit 18-45"): after a
#: model code or number (and "pro" or another variant word) they name another product of the line.
#: "+" glued to a model ("S24+", "Pro+") is read as "plus".
VARIANT_WORDS: frozenset[str] = frozenset({"plus", "max", "ultra", "lite", "mini", "fe", "body", "kit"})
#: "Pro" right after a model is a variant of its own ("iPhone 15 Pro" is not "iPhone 15"; hostile
#: trial), unless another variant word follows it, which then names the variant ("13 Pro Max" →
#: ``max``, as before: a "Pro Max" against a "Pro" still conflicts).
_PRO = frozenset({"pro"})
#: ... after a model number or a code of at most this many characters ("15", "s24", "m3"): after a
#: full part number ("F3H982-10 Pro Series") the number names the product and "Pro" is a line word
#: (the public benchmark lost a right link when it was a variant there).
_PRO_MODEL_MAX = 4
#: Variant words may follow a model through these ("13 Pro Max", "S24 Ultra Plus").
_VARIANT_CHAIN = VARIANT_WORDS | _PRO
#: The variant attribute of a name: "~" and the variant word, or "~" alone for a name with a model
#: and no variant word (the base model, which must not auto-link to a "+" / "Max" one).
VARIANT_MARK = "~"
#: A variant word glued to the end of a model ending in a digit ("S24FE", "15Pro", "15ProMax") or "pro" glued to
#: another one ("ProMax"): written apart, so they read as "S24 FE" does (a trial: "S24FE" made a new draft
#: beside "S24 FE").  After casefold.
_GLUED_VARIANT = re.compile(r"(?<=\d)(pro)?(fe|plus|max|ultra|lite|mini|pro)(?![^\W_])|(?<![^\W_])(pro)(max|plus|mini|lite|ultra)(?![^\W_])")


def _unglue_variant(m: re.Match[str]) -> str:
    """A match of :data:`_GLUED_VARIANT` written apart: " pro max", " fe", "pro max"."""
    if m.group(4):
        return f"{m.group(3)} {m.group(4)}"
    return f" {m.group(1)} {m.group(2)}" if m.group(1) else f" {m.group(2)}"


#: "+" glued to the end of a model or word ("s24+", "pro+"), not joining two ("wi-fi+bt", "5+1").
_GLUED_PLUS = re.compile(r"(?<=[^\W_])\+(?![^\W_])")


@attrs.frozen
class NormalizedName:
    """A name after :func:`normalize_name`.

    ``text``: cleaned, space-joined tokens (codes in their dash-free key form);
    ``tokens``: word, unit and code tokens without stop words (order kept, no duplicates);
    ``codes``: code keys (``pslx350h``), with alternative spellings (transliterated,
    joined with a preceding short letter group);
    ``units``: unit tokens (``16gb``); ``numbers``: bare numbers of 4+ digits;
    ``attributes``: IP ratings, diameters, ``x``-joined sizes and breaker curve letters (``ip44``,
    ``d20`` before "мм", ``3x2.5``, ``c`` in "16А C"), which are tokens but not codes; and the model
    variant (``~plus``, ``~`` for the base model), which is no token;
    ``suffix_joins``: the codes among ``codes`` joined from a glued code and a letter word written
    after it ("df333 dwye" → ``df333dwye``): a way to meet the other side's code, no evidence of a
    model of their own ("EP-320 blue" gives ``ep320blue``), see :mod:`ingestion.matching.scoring`.
    """

    text: str
    tokens: tuple[str, ...]
    codes: frozenset[str]
    units: frozenset[str]
    numbers: frozenset[str]
    attributes: frozenset[str] = frozenset()
    suffix_joins: frozenset[str] = frozenset()


def fold_lookalikes(token: str) -> str:
    """Map Cyrillic look-alike letters to Latin when ``token`` also holds a digit or Latin letter.

    A purely Cyrillic word ("кабель") is returned unchanged.  Input is expected
    lower-case.
    """
    if _CYR.search(token) and _LATIN_OR_DIGIT.search(token):
        return token.translate(_LOOKALIKE)
    return token


def _transliterate(token: str) -> str:
    return token.translate(_TRANSLIT)


def _clean_number(num: str) -> str:
    num = num.replace(",", ".")
    if "." in num:
        num = num.rstrip("0").rstrip(".")
    return num or "0"


def normalize_units(text: str) -> str:
    """Join numbers with their unit into one canonical token ("1,5 л" → "1.5l", "16 GB" → "16gb").

    ``text`` must already be case-folded.  Units that are also words ("a", "в"
    as in "2 в 1", "in") are only taken when written right after the number.
    """

    electrical: list[bool] = []  # read once per text, and only when a spaced "a" / "в" is met

    def repl(m: re.Match[str]) -> str:
        num, space, unit = m.group(1), m.group(2), m.group(3)
        if unit in _KELVIN:
            if not (len(num) == 4 and num.isdigit()):
                return m.group(0)
        elif space and unit in _GLUED_ONLY:
            if unit not in _SPACED_ELECTRIC:
                return m.group(0)
            if not electrical:
                electrical.append(_ELECTRIC_SIGN.search(text) is not None)
            if not _spaced_electric_unit(text, m.end(), unit, electrical[0]):
                return m.group(0)
        return _clean_number(num) + UNIT_ALIASES[unit]

    return _UNIT_RE.sub(repl, text)


#: Units of one letter that are also words, taken written apart from the number in an electrical
#: name: amps ("25 A", "25 А") and volts ("230 В"); see :func:`_spaced_electric_unit`.
_SPACED_ELECTRIC = frozenset({"a", "а", "в"})
#: Signs that a name is electrical: a breaker / switch word, or another electrical unit (glued, or one
#: that is no word: "230 V", "10 Вт", "4.5 kA", "30 мА", "50 Hz").
_ELECTRIC_SIGN = re.compile(
    r"автомат|авдт|узо|выключател|mcb|rcbo|breaker|"
    r"(?<![\w.,])\d+(?:[.,]\d+)?(?:\s?(?:w|вт|v|kw|квт|ka|ка|ma|ма|mah|hz|гц)|a|а|в|va|ва)(?!\w)"
)
#: After a spaced letter: another electrical attribute (a curve letter, "(C)", a pole count "1P", a
#: breaking capacity "4.5kA", volts or watts "250 В"): the letter is a unit whatever the rest of the name says.
_ATTRIBUTE_AHEAD = re.compile(
    r"\s+(?:\(?[bcdkzвсдк]\)?(?![\w\-./])|\d[pр](?!\w)|\d+(?:[.,]\d+)?\s?(?:ka|ка|v|в|w|вт)(?!\w))"
)
#: After a spaced letter: a bare number with no unit ("2 в 1", "1 а 2"): the letter is a word.
_BARE_NUMBER_AHEAD = re.compile(r"\s+\d+(?![\w.,])(?!\s?(?:a|а|в|v|w|вт)(?!\w))")
_WORD_AHEAD = re.compile(r"\s*[а-я]{2}")
#: A spaced letter that ends the name (or a part of it: "18 В, кейс") is no preposition: the unit.
_END_AHEAD = re.compile(r"\s*(?:$|[,;)\]])")


def _spaced_electric_unit(text: str, end: int, unit: str, electrical: bool) -> bool:
    """Whether a letter ``unit`` ("a", "а", "в") written apart after a number, ending at ``end`` of
    ``text``, is the unit: in an electrical name, or when another breaker attribute follows ("25 A C",
    "25 А 1P") or when it ends the name ("Makita DF333 18 В"); never before a bare number ("3 в 1") nor, for "в", before a Cyrillic word ("5 в упаковке")."""
    if _BARE_NUMBER_AHEAD.match(text, end) is not None:
        return False
    if unit == "в" and _WORD_AHEAD.match(text, end) is not None:
        return False
    return electrical or _ATTRIBUTE_AHEAD.match(text, end) is not None or _END_AHEAD.match(text, end) is not None


def is_unit_token(token: str) -> bool:
    """True for a number+unit token made by :func:`normalize_units` ("16gb", "1.5l")."""
    return bool(_UNIT_TOKEN_RE.match(token))


_DIMENSION = re.compile(r"\d+(?:[.,]\d+)?(?:[x×*]\d+(?:[.,]\d+)?)+[a-zа-я]{0,3}")
_DIGIT_GROUPS = re.compile(r"\d+(?:-\d+)+")
_CORE = re.compile(r"^(.*\d)[a-z]+$")
_FAMILY = re.compile(r"^[a-z]+")


def is_code(token: str) -> bool:
    """True when ``token`` is a model number / code.

    That is: letters and digits ("pslx350h"), dash-joined digit groups ("47-29"),
    or a bare number of 5+ digits (a part / catalogue number: "0100071820").

    Unit tokens ("16gb"), ordinals ("2nd", "4x"), dimensions ("5x2.5mm",
    "3x1.5", "200x150") and IP ratings ("ip44") are not codes: a size or a
    rating is shared by many different products and says nothing about which
    one this is (it is an attribute that must agree, see the module docstring).
    """
    if is_unit_token(token) or _ORDINAL.match(token) or _DIMENSION.fullmatch(token) or _IP_RATING.match(token):
        return False
    if not _HAS_DIGIT.search(token):
        return False
    if _HAS_ALPHA.search(token):
        return True
    return bool(_DIGIT_GROUPS.fullmatch(token)) or (token.isdigit() and len(token) >= 5)


def code_key(token: str) -> str:
    """The comparison key of a code: dashes, dots and slashes removed ("ps-lx350h" → "pslx350h")."""
    return _CODE_CHARS.sub("", token)


def code_core(key: str) -> str:
    """A code key without its trailing letter suffix ("pm1327bk" → "pm1327"); the key if nothing trails."""
    m = _CORE.match(key)
    return m.group(1) if m else key


def code_family(key: str) -> str:
    """The leading letters of a code key ("pslx350h" → "pslx"); "" when it starts with a digit."""
    m = _FAMILY.match(key)
    return m.group(0) if m else ""


def _dedupe(tokens: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for t in tokens:
        if t and t not in seen:
            seen[t] = None
    return tuple(seen)


#: Normalised names kept for reuse (a draft product made from an item, a catalog reload, a name
#: several suppliers list): the cache is emptied when it reaches this many names.
NAME_CACHE_SIZE = 20_000
#: Pieces (split words) and their readings kept for reuse; emptied at this size.
PIECE_CACHE_SIZE = 20_000

_NONE: frozenset[str] = frozenset()
_name_cache: dict[str, NormalizedName] = {}

#: Distinct values :func:`shared` keeps; the table is emptied when it reaches this many (values
#: already shared stay shared; the next ones start a new table), so it is bounded whatever comes in.
SHARED_VALUES_SIZE = 1 << 17
_shared: dict[Hashable, Hashable] = {}
_H = TypeVar("_H", bound=Hashable)


def shared(value: _H) -> _H:
    """One object per distinct immutable value in this process: the first ``value`` equal to this
    one that was passed in (kept in a table of at most :data:`SHARED_VALUES_SIZE` values), else ``value``.

    Why: a worker's catalog holds hundreds of thousands of entries, and most of their small sets and
    tuples repeat from entry to entry — the unit set ``{"16a"}``, the attribute set ``{"~"}``, the
    attribute groups ``(("variant", {"base"}),)``, a brand set, a category name, the word "apt" of a
    code "apt609713" — yet each name made its own object (an empty or one-element frozenset alone
    is 216 bytes).  Sharing them is safe: the values are immutable, and the matcher only tests the
    ones passed in here (membership, disjointness, equality), never relies on the order in which
    such a set iterates (two equal sets may iterate differently).  Only values that repeat should be
    passed in: a value met once costs a table slot until the table is emptied.  Cost: one hash and
    one dict look-up (a frozenset caches its hash; a tuple's is recomputed from its items' hashes).
    """
    hit = _shared.get(value)
    if hit is None:
        if len(_shared) >= SHARED_VALUES_SIZE:
            _shared.clear()
        _shared[value] = value
        return value
    return hit  # type: ignore[return-value]  # equal to value, so of its type


_raw_pieces: dict[str, tuple[str, str | None]] = {}
_piece_kinds: dict[str, tuple[str, tuple[str, ...], tuple[str, ...], str | None]] = {}

_PRE_DIMENSION = re.compile(r"(?<=\d)\s*[хx×*]\s*(?=\d)")
_PRE_DECIMAL = re.compile(r"(?<=\d),(?=\d)")
_WORD_SPLIT = re.compile(r"[-./]")
_EDGE_CHARS = "-./'\""


def _raw_piece(p: str) -> tuple[str, str | None]:
    """A split piece → (edges stripped and look-alikes folded, its transliterated spelling when folding changed it)."""
    hit = _raw_pieces.get(p)
    if hit is None:
        q = _EDGE.sub("", p) if p and (p[0] in _EDGE_CHARS or p[-1] in _EDGE_CHARS) else p
        new = fold_lookalikes(q)
        hit = (new, _transliterate(q) if new != q else None)
        if len(_raw_pieces) >= PIECE_CACHE_SIZE:
            _raw_pieces.clear()
        _raw_pieces[p] = hit
    return hit


def _piece_kind(piece: str) -> tuple[str, tuple[str, ...], tuple[str, ...], str | None]:
    """What one quote-free piece gives: ``(kind, tokens, numbers, short_alpha)``.

    ``kind`` is ``"unit"`` (tokens = the unit token), ``"attr"`` (tokens = an IP rating or an
    ``x``-joined size, whole), ``"code"`` (tokens = the code key) or
    ``"words"`` (tokens = its word tokens without stop words, numbers = its 4+ digit numbers,
    short_alpha = a 2–3 letter word that may join a following code).
    """
    hit = _piece_kinds.get(piece)
    if hit is not None:
        return hit
    if is_unit_token(piece):
        hit = ("unit", (piece,), (), None)
    elif _IP_RATING.match(piece) or _DIMENSION.fullmatch(piece):
        hit = ("attr", (piece,), (), None)
    elif is_code(piece):
        hit = ("code", (code_key(piece),), (), None)
    else:
        if _PLAIN_NUMBER.match(piece):
            piece_ = _clean_number(piece)
        else:
            piece_ = piece
        words = [piece_] if _PLAIN_NUMBER.match(piece_) else [w for w in _WORD_SPLIT.split(piece_) if w]
        if len(words) > 1 and all(w.isalpha() for w in words):
            # "lcs-csh" / "wi-fi": also keep the joined spelling ("lcscsh", "wifi")
            words.append("".join(words))
        tokens: list[str] = []
        numbers: list[str] = []
        for w in words:
            w = _WORD_NAMES.get(w, w)
            if w.isdigit() or _PLAIN_NUMBER.match(w):
                if w.isdigit() and len(w) < 4:
                    w = str(int(w))
                if len(w) >= 4:
                    numbers.append(w)
            if w not in STOP_WORDS:
                tokens.append(w)
        last = words[-1] if words else ""
        short = last if (len(words) == 1 and last.isalpha() and 2 <= len(last) <= 3 and last not in STOP_WORDS) else None
        hit = ("words", tuple(tokens), tuple(numbers), short)
    if len(_piece_kinds) >= PIECE_CACHE_SIZE:
        _piece_kinds.clear()
    _piece_kinds[piece] = hit
    return hit


def _starts_a_word(text: str, at: int) -> bool:
    """True when ``text[at]`` starts a word: nothing, or no letter, digit or dot before it."""
    return at == 0 or not (text[at - 1].isalnum() or text[at - 1] in "._")


def _looks_like_breaker(text: str) -> bool:
    """Whether a case-folded name (units read) is a circuit breaker's (see :data:`_BREAKER_WORDS`)."""
    for word in _BREAKER_WORDS:
        if word in text:
            return True
    for m in _AMP_HINT.finditer(text):
        at = m.start()
        while at > 0 and (text[at - 1].isdigit() or text[at - 1] == "."):
            at -= 1
        if _starts_a_word(text, at):  # "16a", not the tail of a code ("pm1327a")
            return True
    for m in _SERIES_HINT.finditer(text):
        if _starts_a_word(text, m.start()) and not (m.group(0)[0] == "s" and not m.group(0)[2].isdigit()):
            return True
    return False


def _mark_curves(text: str) -> tuple[str, list[str]]:
    """The breaker curve letters of ``text`` (case-folded, units read) made Latin, and the letters.

    Only called for a name with a breaker sign (:func:`_looks_like_breaker`).  A lone Cyrillic letter
    followed by a Cyrillic word, or preceded by a bare number, is left as it is (a preposition or a
    spaced unit) unless it is in parentheses or after a curve word (see the module docstring).
    """
    out: list[str] = []
    curves: list[str] = []
    at = 0
    for m in _CURVE_LETTER.finditer(text):
        start, end = m.span()
        letter = m.group(0)
        latin = _CYRILLIC_CURVES.get(letter)
        if latin is not None:
            before = text[max(0, start - 20) : start]
            if (
                _CYRILLIC_WORD_AHEAD.match(text, end) is not None or _NUMBER_BEHIND.search(before) is not None
            ) and _CURVE_MARK.search(before) is None:
                continue
            out.append(text[at:start])
            out.append(latin)
            at = end
            letter = latin
        curves.append(letter)
    if not curves:
        return text, curves
    out.append(text[at:])
    return "".join(out), curves


#: Memory written as a pair, RAM / storage ("8/256GB", "8GB/256GB", "8 / 256 ГБ"): two storage units,
#: the first taking the second's unit when it has none (matching trial: "8GB/256GB" and "8/256GB"
#: were two different codes, "8gb256gb" and "8256gb").
#: Poles of a breaker: "1P+N" (a protected pole and the neutral) is one token "1pn", not "1p" and "n";
#: the words "однополюсный" … "четырехполюсный" are "1p" … "4p" (the trial: "ВА47-29 1P+N C16" and
#: "ВА47-29 C16 трехполюсный" were auto-linked to "ВА47-29 1P C16").  After casefold; "р" is Cyrillic.
_POLES_PLUS_N = re.compile(r"(?<![\w.])(\d)\s?[pрп]?\s?\+\s?[nн](?!\w)")
_POLE_WORDS = re.compile(r"(?<!\w)(одно|двух|тр[её]х|четыр[её]х)полюсн\w*")
#: "3-полюсный", "3-х полюсный", "3 полюса", "1 полюс", "3-пол.", "3 пол." (a second trial): "3p"
_POLE_NUMBER = re.compile(r"(?<![\w.])(\d)\s?(?:-\s?х\s?|-\s?)?(?:полюсн\w*|полюс(?:а|ов)?|пол\.)(?!\w)")
_POLE_COUNT = {"одно": "1p", "двух": "2p", "трех": "3p", "трёх": "3p", "четырех": "4p", "четырёх": "4p"}
_MEMORY_PAIR = re.compile(r"(?<![\w.,/])(\d+)\s?(gb|гб|tb|тб)?\s?/\s?(\d+)\s?(gb|гб|tb|тб)(?![\w/])")


def _memory_pair(m: re.Match[str]) -> str:
    unit = m.group(4)
    return f"{m.group(1)}{m.group(2) or unit} {m.group(3)}{unit}"


#: A spaced model code is joined ("df 333 dwye" → ``df333dwye``) from a 2–3 letter group, a number of
#: up to :data:`_JOIN_DIGITS_MAX` digits and a letter suffix of up to :data:`_JOIN_SUFFIX_MAX`
#: letters; without the suffix only when the number has :data:`_JOIN_DIGITS_MIN`+ digits ("df 333",
#: not "hp 15": a short number after a word is a size or a line, not a model).
_JOIN_DIGITS_MIN = 3
_JOIN_DIGITS_MAX = 6
_JOIN_SUFFIX_MAX = 4
#: The glued form of such a code ("df333"): a letter suffix written apart after it joins it the same
#: way ("DF333 DWYE" → ``df333dwye``, hostile trial: it was not the "DF333DWYE" of the catalog); the
#: key is also kept in :attr:`NormalizedName.suffix_joins` (a word after a code is often no suffix).
_GLUED_RUN = re.compile(r"^[a-z]{2,3}\d{1,%d}$" % _JOIN_DIGITS_MAX)


def _add_joined(codes: set[str], joined: str) -> None:
    """Add a code key joined from adjacent pieces, look-alikes folded ("ва4729" → ``ba4729``), and
    its transliterated spelling when folding changed it (``va4729``)."""
    folded = fold_lookalikes(joined)
    codes.add(folded)
    if folded != joined:
        codes.add(_transliterate(joined))


def _variants(chain_words: list[tuple[int, str]]) -> tuple[str, ...]:
    """The variant values of a name from its variant words after a model, each ``(piece index, word)``
    in name order: each run of adjacent words gives its :data:`VARIANT_WORDS`, or "pro" when "pro" is
    all it holds ("15 Pro" → ``pro``, "13 Pro Max" → ``max``, "Pro+" → ``plus``)."""
    out: list[str] = []
    run: list[str] = []
    prev = -2
    for i, word in chain_words:
        if i != prev + 1 and run:
            out.extend([w for w in run if w in VARIANT_WORDS] or [w for w in run[:1] if w in _PRO])
            run = []
        run.append(word)
        prev = i
    out.extend([w for w in run if w in VARIANT_WORDS] or [w for w in run[:1] if w in _PRO])
    return tuple(out)


def normalize_name(name: str) -> NormalizedName:
    """Normalise one product / item name (see the module docstring for the rules).

    Never raises; an empty or punctuation-only name gives empty tokens.  Results are
    cached by ``name`` (at most :data:`NAME_CACHE_SIZE`; a :class:`NormalizedName` is
    immutable, so sharing one is safe).
    """
    hit = _name_cache.get(name)
    if hit is not None:
        return hit
    result = normalize_uncached(name)
    if len(_name_cache) >= NAME_CACHE_SIZE:
        _name_cache.clear()
    _name_cache[name] = result
    return result


def normalize_uncached(name: str) -> NormalizedName:
    """:func:`normalize_name` without the name cache (for strings met once, such as SKUs)."""
    text = unicodedata.normalize("NFKC", name).casefold().replace("ё", "е")
    if "," in text:
        text = _PRE_DECIMAL.sub(".", text)  # decimal comma: "1,5 л" is "1.5 л"
    text = _PRE_DIMENSION.sub("x", text)  # "3 х 1.5" / "3х1,5" → "3x1.5"
    if "x" in text and ("m2" in text or "м2" in text or "кв." in text or "sq." in text):
        text = _SECTION_AFTER_SIZE.sub(r"\1", text)  # "3x2.5 мм2" → "3x2.5"
    if "+" in text and ("n" in text or "н" in text):
        text = _POLES_PLUS_N.sub(r"\1pn", text)
    if "edition" in text:
        text = _FAN_EDITION.sub("fe", text)
    if "пол" in text:
        text = _POLE_WORDS.sub(lambda m: _POLE_COUNT[m.group(1)], text)
        text = _POLE_NUMBER.sub(r"\1p", text)
    if "/" in text:
        text = _MEMORY_PAIR.sub(_memory_pair, text)  # "8/256gb", "8gb/256gb" → "8gb 256gb"
    if "+" in text:
        text = _GLUED_PLUS.sub(" plus", text)  # "s24+" → "s24 plus": a variant (VARIANT_WORDS)
    if "pro" in text or "fe" in text or "max" in text or "plus" in text or "mini" in text or "lite" in text or "ultra" in text:
        text = _GLUED_VARIANT.sub(_unglue_variant, text)  # "s24fe" → "s24 fe", "15pro" → "15 pro", "promax" → "pro max"
    text = apply_brand_aliases(text)
    if "”" in text or "“" in text or "″" in text:
        text = text.replace("”", '"').replace("“", '"').replace("″", '"')
    # Units first (their table knows Cyrillic spellings: "220В" is volts, not "220b"),
    # then look-alike folding piece by piece, remembering the transliterated spelling.
    text = normalize_units(text)
    split = _SPLIT.split(text)
    curves: list[str] = []
    # a lone curve letter is a piece of its own ("16а с", "(c)"): a set test before any regex
    if not _CURVE_PIECES.isdisjoint(split) and _looks_like_breaker(text):
        text, curves = _mark_curves(text)  # "16а с" → "16a c", "c" an attribute
        if curves:
            split = _SPLIT.split(text)
    pieces = []
    translit_alts: dict[str, str] = {}
    raw_get = _raw_pieces.get  # the piece caches are read inline: a look-up, not a call, per piece
    for p in split:
        new, alt = raw_get(p) or _raw_piece(p)
        if alt is not None:
            translit_alts[new] = alt
        pieces.append(new)
    kind_get = _piece_kinds.get
    tokens: list[str] = []
    codes: set[str] = set()
    units: set[str] = set()
    numbers: set[str] = set()
    attributes: set[str] = set()
    prev_short_alpha: str | None = None
    # variants: a model (code or number) was seen / the last piece may carry a variant word after it
    model_seen = False
    after_model = False
    chain_words: list[tuple[int, str]] = []  # (piece index, word) of the variant words after a model
    short_model = False  # the last model is a number or a short code ("15", "s24"): "pro" may follow
    last = len(pieces) - 1
    # a spaced model code: a short letter group, a number, maybe a letter suffix ("df 333 dwye")
    run: str | None = None
    next_run: str | None = None
    run_glued = False  # the run is a glued code ("df333"), not spaced pieces ("df 333")
    suffix_joins: set[str] = set()
    for i, piece in enumerate(pieces):
        if not piece:
            prev_short_alpha = None
            continue
        if '"' in piece or "'" in piece:
            piece = piece.replace('"', "").replace("'", "")
        kind, toks_, nums, short = kind_get(piece) or _piece_kind(piece)
        if kind == "unit":
            tokens.append(toks_[0])
            units.add(toks_[0])
            prev_short_alpha = None
        elif kind == "attr":
            tokens.append(toks_[0])
            attributes.add(toks_[0])
            prev_short_alpha = None
        elif kind == "code" and i < last and pieces[i + 1] in _LENGTH_WORDS and _LETTER_RATING.match(toks_[0]):
            tokens.append(toks_[0])  # "d20 мм": a diameter
            attributes.add(toks_[0])
            prev_short_alpha = None
        elif kind == "code":
            model_seen = after_model = True
            key = toks_[0]
            short_model = len(key) <= _PRO_MODEL_MAX
            tokens.append(key)
            codes.add(key)
            alt = translit_alts.get(piece)
            if alt:
                codes.add(code_key(alt))
            if prev_short_alpha is not None:
                _add_joined(codes, prev_short_alpha + key)  # "ps lx350h", "ва 47-29"
            prev_short_alpha = None
            if _GLUED_RUN.match(key) is not None:
                next_run = key  # "df333 dwye": the glued form of "df 333", a suffix may follow
        else:
            tokens.extend(toks_)
            numbers.update(nums)
            prev_run, run_tail, run = prev_short_alpha, run, None
            tail_glued, run_glued = run_glued, False
            prev_short_alpha = short
            if len(toks_) == 1:
                word = toks_[0]
                if run_tail is not None and len(word) <= _JOIN_SUFFIX_MAX and word.isalpha():
                    _add_joined(codes, run_tail + word)  # "df 333 dwye" → "df333dwye"
                    if tail_glued:  # "df333 dwye"
                        suffix_joins.add(fold_lookalikes(run_tail + word))
                    model_seen = True
                if word[0].isdigit():
                    after_model = short_model = _PLAIN_NUMBER.match(word) is not None
                    model_seen = model_seen or after_model
                    if prev_run is not None and word.isdigit() and len(word) <= _JOIN_DIGITS_MAX:
                        run = prev_run + word  # "df 333": a spaced model code
                        if len(word) >= _JOIN_DIGITS_MIN:
                            _add_joined(codes, run)
                            model_seen = True
                elif after_model and word in _VARIANT_CHAIN:
                    if short_model or word not in _PRO:
                        chain_words.append((i, word))
                else:
                    after_model = False
            else:
                after_model = False
            continue
        after_model = after_model and kind == "code"
        run, next_run = next_run, None
        run_glued = run is not None
    if curves:
        attributes.update(curves)
    variants = _variants(chain_words) if chain_words else ()
    if variants:
        attributes.update([VARIANT_MARK + v for v in variants])
    elif model_seen:
        attributes.add(VARIANT_MARK)
    first = dict.fromkeys(tokens)  # _dedupe, in C
    first.pop("", None)
    toks = tuple(first)
    return NormalizedName(
        text=" ".join(toks),
        tokens=toks,
        codes=frozenset(codes) if codes else _NONE,
        # units and attributes repeat from name to name ({"16a"}, {"~"}): one object each (see shared)
        units=shared(frozenset(units)) if units else _NONE,
        numbers=frozenset(numbers) if numbers else _NONE,
        attributes=shared(frozenset(attributes)) if attributes else _NONE,
        suffix_joins=frozenset(suffix_joins) if suffix_joins else _NONE,
    )
