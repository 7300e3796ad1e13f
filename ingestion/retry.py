"""Re-running a failed job from the step that failed (``retry_job_task``).

A job can be retried when it is ``failed``, its ``can_retry`` is true and its
``retry_count`` is below ``max_retries``; ``retry_count`` counts up and is
never reset.  The downloaded file is reused when it is still on disk; otherwise
the job starts again from the download.  A refusal leaves the job failed and
puts a ``retry_refused`` problem first in its ``error_details``.
"""

from __future__ import annotations

import json
import os
from typing import Any, Literal

import attrs

from ingestion.errors import JobNotFound, PermanentError, Problem
from ingestion.pipeline import MAX_ERROR_DETAILS, Runtime

Step = Literal["download", "parse", "trigger_ml", "match"]
DOWNLOAD_STEPS = ("ingest", "download_file", "download_and_trigger_ml", "")


class RetryRefused(PermanentError):
    slug = "retry_refused"


@attrs.frozen
class RetryPlan:
    """Where a retry starts: ``step``; the job's supplier, source and the download to reuse (if any)."""

    job_id: str
    step: Step
    supplier_id: str
    source_url: str
    file_type: str | None
    download: dict[str, Any] | None
    retry_count: int


def plan_retry(rt: Runtime, job_id: str) -> RetryPlan:
    """Decide where ``job_id`` starts again and count the retry.

    Raises :class:`JobNotFound` or :class:`RetryRefused` (recorded in the job).
    """
    state = rt.jobs.get(job_id)
    if state is None:
        raise JobNotFound(f"no job {job_id} (unknown, or older than the job state's TTL)")
    reason = None
    retries, limit = int(state.get("retry_count") or 0), int(state.get("max_retries") or 0)
    if state.get("phase") != "failed":
        reason = f"job {job_id} is not failed (phase {state.get('phase') or 'unknown'})"
    elif state.get("can_retry") != "true":
        reason = f"job {job_id} cannot be retried: {state.get('error') or 'its failure is final'}"
    elif retries >= limit:
        reason = f"job {job_id} has used all its {limit} retries"
    if reason:
        _refuse(rt, job_id, state, reason)
    aux = rt.jobs.get_aux(job_id)
    failed_step = aux.get("failed_step", "")
    download = None
    if aux.get("download"):
        candidate = json.loads(aux["download"])
        if os.path.isfile(candidate.get("file_path", "")):
            download = candidate
    ml = failed_step in ("download_and_trigger_ml", "poll_ml_job_status_task") or bool(state.get("ml_job_id"))
    step: Step
    if failed_step == "match_items_task":
        step = "match"
    elif download is None or failed_step in DOWNLOAD_STEPS:
        step = "trigger_ml" if ml else "download"
    else:
        step = "trigger_ml" if ml else "parse"
    retry_count = retries + 1
    rt.jobs.update(
        job_id,
        phase="downloading" if step in ("download", "trigger_ml") else ("matching" if step == "match" else "parsing"),
        status="pending",
        retry_count=retry_count,
        can_retry=False,
        error="",
        ml_job_id="",
        completed_at="",
    )
    return RetryPlan(
        job_id=job_id,
        step=step,
        supplier_id=state.get("supplier_id", ""),
        source_url=state.get("source_url", ""),
        file_type=state.get("file_type") or None,
        download=download,
        retry_count=retry_count,
    )


def _refuse(rt: Runtime, job_id: str, state: dict[str, str], reason: str) -> None:
    try:
        details = list(json.loads(state.get("error_details") or "[]"))
    except ValueError:
        details = []
    problem = Problem(type="retry_refused", level="warning", message=reason)
    rt.jobs.update(job_id, error_details=[problem.to_dict(), *details][:MAX_ERROR_DETAILS])
    raise RetryRefused(reason)
