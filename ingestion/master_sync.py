"""Master sheet sync (``master_sync_task``): the list of suppliers and where their price lists are.

The master sheet is a CSV or XLSX at ``MASTER_SHEET_URL`` (http/https URL or a
path); a Google Sheets link (``https://docs.google.com/spreadsheets/d/<id>/…``)
is fetched as its CSV export, which needs no credentials when the sheet is
shared by link.  Columns are found by header synonyms (English and Russian):
supplier name (required), source URL, format, active, notes, use ML.

Per row: the supplier is upserted by case-insensitive name; the sheet owns
``source_url``, ``source_type``, ``is_active`` and the ``meta`` keys ``notes``,
``use_ml_processing`` and ``managed_by`` — other ``meta`` keys (reading
overrides set by people) are kept.  Suppliers the sheet managed before and no
longer lists are deactivated (never deleted); suppliers created otherwise are
left alone.  A bad row (no name, an unknown format, a duplicate) is logged to
``parsing_logs`` and skipped.  One ``ingest`` is then due per active supplier
with a source; the caller sends them.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Iterator

import attrs

from ingestion.download import Downloader
from ingestion.errors import PermanentError, Problem
from ingestion.models import Supplier, database, utcnow
from ingestion.reading.api import sniff_format
from ingestion.reading.csv_reader import open_csv
from ingestion.reading.normalize import cell_text
from ingestion.reading.source import SheetSource
from ingestion.reading.xls_reader import open_xls
from ingestion.reading.xlsx_reader import open_xlsx
from ingestion.store import log_problem

MANAGED_BY = "master_sheet"
#: The deactivation guard applies once the sheet manages this many suppliers.
MIN_MANAGED_FOR_GUARD = 3
HEADER_SEARCH_ROWS = 10
GOOGLE_SHEET_RE = re.compile(r"^https://docs\.google\.com/spreadsheets/d/([A-Za-z0-9_-]+)")

#: Header words per column role, compared after case folding and trimming.
COLUMN_SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": ("supplier", "supplier name", "name", "vendor", "поставщик", "название", "наименование",
             "название поставщика", "наименование поставщика", "компания"),
    "source_url": ("source", "source url", "url", "link", "price list", "price list url", "file",
                   "ссылка", "источник", "прайс", "прайс-лист", "ссылка на прайс", "адрес"),
    "format": ("format", "type", "source type", "file type", "формат", "тип", "тип файла"),
    "active": ("active", "is active", "enabled", "status", "активен", "активный", "статус", "вкл"),
    "notes": ("notes", "note", "comment", "comments", "примечание", "примечания", "комментарий"),
    "use_ml": ("use ml", "ml", "use_ml_processing", "ml processing", "use ml processing", "мл", "ml-анализ"),
}
FORMATS = {
    "csv": "csv", "tsv": "csv", "excel": "excel", "xlsx": "excel", "xls": "excel", "pdf": "pdf",
    "google_sheets": "google_sheets", "google sheets": "google_sheets", "gsheet": "google_sheets",
    "url": "url", "": "",
}
TRUE_WORDS = {"1", "true", "yes", "y", "да", "on", "active", "активен", "вкл", "+", "x"}
FALSE_WORDS = {"0", "false", "no", "n", "нет", "off", "inactive", "неактивен", "выкл", "-"}


@attrs.frozen
class SheetRow:
    """One supplier row of the master sheet, as read."""

    row: int
    name: str
    source_url: str | None
    source_type: str | None
    active: bool
    notes: str | None
    use_ml: bool | None


@attrs.define
class SyncResult:
    """Counts of one sync and the ingestions it calls for (``(supplier_id, name, source_url)``)."""

    sync_id: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    deactivated: int = 0
    bad_rows: int = 0
    to_ingest: list[tuple[str, str, str]] = attrs.field(factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "sync_id": self.sync_id,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "deactivated": self.deactivated,
            "bad_rows": self.bad_rows,
            "enqueued": len(self.to_ingest),
        }


def export_url(url: str) -> str:
    """A Google Sheets link as its CSV export URL (keeping ``gid``); any other URL as it is."""
    m = GOOGLE_SHEET_RE.match(url)
    if not m or "/export" in url:
        return url
    gid = re.search(r"[#&?]gid=(\d+)", url)
    return f"https://docs.google.com/spreadsheets/d/{m.group(1)}/export?format=csv" + (f"&gid={gid.group(1)}" if gid else "")


def _sheets(path: str) -> list[SheetSource]:
    kind = sniff_format(path)
    if kind == "csv":
        return [open_csv(path)[0]]
    if kind == "xlsx":
        return open_xlsx(path)[0]
    if kind == "xls":
        return open_xls(path)[0]
    raise PermanentError(f"the master sheet must be CSV or XLSX, got {kind}", slug="master_sheet_format")


def _norm(value: Any) -> str:
    return " ".join(cell_text(value).strip().casefold().replace("_", " ").split()) if value is not None else ""


def _flag(value: Any) -> bool | None:
    text = _norm(value)
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    return None


def read_master_sheet(path: str, sync_id: str) -> Iterator[SheetRow | Problem]:
    """Rows of the first sheet with a recognisable header; bad rows as problems."""
    for sheet in _sheets(path):
        rows = sheet.rows()
        columns: dict[str, int] = {}
        for raw in rows:
            texts = [_norm(v) for v in raw.values]
            found = {role: i for role, words in COLUMN_SYNONYMS.items() for i, t in enumerate(texts)
                     if t in {_norm(w) for w in words}}
            if "name" in found and len(found) >= 2:
                columns = found
                break
            if raw.row >= HEADER_SEARCH_ROWS:
                break
        if not columns:
            continue
        seen: dict[str, int] = {}
        for raw in rows:
            values = raw.values

            def cell(role: str) -> Any:
                i = columns.get(role)
                return values[i] if i is not None and i < len(values) else None

            if all(v is None or str(v).strip() == "" for v in values):
                continue
            name = " ".join(cell_text(cell("name")).split()) if cell("name") is not None else ""
            data = {k: cell_text(cell(k)) for k in columns if cell(k) is not None}
            if not name:
                yield Problem(type="master_sheet_row", message="supplier name is empty", sheet=sheet.name,
                              row=raw.row, column="name", row_data=data)
                continue
            key = Supplier.key_for(name)
            if key in seen:
                yield Problem(type="master_sheet_row", level="warning", sheet=sheet.name, row=raw.row, column="name",
                              message=f"supplier {name!r} is listed again (first at row {seen[key]}); this row is skipped",
                              row_data=data)
                continue
            seen[key] = raw.row
            fmt_text = _norm(cell("format"))
            if fmt_text not in FORMATS:
                yield Problem(type="master_sheet_row", sheet=sheet.name, row=raw.row, column="format", row_data=data,
                              message=f"unknown format {cell_text(cell('format'))!r}: use csv, excel, pdf, google_sheets or url")
                continue
            active = _flag(cell("active")) if "active" in columns and cell("active") is not None else True
            source = cell_text(cell("source_url")).strip() if cell("source_url") is not None else ""
            if source and not (re.match(r"^https?://", source, re.I) or source.startswith("/")):
                yield Problem(type="master_sheet_row", sheet=sheet.name, row=raw.row, column="source_url",
                              row_data=data,
                              message=f"source {source[:100]!r} is neither an http(s) URL nor an absolute path")
                continue
            if source and GOOGLE_SHEET_RE.match(source) and not fmt_text:
                fmt_text = "google sheets"
            yield SheetRow(
                row=raw.row,
                name=name[:255],
                source_url=source or None,
                source_type=FORMATS[fmt_text] or None,
                active=bool(active) if active is not None else True,
                notes=cell_text(cell("notes")).strip() or None if cell("notes") is not None else None,
                use_ml=_flag(cell("use_ml")) if cell("use_ml") is not None else None,
            )
        return
    raise PermanentError(
        "no header found in the master sheet: it needs a supplier-name column and at least one of "
        "source URL, format, active, notes, use ML",
        slug="master_sheet_header",
    )


def apply_master_rows(rows: Iterator[SheetRow | Problem], sync_id: str, force: bool = False) -> SyncResult:
    """Upsert suppliers from the rows, deactivate those that left the sheet, log bad rows.

    A sheet that would deactivate more than half of the suppliers it manages
    (at least :data:`MIN_MANAGED_FOR_GUARD` of them) — an empty or truncated
    export, say — is refused with :class:`PermanentError` and nothing changes,
    unless ``force``.
    """
    result = SyncResult(sync_id=sync_id)
    listed: set[str] = set()
    now = utcnow()
    listed_rows = list(rows)
    managed = {
        s.name_key for s in Supplier.select(Supplier.name_key, Supplier.meta).where(Supplier.is_active == True)  # noqa: E712
        if (s.meta or {}).get("managed_by") == MANAGED_BY
    }
    keys = {Supplier.key_for(r.name) for r in listed_rows if isinstance(r, SheetRow)}
    leaving = managed - keys
    if not force and len(managed) >= MIN_MANAGED_FOR_GUARD and len(leaving) * 2 > len(managed):
        raise PermanentError(
            f"the master sheet would deactivate {len(leaving)} of the {len(managed)} suppliers it manages "
            f"(it lists {len(keys)}); refusing — check the sheet, or send master_sync_task with force=true",
            slug="master_sheet_suspicious",
        )
    with database.atomic():
        for row in listed_rows:
            if isinstance(row, Problem):
                result.bad_rows += row.level == "error"
                log_problem(row, sync_id, None)
                continue
            result.rows += 1
            key = Supplier.key_for(row.name)
            listed.add(key)
            supplier = Supplier.get_or_none(Supplier.name_key == key)
            meta = dict(supplier.meta or {}) if supplier else {}
            meta["managed_by"] = MANAGED_BY
            meta["notes"] = row.notes
            if row.use_ml is None:
                meta.pop("use_ml_processing", None)
            else:
                meta["use_ml_processing"] = row.use_ml
            values = {
                "source_url": row.source_url,
                "source_type": row.source_type,
                "is_active": row.active,
                "meta": meta,
                "updated_at": now,
            }
            if supplier is None:
                supplier = Supplier.create(name=row.name, name_key=key, created_at=now, **values)
                result.created += 1
            else:
                Supplier.update(**values).where(Supplier.id == supplier.id).execute()
                result.updated += 1
            if row.active and row.source_url:
                result.to_ingest.append((str(supplier.id), row.name, export_url(row.source_url)))
        for supplier in Supplier.select().where(Supplier.is_active == True):  # noqa: E712
            if (supplier.meta or {}).get("managed_by") == MANAGED_BY and supplier.name_key not in listed:
                Supplier.update(is_active=False, updated_at=now).where(Supplier.id == supplier.id).execute()
                result.deactivated += 1
    log_problem(
        Problem(type="master_sync_summary", level="info",
                message=(f"master sheet: {result.rows} suppliers ({result.created} new, {result.updated} updated), "
                         f"{result.deactivated} deactivated, {result.bad_rows} bad rows, "
                         f"{len(result.to_ingest)} ingestions due")),
        sync_id,
        None,
    )
    return result


def fetch_master_sheet(downloader: Downloader, source: str, sync_id: str) -> str:
    """Download (or copy) the master sheet with the service's guarded downloader; returns the local path."""
    return downloader.fetch(export_url(source), sync_id).path


def new_sync_id() -> str:
    return "master-sync-" + dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%f")
