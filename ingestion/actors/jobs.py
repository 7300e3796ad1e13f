"""``retry_job_task``: re-run a failed job from the step that failed."""

from __future__ import annotations

import logging
from typing import Any

import dramatiq

from ingestion.actors.ingest import continue_from_download, start_pipeline
from ingestion.actors.matching import match_items_task
from ingestion.errors import InvalidMessage, PermanentError
from ingestion.messages import JOB_ID_RE
from ingestion.pipeline import get_runtime
from ingestion.retry import plan_retry
from ingestion.settings import get_settings

logger = logging.getLogger(__name__)
QUEUE = get_settings().queue_name


@dramatiq.actor(queue_name=QUEUE, store_results=True, max_retries=3, throws=(PermanentError,))
def retry_job_task(job_id: str) -> dict[str, Any]:
    """Re-run failed job ``job_id`` from its failed step; returns ``{job_id, step, retry_count}``.

    Raises :class:`~ingestion.retry.RetryRefused` (with the reason also in the
    job state) for a job that is not failed, cannot be retried or has used its
    ``max_retries``, and :class:`~ingestion.errors.JobNotFound` for an unknown job.
    """
    if not isinstance(job_id, str) or not JOB_ID_RE.match(job_id):
        raise InvalidMessage("invalid retry message: job_id must be a job id string")
    rt = get_runtime()
    plan = plan_retry(rt, job_id)
    logger.info("retrying job %s from %s (retry %d)", job_id, plan.step, plan.retry_count)
    if plan.step == "match":
        match_items_task.send(plan.supplier_id, job_id)
    elif plan.step == "parse" and plan.download is not None:
        continue_from_download(plan.download)
    else:
        start_pipeline("ml" if plan.step == "trigger_ml" else "local", job_id, plan.supplier_id, plan.source_url,
                       plan.file_type)
    return {"job_id": job_id, "step": plan.step, "retry_count": plan.retry_count}
