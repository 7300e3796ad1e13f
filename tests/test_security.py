"""Hostile input: XML entity bombs, formula strings, oversized messages, a second scheduler."""

import csv
import uuid
import zipfile
from pathlib import Path
from typing import Any

import attrs
import openpyxl

from ingestion.models import SupplierItem
from ingestion.pipeline import reset_runtime
from ingestion.preview import build_preview
from ingestion.settings import Settings, set_settings
from test_actors import run

BOMB = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>')


def test_an_xml_entity_bomb_is_refused_not_expanded(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active.append(["Артикул", "Наименование", "Цена"])
    wb.active.append(["A1", "Товар", "10"])
    wb.save(tmp_path / "base.xlsx")
    with zipfile.ZipFile(tmp_path / "base.xlsx") as zin, zipfile.ZipFile(tmp_path / "bomb.xlsx", "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = (BOMB + data.decode().split("?>", 1)[-1]).encode()
            zout.writestr(info, data)
    doc = build_preview(str(tmp_path / "bomb.xlsx"))
    assert doc["status"] == "failed" and doc["error"]


def test_formula_strings_are_stored_as_text(stub_worker: Any, tmp_path: Path) -> None:
    path = tmp_path / "inject.csv"
    evil = "=cmd|' /C calc'!A0"
    with open(path, "w", encoding="utf-8", newline="") as f:
        out = csv.writer(f, delimiter=";")
        out.writerow(["Артикул", "Наименование", "Цена"])
        out.writerow(["@SUM(1+1)", evil, "10"])
        out.writerow(["B2", "+1+1", "20"])
    state = run(stub_worker, source_url=str(path), supplier_name="Формулы", job_id=uuid.uuid4().hex)
    assert state["phase"] == "complete"
    names = {i.supplier_sku: i.name for i in SupplierItem.select()}
    assert names == {"@SUM(1+1)": evil, "B2": "+1+1"}


def test_an_oversized_message_is_dead_lettered_unread(stub_worker: Any) -> None:
    job_id = uuid.uuid4().hex
    stub_worker.ingest.send(source_url="/x.csv", supplier_name="Y", job_id=job_id, padding="x" * 400_000)
    stub_worker.broker.join(stub_worker.ingest.queue_name, fail_fast=False)
    dead = [m for m in stub_worker.broker.dead_letters_by_queue[stub_worker.ingest.queue_name]
            if m.kwargs.get("__invalid_envelope__")]
    assert dead and "larger than" in dead[-1].kwargs["__invalid_envelope__"]


def test_a_second_scheduler_does_not_sync_twice(stub_worker: Any, settings: Settings, http_dir: tuple[str, Path]) -> None:
    from ingestion.actors import ops

    base, folder = http_dir
    (folder / "master.csv").write_text("Поставщик;Ссылка\nАльфа;\n", encoding="utf-8")
    set_settings(attrs.evolve(settings, master_sheet_url=f"{base}/master.csv"))
    reset_runtime()
    ops.local_sync_status.clear()
    first = stub_worker.master_sync_task.fn()
    second = stub_worker.master_sync_task.fn()  # the same periodic message from a second scheduler
    assert first["rows"] == 1
    assert "skipped" in second
    forced = stub_worker.master_sync_task.fn(f"{base}/master.csv")  # on demand: always runs
    assert forced["rows"] == 1
