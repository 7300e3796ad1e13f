"""The ingestion pipeline: ``ingest`` (public) → ``download_file`` → ``parse_task`` → ``match_items_task``.

``ingest`` is what upstream services publish (its kwargs are
:class:`~ingestion.messages.IngestMessage`); it accepts the job and starts the
Dramatiq pipeline of the other two, which pass ids and paths, never rows.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import dramatiq

from ingestion.actors._jobs import job_step
from ingestion.actors.matching import match_items_task
from ingestion.errors import InvalidMessage, PermanentError
from ingestion.messages import JOB_ID_RE, IngestMessage, structure_message
from ingestion.courier import uses_ml
from ingestion.models import Supplier
from ingestion.pipeline import download_step, fail_job, get_runtime, parse_step, start_job
from ingestion.settings import get_settings

logger = logging.getLogger(__name__)
settings = get_settings()
QUEUE = settings.queue_name

#: Longest a parse may run (ms): under RabbitMQ's 30-minute consumer timeout.
PARSE_TIME_LIMIT_MS = 25 * 60 * 1000
DOWNLOAD_TIME_LIMIT_MS = 15 * 60 * 1000


@dramatiq.actor(queue_name=QUEUE, store_results=True, max_retries=3, min_backoff=1000, max_backoff=30_000, throws=(PermanentError,))
def ingest(*args: Any, **kwargs: Any) -> dict[str, Any]:
    """Accept an ingestion job and start ``download_file → parse_task``.

    Returns ``{job_id, supplier_id, started}``; ``started`` is false when a job
    with the message's ``job_id`` exists already (nothing is started twice).
    Raises :class:`InvalidMessage` (not retried) for kwargs that do not fit;
    when the bad message carries a valid ``job_id`` of no existing job, that
    job is created failed with the reason (an existing job is left alone).
    """
    rt = get_runtime()
    try:
        if args:
            raise InvalidMessage("invalid ingest message: pass the fields as kwargs, not positional args")
        msg = structure_message(kwargs, IngestMessage)
    except InvalidMessage as exc:
        job_id = kwargs.get("job_id")
        # Report the rejection on a job of its own; an existing job is never touched by a bad message.
        if isinstance(job_id, str) and JOB_ID_RE.match(job_id) and rt.jobs.create(job_id, status="processing"):
            fail_job(rt, job_id, exc.problem, can_retry=False)
        logger.warning("rejected ingest message: %s", exc.message)
        raise
    job_id = msg.job_id or uuid.uuid4().hex
    with job_step(rt, job_id, step="ingest"):
        started = start_job(rt, msg, job_id)
        if not started.created:
            logger.info("job %s exists already; duplicate ingest message ignored", started.job_id)
            return {"job_id": started.job_id, "supplier_id": started.supplier_id, "started": False}
        supplier = Supplier.get_by_id(uuid.UUID(started.supplier_id))
        path = "ml" if uses_ml(rt.settings, supplier.meta) else "local"
        start_pipeline(path, started.job_id, started.supplier_id, msg.source_url, msg.file_type)
    return {"job_id": started.job_id, "supplier_id": started.supplier_id, "started": True, "path": path}


def start_pipeline(path: str, job_id: str, supplier_id: str, source_url: str, file_type: str | None) -> None:
    """Send the first step of a job: the courier path (``ml``) or the local one (download → parse → match)."""
    if path == "ml":
        from ingestion.actors.ml import download_and_trigger_ml

        download_and_trigger_ml.send(job_id=job_id, supplier_id=supplier_id, source_url=source_url, file_type=file_type)
        return
    dramatiq.pipeline(
        [
            download_file.message(job_id=job_id, supplier_id=supplier_id, source_url=source_url, file_type=file_type),
            parse_task.message(),  # type: ignore[call-arg]  # the pipeline appends the download result
            match_items_task.message(supplier_id, job_id),
        ]
    ).run()  # type: ignore[no-untyped-call]


def continue_from_download(download: dict[str, Any]) -> None:
    """Send ``parse_task → match_items_task`` for a file already downloaded (fallback, retry)."""
    dramatiq.pipeline(
        [
            parse_task.message(download),
            match_items_task.message(download["supplier_id"], download["job_id"]),
        ]
    ).run()  # type: ignore[no-untyped-call]


@dramatiq.actor(
    queue_name=QUEUE,
    store_results=True,
    max_retries=settings.download_max_retries,
    min_backoff=2000,
    max_backoff=120_000,
    time_limit=DOWNLOAD_TIME_LIMIT_MS,
    throws=(PermanentError,),
)
def download_file(job_id: str, supplier_id: str, source_url: str, file_type: str | None = None) -> dict[str, Any]:
    """Fetch the source into ``UPLOADS_DIR``; returns ``{job_id, supplier_id, file_path, sha256, size, original_name}``."""
    rt = get_runtime()
    with job_step(rt, job_id, supplier_id, step="download_file"):
        return download_step(rt, job_id, supplier_id, source_url, file_type)


@dramatiq.actor(
    queue_name=QUEUE,
    store_results=True,
    max_retries=3,
    min_backoff=5000,
    max_backoff=120_000,
    time_limit=PARSE_TIME_LIMIT_MS,
    throws=(PermanentError,),
)
def parse_task(download: dict[str, Any]) -> dict[str, Any]:
    """Read the downloaded file and store its items; returns the parse summary (counts)."""
    rt = get_runtime()
    job_id = str(download.get("job_id", ""))
    with job_step(rt, job_id, download.get("supplier_id"), step="parse_task"):
        return parse_step(rt, download)
