"""Turning a step's outcome into job state: the one place actors translate errors.

* :class:`~ingestion.errors.PermanentError` → the job fails at once
  (``can_retry`` false for a bad message, true otherwise, so an operator can
  re-run it after fixing the source) and the error is re-raised; the actor
  lists it in ``throws`` so Dramatiq does not retry it and the message goes to
  the dead-letter queue.
* Anything else (transient faults, a lost database connection, a step over
  its time limit, a bug) is retried by Dramatiq with backoff; on the last
  attempt the job fails with the reason and ``can_retry`` true.  A worker
  shutting down is not a failure: the message is requeued as it is.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Iterator

import peewee
from dramatiq.middleware import CurrentMessage, TimeLimitExceeded

from ingestion.errors import IngestionError, PermanentError, Problem
from ingestion.logs import job_context
from ingestion.pipeline import Runtime, fail_job

logger = logging.getLogger(__name__)


def is_last_attempt() -> bool:
    """True when the current message will not be retried if it fails now."""
    message = CurrentMessage.get_current_message()
    if message is None:
        return True
    retries = int(message.options.get("retries", 0))
    max_retries = message.options.get("max_retries")
    if max_retries is None:
        from dramatiq import get_broker

        actor = get_broker().get_actor(message.actor_name)
        max_retries = actor.options.get("max_retries", 0)
    return retries >= int(max_retries)


def problem_of(exc: BaseException) -> Problem:
    """The problem that describes ``exc`` for a person."""
    if isinstance(exc, IngestionError):
        return exc.problem
    if isinstance(exc, (peewee.OperationalError, peewee.InterfaceError)):
        return Problem(type="database_unavailable", message=f"database unavailable: {exc}".strip())
    if isinstance(exc, TimeLimitExceeded):
        return Problem(type="time_limit", message="the step took longer than its time limit and was stopped")
    return Problem(type="internal_error", message=f"internal error: {type(exc).__name__}: {exc}")


@contextlib.contextmanager
def job_step(rt: Runtime, job_id: str, supplier_id: str | None = None, step: str | None = None) -> Iterator[None]:
    """Run ``step`` (an actor name) of ``job_id``; failures become job state as described above.

    The failed step is kept in the job's bookkeeping so ``retry_job_task`` can
    start again from it.
    """
    try:
        with job_context(job_id, supplier_id), _translate(rt, job_id, supplier_id):
            yield
    except BaseException:
        if step:
            try:
                rt.jobs.set_aux(job_id, failed_step=step)
            except Exception:  # the state store itself may be what failed
                logger.exception("could not record the failed step of job %s", job_id)
        raise


@contextlib.contextmanager
def _translate(rt: Runtime, job_id: str, supplier_id: str | None) -> Iterator[None]:
    try:
        yield
    except PermanentError as exc:
        logger.warning("job %s failed: %s", job_id, exc.message)
        fail_job(rt, job_id, exc.problem, can_retry=exc.retryable, supplier_id=supplier_id)
        raise
    except (Exception, TimeLimitExceeded) as exc:
        problem = problem_of(exc)
        if is_last_attempt():
            logger.error("job %s failed after its last retry: %s", job_id, problem.message)
            fail_job(rt, job_id, problem, can_retry=True, supplier_id=supplier_id)
        else:
            logger.warning("job %s: %s; will retry", job_id, problem.message)
            rt.jobs.update(job_id, error=f"{problem.message} (retrying)")
        raise
