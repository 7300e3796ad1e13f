"""The ML courier path: hand a downloaded file to ml-analyze and follow its job.

``download → trigger_ml_step → poll_ml_step … → match``.  The file stays on
the shared uploads volume; ml-analyze is told its absolute path (``file_url``),
or a URL under ``ML_FILE_URL_BASE`` when that is set (:func:`ml_file_url`).
Polling state lives in the job's private bookkeeping (:meth:`JobStore.get_aux`):
``ml_poll_token`` (only the newest poll chain goes on; a chain the sweep
replaced stops), ``ml_last_polled_at`` and ``ml_progress_changed_at`` (epoch
seconds) for the stall rule.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import os
import time
import urllib.parse
import uuid
from pathlib import Path
from typing import Any, Literal

from ingestion import metrics
from ingestion.download import sidecar_path
from ingestion.errors import Problem
from ingestion.ml_client import MLClient, MLJobUnknown, MLUnavailable
from ingestion.pipeline import Runtime, fail_job
from ingestion.reading import sniff_format
from ingestion.settings import Settings

logger = logging.getLogger(__name__)

PollOutcome = Literal["again", "match", "done", "stop"]
MIME_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "xls": "application/vnd.ms-excel",
    "pdf": "application/pdf",
}


def uses_ml(settings: Settings, supplier_meta: dict[str, Any] | None) -> bool:
    """Whether a supplier's files go to ml-analyze: ``meta.use_ml_processing`` when set, else ``USE_ML_PROCESSING``.

    Never with ``never_use_ml`` (the local ``ingestion ingest`` command reads every file itself).
    """
    if settings.never_use_ml:
        return False
    value = (supplier_meta or {}).get("use_ml_processing")
    if value is None or value == "":
        return settings.use_ml_processing
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def ml_client(settings: Settings) -> MLClient:
    return MLClient(settings.ml_analyze_url, settings.http_connect_timeout, settings.ml_read_timeout)


def describe_file(path: str) -> tuple[str, str]:
    """``(file_type, mime_type)`` of a downloaded file, from its content; records both in its sidecar.

    Raises :class:`~ingestion.errors.UnsupportedFormat` / ``CorruptFile`` for a
    file no reader (ours or ml-analyze's) takes.
    """
    file_type = sniff_format(path)
    mime = MIME_TYPES.get(file_type) or mimetypes.guess_type(path)[0] or "application/octet-stream"
    meta_path = sidecar_path(path)
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        meta.update(file_type=file_type, mime_type=mime)
        tmp = Path(f"{meta_path}.part")
        tmp.write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
        os.replace(tmp, meta_path)
    except (OSError, ValueError):
        logger.warning("could not record the file type in %s", meta_path)
    return file_type, mime


def ml_file_url(settings: Settings, file_path: str) -> str:
    """What ml-analyze is told for a downloaded file: its absolute path on the shared uploads volume, or, with
    ``ML_FILE_URL_BASE``, that base joined with the file's path under ``UPLOADS_DIR`` (percent-encoded)."""
    path = os.path.abspath(file_path)
    if not settings.ml_file_url_base:
        return path
    relative = os.path.relpath(path, os.path.abspath(settings.uploads_dir))
    if relative == os.pardir or relative.startswith(os.pardir + os.sep):
        return path  # not under UPLOADS_DIR (a local source): only its path can name it
    return settings.ml_file_url_base.rstrip("/") + "/" + urllib.parse.quote(relative.replace(os.sep, "/"))


def trigger_ml_step(rt: Runtime, download: dict[str, Any]) -> dict[str, Any]:
    """Hand the downloaded file to ml-analyze; the job moves to phase ``analyzing``.

    Returns ``{job_id, supplier_id, ml_job_id, token}`` — or, when ml-analyze
    is not healthy and ``ML_FALLBACK_TO_LOCAL`` is on, ``{..., "fallback": True}``
    so the caller sends the file to ``parse_task`` instead.  Raises
    :class:`MLUnavailable` (transient) when it is down and there is no
    fallback, :class:`~ingestion.ml_client.MLRequestRefused` when it refuses.
    A repeat for a job that already has an ML job does not start another.
    """
    job_id, supplier_id = download["job_id"], download["supplier_id"]
    state = rt.jobs.get(job_id) or {}
    file_type, _ = describe_file(download["file_path"])
    if state.get("ml_job_id") and state.get("phase") == "analyzing":
        token = rt.jobs.get_aux(job_id).get("ml_poll_token") or uuid.uuid4().hex
        return {"job_id": job_id, "supplier_id": supplier_id, "ml_job_id": state["ml_job_id"], "token": token}
    client = ml_client(rt.settings)
    if not client.check_health():
        if rt.settings.ml_fallback_to_local:
            logger.warning("job %s: ml-analyze is not healthy; reading the file locally", job_id)
            rt.jobs.update(job_id, file_type=file_type)
            return {**download, "fallback": True}
        raise MLUnavailable(f"ml-analyze at {rt.settings.ml_analyze_url} is not healthy; the job can be retried")
    answer = client.trigger_analysis(ml_file_url(rt.settings, download["file_path"]), supplier_id, file_type)
    token = uuid.uuid4().hex
    now = time.time()
    rt.jobs.set_aux(job_id, ml_poll_token=token, ml_last_polled_at=now, ml_progress_changed_at=now, ml_progress="")
    rt.jobs.update(job_id, phase="analyzing", status="processing", ml_job_id=str(answer["job_id"]), file_type=file_type)
    return {"job_id": job_id, "supplier_id": supplier_id, "ml_job_id": str(answer["job_id"]), "token": token}


def poll_ml_step(rt: Runtime, job_id: str, token: str | None) -> PollOutcome:
    """Ask ml-analyze about the job's ML job once and mirror it into the job state.

    ``again``: poll later; ``match``: completed — the caller chains matching;
    ``done``: the job failed here (ML failure, unknown ML job, stalled);
    ``stop``: nothing to do (job not analyzing, or this poll chain was replaced).
    A job with no progress for ``ML_JOB_TIMEOUT_MINUTES`` fails as stalled,
    whether ml-analyze answers or not.
    """
    state = rt.jobs.get(job_id)
    if not state or state.get("phase") != "analyzing" or not state.get("ml_job_id"):
        return "stop"
    aux = rt.jobs.get_aux(job_id)
    if token is not None and aux.get("ml_poll_token") not in (None, "", token):
        return "stop"
    now = time.time()
    rt.jobs.set_aux(job_id, ml_last_polled_at=now)
    changed_at = float(aux.get("ml_progress_changed_at") or now)
    try:
        status = ml_client(rt.settings).get_job_status(state["ml_job_id"])
    except MLJobUnknown:
        metrics.ml_poll("unknown")
        fail_job(rt, job_id, Problem(type="ml_job_unknown", message=f"ml-analyze does not know ML job {state['ml_job_id']}"),
                 can_retry=True)
        return "done"
    except MLUnavailable as exc:
        metrics.ml_poll("unavailable")
        logger.warning("job %s: %s", job_id, exc.message)
        return _stalled(rt, job_id, changed_at, now) or "again"

    metrics.ml_poll(str(status["status"]))
    progress = f"{status.get('status')}:{status.get('items_processed')}:{status.get('progress_percentage')}"
    if progress != aux.get("ml_progress"):
        changed_at = now
        rt.jobs.set_aux(job_id, ml_progress=progress, ml_progress_changed_at=now)
    mirrored = {k: status[k] for k in ("items_processed", "items_total") if isinstance(status.get(k), int)}
    if mirrored:
        rt.jobs.update(job_id, **mirrored)
    if status["status"] == "completed":
        rt.jobs.update(job_id, phase="matching", status="processing")
        return "match"
    if status["status"] == "failed":
        errors = [str(e) for e in (status.get("errors") or [])][:20]
        fail_job(
            rt,
            job_id,
            Problem(type="ml_failed", message="ml-analyze failed: " + ("; ".join(errors[:3]) or "no reason given"),
                    row_data={"errors": errors} if errors else None),
            can_retry=True,
        )
        return "done"
    return _stalled(rt, job_id, changed_at, now) or "again"


def _stalled(rt: Runtime, job_id: str, changed_at: float, now: float) -> PollOutcome | None:
    limit = rt.settings.ml_job_timeout_minutes * 60
    if now - changed_at <= limit:
        return None
    fail_job(
        rt,
        job_id,
        Problem(type="ml_stalled",
                message=f"ML job stalled: no progress for {rt.settings.ml_job_timeout_minutes} minutes (ML_JOB_TIMEOUT_MINUTES)"),
        can_retry=True,
    )
    return "done"


def lost_polls(rt: Runtime, now: float | None = None) -> list[tuple[str, str]]:
    """Active ``analyzing`` jobs not polled for three intervals (plus 30 s): ``(job_id, new token)`` each.

    Each gets a new poll token, so the old chain, should it still be alive, stops.
    """
    now = now or time.time()
    grace = 3 * rt.settings.ml_poll_interval_seconds + 30
    found = []
    for job_id in sorted(rt.jobs.active()):
        state = rt.jobs.get(job_id) or {}
        if state.get("phase") != "analyzing":
            continue
        last = float(rt.jobs.get_aux(job_id).get("ml_last_polled_at") or 0)
        if now - last > grace:
            token = uuid.uuid4().hex
            rt.jobs.set_aux(job_id, ml_poll_token=token, ml_last_polled_at=now)
            found.append((job_id, token))
    return found
