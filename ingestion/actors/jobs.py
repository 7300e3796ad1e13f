"""Decisions on jobs: ``retry_job_task`` (re-run a failed job from the step that failed),
``release_job`` / ``reject_job`` (publish or drop a held list)."""

from __future__ import annotations

import logging
from typing import Any

import dramatiq

from ingestion.actors.ingest import continue_from_download, start_pipeline
from ingestion.actors.matching import match_items_task
from ingestion.errors import InvalidMessage, PermanentError, Problem
from ingestion.models import IngestionRun
from ingestion.messages import JOB_ID_RE, JobDecisionMessage, structure_message
from ingestion.pipeline import fail_job, get_runtime
from ingestion.retry import plan_retry
from ingestion.runs import reject_run, release_run
from ingestion.store import log_problem
from ingestion.settings import get_settings

logger = logging.getLogger(__name__)
QUEUE = get_settings().queue_name


@dramatiq.actor(queue_name=QUEUE, store_results=True, max_retries=3, throws=(PermanentError,))
def retry_job_task(job_id: str | None = None, **unknown: Any) -> dict[str, Any]:
    """Re-run failed job ``job_id`` from its failed step; returns ``{job_id, step, retry_count}``.

    Raises :class:`~ingestion.retry.RetryRefused` (with the reason also in the
    job state) for a job that is not failed, cannot be retried or has used its
    ``max_retries``, and :class:`~ingestion.errors.JobNotFound` for an unknown job.
    """
    if unknown:
        raise InvalidMessage(f"invalid retry message: unknown fields {', '.join(sorted(unknown))}")
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


def _note_refusal(job_id: str, what: str, decided_by: str | None, exc: PermanentError) -> None:
    """Keep a refused release/rejection where people look: the job's ``error`` (its phase unchanged) and
    ``parsing_logs`` (``decision_refused``).  The message itself goes on to the dead-letter queue."""
    rt = get_runtime()
    state = rt.jobs.get(job_id)
    text = f"{what} by {decided_by or 'someone'} refused: {exc.message}"
    if state is not None:
        rt.jobs.update(job_id, error=text)
    log_problem(Problem(type="decision_refused", level="warning", message=text), job_id,
                (state or {}).get("supplier_id") or None)


@dramatiq.actor(queue_name=QUEUE, store_results=True, max_retries=3, throws=(PermanentError,))
def release_job(**kwargs: Any) -> dict[str, Any]:
    """Publish a held list and go on to matching (kwargs: :class:`~ingestion.messages.JobDecisionMessage`).

    Returns ``{job_id, upserted, history, delisted}``; raises
    :class:`~ingestion.runs.RunNotHeld` when the job holds no list.
    """
    msg = structure_message(kwargs, JobDecisionMessage)
    rt = get_runtime()
    try:
        published = release_run(msg.job_id, msg.decided_by)
    except PermanentError as exc:
        logger.warning("release of job %s refused: %s", msg.job_id, exc.message)
        _note_refusal(msg.job_id, "release", msg.decided_by, exc)
        raise
    state = rt.jobs.get(msg.job_id) or {}
    # The job state may be gone (its TTL is shorter than a list may stay held): the run knows the supplier.
    supplier_id = state.get("supplier_id") or str(
        IngestionRun.get(IngestionRun.job_id == msg.job_id).supplier_id  # type: ignore[attr-defined]
    )
    rt.jobs.update(msg.job_id, phase="matching", status="processing", error="", supplier_id=supplier_id)
    log_problem(Problem(type="list_released", level="info",
                        message=f"held list released by {msg.decided_by or 'someone'}: {published.upserted} items written, "
                                f"{published.delisted} delisted"), msg.job_id, supplier_id or None)
    match_items_task.send(supplier_id, msg.job_id)
    return {"job_id": msg.job_id, "upserted": published.upserted, "history": published.history,
            "delisted": published.delisted}


@dramatiq.actor(queue_name=QUEUE, store_results=True, max_retries=3, throws=(PermanentError,))
def reject_job(**kwargs: Any) -> dict[str, Any]:
    """Drop a held list; nothing of it is published (kwargs: :class:`~ingestion.messages.JobDecisionMessage`)."""
    msg = structure_message(kwargs, JobDecisionMessage)
    rt = get_runtime()
    try:
        dropped = reject_run(msg.job_id, msg.decided_by)
    except PermanentError as exc:
        logger.warning("rejection of job %s refused: %s", msg.job_id, exc.message)
        _note_refusal(msg.job_id, "rejection", msg.decided_by, exc)
        raise
    fail_job(rt, msg.job_id,
             Problem(type="list_rejected", level="error",
                     message=f"held list rejected by {msg.decided_by or 'someone'}; nothing was published"),
             can_retry=False)
    return {"job_id": msg.job_id, "dropped": dropped}
