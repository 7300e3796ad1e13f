"""Reader speed: items/s of ``open_price_list(...).records()`` next to pandas in the same process.

Usage: ``.venv/bin/python bench/read_speed.py [--rows 50000] [--repeat 1] [--only csv-utf8,csv-cp1251,xlsx] [--profile]``

Generates, into a temporary folder, three price lists of ``--rows`` data rows
each, shaped like a supplier's list: a title block, a blank line, the header
``Артикул;Наименование;Ед.;Цена, руб;Остаток``, section rows, decimal-comma
prices (the CSVs write some with a space as thousands separator; the XLSX
stores numbers), a few bad rows (price "нет", or no name) and a total and a
note at the end:

* ``csv-utf8``: ``;``-delimited UTF-8 with LF;
* ``csv-cp1251``: the same in cp1251 with CRLF;
* ``xlsx``: openpyxl write-only workbook.

For each it prints the reader's items/s (wall time of ``records()``, best of
``--repeat``), the rows/s of pandas reading the same file with the header row,
delimiter, decimal and thousands marks given by hand (``read_csv`` /
``read_excel(engine="openpyxl")``), and ours/pandas.  The machine is shared and
noisy: compare ratios of one run, not absolute numbers across runs.
``--profile`` prints the top of a cProfile of the reader for each file instead.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

from ingestion.reading import open_price_list
from ingestion.reading.model import Item

TITLE = ["Прайс-лист ООО «Тестовый поставщик»", "Действителен с 01.12.2026", "Цены указаны в рублях с учётом НДС 20%"]
HEADER = ["Артикул", "Наименование", "Ед.", "Цена, руб", "Остаток"]
SECTIONS = ["Кабели и провода", "Автоматические выключатели", "Светотехника", "Розетки и выключатели", "Инструмент"]
GOODS = [("Кабель ВВГнг-LS {a}х{b},5", "м"), ("Автоматический выключатель ВА47-29 {a}P {n}А", "шт"),
         ("Лампа светодиодная A60 {n}Вт E27", "упак"), ("Удлинитель {a} гнезда {b} м", "шт"),
         ("Светильник ДПО-{n} IP{a}5", "шт"), ("Щит распределительный ЩРН-{n}", "шт")]


def data_rows(n: int, seed: int = 7) -> Iterator[tuple[str, list[Any]]]:
    """``("section", [title])``, ``("item", [sku, name, unit, kopecks, stock])`` or ``("bad", [...])`` rows."""
    r = random.Random(seed)
    for i in range(n):
        if i % 300 == 0:
            yield "section", [SECTIONS[(i // 300) % len(SECTIONS)]]
        pattern, unit = r.choice(GOODS)
        name = pattern.format(a=r.randint(1, 4), b=r.randint(1, 9), n=r.randint(6, 125)) + f" арт.{i}"
        stock = r.choice([0, 1, 5, 12, 40, 250, None])
        if i % 4000 == 3999:
            yield "bad", [f"AB-{i:06d}", name, unit, "нет", stock]
        elif i % 4000 == 1999:
            yield "bad", [f"AB-{i:06d}", None, unit, r.randint(100, 500_000), stock]
        else:
            yield "item", [f"AB-{i:06d}", name, unit, r.randint(100, 2_000_000), stock]


def write_csv(path: Path, n: int, encoding: str, newline: str) -> None:
    """A ``;`` CSV price list; every other price has a space as thousands separator."""
    lines = TITLE + ["", ";".join(HEADER)]
    for i, (kind, row) in enumerate(data_rows(n)):
        if kind == "section":
            lines.append(f"{row[0]};;;;")
            continue
        sku, name, unit, price, stock = row
        if isinstance(price, int):
            rub, kop = divmod(price, 100)
            price = (f"{rub:,}".replace(",", " ") if i % 2 else str(rub)) + f",{kop:02d}"
        lines.append(f"{sku};{name or ''};{unit};{price};{'' if stock is None else stock}")
    lines += ["", f"Итого позиций: {n}", "* Цены и наличие уточняйте у менеджера"]
    path.write_bytes((newline.join(lines) + newline).encode(encoding))


def write_xlsx(path: Path, n: int) -> None:
    """The same list as an openpyxl write-only workbook (prices as numbers)."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Прайс")
    for t in TITLE:
        ws.append([t])
    ws.append([])
    ws.append(HEADER)
    for kind, row in data_rows(n):
        if kind == "section":
            ws.append(row)
        else:
            sku, name, unit, price, stock = row
            ws.append([sku, name, unit, price / 100 if isinstance(price, int) else price, stock])
    ws.append([])
    ws.append([None, f"Итого позиций: {n}"])
    wb.save(path)


def read_ours(path: Path) -> tuple[int, float]:
    """(items, seconds) of one full ``records()`` pass."""
    start = time.perf_counter()
    items = sum(1 for r in open_price_list(path).records() if isinstance(r, Item))
    return items, time.perf_counter() - start


def read_pandas(path: Path, kind: str) -> tuple[int, float]:
    """(rows, seconds) of pandas reading the file with its layout given by hand."""
    import pandas as pd

    start = time.perf_counter()
    skip = len(TITLE) + 1
    if kind == "xlsx":
        df = pd.read_excel(path, header=skip, engine="openpyxl")
    else:
        df = pd.read_csv(path, sep=";", encoding="utf-8" if kind == "csv-utf8" else "cp1251", skiprows=skip,
                         decimal=",", thousands=" ", dtype={"Артикул": str})
    return len(df.dropna(how="all")), time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=50_000)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--only", default="csv-utf8,csv-cp1251,xlsx")
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="read_speed_") as tmp:
        for kind in args.only.split(","):
            path = Path(tmp) / f"price_{kind}.{'xlsx' if kind == 'xlsx' else 'csv'}"
            if kind == "xlsx":
                write_xlsx(path, args.rows)
            else:
                write_csv(path, args.rows, "utf-8" if kind == "csv-utf8" else "cp1251", "\n" if kind == "csv-utf8" else "\r\n")
            if args.profile:
                prof = cProfile.Profile()
                prof.runcall(read_ours, path)
                print(f"== {kind}")
                pstats.Stats(prof).sort_stats("tottime").print_stats(25)
                continue
            items, ours = min((read_ours(path) for _ in range(args.repeat)), key=lambda r: r[1])
            rows, theirs = min((read_pandas(path, kind) for _ in range(args.repeat)), key=lambda r: r[1])
            print(f"{kind:11s} ours {items / ours:9,.0f} items/s ({items} items, {ours:6.2f} s)   "
                  f"pandas {rows / theirs:9,.0f} rows/s ({theirs:6.2f} s)   ours/pandas {(items / ours) / (rows / theirs):5.2f}")


if __name__ == "__main__":
    main()
