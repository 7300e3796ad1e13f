"""One error hierarchy for the whole service.

Every leaf is data: a :class:`Problem` carries a type slug, a level, a human
message and where it happened (sheet, row as the file shows it, column, page)
plus the raw row values.  The same objects fill ``parsing_logs`` rows, the job
state's ``error_details`` and the ``problems`` list of ``ingestion preview``.

Row-level trouble is *reported* as a :class:`Problem` and reading goes on.
File- or message-level trouble is *raised* as an :class:`IngestionError`
subclass that carries its :class:`Problem`:

* :class:`PermanentError` — retrying cannot help (404, file too large,
  unsupported or corrupt file, invalid message, no readable items); the job
  fails at once.
* :class:`TransientError` — network trouble, 5xx, a lost connection; the actor
  retries with backoff and the job stays retryable.
"""

from __future__ import annotations

from typing import Any, Literal

import attrs

Level = Literal["info", "warning", "error"]


@attrs.frozen
class Problem:
    """Something worth telling a person about a file, a row or a message.

    ``type`` is a stable slug (``bad_price``, ``missing_name``,
    ``price_on_request``, ``file_too_large`` …) that other services may filter
    on; ``message`` is a sentence for a category manager; ``row`` is 1-based as
    a spreadsheet program shows it; ``row_data`` holds the raw cell texts of the
    row (header → text) so nothing is lost.
    """

    type: str
    message: str
    level: Level = "error"
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    page: int | None = None
    row_data: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON-able form used by the job state and ``preview --json``."""
        return {k: v for k, v in attrs.asdict(self).items() if v is not None}


class IngestionError(Exception):
    """Base of every error this service raises on purpose.

    ``slug`` is the default problem type of the class; ``permanent`` tells the
    actors whether a retry can help.
    """

    slug = "ingestion_error"
    permanent = True
    #: Whether ``retry_job_task`` may re-run a job that failed with this error
    #: (after the source was fixed, say); false where a re-run can only fail again.
    retryable = True

    def __init__(
        self,
        message: str,
        *,
        slug: str | None = None,
        sheet: str | None = None,
        row: int | None = None,
        column: str | None = None,
        row_data: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.problem = Problem(
            type=slug or self.slug,
            message=message,
            level="error",
            sheet=sheet,
            row=row,
            column=column,
            row_data=row_data,
        )

    @property
    def message(self) -> str:
        return self.problem.message


class PermanentError(IngestionError):
    """Retrying cannot help; the job fails at once with this reason."""

    slug = "permanent_error"
    permanent = True


class TransientError(IngestionError):
    """A fault that may pass (network, 5xx, lost connection): retried with backoff."""

    slug = "transient_error"
    permanent = False


# --- messages -------------------------------------------------------------------
class InvalidMessage(PermanentError):
    """A message whose kwargs do not fit the public contract (names the field)."""

    slug = "invalid_message"
    retryable = False


class JobNotFound(PermanentError):
    slug = "job_not_found"


class SupplierNotFound(PermanentError):
    slug = "supplier_not_found"
    retryable = False


class ConfigError(Exception):
    """A bad setting: raised at start-up, names the environment variable."""


# --- download -------------------------------------------------------------------
class SourceNotFound(PermanentError):
    """The URL answered 404/410, or the local path does not exist or is not a file."""

    slug = "source_not_found"


class FileTooLarge(PermanentError):
    """The file exceeds ``MAX_FILE_SIZE_MB`` (checked while streaming)."""

    slug = "file_too_large"


class SourceRefused(PermanentError):
    """The source is not allowed (scheme, 4xx other than 404, outside allowed roots)."""

    slug = "source_refused"
    retryable = False


class DownloadFailed(TransientError):
    """Connection refused or reset, timeout, 5xx: worth another try."""

    slug = "download_failed"


# --- reading --------------------------------------------------------------------
class UnsupportedFormat(PermanentError):
    """The file's content is not a format this service reads."""

    slug = "unsupported_format"


class CorruptFile(PermanentError):
    """The file claims a format but cannot be opened as one."""

    slug = "corrupt_file"


class NoItems(PermanentError):
    """The file was read but gave no item: no header found, or every row failed."""

    slug = "no_items"
