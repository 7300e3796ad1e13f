"""Recovery from damaged rows: unterminated CSV quotes, price cells holding only a currency mark.

Every file is written here, in ``tmp_path``; the texts are made-up catalogue lines.
"""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path
from unittest import mock

import pytest

from ingestion.reading import Item, csv_reader
from ingestion.reading.csv_reader import row_shape, sniff_delimiter
from ingestion.reading.normalize import parse_price
from ingestion.reading.source import RowNote
from reading_fixtures import read_all, write_xlsx

HEADER = "Артикул;Наименование;Цена, руб;Ед\n"


def _write(tmp_path: Path, body: str, name: str = "p.csv") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def _rows(items: list[Item]) -> list[tuple[int, str | None, str, Decimal | None]]:
    return [(i.row, i.sku, i.name, i.price) for i in items]


# ---------------------------------------------------------------- 1. unterminated quotes
def test_quote_never_closed_keeps_the_rows_after_it(tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER + "001;Розетка;12,50;шт\n"
                  '002;"Кабель ВВГ 3х2,5;100,50;м\n'
                  "003;Выключатель;45,00;шт\n004;Лампа;10,00;шт\n005;Удлинитель;300,00;шт\n")
    items, problems = read_all(path)
    assert _rows(items) == [
        (2, "001", "Розетка", Decimal("12.50")),
        (3, "002", '"Кабель ВВГ 3х2,5', Decimal("100.50")),  # the quote read as a plain character
        (4, "003", "Выключатель", Decimal("45.00")),
        (5, "004", "Лампа", Decimal("10.00")),
        (6, "005", "Удлинитель", Decimal("300.00")),
    ]
    assert items[1].unit == "m"
    (quote,) = problems
    assert (quote.type, quote.level, quote.row, quote.column) == ("unterminated_quote", "warning", 3, "Наименование")
    assert "never closed" in quote.message and "next 3 line(s)" in quote.message
    assert "Кабель ВВГ 3х2,5" in quote.message


def test_stray_quote_at_the_start_of_a_line(tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER + "001;Розетка;12,50;шт\n"
                  '"002;Кабель ВВГ 3х2,5;100,50;м\n003;Выключатель;45,00;шт\n004;Лампа;10,00;шт\n')
    items, problems = read_all(path)
    assert [i.row for i in items] == [2, 3, 4, 5]
    assert (items[1].sku, items[1].name, items[1].price) == ('"002', "Кабель ВВГ 3х2,5", Decimal("100.50"))
    assert [(p.type, p.row, p.column) for p in problems] == [("unterminated_quote", 3, "Артикул")]


def test_quote_closed_by_the_opening_quote_of_a_later_cell(tmp_path: Path) -> None:
    # the csv module would end the runaway cell at '"Выключатель' and glue lines 3-4 together
    path = _write(tmp_path, HEADER + "001;Розетка;12,50;шт\n"
                  '002;"Кабель ВВГ 3х2,5;100,50;м\n003;"Выключатель";45,00;шт\n004;Лампа;10,00;шт\n')
    items, problems = read_all(path)
    assert _rows(items)[1:] == [
        (3, "002", '"Кабель ВВГ 3х2,5', Decimal("100.50")),
        (4, "003", "Выключатель", Decimal("45.00")),
        (5, "004", "Лампа", Decimal("10.00")),
    ]
    assert [(p.type, p.row) for p in problems] == [("unterminated_quote", 3)]


def test_quote_closed_cleanly_by_an_inch_mark_rows_later(tmp_path: Path) -> None:
    # 'Труба 1/2";' closes the runaway cell well-formed: the whole rows inside it give it away
    path = _write(tmp_path, HEADER + "001;Розетка;12,50;шт\n"
                  '002;"Кабель ВВГ 3х2,5;100,50;м\n003;Выключатель;45,00;шт\n'
                  '004;Труба 1/2";10,00;шт\n005;Удлинитель;300,00;шт\n')
    items, problems = read_all(path)
    assert _rows(items) == [
        (2, "001", "Розетка", Decimal("12.50")),
        (3, "002", '"Кабель ВВГ 3х2,5', Decimal("100.50")),
        (4, "003", "Выключатель", Decimal("45.00")),
        (5, "004", 'Труба 1/2"', Decimal("10.00")),
        (6, "005", "Удлинитель", Decimal("300.00")),
    ]
    assert [(p.type, p.row, p.column) for p in problems] == [("unterminated_quote", 3, "Наименование")]
    assert "next 2 line(s)" in problems[0].message


