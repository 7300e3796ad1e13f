"""Write ``examples/price_list.xlsx``: an invented supplier price list that shows the reader's traps.

The supplier ("ЭлектроСнаб-Восток", a made-up Russian electrical-goods
wholesaler; address, phone and e-mail are placeholders) sends:

* a logo/contact title block in rows 1-4;
* a two-row header (rows 5-6): "Артикул | Наименование | Цена, руб (merged
  over two columns) | Остаток", with "опт | розница" under the price cell;
* category rows between the items ("Кабель и провод" …);
* about 60 items, some prices stored as text with a decimal comma ("1 234,50");
* one "по запросу" price (kept, without a price, with a warning) and three
  bad rows (no name, price "abc", price "от 10 до 15");
* a note and a total line at the bottom (skipped).

Run ``python examples/make_sample.py`` (writes next to this file).
"""

from __future__ import annotations

import random
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

SECTIONS: dict[str, list[tuple[str, float]]] = {
    "Кабель и провод": [
        ("Кабель ВВГнг-LS 3x1,5 (бухта 100 м)", 5890.0),
        ("Кабель ВВГнг-LS 3x2,5 (бухта 100 м)", 8940.0),
        ("Кабель NYM 3x1,5 (бухта 50 м)", 3120.5),
        ("Провод ПВС 2x0,75 белый (бухта 100 м)", 2450.0),
        ("Провод ПВС 3x1,5 белый (бухта 100 м)", 4780.0),
        ("Провод ПуГВ 1x2,5 синий (бухта 100 м)", 1390.0),
        ("Кабель UTP cat.5e 4x2x0,5 (бухта 305 м)", 6120.0),
        ("Кабель КГтп-ХЛ 3x2,5 (метр)", 98.4),
        ("Кабель силовой АВВГ 4x16 (метр)", 212.7),
        ("Провод СИП-4 2x16 (метр)", 61.3),
    ],
    "Автоматические выключатели": [
        ("Автоматический выключатель 1P 16А тип C 4,5 кА", 189.0),
        ("Автоматический выключатель 1P 25А тип C 4,5 кА", 195.0),
        ("Автоматический выключатель 2P 32А тип C 6 кА", 612.0),
        ("Автоматический выключатель 3P 40А тип C 6 кА", 1045.0),
        ("Дифференциальный автомат 1P+N 16А 30мА тип AC", 1290.0),
        ("УЗО 2P 40А 30мА тип AC", 1180.0),
        ("УЗО 4P 63А 100мА тип A", 3540.0),
        ("Рубильник модульный 3P 63А", 1875.0),
        ("Ограничитель перенапряжения 1P+N тип 2", 2230.0),
        ("Реле напряжения 1P 63А с дисплеем", 2650.0),
        ("Контактор модульный 2НО 25А 230В", 1420.0),
        ("Шина соединительная PIN 1P 63А (1 м)", 310.0),
    ],
    "Розетки и выключатели": [
        ("Розетка с заземлением белая, скрытой установки", 164.0),
        ("Розетка двойная с заземлением белая", 289.0),
        ("Розетка влагозащищённая IP44 серая", 356.0),
        ("Выключатель одноклавишный белый", 139.0),
        ("Выключатель двухклавишный белый", 176.0),
        ("Выключатель проходной одноклавишный", 214.0),
        ("Рамка одноместная белая", 58.0),
        ("Рамка двухместная горизонтальная белая", 97.0),
        ("Розетка USB двойная 2,1 А белая", 1230.0),
        ("Диммер поворотный 600 Вт белый", 845.0),
        ("Розетка телефонная RJ11 белая", 212.0),
    ],
    "Светильники и лампы": [
        ("Светильник светодиодный панель 36 Вт 595x595 4000К", 1190.0),
        ("Светильник ЖКХ 12 Вт с датчиком движения", 640.0),
        ("Прожектор светодиодный 50 Вт 6500К IP65", 1085.0),
        ("Лампа светодиодная A60 11 Вт E27 3000К", 96.5),
        ("Лампа светодиодная свеча 7 Вт E14 4000К", 84.9),
        ("Лента светодиодная 12 В 4,8 Вт/м (5 м)", 720.0),
        ("Блок питания для ленты 12 В 60 Вт", 890.0),
        ("Светильник трековый 20 Вт чёрный", 1650.0),
        ("Светильник аварийный 3 ч, 30 диодов", 1120.0),
        ("Лампа люминесцентная T8 18 Вт", 112.0),
    ],
    "Удлинители и кабельные катушки": [
        ("Удлинитель 3 розетки 3 м с заземлением", 540.0),
        ("Удлинитель 5 розеток 5 м с выключателем", 890.0),
        ("Сетевой фильтр 6 розеток 1,8 м", 760.0),
        ("Катушка кабельная 4 розетки 30 м ПВС 3x1,5", 3680.0),
        ("Катушка кабельная 4 розетки 50 м КГ 3x2,5", 7250.0),
        ("Удлинитель силовой 1 розетка 10 м IP44", 1340.0),
        ("Тройник электрический с заземлением", 189.0),
        ("Переходник евро/старый стандарт", 74.0),
    ],
    "Монтажные материалы": [
        ("Гофротруба ПВХ 20 мм с зондом (бухта 100 м)", 990.0),
        ("Кабель-канал 25x16 белый (2 м)", 92.0),
        ("Стяжки кабельные 3,6x200 мм (100 шт.)", 118.0),
        ("Изолента ПВХ 19 мм x 20 м синяя", 64.0),
        ("Клеммы соединительные WAGO 3-проводные (50 шт.)", 1450.0),
        ("Коробка распаечная 100x100x50 IP55", 138.0),
        ("Дюбель-хомут для круглого кабеля 5-10 мм (100 шт.)", 215.0),
        ("Гильза медная луженая 16 мм² (10 шт.)", 248.0),
    ],
}


