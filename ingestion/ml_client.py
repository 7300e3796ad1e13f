"""Client of the external ML analysis service ``ml-analyze`` (DESIGN §3), on urllib3.

Contract:

* ``GET /health`` → ``{"status": "healthy" | "degraded", ...}``; only
  ``healthy`` counts as healthy.
* ``POST /analyze/file`` ``{file_url, supplier_id, file_type: pdf|excel|csv}`` →
  202 ``{job_id, status: "pending", message}``.
* ``GET /analyze/status/{job_id}`` → ``{job_id, status: pending|processing|
  completed|failed, progress_percentage, items_processed, items_total, errors,
  created_at, started_at, completed_at}``; 404 when unknown.

Errors: 400/404/422 (and other 4xx) raise :class:`MLRequestRefused` or
:class:`MLJobUnknown` (permanent); 5xx — 502/503/504 above all —, timeouts and
refused connections raise :class:`MLUnavailable` (transient).  Every request
has its own connect and read timeouts (seconds).
"""

from __future__ import annotations

import json
from typing import Any, Literal
from urllib.parse import quote

import urllib3

from ingestion.errors import PermanentError, TransientError

MLFileType = Literal["pdf", "excel", "csv"]
ML_STATUSES = ("pending", "processing", "completed", "failed")


class MLUnavailable(TransientError):
    """ml-analyze cannot be reached or answered 5xx: worth another try later."""

    slug = "ml_unavailable"


class MLRequestRefused(PermanentError):
    """ml-analyze refused the request (400/422/other 4xx): retrying the same request cannot help."""

    slug = "ml_request_refused"


class MLJobUnknown(PermanentError):
    """ml-analyze does not know the job (404)."""

    slug = "ml_job_unknown"


def ml_file_type(file_type: str | None) -> MLFileType:
    """Our file type (``csv``, ``xlsx``, ``xls``, ``pdf``, ``excel``) as ml-analyze names it."""
    if file_type == "pdf":
        return "pdf"
    if file_type in ("xlsx", "xls", "excel"):
        return "excel"
    return "csv"


class MLClient:
    """Talks to ml-analyze at ``base_url`` with connect/read timeouts in seconds."""

    def __init__(
        self,
        base_url: str,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        pool: urllib3.PoolManager | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = urllib3.Timeout(connect=connect_timeout, read=read_timeout)
        self.pool = pool or urllib3.PoolManager()

    # --- the three calls -------------------------------------------------------------
    def check_health(self) -> bool:
        """True only when ml-analyze answers ``{"status": "healthy"}``; never raises."""
        try:
            body = self._request("GET", "/health")
        except (MLUnavailable, MLRequestRefused, MLJobUnknown):
            return False
        return isinstance(body, dict) and body.get("status") == "healthy"

    def trigger_analysis(self, file_url: str, supplier_id: str, file_type: str | None) -> dict[str, Any]:
        """Start an analysis; returns ml-analyze's answer (with ``job_id``).

        Raises :class:`MLRequestRefused` (4xx, or an answer without a job id)
        or :class:`MLUnavailable`.
        """
        body = self._request(
            "POST",
            "/analyze/file",
            {"file_url": file_url, "supplier_id": supplier_id, "file_type": ml_file_type(file_type)},
        )
        if not isinstance(body, dict) or not body.get("job_id"):
            raise MLRequestRefused(f"ml-analyze accepted the file but gave no job_id: {str(body)[:200]}")
        return body

    def get_job_status(self, ml_job_id: str) -> dict[str, Any]:
        """The ML job's status document; raises :class:`MLJobUnknown` (404) or :class:`MLUnavailable`."""
        body = self._request("GET", f"/analyze/status/{quote(ml_job_id, safe='')}", not_found=MLJobUnknown)
        if not isinstance(body, dict) or body.get("status") not in ML_STATUSES:
            raise MLUnavailable(f"ml-analyze gave an unreadable status for job {ml_job_id}: {str(body)[:200]}")
        return body

    # --- plumbing --------------------------------------------------------------------
    def _request(
        self,
        method: str,
        path: str,
        payload: dict[str, Any] | None = None,
        not_found: type[PermanentError] = MLRequestRefused,
    ) -> Any:
        url = self.base_url + path
        try:
            response = self.pool.request(
                method,
                url,
                body=json.dumps(payload).encode("utf-8") if payload is not None else None,
                headers={"Content-Type": "application/json", "Accept": "application/json"},
                timeout=self.timeout,
                retries=False,
            )
        except urllib3.exceptions.HTTPError as exc:
            raise MLUnavailable(f"ml-analyze at {self.base_url} cannot be reached: {type(exc).__name__}") from None
        status = response.status
        text = response.data.decode("utf-8", "replace")
        if status >= 500:
            raise MLUnavailable(f"ml-analyze answered HTTP {status} to {method} {path}")
        if status == 404:
            raise not_found(f"ml-analyze answered 404 to {method} {path}: {text[:200]}")
        if status >= 400:
            raise MLRequestRefused(f"ml-analyze refused {method} {path} with HTTP {status}: {text[:300]}")
        try:
            return json.loads(text) if text.strip() else None
        except ValueError:
            raise MLUnavailable(f"ml-analyze answered {method} {path} with something that is not JSON") from None
