"""CSV/TSV: encodings, delimiters, quoting, physical line numbers."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest

from ingestion.reading import ReadOptions, open_price_list
from ingestion.reading.csv_reader import detect_encoding, sniff_delimiter
from reading_fixtures import read_all, write_csv

ROWS = [
    ["Прайс-лист от 01.02.2025"],
    ["Артикул", "Наименование", "Цена, руб", "Наличие"],
    ["001", "Кабель ВВГ 3x1,5; бухта", "1 234,50", "есть"],
    ["002", 'Розетка 1/8 " белая', "12,5", "нет"],
    ["003", "Выключатель", "по запросу", ""],
]


@pytest.mark.parametrize("encoding", ["cp1251", "utf-8-sig", "utf-8", "cp866", "mac_cyrillic"])
def test_cyrillic_encodings(tmp_path: Path, encoding: str) -> None:
    path = write_csv(tmp_path / "a.csv", ROWS, encoding=encoding)
    items, problems = read_all(path)
    assert [i.name for i in items] == ["Кабель ВВГ 3x1,5; бухта", 'Розетка 1/8 " белая', "Выключатель"]
    assert items[0].sku == "001" and items[0].price == Decimal("1234.50") and items[0].currency == "RUB"
    assert items[1].price == Decimal("12.5") and items[1].available is False
    assert [i.row for i in items] == [3, 4, 5]
    assert [p.type for p in problems] == ["price_on_request"]


def test_detect_encoding() -> None:
    text = "Наименование;Цена\nКабель медный;10\n"
    assert detect_encoding(text.encode("cp1251")) == "cp1251"
    assert detect_encoding(text.encode("cp866")) == "cp866"
    assert detect_encoding(b"\xef\xbb\xbf" + text.encode("utf-8")) == "utf-8-sig"
    assert detect_encoding("Größe;Preis\nÄpfel;1\n".encode("latin-1")) in ("latin-1", "cp1252", "iso8859_1", "cp1250")


MAC_OR_CP1251 = [
    "Артикул;Наименование;Цена\n001;Кабель ВВГ 3х2,5;100\n002;Лампа светодиодная;50\n003;Щит ЩРН-12;900\n",
    "Код;Товар;Цена\n1;Розетка «Лондон» белая;10\n2;Выключатель „Рим“ — двойной…;20\n3;Удлинитель 5 м;30\n",
    "Прайс-лист\nАртикул;Наименование;Цена, руб\n" + "".join(
        f"A-{n};Светильник ДПО-{n} яркий, Я-серия;{n}\u00a0{n:03d},50\n" for n in range(1, 60)),
]


@pytest.mark.parametrize("text", MAC_OR_CP1251)
def test_mac_cyrillic_is_told_from_cp1251(text: str) -> None:
    # the two share the small letters а–ю; capitals and я tell them apart
    assert detect_encoding(text.encode("mac_cyrillic")) == "mac_cyrillic"
    assert detect_encoding(text.encode("cp1251")) == "cp1251"


def test_mac_cyrillic_file_reads_its_capitals_and_ya(tmp_path: Path) -> None:
    path = tmp_path / "mac.csv"
    path.write_bytes(MAC_OR_CP1251[2].encode("mac_cyrillic"))
    pl = open_price_list(path)
    items = [r for r in pl.records() if not hasattr(r, "type")]
    assert pl.details["encoding"] == "mac_cyrillic"
    assert items[0].name == "Светильник ДПО-1 яркий, Я-серия"  # type: ignore[union-attr]
    assert items[0].price == Decimal("1001.50")  # type: ignore[union-attr]


def test_lower_case_text_without_capitals_stays_cp1251() -> None:
    # too few capitals or я to tell: the common code page wins
    assert detect_encoding("артикул;наименование;цена\n001;кабель медный;100\n".encode("mac_cyrillic")) == "cp1251"


SINGLE_BYTE = [  # (header, line with {n}, code page): made-up catalogue lines in several languages
    ("Réf;Désignation;Prix", "R{n};Vis à tête hexagonale n°{n} – acier;{n},50 €", "cp1252"),
    ("sku;name;price", "S{n};Café crème {n};{n},50", "cp1252"),
    ("Artikel;Bezeichnung;Preis", "A{n};Größe {n} Schraube – Edelstahl für Außen;{n},50 €", "cp1252"),
    ("Código;Descripción;Precio", "E{n};Tornillo pequeño acero inoxidable año {n};{n},50 €", "cp1252"),
    ("Kod;Nazwa;Cena", "K{n};Zawór kulowy mosiężny DN{n} z dźwignią;{n},50 zł", "cp1250"),
    ("Kod;Nazwa;Cena", "K{n};Zażółć gęślą jaźń – Łódź {n};{n},50 zł", "cp1250"),
    ("Kód;Název;Cena", "K{n};Příliš žluťoučký kůň úpěl ďábelské ódy {n};{n},50 Kč", "cp1250"),
    # Czech without ť (cp1252 reads č ř ě ů ň as è ø ì ù ò, all letters): told by words no language spells so
    ("Kód;Název;Cena", "X{n};Jistič třípólový {n}A;{n},50", "cp1250"),
    ("Kód;Název;Cena", "X{n};Vypínač řazení č. {n};{n},50 Kč", "cp1250"),
    ("Kód;Název;Cena", "X{n};Kabel měděný žlutý {n} m;{n},50", "cp1250"),
    ("Kód;Název;Cena", "X{n};Kůň a ďábel – šroub M{n};{n},50", "cp1250"),
    ("Kód;Názov;Cena", "S{n};Ventil ľahký, dĺžka {n} mm, mäkký;{n},50 €", "cp1250"),
    ("Cikkszám;Megnevezés;Ár", "H{n};Tömlő csatlakozó {n} mm, hőálló, gyűrű;{n},50 Ft", "cp1250"),
    ("Codice;Descrizione;Prezzo", "I{n};Valvola più robusta, così è però già pronta n°{n};{n},50 €", "cp1252"),
    ("Código;Descrição;Preço", "P{n};Ligação rápida de latão nº{n}, não inclui peças;{n},50 €", "cp1252"),
    ("Varenummer;Varenavn;Pris", "D{n};Rørbøjning i rustfrit stål, blå og grøn {n};{n},50 kr", "cp1252"),
    ("Varenummer;Varenavn;Pris", "N{n};Kjøleskap størrelse {n}, hvit, med fryser på toppen;{n},50 kr", "cp1252"),
    ("Artikelnummer;Benämning;Pris", "V{n};Rörkoppling mässing {n} mm, för värmesystem;{n},50 kr", "cp1252"),
    ("Réf;Désignation;Prix", "F{n};Crème lavante à l'huile, fenêtre, cœur n°{n};{n},50 €", "cp1252"),
    ("АРТИКУЛ;НАИМЕНОВАНИЕ;ЦЕНА", "A{n};АВТОМАТ ABB S201 C16 ЩИТОВОЙ {n};{n},50", "cp1251"),
    ("Артикул;Найменування;Ціна", "A{n};Кабель мідний ізольований {n};{n},50 грн", "cp1251"),
    ("Артикул;Наименование;Цена", "A{n};Кабель ВВГнг-LS 3х2,5 чёрный {n};{n},50 руб", "koi8_r"),
]


@pytest.mark.parametrize("lines", [1, 200])
@pytest.mark.parametrize("header, line, encoding", SINGLE_BYTE)
def test_single_byte_code_pages_read_without_mojibake(header: str, line: str, encoding: str, lines: int) -> None:
    # charset-normalizer alone took these French lines for mac_latin2 or cp1250, a one-line "Café" for
    # cp1006, Polish for mac_cyrillic; capitals in cp1251 were taken for KOI8-R
    data = "\n".join([header] + [line.format(n=n) for n in range(lines)]).encode(encoding)
    found = detect_encoding(data)
    assert data.decode(found) == data.decode(encoding), found


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiters(tmp_path: Path, delimiter: str) -> None:
    path = write_csv(tmp_path / "d.csv", ROWS[1:], delimiter=delimiter, lineterminator="\n")
    items, _ = read_all(path)
    assert len(items) == 3 and items[0].name == "Кабель ВВГ 3x1,5; бухта"


def test_sniff_prefers_consistent_width() -> None:
    assert sniff_delimiter("Product\tPrice\nA, B and C\t$1.00\nD\t$2.00\n") == "\t"
    assert sniff_delimiter("Наименование;Артикул\nАдаптер 1,5, M8;100\nСкоба;200\n") == ";"


def test_multiline_quoted_records_keep_physical_line(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text('Title,Body,Price\n"A","line1\nline2\nline3",10.00\n"B","x",$20.00\n', encoding="utf-8")
    items, _ = read_all(path)
    assert [(i.name, i.row, i.price) for i in items] == [("A", 2, Decimal("10.00")), ("B", 5, Decimal("20.00"))]
    assert items[1].currency == "USD"


def test_overrides_encoding_delimiter_decimal(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "o.csv", [["Name", "Price"], ["A", "1,234"], ["B", "2,500"]], delimiter="|", encoding="cp1251")
    items, _ = read_all(path)
    assert items[0].price == Decimal("1234")
    items, _ = read_all(path, ReadOptions(encoding="cp1251", delimiter="|", decimal_separator=","))
    assert [i.price for i in items] == [Decimal("1.234"), Decimal("2.500")]


def test_csv_without_price_column(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "n.csv", [["Наименование", "Артикул"], ["Скоба d6", "5041-022"], ["Адаптер", "100-132-1"]])
    pl = open_price_list(path)
    recs = list(pl.records())
    items = [r for r in recs if hasattr(r, "name")]
    assert [(i.sku, i.price) for i in items] == [("5041-022", None), ("100-132-1", None)]
    assert any(getattr(r, "type", "") == "layout_note" for r in recs)


def test_rows_with_header_words_are_items_not_repeated_headers(tmp_path: Path) -> None:
    """'Товар без цены' holds synonym words, but it does not repeat this sheet's header."""
    path = write_csv(
        tmp_path / "trailing.csv",
        [
            ["Артикул", "Наименование", "Цена, руб", "Остаток"],
            ["S-1", "Товар номер 1", "1,50", "3"],
            ["S-2", "Товар без цены", "нет", "1"],
            ["Артикул", "Наименование", "Цена, руб", "Остаток"],
            ["S-3", "Товар номер 3", "abc", "1"],
        ],
    )
    items, problems = read_all(path)
    assert [i.sku for i in items] == ["S-1"]
    assert sorted((p.row, p.type) for p in problems if p.level == "error") == [(3, "bad_price"), (5, "bad_price")]