def test_quote_closed_cleanly_on_the_next_line(tmp_path: Path) -> None:
    # no line inside the runaway cell: the line it opens on and the one it ends on are both whole rows
    path = _write(tmp_path, HEADER + "001;Розетка;12,50;шт\n"
                  '002;"Кабель ВВГ 3х2,5;100,50;м\n003;Труба 3/4";45,00;шт\n004;Лампа;10,00;шт\n')
    items, problems = read_all(path)
    assert [(i.row, i.name) for i in items] == [
        (2, "Розетка"), (3, '"Кабель ВВГ 3х2,5'), (4, 'Труба 3/4"'), (5, "Лампа"),
    ]
    assert [(p.type, p.row) for p in problems] == [("unterminated_quote", 3)]


def test_quote_never_closed_on_the_last_line(tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER + "001;Розетка;12,50;шт\n002;Кабель ВВГ 3х2,5;100,50;\"м")
    items, problems = read_all(path)
    assert [(i.sku, i.price, i.unit) for i in items] == [("001", Decimal("12.50"), "pcs"), ("002", Decimal("100.50"), '"м')]
    (quote,) = problems
    assert (quote.type, quote.row, quote.column) == ("unterminated_quote", 3, "Ед")
    assert "line(s)" not in quote.message


def test_runaway_quote_past_the_field_limit(tmp_path: Path) -> None:
    # the cell reaches the csv module's field limit before the end of the file
    rows = "".join(f"{n:03d};Товар номер {n};{n},50;шт\n" for n in range(3, 300))
    path = _write(tmp_path, HEADER + "001;Розетка;12,50;шт\n" + '002;"Кабель ВВГ 3х2,5;100,50;м\n' + rows)
    before = csv.field_size_limit(2_000)
    try:
        with mock.patch.object(csv_reader, "MAX_CSV_FIELD_CHARS", 2_000):
            items, problems = read_all(path)
    finally:
        csv.field_size_limit(before)
    assert len(items) == 299 and items[-1].name == "Товар номер 299" and items[-1].row == 300
    assert [(p.type, p.row) for p in problems] == [("unterminated_quote", 3)]
    assert "at least" in problems[0].message


def test_cells_with_line_breaks_inside_closed_quotes_stay_one_cell(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "Title,Body,Price\n"
        '"A","line1\nline2\nline3",10.00\n'
        '"B","Size:\n10, 20, 30\nColor: red, blue",$20.00\n'  # a line inside the cell with the file's width
        'C,"Состав: хлопок, полиэстер\nУход: 30, 40",5.00\n'
        "D,plain,7.00\n",
        name="m.csv",
    )
    items, problems = read_all(path)
    assert [(i.name, i.row, i.price) for i in items] == [
        ("A", 2, Decimal("10.00")), ("B", 5, Decimal("20.00")), ("C", 8, Decimal("5.00")), ("D", 10, Decimal("7.00")),
    ]
    assert items[1].description == "Size: 10, 20, 30 Color: red, blue"
    assert problems == []


def test_escaped_quotes_are_not_runaways(tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER + '001;"Розетка ""Заря"" белая";12,50;шт\n'
                  '002;"Труба 1/2""";45,00;шт\n003;"Кабель ""ВВГ""\n3х2,5";10,00;м\n')
    items, problems = read_all(path)
    assert [(i.row, i.name) for i in items] == [
        (2, 'Розетка "Заря" белая'), (3, 'Труба 1/2"'), (4, 'Кабель "ВВГ" 3х2,5'),
    ]
    assert problems == []


def test_delimiter_is_found_past_a_runaway_quote() -> None:
    text = HEADER + "001;Розетка;12,50;шт\n" + '002;"Кабель ВВГ 3х2,5;100,50;м\n' + \
        "003;Выключатель;45,00;шт\n004;Труба 1/2\";10,00;шт\n005;Удлинитель;300,00;шт\n"
    assert sniff_delimiter(text) == ";"


def test_row_shape_learns_width_and_columns() -> None:
    lines = [HEADER, "001;Розетка;12,50;шт\n", "002;Кабель ВВГ;100,50;м\n", "003;Лампа;10,00;шт\n"]
    shape = row_shape(lines, ";")
    assert shape is not None and (shape.width, shape.numeric, shape.text) == (4, (0, 2), (1, 3))
    assert shape.row_like(["004", "Выключатель", "45,00", "шт"])
    assert not shape.row_like(["Size: 10", "20", "30", "40"])  # numbers where the names are
    assert not shape.row_like(["Состав: хлопок", "полиэстер"])