def decimal_comma(value: float) -> str:
    """A price as a Russian supplier types it: space thousands, decimal comma."""
    whole, frac = f"{value:.2f}".split(".")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    return " ".join(groups) + "," + frac


def build(path: Path) -> int:
    """Write the workbook to ``path``; returns the number of good items written."""
    rnd = random.Random(20250301)
    wb = Workbook()
    ws = wb.active
    ws.title = "Прайс"
    bold = Font(bold=True)
    ws["A1"] = "ООО «ЭлектроСнаб-Восток» — электротехническая продукция оптом и в розницу"
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = "г. Новосибирск, ул. Примерная, д. 1, склад 2 · тел. +7 (000) 000-00-00 · sales@example.invalid"
    ws["A3"] = "Прайс-лист действителен с 01.03.2025. Цены указаны с НДС 20%."
    ws.merge_cells("A1:E1")
    ws.merge_cells("A2:E2")
    ws.merge_cells("A3:E3")
    header = ["Артикул", "Наименование", "Цена, руб", None, "Остаток"]
    for col, text in enumerate(header, start=1):
        if text:
            ws.cell(row=5, column=col, value=text).font = bold
    ws.cell(row=6, column=3, value="опт").font = bold
    ws.cell(row=6, column=4, value="розница").font = bold
    ws.merge_cells("C5:D5")
    for col in ("A", "B", "E"):
        ws.merge_cells(f"{col}5:{col}6")
    fill = PatternFill("solid", fgColor="DDEBF7")
    for row in (5, 6):
        for col in range(1, 6):
            ws.cell(row=row, column=col).fill = fill
            ws.cell(row=row, column=col).alignment = Alignment(horizontal="center", vertical="center")

    r = 7
    good = 0
    sku_n = 10040
    for s_index, (section, items) in enumerate(SECTIONS.items()):
        ws.cell(row=r, column=1, value=section).font = bold
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=5)
        r += 1
        for i_index, (name, retail) in enumerate(items):
            sku_n += rnd.randint(1, 9)
            wholesale = round(retail * 0.85, 2)
            sku = f"ЭС-{sku_n:06d}" if i_index % 3 else f"{sku_n:07d}"
            ws.cell(row=r, column=1, value=sku)
            ws.cell(row=r, column=2, value=name)
            if i_index % 4 == 1:
                ws.cell(row=r, column=3, value=decimal_comma(wholesale))
                ws.cell(row=r, column=4, value=decimal_comma(retail))
            else:
                ws.cell(row=r, column=3, value=wholesale).number_format = "#,##0.00"
                ws.cell(row=r, column=4, value=retail).number_format = "#,##0.00"
            ws.cell(row=r, column=5, value=rnd.choice([0, 3, 12, 40, 150, "много", "под заказ"]))
            r += 1
            good += 1
        if s_index == 1:
            ws.cell(row=r, column=1, value=f"ЭС-{sku_n + 1:06d}")
            ws.cell(row=r, column=3, value=100.0)
            ws.cell(row=r, column=4, value=120.0)  # bad: no name
            r += 1
        if s_index == 2:
            ws.cell(row=r, column=1, value=f"ЭС-{sku_n + 2:06d}")
            ws.cell(row=r, column=2, value="Розетка накладная IP20 (цена уточняется)")
            ws.cell(row=r, column=3, value="abc")
            ws.cell(row=r, column=4, value="abc")  # bad: unreadable price
            r += 1
            ws.cell(row=r, column=1, value=f"ЭС-{sku_n + 3:06d}")
            ws.cell(row=r, column=2, value="Щит распределительный ЩРН-24 металлический")
            ws.cell(row=r, column=3, value="по запросу")
            ws.cell(row=r, column=4, value="по запросу")  # on request: item without price
            r += 1
            good += 1
        if s_index == 4:
            ws.cell(row=r, column=1, value=f"ЭС-{sku_n + 4:06d}")
            ws.cell(row=r, column=2, value="Удлинитель на рамке 4 розетки 40 м")
            ws.cell(row=r, column=3, value="от 10 до 15")
            ws.cell(row=r, column=4, value="от 10 до 15")  # bad: not a single price
            r += 1
    r += 1
    ws.cell(row=r, column=1, value="* Остаток обновляется ежедневно; «под заказ» — поставка 5-7 дней.")
    r += 1
    ws.cell(row=r, column=1, value=f"Итого позиций: {good}")
    ws.column_dimensions["A"].width = 14
    ws.column_dimensions["B"].width = 60
    for col in ("C", "D", "E"):
        ws.column_dimensions[col].width = 14
    wb.save(path)
    return good


if __name__ == "__main__":
    out = Path(__file__).with_name("price_list.xlsx")
    n = build(out)
    print(f"wrote {out} with {n} items")
