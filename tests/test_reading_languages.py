"""Header words of the languages synonyms.py lists: a small list per language is read end to end."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from ingestion.reading.synonyms import header_role, price_kind
from reading_fixtures import read_all, write_csv

ROWS = [["X0", "Jistič třípólový 16 A", "10,50"], ["X1", "Vypínač řazení č. 1", "5,00"], ["X2", "Kabel měděný žlutý", "7,25"]]

HEADERS = [  # (sku, name, price) header texts in several languages
    ("Référence", "Désignation", "Prix"),
    ("Code", "Désignation", "Prix"),
    ("Référence", "Libellé", "Prix HT"),
    ("Référence", "Description", "Prix"),
    ("Réf.", "Produit", "Prix unitaire"),
    ("Code article", "Désignation", "PU HT"),
    ("Codice", "Descrizione", "Prezzo"),
    ("Cod. articolo", "Denominazione", "Prezzo netto"),
    ("Código", "Descrição", "Preço"),
    ("Referência", "Designação", "Preço unitário"),
    ("Kód", "Název", "Cena"),
    ("Číslo", "Název", "Cena bez DPH"),
    ("Kat. číslo", "Popis", "Cena"),
    ("Objednací číslo", "Název", "Cena s DPH"),
    ("Kód", "Názov", "Cena"),
    ("Indeks", "Nazwa", "Cena netto"),
    ("Kod", "Nazwa", "Cena"),
    ("Cikkszám", "Megnevezés", "Nettó ár"),
    ("Artikelnummer", "Benämning", "Pris"),
    ("Varenummer", "Varenavn", "Pris"),
    ("Artikelnummer", "Omschrijving", "Prijs"),
]


@pytest.mark.parametrize("sku, name, price", HEADERS)
def test_header_words_of_each_language(tmp_path: Path, sku: str, name: str, price: str) -> None:
    path = write_csv(tmp_path / "l.csv", [[sku, name, price], *ROWS])
    items, _ = read_all(path)
    assert [(i.sku, i.name, i.price) for i in items] == [
        ("X0", "Jistič třípólový 16 A", Decimal("10.50")),
        ("X1", "Vypínač řazení č. 1", Decimal("5.00")),
        ("X2", "Kabel měděný žlutý", Decimal("7.25")),
    ]


ROLES = [
    ("Devise", "currency"), ("Valuta", "currency"), ("Moeda", "currency"), ("Měna", "currency"),
    ("Unité", "unit"), ("UV", "unit"), ("Unità", "unit"), ("UM", "unit"), ("Jednotka", "unit"), ("MJ", "unit"),
    ("Jm.", "unit"), ("Egység", "unit"), ("Enhet", "unit"),
    ("Stock", "stock"), ("Quantité", "stock"), ("Disponibilité", "stock"), ("Giacenza", "stock"),
    ("Estoque", "stock"), ("Skladem", "stock"), ("Množství", "stock"), ("Stan", "stock"), ("Készlet", "stock"),
    ("Lagersaldo", "stock"), ("Voorraad", "stock"),
    ("Marque", "brand"), ("Fabricant", "brand"), ("Produttore", "brand"), ("Fabricante", "brand"),
    ("Výrobce", "brand"), ("Značka", "brand"), ("Gyártó", "brand"), ("Tillverkare", "brand"), ("Merk", "brand"),
    ("Catégorie", "category"), ("Famille", "category"), ("Kategória", "category"),
    ("Code barre", "ignore"), ("Remise", "ignore"), ("TVA", "ignore"), ("DPH 21 %", "ignore"), ("Poids", "ignore"),
    ("Tarif", "price"), ("Prix TTC", "price"), ("Ár", "price"),
]


@pytest.mark.parametrize("text, role", ROLES)
def test_other_roles(text: str, role: str) -> None:
    assert header_role(text)[0] == role


@pytest.mark.parametrize("text, kind", [
    ("Prix HT", "netto"), ("Prix TTC", "brutto"), ("Cena bez DPH", "netto"), ("Cena s DPH", "brutto"),
    ("Prix public", "retail"), ("Prix de gros", "wholesale"), ("Prezzo all'ingrosso", "wholesale"),
])
def test_price_kinds(text: str, kind: str) -> None:
    assert price_kind(text) == kind


def test_czech_cp1250_file_without_t_caron(tmp_path: Path) -> None:
    path = tmp_path / "cz.csv"
    path.write_bytes("Kód;Název;Cena\r\nX0;Jistič třípólový;10,50\r\nX1;Vypínač řazení č. 1;5\r\n".encode("cp1250"))
    items, _ = read_all(path)
    assert [(i.sku, i.name) for i in items] == [("X0", "Jistič třípólový"), ("X1", "Vypínač řazení č. 1")]


# --- German and Russian compound headers (a tester's files were stored without prices) ---

PRICE_HEADERS = [  # (price header, kind the column is stored under)
    ("Listenpreis", "retail"), ("Listenpreis CHF", "retail"), ("Listenpreis EUR", "retail"),
    ("Bruttopreis", "brutto"), ("Nettopreis", "netto"), ("Einzelpreis", "price"), ("Stückpreis", "price"),
    ("Verkaufspreis", "sale"), ("Einkaufspreis", "purchase"), ("VK", "sale"), ("EK", "purchase"),
    ("VK-Preis", "sale"), ("Preis netto", "netto"), ("Preis CHF", "price"),
    ("Цена со скидкой", "special"), ("Прайс", "price"), ("Цена за ед.", "price"), ("Стоимость за шт", "price"),
    ("Discounted price", "special"), ("Preis nach Rabatt", "special"),
]


@pytest.mark.parametrize("header, kind", PRICE_HEADERS)
def test_compound_price_headers_give_prices(tmp_path: Path, header: str, kind: str) -> None:
    assert header_role(header)[0] == "price" and price_kind(header) == kind
    path = write_csv(tmp_path / "p.csv", [["Artikelnummer", "Bezeichnung", header], *ROWS])
    items, _ = read_all(path)
    assert [(i.sku, i.price, i.prices) for i in items] == [
        ("X0", Decimal("10.50"), {kind: Decimal("10.50")}),
        ("X1", Decimal("5.00"), {kind: Decimal("5.00")}),
        ("X2", Decimal("7.25"), {kind: Decimal("7.25")}),
    ]


def test_discounted_price_is_a_kind_beside_the_plain_price(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "d.csv", [
        ["Код товара", "Номенклатура", "Цена со скидкой", "Цена", "Скидка, %", "Сумма"],
        ["A1", "Насос", "90,00", "100,00", "10", "900,00"],
        ["A2", "Кран", "45,00", "50,00", "10", "450,00"],
    ])
    items, _ = read_all(path)
    assert [(i.sku, i.price, i.prices) for i in items] == [
        ("A1", Decimal("100.00"), {"special": Decimal("90.00"), "price": Decimal("100.00")}),
        ("A2", Decimal("50.00"), {"special": Decimal("45.00"), "price": Decimal("50.00")}),
    ]


def test_german_list_with_every_role(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "de.csv", [
        ["Art.-Nr.", "Artikelbezeichnung", "Hersteller", "Mengeneinheit", "Lagerbestand", "Listenpreis CHF", "Nettopreis", "Summe"],
        ["A-1", "Kugelhahn 1/2", "Geberit", "Stk", "12", "25.00", "20.00", "240.00"],
        ["A-2", "Rohrbogen 90°", "Geberit", "Stk", "3", "8.50", "7.00", "21.00"],
    ])
    items, _ = read_all(path)
    assert [(i.sku, i.name, i.brand, i.unit, i.stock, i.price, i.currency) for i in items] == [
        ("A-1", "Kugelhahn 1/2", "Geberit", "pcs", Decimal("12"), Decimal("25.00"), "CHF"),
        ("A-2", "Rohrbogen 90°", "Geberit", "pcs", Decimal("3"), Decimal("8.50"), "CHF"),
    ]
    assert items[0].prices == {"retail": Decimal("25.00"), "netto": Decimal("20.00")}


@pytest.mark.parametrize("text, role", [
    ("Сумма", "ignore"), ("Summe", "ignore"), ("Total", "ignore"), ("Скидка, %", "ignore"), ("Rabatt", "ignore"),
    ("Прайс-лист", None),
    ("Artikelnummer", "sku"), ("Art.-Nr.", "sku"), ("Bestellnummer", "sku"), ("Bestell-Nr.", "sku"),
    ("Bezeichnung", "name"), ("Artikelbezeichnung", "name"), ("Warenbezeichnung", "name"),
    ("Mengeneinheit", "unit"), ("ME", "unit"), ("Lagerbestand", "stock"), ("On hand", "stock"),
    ("Hersteller", "brand"), ("Hersteller-Nr.", "sku"),
    ("Код товара", "sku"), ("Номенклатура", "name"), ("Ед. изм.", "unit"), ("Остаток на складе", "stock"),
    ("Производитель", "brand"),
])
def test_compound_headers_of_other_roles(text: str, role: str | None) -> None:
    assert header_role(text)[0] == role
