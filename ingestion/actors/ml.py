"""The ML courier path: ``download_and_trigger_ml`` → ``poll_ml_job_status_task`` (re-sent with a
delay every ``ML_POLL_INTERVAL_SECONDS``) → ``match_items_task``; and the minute sweep that
re-starts polling for any ML job whose poll message was lost."""

from __future__ import annotations

import logging
import time
from typing import Any

import dramatiq
from periodiq import cron

from ingestion.actors._jobs import job_step
from ingestion.actors.ingest import DOWNLOAD_TIME_LIMIT_MS, continue_from_download
from ingestion.actors.matching import match_items_task
from ingestion.courier import lost_polls, poll_ml_step, trigger_ml_step
from ingestion.errors import PermanentError
from ingestion.locks import try_lock
from ingestion.pipeline import download_step, get_runtime
from ingestion.settings import get_settings

logger = logging.getLogger(__name__)
settings = get_settings()
QUEUE = settings.queue_name
#: How long the sweep holds its lock (seconds): under its one-minute period.
SWEEP_LOCK_SECONDS = 50


@dramatiq.actor(
    queue_name=QUEUE,
    store_results=True,
    max_retries=settings.download_max_retries,
    min_backoff=2000,
    max_backoff=120_000,
    time_limit=DOWNLOAD_TIME_LIMIT_MS,
    throws=(PermanentError,),
)
def download_and_trigger_ml(job_id: str, supplier_id: str, source_url: str, file_type: str | None = None) -> dict[str, Any]:
    """Download the source as ``download_file`` does and hand it to ml-analyze.

    Returns ``{job_id, supplier_id, ml_job_id, token}``, or the download with
    ``fallback: true`` when ml-analyze was down and ``ML_FALLBACK_TO_LOCAL`` sent
    the file to ``parse_task``.
    """
    rt = get_runtime()
    with job_step(rt, job_id, supplier_id, step="download_and_trigger_ml"):
        download = download_step(rt, job_id, supplier_id, source_url, file_type)
        result = trigger_ml_step(rt, download)
    if result.get("fallback"):
        continue_from_download(download)
        return result
    poll_ml_job_status_task.send_with_options(
        args=(job_id, result["token"]), delay=rt.settings.ml_poll_interval_seconds * 1000
    )
    return result


@dramatiq.actor(queue_name=QUEUE, max_retries=5, min_backoff=1000, max_backoff=30_000, time_limit=120_000)
def poll_ml_job_status_task(job_id: str, token: str | None = None) -> str:
    """Poll the job's ML job once; re-sends itself until the ML job ends. Returns the outcome."""
    rt = get_runtime()
    with job_step(rt, job_id, step="poll_ml_job_status_task"):
        outcome = poll_ml_step(rt, job_id, token)
    if outcome == "again":
        poll_ml_job_status_task.send_with_options(
            args=(job_id, token), delay=rt.settings.ml_poll_interval_seconds * 1000
        )
    elif outcome == "match":
        state = rt.jobs.get(job_id) or {}
        match_items_task.send(state.get("supplier_id", ""), job_id)
    return outcome


@dramatiq.actor(queue_name=QUEUE, max_retries=0, time_limit=55_000, periodic=cron("* * * * *"))
def ml_sweep_task() -> int:
    """Every minute: start polling again for analyzing jobs whose poll message was lost; returns how many."""
    rt = get_runtime()
    with try_lock("lock:ml_sweep", SWEEP_LOCK_SECONDS) as held:
        if not held:
            return 0
        restarted = lost_polls(rt, time.time())
        for job_id, token in restarted:
            logger.warning("job %s: ML poll message lost; polling again", job_id)
            poll_ml_job_status_task.send(job_id, token)
        return len(restarted)
