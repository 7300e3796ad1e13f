"""Public message contracts: the kwargs upstream services publish, as attrs classes.

Upstream services (not all in Python) publish the Dramatiq JSON envelope; the
``kwargs`` of each public actor are structured into one of these classes with
cattrs.  Anything that does not fit raises :class:`~ingestion.errors.InvalidMessage`
naming the field, and the message is not retried.
"""

from __future__ import annotations

import re
import uuid
from typing import Any, Literal, Protocol, TypeVar

import attrs
import cattrs

from ingestion.errors import InvalidMessage

FileType = Literal["csv", "excel", "xlsx", "xls", "pdf"]
JOB_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
MAX_SOURCE_LENGTH = 4096
LITERAL_RE = re.compile(r"\((.*) not in literal .*?\[(.*)\]\)")

T = TypeVar("T", bound="Checked")


@attrs.frozen
class IngestMessage:
    """Start an ingestion: fetch ``source_url`` for a supplier and read it.

    * ``source_url`` — an ``http``/``https`` URL, a ``file://`` URL or a local path
      the workers can see (a shared volume).
    * ``supplier_id`` (UUID of an existing supplier) or ``supplier_name``
      (found case-insensitively, created when new); at least one.
    * ``file_type`` — a hint only; the reader decides by the file's content.
    * ``job_id`` — the upstream's idempotency key: a second message with the
      same id does not start a second job.  A UUID is made when absent.
    """

    source_url: str
    supplier_id: str | None = None
    supplier_name: str | None = None
    file_type: FileType | None = None
    job_id: str | None = None

    def check(self) -> list[str]:
        """Rules beyond types, as ``field: reason`` texts (empty when all is well)."""
        errors = []
        if not self.source_url.strip():
            errors.append("source_url: must not be empty")
        elif len(self.source_url) > MAX_SOURCE_LENGTH:
            errors.append(f"source_url: longer than {MAX_SOURCE_LENGTH} characters")
        if self.supplier_id is not None:
            try:
                uuid.UUID(self.supplier_id)
            except ValueError:
                errors.append(f"supplier_id: must be a UUID, got {self.supplier_id[:80]!r}")
        elif not (self.supplier_name or "").strip():
            errors.append("supplier_id or supplier_name: one of them is required")
        if self.supplier_name is not None and len(self.supplier_name) > 255:
            errors.append("supplier_name: longer than 255 characters")
        if self.job_id is not None and not JOB_ID_RE.match(self.job_id):
            errors.append("job_id: must be 1-64 characters of letters, digits, '_', '.', ':' or '-'")
        return errors


@attrs.frozen
class MatchItemsMessage:
    """Match a supplier's unmatched items to the catalog.

    * ``supplier_id`` — UUID of the supplier.
    * ``job_id`` — optional: the job whose state shows the ``matching`` phase
      (created when unknown).
    """

    supplier_id: str
    job_id: str | None = None

    def check(self) -> list[str]:
        errors = _uuid_errors("supplier_id", self.supplier_id)
        if self.job_id is not None and not JOB_ID_RE.match(self.job_id):
            errors.append("job_id: must be 1-64 characters of letters, digits, '_', '.', ':' or '-'")
        return errors


MatchAction = Literal["link", "unlink", "reset_match", "approve_match", "reject_match"]


@attrs.frozen
class MatchDecisionMessage:
    """A manager's decision on one supplier item's link.

    * ``action`` — ``link`` (needs ``product_id``), ``approve_match`` (``product_id``
      optional: the best candidate), ``reject_match`` (a new draft product),
      ``unlink`` (back to review), ``reset_match`` (match again from scratch).
    * ``supplier_item_id`` — UUID of the item; ``product_id`` — UUID of a product.
    * ``decided_by`` — who decided (free text, kept on the review row).
    """

    action: MatchAction
    supplier_item_id: str
    product_id: str | None = None
    decided_by: str | None = None

    def check(self) -> list[str]:
        errors = _uuid_errors("supplier_item_id", self.supplier_item_id)
        if self.product_id is not None:
            errors += _uuid_errors("product_id", self.product_id)
        elif self.action == "link":
            errors.append("product_id: required for link")
        if self.decided_by is not None and len(self.decided_by) > 255:
            errors.append("decided_by: longer than 255 characters")
        return errors


@attrs.frozen
class JobDecisionMessage:
    """``release_job`` / ``reject_job``: a decision on a held list.

    * ``job_id`` — the held job; ``decided_by`` — who decided (kept on the run).
    """

    job_id: str
    decided_by: str | None = None

    def check(self) -> list[str]:
        errors = []
        if not JOB_ID_RE.match(self.job_id):
            errors.append("job_id: must be 1-64 characters of letters, digits, '_', '.', ':' or '-'")
        if self.decided_by is not None and len(self.decided_by) > 255:
            errors.append("decided_by: longer than 255 characters")
        return errors


def _uuid_errors(field: str, value: str) -> list[str]:
    try:
        uuid.UUID(value)
    except ValueError:
        return [f"{field}: must be a UUID, got {value[:80]!r}"]
    return []


class Checked(Protocol):
    def check(self) -> list[str]: ...


def _strict_str(value: Any, _: type) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


converter = cattrs.Converter(forbid_extra_keys=True)
converter.register_structure_hook(str, _strict_str)


def structure_message(data: Any, cls: type[T]) -> T:
    """Build ``cls`` from a message's kwargs or raise :class:`InvalidMessage`.

    The error text names every field that is wrong, e.g.
    ``invalid ingest message: source_url: missing required field``.
    """
    label = cls.__name__.removesuffix("Message").lower()
    if not isinstance(data, dict):
        raise InvalidMessage(f"invalid {label} message: kwargs must be a JSON object")
    try:
        message = converter.structure(data, cls)
    except Exception as exc:  # cattrs wraps every field error in its own groups
        raise InvalidMessage(f"invalid {label} message: {'; '.join(_describe(exc))}") from None
    errors = _text_errors(data) + message.check()
    if errors:
        raise InvalidMessage(f"invalid {label} message: {'; '.join(errors)}")
    return message


def _text_errors(data: dict[str, Any]) -> list[str]:
    """Strings that cannot be stored: NUL characters or unpaired surrogates (not UTF-8)."""
    errors = []
    for key, value in data.items():
        if isinstance(value, str):
            if "\x00" in value:
                errors.append(f"{key}: contains a NUL character")
            else:
                try:
                    value.encode("utf-8")
                except UnicodeEncodeError:
                    errors.append(f"{key}: is not valid Unicode text")
    return errors


def _describe(exc: BaseException) -> list[str]:
    if isinstance(exc, cattrs.BaseValidationError):
        out = []
        for text in cattrs.transform_error(exc, path="kwargs"):
            # "invalid value for type, expected str @ kwargs.source_url" → "source_url: ..."
            if " @ " in text:
                what, where = text.rsplit(" @ ", 1)
                field = where.removeprefix("kwargs").lstrip(".") or "kwargs"
                literal = LITERAL_RE.search(what)
                if literal:
                    what = f"{literal.group(1)!r} is not one of {literal.group(2)}"
                out.append(f"{field}: {what}")
            else:
                out.append(text)
        return out
    return [str(exc)]
