"""The steps of an ingestion job, as plain functions the actors wire together.

Data flows one way: message → file → rows → items → job state.  Each step
returns a small JSON-able description of its result (ids, a path, counts),
never rows.  Steps are idempotent so an at-least-once redelivery repeats
nothing harmful: the download reuses a finished file, the parse upserts the
same items, writes no second price-history row and replaces its own earlier
row logs.

Errors: steps raise :class:`~ingestion.errors.PermanentError` or
:class:`~ingestion.errors.TransientError` subclasses; :func:`fail_job` turns
one into job state and a ``parsing_logs`` row.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
import time
import uuid
from typing import Any

import attrs

from ingestion import metrics
from ingestion.download import Downloader
from ingestion.errors import FileTooLarge, NoItems, Problem, SupplierNotFound
from ingestion.jobstate import JobStore, MemoryJobStore, RedisJobStore, now_iso
from ingestion.messages import IngestMessage
from ingestion.models import IngestionRun, ParsingLog, Supplier, open_database
from ingestion.reading import open_price_list
from ingestion.reading.model import PriceList, ReadOptions
from ingestion.settings import Settings, get_settings
from ingestion.runs import (
    GuardRails,
    check_guard_rails,
    finish_run,
    layout_of,
    layout_signature,
    remember_layout,
    remembered_layout,
    remembered_options,
    start_run,
    with_remembered_locale,
)
from ingestion.store import ItemWriter, drop_run, get_or_create_supplier, log_problem

logger = logging.getLogger(__name__)

#: How many problems the job state keeps in ``error_details``.
MAX_ERROR_DETAILS = 20
#: One matching message works this long (seconds) at most, then hands the rest to the next.
MATCH_STEP_SECONDS = 10 * 60
#: ... and one sharing another's work (see match_sharers) this long: then it goes to the back of the
#: queue, so a big list does not keep a worker's catalog from the other lists' runs for long.
SHARE_STEP_SECONDS = 60
#: Download progress is written at most this often (seconds).
DOWNLOAD_PROGRESS_INTERVAL = 0.5
#: ``suppliers.meta`` keys that are reading overrides, and the option each sets.
META_OVERRIDES = {
    "sheet_name": "sheet",
    "header_row": "header_row",
    "column_mapping": "column_mapping",
    "currency": "currency",
    "decimal_separator": "decimal_separator",
    "encoding": "encoding",
    "delimiter": "delimiter",
}


@attrs.define
class Runtime:
    """What the steps need: settings, the job store and the downloader (one per process)."""

    settings: Settings
    jobs: JobStore
    downloader: Downloader


_runtime_lock = threading.Lock()


@functools.cache
def _build_runtime(settings: Settings) -> Runtime:
    open_database(settings.database_url)
    jobs: JobStore
    if settings.redis_url:
        jobs = RedisJobStore.from_url(settings.redis_url, settings.job_state_ttl_seconds)
    else:
        jobs = MemoryJobStore()
    downloader = Downloader(
        settings.uploads_dir,
        settings.max_file_size_bytes,
        connect_timeout=settings.http_connect_timeout,
        read_timeout=settings.http_read_timeout,
        allowed_hosts=settings.download_allowed_hosts,
        allowed_roots=settings.local_source_roots,
    )
    return Runtime(settings=settings, jobs=jobs, downloader=downloader)


def get_runtime() -> Runtime:
    """The process's runtime for the current settings (built on first use)."""
    with _runtime_lock:
        return _build_runtime(get_settings())


def reset_runtime() -> None:
    """Forget the cached runtime (tests, or after the settings changed)."""
    with _runtime_lock:
        _build_runtime.cache_clear()


def read_options(meta: dict[str, Any] | None) -> ReadOptions:
    """Reading overrides from a supplier's ``meta`` (unknown keys ignored)."""
    meta = meta or {}
    values = {opt: meta[key] for key, opt in META_OVERRIDES.items() if meta.get(key) not in (None, "", {})}
    if "header_row" in values:
        values["header_row"] = int(values["header_row"])
    return ReadOptions(**values)