# ---------------------------------------------------------------- 1b. a runaway quote over a delimiter
#: What :func:`_quoted_file` reads before and after its damaged row 3.
_FIRST = (2, "A0", "Розетка", Decimal("12"))
_AFTER = [(4, "X2", "Выключатель", Decimal("45")), (5, "X3", "Лампа", Decimal("10")), (6, "X4", "Удлинитель", Decimal("300"))]


def _quoted_file(tmp_path: Path, delimiter: str, damaged: str) -> Path:
    d = delimiter
    body = (f"sku{d}name{d}price\n"
            f"A0{d}Розетка{d}12\n"
            f"{damaged}\n"
            f"X2{d}Выключатель{d}45\n"
            f"X3{d}Лампа{d}10\n"
            f"X4{d}Удлинитель{d}300\n")
    return _write(tmp_path, body, name=f"q{ord(d)}.csv")


@pytest.mark.parametrize(("damaged", "name"), [
    # 'X1;"Кабель ВВГ 3х2;5;100': the quote opens the name, the ';' splits it; the price is 100, not 5
    ('X1;"Кабель ВВГ 3х2;5;100', '"Кабель ВВГ 3х2;5'),
    # with ',' only a split between words has one reading ("2,5,100" is refused: test_reading_doubtful)
    ('X1,"Кабель ВВГ, медный,100', '"Кабель ВВГ, медный'),
])
def test_quote_in_the_name_over_a_delimiter_keeps_the_price_in_its_column(
    tmp_path: Path, damaged: str, name: str
) -> None:
    d = damaged[2]
    path = _quoted_file(tmp_path, d, damaged)
    items, problems = read_all(path)
    # the quote read as a plain character; the rows around it read as ever
    assert _rows(items) == [_FIRST, (3, "X1", name, Decimal("100")), *_AFTER]
    assert items[1].attributes == {}
    (quote,) = problems
    assert (quote.type, quote.level, quote.row, quote.column) == ("unterminated_quote", "warning", 3, "name")
    assert name.lstrip('"') in quote.message and "keep their columns" in quote.message


@pytest.mark.parametrize("delimiter", [",", ";"])
def test_quote_in_the_price_column_over_a_delimiter(tmp_path: Path, delimiter: str) -> None:
    d = delimiter
    path = _quoted_file(tmp_path, d, f'X1{d}Кабель{d}"1 234,50')
    items, problems = read_all(path)
    assert _rows(items) == [_FIRST, (3, "X1", "Кабель", Decimal("1234.50")), *_AFTER]
    assert [(p.type, p.row, p.column) for p in problems] == [("unterminated_quote", 3, "price")]


@pytest.mark.parametrize("delimiter", [",", ";"])
@pytest.mark.parametrize("damaged", [
    'X1{d}"Кабель ВВГ 3х2{d}5{d}медь',           # the joined row has text where the price is
    'X1{d}"Кабель ВВГ 3х2{d}5{d}100{d}шт',       # two fields too many: the price would be "шт"
    'X1{d}"Кабель ВВГ{d}100{d}',                 # "Кабель ВВГ" at 100, or "Кабель ВВГ,100" without a price?
])
def test_quote_over_a_delimiter_that_cannot_be_lined_up_refuses_the_row(
    tmp_path: Path, delimiter: str, damaged: str
) -> None:
    d = delimiter
    path = _quoted_file(tmp_path, d, damaged.format(d=d))
    items, problems = read_all(path)
    assert _rows(items) == [_FIRST, *_AFTER]  # row 3 refused, the others read
    (refused,) = problems
    assert (refused.type, refused.level, refused.row, refused.column) == ("unreadable_row", "error", 3, "name")
    assert "never closed" in refused.message and "not read" in refused.message
    assert refused.row_data is not None and refused.row_data["sku"] == "X1"  # the fields as read are logged


def test_quote_before_a_trailing_empty_field_is_no_shift(tmp_path: Path) -> None:
    # one empty field too many at the end, and joining would put the unit in the price column: no shift
    path = _write(tmp_path, "sku,name,price,unit\nA0,Розетка,12,шт\nX1,\"Кабель ВВГ,100,м,\n"
                  "X2,Выключатель,45,шт\nX3,Лампа,10,шт\n", name="t.csv")
    items, problems = read_all(path)
    assert _rows(items) == [
        (2, "A0", "Розетка", Decimal("12")), (3, "X1", '"Кабель ВВГ', Decimal("100")),
        (4, "X2", "Выключатель", Decimal("45")), (5, "X3", "Лампа", Decimal("10")),
    ]
    assert items[1].unit == "m"
    assert [(p.type, p.row) for p in problems] == [("unterminated_quote", 3)]