# ---------------------------------------------------------------- robustness
def _mojibake(text: str) -> str:
    """What a cp1251 reader makes of UTF-8 bytes (the byte cp1251 lacks passes through as U+0098)."""
    return "".join(chr(b) if b == 0x98 else bytes([b]).decode("cp1251") for b in text.encode("utf-8"))


def test_text_mis_decoded_once_is_repaired(tmp_path: Path) -> None:
    rows = [[_mojibake(c) for c in r] for r in ROWS]
    assert rows[1][1] == "РќР°РёРјРµРЅРѕРІР°РЅРёРµ"
    path = write_csv(tmp_path / "moji.csv", rows, encoding="utf-8")
    pl = open_price_list(path)
    recs = list(pl.records())
    items = [r for r in recs if hasattr(r, "name")]
    assert [i.name for i in items] == ["Кабель ВВГ 3x1,5; бухта", 'Розетка 1/8 " белая', "Выключатель"]
    assert items[0].currency == "RUB" and items[0].price == Decimal("1234.50")
    assert pl.details["repaired_mojibake"] is True
    assert [getattr(r, "type", "") for r in recs if not hasattr(r, "name")] == ["text_repaired", "price_on_request"]


def test_clean_cyrillic_is_not_repaired(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "clean.csv", [["Наименование", "Цена"], ["Рис Спорт СРЕДНИЙ", "10"], ["Сёмга", "5"]])
    pl = open_price_list(path)
    items = [r for r in pl.records() if hasattr(r, "name")]
    assert [i.name for i in items] == ["Рис Спорт СРЕДНИЙ", "Сёмга"] and "repaired_mojibake" not in pl.details