# --- step 0: accept a message -----------------------------------------------------------
@attrs.frozen
class Started:
    job_id: str
    supplier_id: str
    created: bool


def start_job(rt: Runtime, msg: IngestMessage, job_id: str) -> Started:
    """Create the job state for an ``ingest`` message and resolve its supplier.

    ``created`` is ``False`` when a job with this id is already under way
    (the upstream's ``job_id`` is an idempotency key): the caller must not
    start it again.  A job still ``pending`` (an earlier attempt of this very
    message stopped before the download began) is started again.
    Raises :class:`SupplierNotFound` for an unknown ``supplier_id``.
    """
    created = rt.jobs.create(
        job_id,
        supplier_name=msg.supplier_name,
        source_url=msg.source_url,
        file_type=msg.file_type,
        phase="downloading",
        status="pending",
    )
    if not created:
        state = rt.jobs.get(job_id) or {}
        if state.get("status") not in (None, "", "pending"):
            return Started(job_id=job_id, supplier_id=state.get("supplier_id", ""), created=False)
    if msg.supplier_id:
        supplier = Supplier.get_or_none(Supplier.id == uuid.UUID(msg.supplier_id))
        if supplier is None:
            raise SupplierNotFound(f"no supplier with id {msg.supplier_id}")
    else:
        supplier, _ = get_or_create_supplier(msg.supplier_name or "")
    rt.jobs.update(job_id, supplier_id=str(supplier.id), supplier_name=supplier.name)
    return Started(job_id=job_id, supplier_id=str(supplier.id), created=True)


# --- step 1: download -------------------------------------------------------------------
def download_step(rt: Runtime, job_id: str, supplier_id: str, source_url: str, file_type: str | None = None) -> dict[str, Any]:
    """Fetch the job's source into ``UPLOADS_DIR``; returns what ``parse_step`` needs."""
    rt.jobs.update(job_id, phase="downloading", status="processing", started_at=now_iso(), error="")
    last = [0.0]

    def progress(done: int, total: int | None) -> None:
        now = time.monotonic()
        if now - last[0] >= DOWNLOAD_PROGRESS_INTERVAL or (total is not None and done >= total):
            last[0] = now
            rt.jobs.update(job_id, download_bytes=done, download_total=total)

    fetched = rt.downloader.fetch(
        source_url,
        job_id,
        extra_meta={"supplier_id": supplier_id, "file_type_hint": file_type},
        progress=progress,
    )
    rt.jobs.update(job_id, download_bytes=fetched.size, download_total=fetched.size)
    metrics.download_bytes(fetched.size)
    result = {
        "job_id": job_id,
        "supplier_id": supplier_id,
        "file_path": fetched.path,
        "sha256": fetched.sha256,
        "size": fetched.size,
        "original_name": fetched.original_name,
    }
    rt.jobs.set_aux(job_id, download=result)
    return result


# --- step 2: parse and store ------------------------------------------------------------
@attrs.define
class _Reading:
    """Counts of one pass over a file, and the problems kept for the job state."""

    rows: int = 0
    errors: int = 0
    warnings: int = 0
    details: list[dict[str, Any]] = attrs.field(factory=list)

    def note(self, problem: Problem) -> None:
        if problem.level == "error":
            self.errors += 1
        elif problem.level == "warning":
            self.warnings += 1
        if len(self.details) < MAX_ERROR_DETAILS and problem.level != "info":
            self.details.append(problem.to_dict())