def test_two_runaway_quotes_in_a_record_too_wide_refuse_it() -> None:
    shape = csv_reader.RowShape(3, (2,), (1,))
    notes = (RowNote("unterminated_quote", "a", 0), RowNote("unterminated_quote", "b", 1))
    fields, kept, refused = csv_reader._fit_quoted_cell(['"X1', '"Кабель 3х2', "5", "100"], notes, ",", shape)
    assert fields == ['"X1', '"Кабель 3х2', "5", "100"] and kept == ()
    assert refused is not None and refused[1] == 0


# ---------------------------------------------------------------- 2. a currency mark as the price
@pytest.mark.parametrize("mark", ["руб", "руб.", "RUB", "USD", "€", "грн"])
def test_price_cell_with_only_a_currency_mark_is_a_bad_item_row(tmp_path: Path, mark: str) -> None:
    path = _write(tmp_path, "Артикул;Наименование;Цена;Ед\n"
                  "001;Розетка;12,50;шт\n"
                  f"002;Кабель ВВГ 3х2,5;{mark};м\n"
                  "003;Выключатель;45,00;шт\n"
                  ";Светильники;;\n"  # a real caption row: a lone text in the name column
                  "004;Лампа;10,00;шт\n")
    items, problems = read_all(path)
    assert [(i.sku, i.category_path) for i in items] == [
        ("001", ()), ("003", ()), ("004", ("Светильники",)),  # no section named after the row
    ]
    (bad,) = problems
    assert (bad.type, bad.level, bad.row, bad.column) == ("bad_price", "error", 3, "Цена")
    assert "only a currency mark" in bad.message and repr(mark) in bad.message
    assert bad.row_data == {"Артикул": "002", "Наименование": "Кабель ВВГ 3х2,5", "Цена": mark, "Ед": "м"}


def test_currency_mark_row_right_under_the_header_is_not_a_subheader(tmp_path: Path) -> None:
    path = _write(tmp_path, "Наименование;Цена\nКабель ВВГ 3х2,5;руб.\nРозетка;12,50\nВыключатель;45,00\n"
                  "Светильники;\nЛампа;10,00\n")
    items, problems = read_all(path)
    assert [(i.name, i.category_path) for i in items] == [
        ("Розетка", ()), ("Выключатель", ()), ("Лампа", ("Светильники",)),
    ]
    assert [(p.type, p.row, p.column) for p in problems] == [("bad_price", 2, "Цена")]


def test_a_row_of_only_a_currency_mark_is_not_a_section(tmp_path: Path) -> None:
    path = _write(tmp_path, "Артикул;Наименование;Цена;Ед\n;Кабели;;\n001;Кабель ВВГ;100,50;м\n"
                  ";;руб.;\n002;Кабель ПВС;80,00;м\n")
    items, problems = read_all(path)
    assert [(i.sku, i.category_path) for i in items] == [("001", ("Кабели",)), ("002", ("Кабели",))]
    assert problems == []


def test_currency_subheader_row_still_combines(tmp_path: Path) -> None:
    path = _write(tmp_path, "Наименование;Цена;Цена\n;руб;USD\nКабель ВВГ;100,50;1,20\nРозетка;12,50;0,15\n")
    items, problems = read_all(path)
    assert [(i.name, i.price, i.currency) for i in items] == [
        ("Кабель ВВГ", Decimal("100.50"), "RUB"), ("Розетка", Decimal("12.50"), "RUB"),
    ]
    assert list(items[0].raw) == ["Наименование", "Цена руб", "Цена USD"]
    assert problems == []


def test_currency_mark_price_in_xlsx(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "c.xlsx", [
        ["Артикул", "Наименование", "Цена", "Ед"],
        ["001", "Розетка", 12.5, "шт"],
        ["002", "Кабель ВВГ 3х2,5", "USD", "м"],
        ["003", "Выключатель", 45, "шт"],
        [None, "Светильники", None, None],
        ["004", "Лампа", 10, "шт"],
    ])
    items, problems = read_all(path)
    assert [(i.sku, i.category_path) for i in items] == [("001", ()), ("003", ()), ("004", ("Светильники",))]
    assert [(p.type, p.row, p.column) for p in problems] == [("bad_price", 3, "Цена")]


@pytest.mark.parametrize(("text", "code"), [("руб.", "RUB"), ("USD", "USD"), ("€", "EUR"), ("грн", "UAH")])
def test_parse_price_of_a_currency_mark(text: str, code: str) -> None:
    p = parse_price(text)
    assert p.amount is None and p.currency == code
    assert p.error == f"only a currency mark ({text!r}), no amount"
    assert parse_price("Кабель").error == "no number in 'Кабель'"