@pytest.mark.parametrize("bom", ["utf-16", "utf-16-le-nobom"])
def test_utf16(tmp_path: Path, bom: str) -> None:
    path = tmp_path / "u16.csv"
    text = "\r\n".join("\t".join(r) for r in ROWS[1:]) + "\r\n"
    path.write_bytes(text.encode("utf-16") if bom == "utf-16" else text.encode("utf-16-le"))
    items, _ = read_all(path)
    assert [i.sku for i in items] == ["001", "002", "003"] and items[0].price == Decimal("1234.50")


def test_stray_bytes_and_lines_before_the_header(tmp_path: Path) -> None:
    buf = io.StringIO()
    csv.writer(buf, delimiter=";", lineterminator="\r\n").writerows(ROWS[1:])
    body = buf.getvalue().encode("utf-8")
    junk = "\ufeff".encode("utf-8").decode("latin-1").encode("utf-8")  # a BOM decoded once as latin-1
    path = tmp_path / "stray.csv"
    path.write_bytes(junk + b"\x00\x1a garbage line \xff\r\nexported by tool v1\r\n\r\n" + body)
    items, problems = read_all(path)
    assert [i.name for i in items] == ["Кабель ВВГ 3x1,5; бухта", 'Розетка 1/8 " белая', "Выключатель"]
    assert [p.type for p in problems] == ["price_on_request"]


def test_stray_nul_bytes_are_dropped(tmp_path: Path) -> None:
    path = tmp_path / "nul.csv"
    path.write_bytes(b"Name;Price\r\nBolt\x00;1.50\r\nNut;0.40\r\n")
    items, _ = read_all(path)
    assert [(i.name, i.price) for i in items] == [("Bolt", Decimal("1.50")), ("Nut", Decimal("0.40"))]


def test_binary_file_refused(tmp_path: Path) -> None:
    from ingestion.errors import UnsupportedFormat

    path = tmp_path / "bin.csv"
    path.write_bytes(bytes(range(256)) * 40)
    with pytest.raises(UnsupportedFormat):
        open_price_list(path)


def test_text_after_a_closing_quote_keeps_the_quotes(tmp_path: Path) -> None:
    # the csv module would read "Труба 1/2" латунь as Труба 1/2 латунь: the inch mark lost, silently
    path = tmp_path / "q.csv"
    path.write_text('Code,Name,Price\nA1,Труба 3/4,200\nA2,"Труба 1/2" латунь,250\nA3,"Кран, шаровой",300\n',
                    encoding="utf-8")
    items, problems = read_all(path)
    assert [i.name for i in items] == ["Труба 3/4", '"Труба 1/2" латунь', "Кран, шаровой"]
    assert [i.price for i in items] == [Decimal("200"), Decimal("250"), Decimal("300")]
    kept = [p for p in problems if p.type == "quote_kept"]
    assert len(kept) == 1 and kept[0].row == 3 and kept[0].level == "warning"