def _read_into(rt: Runtime, job_id: str, price_list: PriceList, writer: ItemWriter) -> _Reading:
    """Stream every record of ``price_list`` into ``writer``, with progress in the job state."""
    seen = _Reading()
    every = rt.settings.progress_every_rows
    for record in price_list.records():
        if isinstance(record, Problem):
            writer.log(record)
            seen.note(record)
            if record.level == "error":
                seen.rows += 1
        else:
            before = len(writer.problems_found)
            writer.add(record)
            for problem in writer.problems_found[before:]:
                seen.note(problem)
            seen.rows += 1
        if seen.rows and seen.rows % every == 0:
            rt.jobs.update(job_id, items_processed=seen.rows, error_count=seen.errors)
        if seen.rows > rt.settings.max_rows_per_file:
            writer.flush()
            rt.jobs.update(job_id, items_processed=seen.rows, error_count=seen.errors, error_details=seen.details)
            raise FileTooLarge(
                f"the file has more than {rt.settings.max_rows_per_file} rows (MAX_ROWS_PER_FILE); nothing was published",
                slug="too_many_rows",
            )
    for skipped in price_list.details.get("skipped_sheets") or []:
        reason = str(skipped.get("reason") or "")
        problem = Problem(
            type="sheet_skipped",
            level="info" if reason.startswith(("empty", "hidden")) else "warning",
            sheet=skipped.get("sheet"),
            message=f"sheet {skipped.get('sheet') or '(table)'!r} was not read: {skipped.get('reason')}",
        )
        writer.log(problem)
        seen.note(problem)
    return seen


def _roles(layout: dict[str, Any]) -> list[dict[str, str]]:
    return [dict(s.get("columns") or {}) for s in layout.get("sheets") or []]


def guard_rails(settings: Settings) -> GuardRails:
    return GuardRails(
        enabled=settings.guard_enabled,
        max_gone_share=settings.guard_max_gone_share,
        max_price_move_share=settings.guard_max_price_move_share,
        price_move=settings.guard_price_move,
        max_error_share=settings.guard_max_error_share,
        hold_on_currency_change=settings.guard_hold_on_currency_change,
    )


