"""End to end: 50 price lists through two real workers over RabbitMQ, Redis and PostgreSQL,
next to the plain pandas ``read_*`` + ``to_sql`` a team would otherwise write.

Run: .venv/bin/python bench/e2e.py [--scale 1.0] [--timeout 2400] [--keep-temp]

What it does, in order:

1. Generates 44 price lists into a temporary folder (CSV in UTF-8 and cp1251 with ';',
   XLSX written with openpyxl's write-only mode; 1k to 200k rows, a few large and many
   small; ``--scale`` shrinks every generated file) with a title block, a header
   Артикул / Наименование / Ед. / Цена, руб / Остаток, decimal commas, section rows,
   a footer and a few bad rows, and copies the 6 real ``.xls`` samples of
   ``../shared/samples`` beside them (an XLS cannot be written here).  The expected
   item count (and price sum) of each generated file is recorded; for an XLS sample
   the plausible range of ``samples/expected`` is the reference.
2. Makes a scratch PostgreSQL database (``ingestion migrate``), picks an empty Redis
   database number and a unique queue name, and starts 2 worker processes, each
   ``python -m dramatiq ingestion.actors --processes 1 --threads 2``.
3. Publishes 50 ``ingest`` envelopes at once with pika (one supplier per file) and
   follows the jobs in Redis until every one is complete or failed.
4. Checks that nothing was lost or duplicated: stored items, price sums and the job's
   row counts per supplier against what was generated.
5. Stops the workers and runs the baseline: per file pandas ``read_csv``/``read_excel``
   (header row, encoding, delimiter, decimal and thousands separators given by hand)
   then ``DataFrame.to_sql`` into a table of its own in the same scratch database
   (SQLAlchemy + psycopg2), once sequentially and once with 2 processes.
6. Prints per-file detail lines and one closing line; drops the database, the queues,
   the Redis keys and the temporary folder.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import multiprocessing
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pika
import psycopg2
import redis

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT.parent / "shared" / "samples"
RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"
REDIS_HOST_URL = "redis://127.0.0.1:6379"
PG_URL_TEMPLATE = "postgresql://postgres@127.0.0.1:5432/{name}"

#: The real XLS samples copied in at run time, and the header row (1-based) the baseline is told.
XLS_SAMPLES: dict[str, int] = {
    "02_1c-tdsheet-phones-group-rows.xls": 1,
    "03_dry-mixes-logo-block-merged-2row-header-eur.xls": 11,
    "05_transformers-rub-two-prices-two-stocks.xls": 1,
    "08_pipes-filldown-names-rub-text-prices.xls": 9,
    "11_radioparts-biff7-no-codepage-cp1251.xls": 10,
    "15_perfume-uah-currency-only-in-numfmt.xls": 1,
}

#: Rows of the 44 generated files at scale 1 (a few large, many small) and their formats.
LARGE = [(200_000, "xlsx"), (150_000, "csv-utf8"), (100_000, "csv-cp1251")]
MEDIUM = [(40_000, "xlsx"), (30_000, "csv-utf8"), (20_000, "xlsx"), (20_000, "csv-cp1251"), (20_000, "csv-utf8"),
          (10_000, "xlsx"), (10_000, "csv-cp1251"), (10_000, "csv-utf8"), (10_000, "xlsx")]
SMALL_FORMATS = ["csv-utf8", "csv-cp1251", "xlsx"]
N_SMALL = 32

COMPANIES = ["Электромир", "СтройТорг", "КабельОпт", "ТехноСнаб", "Светотехника", "ЭлектроСила", "ПромЭнерго",
             "Мастер-Инструмент", "ВольтМаркет", "ЭнергоКомплект", "Сантехника-Опт", "АвтоматикаПро"]
TYPES: list[tuple[str, list[str]]] = [
    ("Кабель ВВГнг-LS {a}х{b},5", ["м"]), ("Провод ПуГВ {b},5 кв.мм {c}", ["м"]),
    ("Автоматический выключатель {br} ВА47-29 {a}P {n}А", ["шт"]), ("УЗО {br} ВД1-63 {a}P {n}А 30мА", ["шт"]),
    ("Лампа светодиодная {br} A60 {n}Вт E27 {k}K", ["шт", "упак"]), ("Розетка {br} Этюд с заземлением {c}", ["шт"]),
    ("Удлинитель {br} {a} гнезда {b} м", ["шт"]), ("Дрель-шуруповёрт {br} {n}В {a},0 Ач", ["шт"]),
    ("Светильник {br} ДПО-{n} {k}K IP{a}5", ["шт"]), ("Труба гофрированная ПВХ d{n} мм {c}", ["м", "бухта"]),
    ("Щит распределительный {br} ЩРН-{n} IP{a}1", ["шт"]), ("Клеммник {br} WAGO {a}x{b},5 кв.мм", ["шт", "упак"]),
    ("Стабилизатор напряжения {br} {n}00 ВА", ["шт"]), ("Прожектор светодиодный {br} {n}Вт {k}K", ["шт"]),
]
BRANDS = ["IEK", "EKF", "Schneider", "ABB", "Legrand", "Navigator", "Gauss", "Makita", "Bosch", "Ресанта", "TDM",
          "Эра", "Feron", "Camelion", "Rexant"]
COLOURS = ["белый", "чёрный", "серый", "красный", "синий", "жёлто-зелёный"]
SECTIONS = ["Кабельно-проводниковая продукция", "Автоматические выключатели", "Светотехника", "Электроустановочные изделия",
            "Инструмент", "Щитовое оборудование", "Монтажные изделия", "Стабилизаторы и ИБП"]
#: Distinct products the suppliers draw from (so suppliers overlap, as real ones do, and matching links across them).
UNIVERSE = 300_000


def product_name(k: int) -> tuple[str, str]:
    """The ``k``-th product of the shared universe: (name, unit)."""
    r = random.Random(k)
    pattern, units = TYPES[k % len(TYPES)]
    name = pattern.format(a=r.randint(1, 4), b=r.randint(1, 9), c=r.choice(COLOURS), n=r.randint(6, 125),
                          k=r.choice([2700, 3000, 4000, 6500]), br=r.choice(BRANDS))
    return f"{name} арт.{k % 9973}-{k // 9973}", units[k % len(units)]


@dataclass
class Source:
    """One price list of the run and what it should give."""

    index: int
    path: Path
    kind: str  # csv-utf8, csv-cp1251, xlsx, xls
    supplier: str
    job_id: str
    items: int | None = None  # expected stored items (generated files)
    skus: dict[str, int] = field(default_factory=dict)  # expected SKU -> price in kopecks (generated files)
    bad_rows: int = 0  # rows that must fail (generated files)
    price_kopecks: int = 0  # expected sum of prices in kopecks (generated files)
    range: tuple[int, int] | None = None  # plausible item range (XLS samples)
    header_row: int = 1  # 1-based header row, told to the baseline
    data_rows: int = 0  # rows below the header (for the record)
    state: dict[str, str] = field(default_factory=dict)
    stored_after: float | None = None  # seconds from publishing until the list was read and stored (phase past parsing)
    stored: int = 0
    stored_kopecks: int = 0  # sum of the stored prices of the expected SKUs
    missing: list[str] = field(default_factory=list)  # expected SKUs not stored
    extra: list[str] = field(default_factory=list)  # stored items that are no row of the file (sku or name)
    duplicate_warnings: int = 0
    parse_runs: int = 0
    price_history: int = 0


def price_text(kop: int, spaced: bool) -> str:
    rub, k = divmod(kop, 100)
    whole = f"{rub:,}".replace(",", " ") if spaced else str(rub)
    return f"{whole},{k:02d}"


def price_rows(n: int, seed: int, bad_every: int) -> Iterator[tuple[str, list[Any]]]:
    """Rows below the header: ('item'|'bad'|'section', [sku, name, unit, price kopecks|text, stock])."""
    r = random.Random(seed)
    prefix = "".join(r.choice("ABCDEFGHKMPRTX") for _ in range(2))
    section_every = r.randint(150, 600)
    bad_at = {r.randint(5, max(6, n - 1)) for _ in range(max(2, n // bad_every))}
    sec = 0
    for i in range(n):
        if i % section_every == 0:
            yield "section", [SECTIONS[sec % len(SECTIONS)] + ("" if sec < len(SECTIONS) else f" ({sec // len(SECTIONS) + 1})")]
            sec += 1
        k = r.randrange(UNIVERSE)
        name, unit = product_name(k)
        sku = f"{prefix}-{seed:03d}-{i:06d}"
        stock: int | None = r.choice([0, 1, 2, 5, 10, 12, 25, 40, 100, 250, None])
        if i in bad_at:
            if i % 2:
                yield "bad", [sku, name, unit, "нет", stock]  # bad_price
            else:
                yield "bad", [sku, None, unit, r.randint(100, 500_000), stock]  # missing_name
            continue
        yield "item", [sku, name, unit, r.randint(100, 2_000_000), stock]


TITLE = ["Прайс-лист ООО «{company}»", "Действителен с 01.12.2026", "Цены указаны в рублях с учётом НДС 20%"]
HEADER = ["Артикул", "Наименование", "Ед.", "Цена, руб", "Остаток"]
NOTE = "* Цены и наличие уточняйте у менеджера"


def write_csv(src: Source, n: int, company: str) -> None:
    encoding = "utf-8" if src.kind == "csv-utf8" else "cp1251"
    newline = "\n" if src.kind == "csv-utf8" else "\r\n"
    lines = [t.format(company=company) for t in TITLE] + ["", ";".join(HEADER)]
    src.header_row = len(lines)
    spaced = src.index % 2 == 0
    items = bad = kop = data = 0
    for kind, row in price_rows(n, src.index, 4000):
        data += 1
        if kind == "section":
            lines.append(f"{row[0]};;;;")
            continue
        sku, name, unit, price, stock = row
        p = price_text(price, spaced) if isinstance(price, int) else price
        lines.append(f"{sku};{name or ''};{unit};{p};{'' if stock is None else stock}")
        if kind == "item":
            items += 1
            kop += price
            src.skus[sku] = price
        else:
            bad += 1
    lines += ["", f"Итого позиций: {items}", NOTE]
    data += 3
    with open(src.path, "w", encoding=encoding, newline="") as f:
        f.write(newline.join(lines) + newline)
    src.items, src.bad_rows, src.price_kopecks, src.data_rows = items, bad, kop, data


def write_xlsx(src: Source, n: int, company: str) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Прайс")
    for t in TITLE:
        ws.append([t.format(company=company)])
    ws.append([])
    ws.append(HEADER)
    src.header_row = len(TITLE) + 2
    items = bad = kop = data = 0
    for kind, row in price_rows(n, src.index, 4000):
        data += 1
        if kind == "section":
            ws.append([row[0]])
            continue
        sku, name, unit, price, stock = row
        ws.append([sku, name, unit, price / 100 if isinstance(price, int) else price, stock])
        if kind == "item":
            items += 1
            kop += price
            src.skus[sku] = price
        else:
            bad += 1
    ws.append([])
    ws.append([None, f"Итого позиций: {items}"])
    ws.append([NOTE])
    data += 3
    wb.save(src.path)
    src.items, src.bad_rows, src.price_kopecks, src.data_rows = items, bad, kop, data


def make_sources(folder: Path, scale: float, run: str) -> list[Source]:
    """The 50 files of the run: 44 generated, 6 real XLS samples copied in."""
    r = random.Random(2026)
    plan = LARGE + MEDIUM + [(r.randint(1_000, 6_000), SMALL_FORMATS[i % 3]) for i in range(N_SMALL)]
    sources: list[Source] = []
    for i, (rows, kind) in enumerate(plan):
        company = f"{COMPANIES[i % len(COMPANIES)]}-{i:02d}"
        ext = "xlsx" if kind == "xlsx" else "csv"
        src = Source(index=i, path=folder / f"price_{i:02d}_{company}.{ext}", kind=kind,
                     supplier=f"E2E {run} {company}", job_id=f"e2e-{run}-{i:02d}")
        n = max(50, int(rows * scale))
        (write_xlsx if kind == "xlsx" else write_csv)(src, n, company)
        sources.append(src)
    for name, header in XLS_SAMPLES.items():
        i = len(sources)
        path = folder / name
        shutil.copyfile(SAMPLES / name, path)
        expected = json.loads((SAMPLES / "expected" / (Path(name).stem + ".json")).read_text(encoding="utf-8"))
        sources.append(Source(index=i, path=path, kind="xls", supplier=f"E2E {run} {Path(name).stem}",
                              job_id=f"e2e-{run}-{i:02d}", range=(expected["items"]["min"], expected["items"]["max"]),
                              header_row=header))
    return sources


# --------------------------------------------------------------------------- services
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def empty_redis_db() -> int:
    """A Redis database number that holds no key now (the bench's keys go there and only there)."""
    for db in range(15, 0, -1):
        client = redis.Redis.from_url(f"{REDIS_HOST_URL}/{db}")
        try:
            if client.dbsize() == 0:
                return db
        finally:
            client.close()
    raise SystemExit("no empty Redis database (1-15) to run the bench in")


def admin_sql(dsn: str, sql: str) -> None:
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


class Worker:
    """One ``dramatiq ingestion.actors --processes 1 --threads 2`` process and its peak memory."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        self._log_file = open(log, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dramatiq", "ingestion.actors", "--processes", "1", "--threads", "2"],
            cwd=ROOT, env=env, stdout=self._log_file, stderr=subprocess.STDOUT,
        )
        self.peak_kb: dict[int, int] = {}

    def tree(self) -> list[int]:
        """The worker's pid and every descendant's."""
        children: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    stat = f.read().decode("ascii", "replace")
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
        out, todo = [], [self.proc.pid]
        while todo:
            pid = todo.pop()
            out.append(pid)
            todo.extend(children.get(pid, []))
        return out

    def sample(self) -> None:
        """Record VmHWM (peak resident set) of every process of the tree."""
        for pid in self.tree():
            try:
                with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
                    for line in f:
                        if line.startswith("VmHWM:"):
                            kb = int(line.split()[1])
                            self.peak_kb[pid] = max(kb, self.peak_kb.get(pid, 0))
            except OSError:
                continue

    def peak_mb(self) -> float:
        return max(self.peak_kb.values(), default=0) / 1024

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log_file.close()


def start_profilers(workers: list[Worker], out: Path) -> list[subprocess.Popen[bytes]]:
    """One ``py-spy record`` per worker tree (raw collapsed stacks, 100 samples/s), started before publishing."""
    out.mkdir(parents=True, exist_ok=True)
    spies = []
    for n, w in enumerate(workers):
        spies.append(subprocess.Popen(
            ["py-spy", "record", "--pid", str(w.proc.pid), "--subprocesses", "--nonblocking", "-f", "raw",
             "-o", str(out / f"worker{n}.txt")],
            stdout=subprocess.DEVNULL, stderr=open(out / f"worker{n}.log", "wb"),
        ))
    time.sleep(1.0)  # py-spy attaches before the first message arrives
    return spies


def stop_profilers(spies: list[subprocess.Popen[bytes]]) -> None:
    """Stop the samplers (SIGINT makes py-spy write its file)."""
    for spy in spies:
        spy.send_signal(signal.SIGINT)
    for spy in spies:
        try:
            spy.wait(30)
        except subprocess.TimeoutExpired:
            spy.kill()


def wait_for_consumers(queue: str, workers: list[Worker], count: int) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        for w in workers:
            if w.proc.poll() is not None:
                raise SystemExit("a worker exited at start-up:\n" + w.log.read_text(errors="replace")[-4000:])
        conn = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
        try:
            ok = conn.channel().queue_declare(queue=queue, passive=True)
            if ok.method.consumer_count >= count:
                return
        except pika.exceptions.ChannelClosedByBroker:
            pass
        finally:
            if conn.is_open:
                conn.close()
        time.sleep(0.5)
    raise SystemExit(f"the workers never consumed from {queue}")


def publish_all(queue: str, sources: list[Source]) -> None:
    """One ``ingest`` envelope per file, all on one connection, as fast as pika sends them."""
    conn = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
    ch = conn.channel()
    for src in sources:
        envelope = {
            "queue_name": queue,
            "actor_name": "ingest",
            "args": [],
            "kwargs": {"supplier_name": src.supplier, "source_url": str(src.path), "job_id": src.job_id,
                       "file_type": "excel" if src.kind in ("xlsx", "xls") else "csv"},
            "options": {},
            "message_id": str(uuid.uuid4()),
            "message_timestamp": int(time.time() * 1000),
        }
        ch.basic_publish(exchange="", routing_key=queue, body=json.dumps(envelope).encode("utf-8"),
                         properties=pika.BasicProperties(delivery_mode=2, content_type="application/json"))
    conn.close()


def follow_jobs(client: redis.Redis, sources: list[Source], workers: list[Worker], timeout: float,
                started: float) -> float:
    """Poll the job hashes until every job is complete or failed; returns the wall time."""
    pending = {s.job_id: s for s in sources}
    last_report = started
    last_sample = 0.0
    while pending:
        now = time.monotonic()
        if now - last_sample >= 1.0:
            for w in workers:
                w.sample()
            last_sample = now
        pipe = client.pipeline()
        ids = list(pending)
        for job_id in ids:
            pipe.hgetall(f"job:{job_id}")
        for job_id, state in zip(ids, pipe.execute()):
            pending[job_id].state = dict(state)
            if pending[job_id].stored_after is None and state.get("phase") in ("matching", "complete", "held"):
                pending[job_id].stored_after = now - started
            if state.get("phase") in ("complete", "failed"):
                del pending[job_id]
        if not pending:
            break
        if now - started > timeout:
            print(f"TIMEOUT after {timeout:.0f} s: {len(pending)} job(s) not finished", flush=True)
            for src in pending.values():
                st = src.state
                print(f"  hung: {src.path.name} job {src.job_id} phase={st.get('phase')} status={st.get('status')} "
                      f"items_processed={st.get('items_processed')} items_total={st.get('items_total')} "
                      f"error={st.get('error')!r}", flush=True)
            break
        for w in workers:
            if w.proc.poll() is not None:
                print(f"worker {w.proc.pid} exited with {w.proc.returncode}; see {w.log}", flush=True)
        if now - last_report >= 30:
            phases: dict[str, int] = {}
            for src in sources:
                p = src.state.get("phase") or "queued"
                phases[p] = phases.get(p, 0) + 1
            print(f"  {now - started:6.0f} s: {dict(sorted(phases.items()))}", flush=True)
            last_report = now
        time.sleep(0.5)
    return time.monotonic() - started


def check_store(dsn: str, sources: list[Source]) -> None:
    """Compare what each supplier has stored with its file; fill the per-file findings."""
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT job_id, count(*) FILTER (WHERE error_type = 'duplicate_sku'), "
                        "count(*) FILTER (WHERE error_type = 'parse_summary') FROM parsing_logs GROUP BY job_id")
            logs = {job: (int(d), int(p)) for job, d, p in cur.fetchall()}
            cur.execute("SELECT job_id, count(*) - count(DISTINCT supplier_item_id) FROM price_history GROUP BY job_id")
            history = {job: int(n) for job, n in cur.fetchall()}
            for src in sources:
                cur.execute(
                    "SELECT i.supplier_sku, i.name, round(i.price * 100) FROM supplier_items i "
                    "JOIN suppliers s ON s.id = i.supplier_id WHERE s.name = %s", (src.supplier,))
                stored = cur.fetchall()
                src.stored = len(stored)
                src.duplicate_warnings, src.parse_runs = logs.get(src.job_id, (0, 0))
                src.price_history = history.get(src.job_id, 0)
                if src.items is None:
                    continue
                seen = set()
                for sku, name, kop in stored:
                    if sku in src.skus:
                        seen.add(sku)
                        src.stored_kopecks += int(kop) if kop is not None else 0
                    else:
                        src.extra.append(f"{sku!r} ({name!r})")
                src.missing = [k for k in src.skus if k not in seen]
    finally:
        conn.close()


def verdict(src: Source) -> tuple[int, int, int, list[str]]:
    """(lost, duplicated, extra, notes) for one file."""
    notes: list[str] = []
    st = src.state
    lost = dup = extra = 0
    if st.get("phase") != "complete":
        notes.append(f"job phase={st.get('phase')} status={st.get('status')} error={st.get('error')!r}")
    if src.parse_runs > 1:
        notes.append(f"parsed {src.parse_runs} times")
    if src.price_history > 0:
        dup += src.price_history
        notes.append(f"{src.price_history} second price_history row(s) for one item in this job")
    if src.items is not None:
        lost, extra = len(src.missing), len(src.extra)
        if src.missing:
            notes.append(f"{lost} of {src.items} rows not stored, e.g. {', '.join(src.missing[:3])}")
        if src.extra:
            notes.append(f"{extra} stored item(s) that are no item row of the file: {', '.join(src.extra[:3])}")
        if src.stored_kopecks != sum(src.skus[k] for k in src.skus if k not in set(src.missing)):
            notes.append(f"stored prices sum to {src.stored_kopecks / 100:.2f}, the file's to {src.price_kopecks / 100:.2f}")
        want_rows = src.items + src.bad_rows
        if st.get("phase") == "complete" and (st.get("items_processed") != str(want_rows)
                                              or st.get("error_count") != str(src.bad_rows)):
            notes.append(f"job says items_processed={st.get('items_processed')} error_count={st.get('error_count')}, "
                         f"file has {want_rows} rows of which {src.bad_rows} bad")
    elif src.range is not None:
        lo, hi = src.range
        given = src.stored + src.duplicate_warnings
        if src.duplicate_warnings:
            notes.append(f"{src.duplicate_warnings} rows share a key with an earlier row (duplicate_sku warnings)")
        if given < lo:
            lost = lo - given
            notes.append(f"stored {src.stored} (+{src.duplicate_warnings} duplicate keys), expected {lo}-{hi}")
        elif given > hi:
            extra = given - hi
            notes.append(f"stored {src.stored} (+{src.duplicate_warnings} duplicate keys), expected {lo}-{hi}")
    return lost, dup, extra, notes


# --------------------------------------------------------------------------- baseline
def baseline_one(args: tuple[str, str, str, int, str]) -> tuple[str, int, float, str]:
    """pandas read of one file (header row and CSV dialect given by hand) + ``to_sql``; (file, rows, s, error)."""
    import pandas as pd
    from sqlalchemy import create_engine

    path, kind, url, header_row, table = args
    warnings.simplefilter("ignore")  # pandas' xlrd deprecation notice
    start = time.perf_counter()
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg2://"))
    try:
        if kind.startswith("csv"):
            df = pd.read_csv(path, sep=";", encoding="utf-8" if kind == "csv-utf8" else "cp1251",
                             skiprows=header_row - 1, decimal=",", thousands=" ", dtype={"Артикул": str})
        else:
            with contextlib.redirect_stdout(io.StringIO()):  # xlrd prints its codepage notes
                df = pd.read_excel(path, sheet_name=0, header=header_row - 1,
                                   engine="openpyxl" if kind == "xlsx" else "xlrd")
        df = df.dropna(how="all")
        df.columns = [str(c) for c in df.columns]
        for c in df.columns:  # mixed cells (numbers and text in one column) go in as text
            if df[c].dtype == object:
                df[c] = df[c].map(lambda v: None if v is None or v != v else str(v))
        df.to_sql(table, engine, if_exists="replace", index=False, method="multi", chunksize=1000)
        return path, len(df), time.perf_counter() - start, ""
    except Exception as exc:  # a file the plain code cannot read is reported, not fatal
        return path, 0, time.perf_counter() - start, f"{type(exc).__name__}: {exc}"[:200]
    finally:
        engine.dispose()


def run_baseline(sources: list[Source], url: str, processes: int) -> tuple[int, float, list[str]]:
    """All files through :func:`baseline_one`; (rows written, wall seconds, failures)."""
    tag = "seq" if processes == 1 else f"mp{processes}"
    # biggest first, so 2 processes are not left waiting on one large file at the end
    order = sorted(sources, key=lambda s: s.path.stat().st_size, reverse=True)
    tasks = [(str(s.path), s.kind, url, s.header_row, f"pandas_{tag}_{s.index:02d}") for s in order]
    start = time.perf_counter()
    if processes == 1:
        results = [baseline_one(t) for t in tasks]
    else:
        with multiprocessing.get_context("spawn").Pool(processes) as pool:
            results = pool.map(baseline_one, tasks, chunksize=1)
    wall = time.perf_counter() - start
    failures = [f"{Path(p).name}: {err}" for p, _, _, err in results if err]
    return sum(n for _, n, _, _ in results), wall, failures


# --------------------------------------------------------------------------- main
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--scale", type=float, default=1.0, help="row-count factor of the generated files (default 1)")
    ap.add_argument("--timeout", type=float, default=2400, help="seconds to wait for all jobs (default 2400)")
    ap.add_argument("--admin-dsn", default="host=127.0.0.1 port=5432 user=postgres dbname=test")
    ap.add_argument("--skip-baseline", action="store_true", help="run only our workers")
    ap.add_argument("--keep-temp", action="store_true", help="keep the temporary folder (files and worker logs)")
    ap.add_argument("--profile", type=Path, metavar="DIR",
                    help="sample each worker's process tree with py-spy (must be on PATH) from publish to complete; "
                         "raw collapsed stacks go to DIR/worker<N>.txt")
    a = ap.parse_args()

    run = uuid.uuid4().hex[:8]
    tmp = Path(tempfile.mkdtemp(prefix=f"bench_e2e_{run}_"))
    db_name = f"bench_e2e_{run}"
    queue = f"bench_e2e_{run}"
    pg_url = PG_URL_TEMPLATE.format(name=db_name)
    pg_dsn = f"host=127.0.0.1 port=5432 user=postgres dbname={db_name}"
    workers: list[Worker] = []
    redis_db: int | None = None
    db_made = False
    try:
        files = tmp / "files"
        files.mkdir()
        t0 = time.perf_counter()
        sources = make_sources(files, a.scale, run)
        gen_rows = sum(s.data_rows for s in sources)
        print(f"generated {len(sources)} files ({gen_rows:,} rows below the headers of the generated ones, "
              f"{sum(s.path.stat().st_size for s in sources) / 2**20:.0f} MB) in {time.perf_counter() - t0:.0f} s "
              f"into {files}", flush=True)

        admin_sql(a.admin_dsn, f'CREATE DATABASE "{db_name}"')
        db_made = True
        redis_db = empty_redis_db()
        redis_url = f"{REDIS_HOST_URL}/{redis_db}"
        env = {**os.environ, "DATABASE_URL": pg_url, "RABBITMQ_URL": RABBITMQ_URL, "REDIS_URL": redis_url,
               "UPLOADS_DIR": str(tmp / "uploads"), "INGESTION_QUEUE": queue, "USE_ML_PROCESSING": "false",
               "DOWNLOAD_ALLOWED_HOSTS": "127.0.0.1", "DOWNLOAD_ALLOWED_ROOTS": str(files)}
        migrate = subprocess.run([str(Path(sys.executable).parent / "ingestion"), "migrate"], cwd=ROOT, env=env,
                                 capture_output=True, text=True, timeout=300)
        if migrate.returncode != 0:
            raise SystemExit(f"ingestion migrate failed:\n{migrate.stdout}\n{migrate.stderr}")

        for n in range(2):
            prom = tmp / f"prom{n}"
            prom.mkdir()
            wenv = {**env, "dramatiq_prom_host": "127.0.0.1", "dramatiq_prom_port": str(free_port()),
                    "dramatiq_prom_db": str(prom)}
            workers.append(Worker(wenv, tmp / f"worker{n}.log"))
        wait_for_consumers(queue, workers, 2)
        print(f"2 workers up (pids {', '.join(str(w.proc.pid) for w in workers)}), queue {queue}, "
              f"Redis db {redis_db}, database {db_name}", flush=True)

        client: redis.Redis = redis.Redis.from_url(redis_url, decode_responses=True)
        spies = start_profilers(workers, a.profile) if a.profile else []
        started = time.monotonic()
        publish_all(queue, sources)
        wall = follow_jobs(client, sources, workers, a.timeout, started)
        stop_profilers(spies)
        for w in workers:
            w.sample()
        client.close()
        for w in workers:
            w.stop()
        check_store(pg_dsn, sources)

        rows = sum(int(s.state.get("items_processed") or 0) for s in sources)
        rate = rows / wall
        lost = dup = extra = 0
        print(f"{'file':<58} {'kind':<10} {'phase':<9} {'rows':>7} {'stored':>7} {'expected':>11} {'sec':>6}")
        for src in sources:
            l, d, x, notes = verdict(src)
            lost += l
            dup += d
            extra += x
            st = src.state
            exp = str(src.items) if src.items is not None else f"{src.range[0]}-{src.range[1]}" if src.range else "?"
            secs = ""
            if st.get("started_at") and st.get("completed_at"):
                from datetime import datetime
                secs = f"{(datetime.fromisoformat(st['completed_at']) - datetime.fromisoformat(st['started_at'])).total_seconds():.1f}"
            print(f"{src.path.name[:58]:<58} {src.kind:<10} {st.get('phase', '-'):<9} {st.get('items_processed', '-'):>7} "
                  f"{src.stored:>7} {exp:>11} {secs:>6}" + (f"  !! {'; '.join(notes)}" if notes else ""))
        for n, w in enumerate(workers):
            detail = ", ".join(f"pid {pid}: {kb / 1024:.0f} MB" for pid, kb in sorted(w.peak_kb.items()))
            print(f"worker {n} (peak RSS = largest VmHWM in its process tree): {detail}")
        failed = [s for s in sources if s.state.get("phase") != "complete"]
        stored_wall = max((s.stored_after or wall) for s in sources)
        stored_rate = rows / stored_wall
        ours = (f"e2e: {len(sources)} files, {rows} rows, {wall:.1f} s, {rate:,.0f} rows/s (2 workers) to complete "
                f"(read, stored, matched); all read and stored after {stored_wall:.1f} s ({stored_rate:,.0f} rows/s), peak RSS "
                f"{workers[0].peak_mb():.0f}/{workers[1].peak_mb():.0f} MB, lost {lost}, duplicated {dup}"
                + (f", {len(failed)} job(s) not complete" if failed else ""))
        if extra:
            print(f"!! {extra} stored item(s) are no item row of their file (see the '!!' notes above)")
        if a.skip_baseline:
            print(ours)
            return

        seq_rows, seq_wall, seq_fail = run_baseline(sources, pg_url, 1)
        print(f"pandas+to_sql sequential: {seq_rows} rows in {seq_wall:.1f} s = {seq_rows / seq_wall:,.0f} rows/s", flush=True)
        mp_rows, mp_wall, mp_fail = run_baseline(sources, pg_url, 2)
        print(f"pandas+to_sql 2 processes: {mp_rows} rows in {mp_wall:.1f} s = {mp_rows / mp_wall:,.0f} rows/s", flush=True)
        for f in sorted(set(seq_fail + mp_fail)):
            print(f"  baseline could not read {f}")
        mp_rate = mp_rows / mp_wall
        print(f"{ours} | pandas+to_sql: {mp_rate:,.0f} rows/s (2 procs) | ratio {rate / mp_rate:.2f} to complete, "
              f"{stored_rate / mp_rate:.2f} to stored")
    finally:
        for w in workers:
            w.stop()
        try:
            conn = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
            ch = conn.channel()
            for name in (queue, f"{queue}.DQ", f"{queue}.XQ"):
                ch.queue_delete(queue=name)
            conn.close()
        except Exception as exc:
            print(f"could not delete the queues {queue}*: {exc}")
        if redis_db is not None:
            rc = redis.Redis.from_url(f"{REDIS_HOST_URL}/{redis_db}")
            keys = list(rc.scan_iter(count=1000))  # the database was empty when the run took it
            for i in range(0, len(keys), 1000):
                rc.delete(*keys[i:i + 1000])
            rc.close()
        if db_made:
            admin_sql(a.admin_dsn, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        if a.keep_temp:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
