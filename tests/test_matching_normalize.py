"""Name normalisation: look-alike letters, units, model codes, stop words."""

from __future__ import annotations

import pytest

from ingestion.matching.normalize import code_core, code_family, is_code, normalize_name


def test_cyrillic_lookalikes_in_model_code_become_latin() -> None:
    cyr = normalize_name("Автомат ВА47-29 3Р 16А")
    lat = normalize_name("автомат BA47-29 3P 16A")
    assert "ba4729" in cyr.codes
    assert cyr.codes & lat.codes
    assert cyr.tokens == lat.tokens


def test_transliterated_code_spelling_also_matches() -> None:
    assert normalize_name("Автомат ВА47-29").codes & normalize_name("va 47-29 breaker").codes


def test_pure_cyrillic_word_is_untouched() -> None:
    assert normalize_name("Кабель медный").tokens == ("кабель", "медный")


@pytest.mark.parametrize("raw", ["Флешка 16 GB", "флешка 16гб", "ФЛЕШКА 16Gb", "флешка 16 Гб"])
def test_storage_units_become_one_token(raw: str) -> None:
    assert "16gb" in normalize_name(raw).units


@pytest.mark.parametrize(
    ("raw", "token"),
    [
        ("Вода 1,5 л", "1.5l"),
        ("water 1.5 L", "1.5l"),
        ("Лампа 60 Вт", "60w"),
        ("lamp 60W", "60w"),
        ("Удлинитель 220В", "220v"),
        ("extension cord 220 V", "220v"),
        ("Кабель 10 м", "10m"),
        ("Powerbank 10000 mAh", "10000mah"),
        ("Powerbank 10000мАч", "10000mah"),
        ("Болт 10 мм", "10mm"),
        ("bolt 10mm", "10mm"),
        ("Мешок 25 кг", "25kg"),
        ('TV 32"', "32in"),
        ("heater 2.0 kW", "2kw"),
    ],
)
def test_units(raw: str, token: str) -> None:
    assert token in normalize_name(raw).tokens


def test_volt_in_cyrillic_is_not_a_lookalike_b() -> None:
    n = normalize_name("Стабилизатор 220В")
    assert "220v" in n.units and "220b" not in n.tokens


def test_model_codes_are_joined_and_keyed() -> None:
    a = normalize_name("Sony PS-LX350H belt-drive turntable")
    b = normalize_name("sony turntable pslx350h")
    assert "pslx350h" in a.codes and "pslx350h" in b.codes


def test_short_letter_prefix_joins_following_code() -> None:
    assert "pslx350h" in normalize_name("sony ps lx350h").codes


def test_dash_joined_words_keep_joined_spelling() -> None:
    assert "lcscsh" in normalize_name("sony lcs-csh case").tokens


def test_stop_words_dropped_but_not_from_codes() -> None:
    n = normalize_name("Case for the iPhone and iPad A1234")
    assert "for" not in n.tokens and "the" not in n.tokens and "and" not in n.tokens
    assert "a1234" in n.codes


def test_code_helpers() -> None:
    assert is_code("pslx350h") and is_code("47-29") and is_code("0100071820")
    assert not is_code("16gb") and not is_code("2nd") and not is_code("1234") and not is_code("word")
    assert code_core("pm1327bk") == "pm1327"
    assert code_family("pslx350h") == "pslx"
    assert code_family("350h") == ""


def test_empty_name() -> None:
    n = normalize_name("  --  ")
    assert n.tokens == () and not n.codes


def test_brand_aliases_share_a_token() -> None:
    assert "hp" in normalize_name("Hewlett-Packard LaserJet P1102").tokens
    assert "hp" in normalize_name("HP LaserJet P1102").tokens