def parse_step(rt: Runtime, download: dict[str, Any]) -> dict[str, Any]:
    """Read the downloaded file, compare it with the supplier's current list, and publish or hold it.

    Returns ``{job_id, supplier_id, file_type, rows, items_stored, items_new,
    price_changes, gone, unchanged, rows_failed, warnings, held, seconds}``.
    A list the guard-rails stop ends the job in phase ``held`` (``held`` true,
    nothing published).  Raises :class:`NoItems` when the file gave no item,
    and the reader's :class:`UnsupportedFormat`/:class:`CorruptFile` for an
    unreadable file.
    """
    job_id = download["job_id"]
    supplier_id = download["supplier_id"]
    state = rt.jobs.get(job_id) or {}
    if state.get("phase") in ("matching", "complete", "held"):
        logger.info("job %s is past parsing already; parse repeat skipped", job_id)
        return {"job_id": job_id, "supplier_id": supplier_id, "skipped": True, "held": state.get("phase") == "held"}
    started = time.monotonic()
    rt.jobs.update(job_id, phase="parsing", status="processing", items_processed=0, error_count=0, error="")
    supplier = Supplier.get_or_none(Supplier.id == uuid.UUID(supplier_id))
    if supplier is None:
        raise SupplierNotFound(f"no supplier with id {supplier_id}")
    path, sha256 = download["file_path"], download.get("sha256")

    def fresh_start() -> None:
        # A redelivered (or repeated) parse starts clean: the row logs and file-level notes of an
        # earlier attempt go (the reasons earlier attempts failed stay), its staged rows too.
        earlier = IngestionRun.get_or_none(IngestionRun.job_id == job_id)
        since = ParsingLog.row_number.is_null(False)
        if earlier is not None:
            since = since | ((ParsingLog.created_at >= earlier.created_at) & (ParsingLog.level != "error"))
        ParsingLog.delete().where((ParsingLog.job_id == job_id) & since).execute()

    fresh_start()
    remembered = remembered_layout(supplier_id)
    options = with_remembered_locale(read_options(supplier.meta), remembered)
    price_list = open_price_list(path, options)
    rt.jobs.update(job_id, file_type=price_list.file_type, items_total=price_list.rows_total)
    run = start_run(job_id, supplier_id, sha256, price_list.file_type)
    writer = ItemWriter(supplier_id, job_id, sha256, rt.settings.upsert_batch_size,
                        price_move=rt.settings.guard_price_move)
    seen = _read_into(rt, job_id, price_list, writer)
    layout = layout_of(price_list)
    signature = layout_signature(layout)
    if remembered is not None and remembered.signature == signature and not options.column_mapping \
            and _roles(remembered.layout) != _roles(layout):
        # The same headers as last time but read differently: read again with the remembered roles.
        fresh_start()
        price_list = open_price_list(path, remembered_options(options, remembered))
        run = start_run(job_id, supplier_id, sha256, price_list.file_type)
        writer.discard()
        writer = ItemWriter(supplier_id, job_id, sha256, rt.settings.upsert_batch_size, previous=writer.previous,
                            delisted=writer.delisted, price_move=rt.settings.guard_price_move)
        seen = _read_into(rt, job_id, price_list, writer)
        layout = layout_of(price_list)
        writer.log(Problem(type="layout_remembered", level="info",
                           message="read with the supplier's remembered column roles (the headers are unchanged)"))
    elif remembered is not None and remembered.signature != signature:
        problem = Problem(
            type="layout_changed",
            level="warning",
            message="the file's layout differs from the supplier's last list (sheets or header labels changed); "
            "it was detected afresh — check the column roles in the preview",
            row_data={"before": _roles(remembered.layout), "now": _roles(layout)},
        )
        writer.log(problem)
        seen.note(problem)
    diff = writer.finish()
    stats = writer.stats
    rows, errors = seen.rows, seen.errors
    if diff.items == 0:
        rt.jobs.update(job_id, items_processed=rows, items_total=rows, error_count=errors, error_details=seen.details)
        IngestionRun.update(status="failed", rows_read=rows, rows_failed=errors).where(IngestionRun.job_id == job_id).execute()
        writer.discard()
        drop_run(job_id)
        reasons = "; ".join(
            f"row {d.get('row')}: {d['message']}" if d.get("row") else d["message"] for d in seen.details[:3]
        )
        raise NoItems(
            f"no readable items in the file ({rows} rows read, {errors} failed)"
            + (f"; first problems: {reasons}" if reasons else "")
        )
    held_reasons = check_guard_rails(guard_rails(rt.settings), diff, rows, errors)
    finish_run(run, writer, diff, rows, errors, held_reasons)
    summary = {
        "job_id": job_id,
        "supplier_id": supplier_id,
        "file_type": price_list.file_type,
        "rows": rows,
        "items_stored": stats.stored,
        "items_new": stats.new,
        "price_changes": stats.price_changed,
        "gone": stats.gone,
        "unchanged": stats.unchanged,
        "rows_failed": errors,
        "warnings": seen.warnings,
        "held": bool(held_reasons),
        "seconds": round(time.monotonic() - started, 3),
    }
    log_problem(
        Problem(
            type="parse_summary",
            level="info",
            message=f"{price_list.file_type} read: {rows} rows, {errors} failed, {seen.warnings} warnings; " + diff.summary(),
        ),
        job_id,
        supplier_id,
    )
    metrics.rows(read=rows, stored=stats.stored, failed=errors)
    metrics.parse_seconds(price_list.file_type, time.monotonic() - started)
    if held_reasons:
        held_problems = [Problem(type="list_held", level="warning", message=f"held: {r}") for r in held_reasons]
        for held_problem in held_problems:
            log_problem(held_problem, job_id, supplier_id)
        held = [p.to_dict() for p in held_problems]
        rt.jobs.update(
            job_id,
            phase="held",
            status="pending",
            items_processed=rows,
            items_total=rows,
            error_count=errors,
            error="list held for review: " + "; ".join(held_reasons) + " (send release_job or reject_job; locally: ingestion release|reject JOB_ID)",
            error_details=(held + seen.details)[:MAX_ERROR_DETAILS],
            diff_summary=diff.summary(),
        )
        metrics.phase("held")
        return summary
    remember_layout(supplier_id, job_id, layout, remembered)
    rt.jobs.update(
        job_id, items_processed=rows, items_total=rows, error_count=errors, error_details=seen.details,
        diff_summary=diff.summary(),
    )
    return summary


