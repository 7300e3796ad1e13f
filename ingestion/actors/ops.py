"""Scheduled housekeeping: ``cleanup_shared_files_task`` (every 6 h) and ``master_sync_task``
(every ``SYNC_INTERVAL_HOURS``, and on demand by message)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import dramatiq
import redis
from periodiq import cron

from ingestion.cleanup import cleanup_uploads
from ingestion.errors import PermanentError, Problem
from ingestion.jobstate import encode, now_iso
from ingestion.locks import try_lock
from ingestion.master_sync import apply_master_rows, fetch_master_sheet, new_sync_id, read_master_sheet
from ingestion.pipeline import get_runtime
from ingestion.settings import get_settings
from ingestion.store import log_problem

logger = logging.getLogger(__name__)
settings = get_settings()
QUEUE = settings.queue_name
SYNC_STATUS_KEY = "master_sync:status"
SYNC_LOCK_SECONDS = 30 * 60
#: The sync status kept in process in the embedded mode (Redis otherwise).
local_sync_status: dict[str, str] = {}


def _sync_cron(hours: int) -> str:
    return "0 * * * *" if hours <= 1 else (f"0 */{hours} * * *" if hours < 24 else "0 4 * * *")


@dramatiq.actor(queue_name=QUEUE, store_results=True, max_retries=2, time_limit=10 * 60 * 1000,
                periodic=cron("7 */6 * * *"))
def cleanup_shared_files_task(dry_run: bool = False) -> dict[str, Any]:
    """Delete uploads (and sidecars) older than ``FILE_CLEANUP_TTL_HOURS``, never an active job's.

    Returns ``{dry_run, deleted_files, deleted_sidecars, orphan_sidecars, kept_active, freed_bytes, files}``.
    """
    rt = get_runtime()
    report = cleanup_uploads(rt.settings.uploads_dir, rt.settings.file_cleanup_ttl_hours, rt.jobs.active(),
                             dry_run=bool(dry_run))
    summary = report.to_dict()
    logger.info("uploads cleanup: %s", {k: v for k, v in summary.items() if k != "files"})
    return summary


def _synced_recently(interval_hours: int) -> bool:
    status = read_sync_status()
    if status.get("status") not in ("running", "completed") or not status.get("started_at"):
        return False
    try:
        started = dt.datetime.strptime(status["started_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc)
    except ValueError:
        return False
    return dt.datetime.now(dt.timezone.utc) - started < dt.timedelta(hours=interval_hours / 2)


def read_sync_status() -> dict[str, str]:
    url = get_settings().redis_url
    if url:
        return dict(redis.Redis.from_url(url, socket_timeout=10, decode_responses=True).hgetall(SYNC_STATUS_KEY))  # type: ignore[arg-type]
    return dict(local_sync_status)


def write_sync_status(**fields: Any) -> None:
    values = {k: encode(v) for k, v in fields.items()}
    url = get_settings().redis_url
    if url:
        redis.Redis.from_url(url, socket_timeout=10).hset(SYNC_STATUS_KEY, mapping=values)  # type: ignore[arg-type]
    else:
        local_sync_status.update(values)


@dramatiq.actor(queue_name=QUEUE, store_results=True, max_retries=3, min_backoff=10_000, max_backoff=300_000,
                time_limit=20 * 60 * 1000, throws=(PermanentError,),
                periodic=cron(_sync_cron(settings.sync_interval_hours)))
def master_sync_task(source: str | None = None, force: bool = False) -> dict[str, Any]:
    """Sync suppliers from the master sheet (``source`` or ``MASTER_SHEET_URL``) and start their ingestions.

    One sync at a time (a Redis lock); returns the counts, or ``{"skipped": ...}``.
    A sheet that would deactivate most of the suppliers it manages is refused
    unless ``force`` (see :func:`~ingestion.master_sync.apply_master_rows`).
    The status is kept in the Redis hash ``master_sync:status``.
    """
    from ingestion.actors.ingest import ingest

    rt = get_runtime()
    sheet = source or rt.settings.master_sheet_url
    if not sheet:
        logger.info("master sync skipped: MASTER_SHEET_URL is not set")
        return {"skipped": "MASTER_SHEET_URL is not set"}
    with try_lock("lock:master_sync", SYNC_LOCK_SECONDS) as held:
        if not held:
            return {"skipped": "another master sync is running"}
        if source is None and _synced_recently(rt.settings.sync_interval_hours):
            # A second scheduler started by mistake sends the same periodic message: one sync per period.
            return {"skipped": "the master sheet was synced less than half an interval ago"}
        sync_id = new_sync_id()
        write_sync_status(sync_id=sync_id, status="running", source=sheet, started_at=now_iso(), finished_at="",
                          error="")
        try:
            path = fetch_master_sheet(rt.downloader, sheet, sync_id)
            result = apply_master_rows(read_master_sheet(path, sync_id), sync_id, force=bool(force))
        except Exception as exc:
            message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
            write_sync_status(status="failed", error=message, finished_at=now_iso())
            log_problem(Problem(type="master_sync_failed", message=f"master sync failed: {message}"), sync_id, None)
            raise
        for supplier_id, name, url in result.to_ingest:
            ingest.send(supplier_id=supplier_id, source_url=url, job_id=f"{sync_id}-{supplier_id[:8]}")
        summary = result.to_dict()
        write_sync_status(status="completed", finished_at=now_iso(), **{k: v for k, v in summary.items() if k != "sync_id"})
        return summary
