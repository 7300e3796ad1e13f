"""Matching actors: ``match_items_task`` (pipeline step and public message),
``match_decision`` (a manager's decision, public) and the daily review expiry."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import dramatiq
from periodiq import cron

from ingestion.actors._jobs import job_step, problem_of
from ingestion.errors import PermanentError, Problem
from ingestion.linking import apply_decision, expire_reviews
from ingestion.messages import MatchDecisionMessage, MatchItemsMessage, structure_message
from ingestion.logs import job_context
from ingestion.pipeline import Runtime, fail_job, get_runtime, match_sharers, match_step
from ingestion.runs import expire_held_runs
from ingestion.settings import get_settings
from ingestion.store import log_problem

logger = logging.getLogger(__name__)
QUEUE = get_settings().queue_name
MATCH_TIME_LIMIT_MS = 25 * 60 * 1000


@dramatiq.actor(
    queue_name=QUEUE,
    store_results=True,
    max_retries=3,
    min_backoff=5000,
    max_backoff=120_000,
    time_limit=MATCH_TIME_LIMIT_MS,
    throws=(PermanentError,),
)
def match_items_task(
    supplier_id: str, job_id: str | None = None, parsed: dict[str, Any] | None = None, share: bool = False
) -> dict[str, Any]:
    """Match every unmatched item of the supplier; completes the job when it has one.

    Public kwargs: :class:`~ingestion.messages.MatchItemsMessage`.  In the
    ingestion pipeline ``parsed`` is the parse summary the step before returned.
    The job's first run of a big list sends runs that share the work
    (:func:`~ingestion.pipeline.match_sharers`; ``share=True``, internal): they take other
    batches of the same items on other workers and never fail the job — a failed batch
    of theirs is rolled back and matched by the job's own run, which completes the job
    when no item is left (waiting a moment while shared batches are still open).
    Returns ``{supplier_id, job_id, matched, auto, review, new, products}``.
    """
    msg = structure_message({"supplier_id": supplier_id, "job_id": job_id}, MatchItemsMessage)
    rt = get_runtime()
    if msg.job_id is None:
        summary = match_step(rt, msg.supplier_id)
        if summary.get("remaining"):
            match_items_task.send(msg.supplier_id)
        return summary
    if share:
        return _share(rt, msg.supplier_id, msg.job_id)
    if (rt.jobs.get(msg.job_id) or {}).get("phase") == "held":
        return {"supplier_id": msg.supplier_id, "job_id": msg.job_id, "skipped": "the list is held"}
    carried = parsed if isinstance(parsed, dict) else None
    with job_step(rt, msg.job_id, msg.supplier_id, step="match_items_task"):
        if carried is None or ("sharers" not in carried and not carried.get("held")):
            sharers = match_sharers(rt, msg.supplier_id)
            carried = {**(carried or {}), "sharers": sharers}
            if sharers:
                rt.jobs.update(msg.job_id, phase="matching", status="processing")  # sharers skip other phases
                logger.info("job %s: %d run(s) share the matching", msg.job_id, sharers)
            for _ in range(sharers):
                match_items_task.send_with_options(args=(msg.supplier_id, msg.job_id), kwargs={"share": True})
        summary = match_step(rt, msg.supplier_id, msg.job_id, carried)
    if summary.get("remaining"):
        delay = SHARED_WAIT_MS if summary.get("wait") else None
        match_items_task.send_with_options(args=(msg.supplier_id, msg.job_id, summary["carry"]), delay=delay)
    return summary


#: How long the job's run waits (ms, a delayed message) before looking again when the items left
#: are in batches of runs sharing its work.
SHARED_WAIT_MS = 1000


def _share(rt: Runtime, supplier_id: str, job_id: str) -> dict[str, Any]:
    """One sharing run (see :func:`match_items_task`): best effort, never retried, never fails the job."""
    with job_context(job_id, supplier_id):
        try:
            summary = match_step(rt, supplier_id, job_id, share=True)
        except Exception as exc:  # its open batch rolled back: the job's own run matches those items
            logger.warning("job %s: a run sharing the matching stopped: %s", job_id, problem_of(exc).message)
            return {"supplier_id": supplier_id, "job_id": job_id, "stopped": problem_of(exc).message}
    if summary.get("remaining"):
        match_items_task.send_with_options(args=(supplier_id, job_id), kwargs={"share": True})
    return summary


@dramatiq.actor(queue_name=QUEUE, store_results=True, max_retries=3, throws=(PermanentError,))
def match_decision(**kwargs: Any) -> dict[str, Any]:
    """Carry out a manager's decision (kwargs: :class:`~ingestion.messages.MatchDecisionMessage`).

    Returns ``{supplier_item_id, action, match_status, product_id}``; raises
    :class:`~ingestion.errors.InvalidMessage` or a not-found error (not retried).
    """
    try:
        msg = structure_message(kwargs, MatchDecisionMessage)
        result = apply_decision(msg.action, msg.supplier_item_id, msg.product_id, msg.decided_by)
    except PermanentError as exc:
        logger.warning("match decision refused: %s", exc.message)
        said = {k: str(kwargs.get(k))[:200] for k in ("action", "supplier_item_id", "product_id", "decided_by")
                if kwargs.get(k) is not None}
        log_problem(Problem(type="decision_refused", level="warning", message=f"match decision refused: {exc.message}",
                            row_data=said), None, None)
        raise
    logger.info("match decision %s on item %s by %s", msg.action, msg.supplier_item_id, msg.decided_by or "-")
    return result


@dramatiq.actor(queue_name=QUEUE, max_retries=3, periodic=cron("17 3 * * *"))
def expire_review_queue_task() -> int:
    """Daily (03:17): expire review requests past their ``expires_at``, and held lists older
    than ``HELD_TTL_DAYS`` (their jobs fail as expired); returns how many review requests expired."""
    rt = get_runtime()
    count = expire_reviews()
    logger.info("expired %d review request(s)", count)
    for job_id in expire_held_runs(dt.timedelta(days=rt.settings.held_ttl_days)):
        fail_job(rt, job_id, Problem(type="list_expired", message=f"held list expired: nobody released or rejected it "
                                                                  f"within {rt.settings.held_ttl_days} days (HELD_TTL_DAYS)"),
                 can_retry=True)
    return count