# --- step 3: match ----------------------------------------------------------------------
def match_step(
    rt: Runtime,
    supplier_id: str,
    job_id: str | None = None,
    parsed: dict[str, Any] | None = None,
    *,
    share: bool = False,
) -> dict[str, Any]:
    """Link the supplier's unmatched items to products and complete the job.

    The job shows phase ``matching`` with ``items_processed``/``items_total``
    counting items matched so far (by this run and the runs sharing the work);
    at the end ``matches_found`` (automatic links), ``review_queue_count`` (review
    requests) and phase ``complete`` (then ``items_processed`` is again the rows
    the parse read, when there was one).  Returns ``{supplier_id, job_id, matched,
    auto, review, new, products, remaining}``; ``remaining`` above zero means the
    caller must send the step again (with ``summary["carry"]`` as ``parsed``): time
    ran out (:data:`MATCH_STEP_SECONDS`); another run of this process held the
    catalog for longer than :data:`ingestion.linking.LOCK_WAIT_SECONDS` (then
    nothing was matched); or the items left are locked by runs sharing the work
    (``summary["wait"]`` true: send it again after a short delay, it completes the
    job once they are done).

    ``share``: this run only helps the job's run (:func:`match_sharers`): it matches
    for at most :data:`SHARE_STEP_SECONDS`, adds its counts to the job's, never
    changes its phase, and stops without ``remaining`` when the catalog of this
    process is busy or every item left is taken; it skips a job that is no longer
    ``matching``.
    """
    from ingestion.linking import match_supplier_items

    if parsed and parsed.get("held"):
        return {"supplier_id": supplier_id, "job_id": job_id, "skipped": "the list is held"}
    if share:
        phase = (rt.jobs.get(job_id) or {}).get("phase") if job_id else None
        if phase != "matching":
            return {"supplier_id": supplier_id, "job_id": job_id, "skipped": f"the job is {phase or 'unknown'}"}
    if Supplier.get_or_none(Supplier.id == uuid.UUID(supplier_id)) is None:
        raise SupplierNotFound(f"no supplier with id {supplier_id}")
    if job_id and not share:
        if rt.jobs.get(job_id) is None:
            rt.jobs.create(job_id, supplier_id=supplier_id, phase="matching", status="processing", started_at=now_iso())
        rt.jobs.update(job_id, phase="matching", status="processing")

    earlier = parsed or {}
    first = "auto_so_far" not in earlier  # the job's first matching run (not a continuation)
    done_before = int(earlier.get("matched_so_far", 0))

    auto_before, review_before = int(earlier.get("auto_so_far", 0)), int(earlier.get("review_so_far", 0))
    mine = {"auto": 0, "review": 0}  # this run's decisions so far (committed batches)

    def progress(done: int, total: int) -> None:
        # items matched of the list so far (this run, earlier runs, sharing runs) and the links made
        if job_id and not share:
            shared = _shared_counts(rt, job_id)
            rt.jobs.update(job_id, items_processed=done_before + done + shared["matched"],
                           items_total=int(earlier.get("total_at_start", total)),
                           matches_found=auto_before + mine["auto"] + shared["auto"],
                           review_queue_count=review_before + mine["review"] + shared["review"])

    def counted(decided: int, auto: int, review: int) -> None:
        if job_id and share:
            rt.jobs.add_aux(job_id, shared_matched=decided, shared_auto=auto, shared_review=review)
        else:
            mine["auto"] += auto
            mine["review"] += review

    s = rt.settings
    stats = match_supplier_items(
        supplier_id,
        {
            "auto_threshold": s.match_auto_threshold,
            "potential_threshold": s.match_potential_threshold,
            "max_candidates": s.match_max_candidates,
        },
        progress=progress,
        deadline=time.monotonic() + (SHARE_STEP_SECONDS if share else MATCH_STEP_SECONDS),
        on_batch=counted,
        recalc_linked=first and not share,
    )
    metrics.match_decisions(stats.auto, stats.review, stats.new)
    summary: dict[str, Any] = {
        "supplier_id": supplier_id,
        "job_id": job_id,
        "matched": stats.processed,
        "auto": stats.auto,
        "review": stats.review,
        "new": stats.new,
        "products": len(stats.products),
        "remaining": stats.remaining,
    }
    if share:
        if stats.busy or stats.elsewhere:
            summary["remaining"] = 0  # the job's own run sees to the rest
        return summary
    auto = stats.auto + auto_before
    review = stats.review + review_before
    if stats.remaining:
        # This message stops here: the caller sends the next one, which goes on where this stopped.
        summary["carry"] = {**earlier, "auto_so_far": auto, "review_so_far": review,
                            "matched_so_far": done_before + stats.processed,
                            "total_at_start": int(earlier.get("total_at_start", done_before + stats.total))}
        summary["wait"] = stats.elsewhere
        return summary
    if job_id:
        shared = _shared_counts(rt, job_id)
        counts: dict[str, Any] = {}
        if parsed and "rows" in parsed:  # the rows the parse read (the ML path keeps ml-analyze's counts)
            counts = {"items_processed": int(parsed["rows"]), "items_total": int(parsed["rows"])}
        rt.jobs.update(
            job_id,
            phase="complete",
            status="completed",
            **counts,
            matches_found=auto + shared["auto"],
            review_queue_count=review + shared["review"],
            error="",
            can_retry=False,
            completed_at=now_iso(),
        )
        metrics.phase("complete")
    return summary


def _shared_counts(rt: Runtime, job_id: str) -> dict[str, int]:
    """What the runs sharing the job's matching decided so far: ``{matched, auto, review}``."""
    aux = rt.jobs.get_aux(job_id)
    return {k: int(aux.get(f"shared_{k}") or 0) for k in ("matched", "auto", "review")}


def match_sharers(rt: Runtime, supplier_id: str) -> int:
    """How many runs should share the matching of ``supplier_id``'s unmatched items with the job's own run:
    one per :attr:`~ingestion.settings.Settings.match_share_items` items beyond the first such block, at
    most :attr:`~ingestion.settings.Settings.match_sharers`; 0 on a database without row-lock skipping
    (SQLite: one process does the matching) or when sharing is off (``MATCH_SHARE_ITEMS=0``).

    Why: one message matches one list, so a 200,000-item list kept one worker busy for many minutes
    while the others idled (bench/e2e.py at full scale: the last list matched alone for 5 minutes).
    Runs on other workers take other batches of the same items (``FOR UPDATE SKIP LOCKED``).
    """
    import peewee

    from ingestion.models import SupplierItem, database

    s = rt.settings
    if s.match_share_items <= 0 or s.match_sharers <= 0 or not isinstance(database.obj, peewee.PostgresqlDatabase):
        return 0
    unmatched = SupplierItem.select().where(
        (SupplierItem.supplier == uuid.UUID(supplier_id)) & (SupplierItem.match_status == "unmatched")).count()
    return min(s.match_sharers, unmatched // s.match_share_items - 1) if unmatched >= 2 * s.match_share_items else 0


# --- failure ----------------------------------------------------------------------------
def fail_job(rt: Runtime, job_id: str, problem: Problem, *, can_retry: bool, supplier_id: str | None = None) -> None:
    """Mark the job failed with ``problem`` as its reason and log it to ``parsing_logs``."""
    state = rt.jobs.get(job_id) or {}
    supplier_id = supplier_id or state.get("supplier_id") or None
    details: list[dict[str, Any]] = []
    if state.get("error_details"):
        try:
            details = list(json.loads(state["error_details"]))[: MAX_ERROR_DETAILS - 1]
        except ValueError:
            details = []
    metrics.phase("failed")
    if can_retry and int(state.get("retry_count") or 0) >= int(state.get("max_retries") or 0) > 0:
        can_retry = False  # its retries are used up
    rt.jobs.update(
        job_id,
        phase="failed",
        status="failed",
        error=problem.message,
        error_details=[problem.to_dict(), *details],
        can_retry=can_retry,
        completed_at=now_iso(),
    )
    try:
        log_problem(problem, job_id, supplier_id)
    except Exception:  # the job state already says why; the log is best effort
        logger.exception("could not write the failure of job %s to parsing_logs", job_id)
