"""Each supplier's lists over time: runs, guard-rails, held lists, remembered layouts (DESIGN §9).

* :func:`check_guard_rails` — a list whose diff or error rate is implausible is
  *held*: nothing reaches ``supplier_items`` until someone releases it.  Rules
  (``GuardRails``, from settings): more than ``max_gone_share`` of the
  supplier's SKUs gone; more than ``max_price_move_share`` of the SKUs priced in
  both lists moved by more than ``price_move``; more than ``max_error_share``
  of the rows failed; the list's main currency changed.  The share rules need
  at least :data:`MIN_RULE_COUNT` rows or SKUs behind them, whatever the size
  of the list (see :class:`GuardRails`).  A supplier's first list is only
  checked for its error rate.
* :func:`release_run` publishes a held list; :func:`reject_run` drops it;
  :func:`expire_held_runs` drops the ones nobody decided on in time.  A held
  list is out of date — it cannot be released, only rejected — once the
  supplier's current list is not the one it was compared with, or while a
  newer list of the same supplier is held too (:func:`held_standing`):
  releasing the older one would publish prices older than the supplier's
  latest list.  When that newer list is rejected or expires, the older one
  (still compared with the current list) can be released again.
* Layout memory: :func:`layout_signature` of what the reader decided, kept per
  supplier after a published list (:func:`remember_layout`); the next list is
  read with the remembered column roles as overrides (:func:`remembered_options`)
  and, when its signature differs, a ``layout_changed`` warning is logged.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from typing import Any

import attrs

from ingestion.errors import PermanentError
from ingestion.models import IngestionRun, SupplierLayout, database, utcnow
from ingestion.reading.model import PriceList, ReadOptions
from ingestion.store import ItemWriter, ListDiff, Published, drop_run, publish_run

#: Fewest failed rows, gone SKUs or far-moved prices a share rule holds a list for: one bad row, one price typo
#: or two dropped SKUs of a small supplier never hold a list; three or more do when their share is over the limit.
MIN_RULE_COUNT = 3


class RunNotHeld(PermanentError):
    slug = "run_not_held"
    retryable = False


@attrs.frozen
class GuardRails:
    """Thresholds as shares (0–1); ``enabled`` false publishes every list.

    A list is held when any of these holds (:func:`check_guard_rails`):

    * failed rows: more than ``max_error_share`` of the rows read failed, and
      at least :data:`MIN_RULE_COUNT` (3) of them — 4 of 5 rows failed holds a
      list, 1 of 2 does not; any list, a supplier's first one too;
    * gone SKUs: more than ``max_gone_share`` of the current list's SKUs are
      missing, and at least 3 of them — a supplier of 5 items sent a list of 1
      is held, one of 2 items that drops 1 is not;
    * prices: more than ``max_price_move_share`` of the SKUs priced in both
      lists (a returning SKU compared with the price it was delisted with)
      moved by more than 50%, and at least 3 of them;
    * currency: the list's main currency differs from the current list's
      (``hold_on_currency_change``) — another currency, or none: the current
      list had one and most priced items of this list have no currency (an
      empty or missing currency column must not erase it).

    Below the minimum of 3 the shares of a tiny list swing too much to tell a
    misread file from an ordinary update (one typo of 2 rows is 50%); from 3
    up a small supplier is guarded like a large one.  ``price_move`` is the
    move named in the reason; the diff counts moves over 50%
    (``ListDiff.price_moved_over_half``).
    """

    enabled: bool = True
    max_gone_share: float = 0.5
    max_price_move_share: float = 0.3
    price_move: float = 0.5
    max_error_share: float = 0.2
    hold_on_currency_change: bool = True


def check_guard_rails(rails: GuardRails, diff: ListDiff, rows: int, rows_failed: int) -> list[str]:
    """Why the list must be held (sentences for a category manager); empty when it may be published."""
    if not rails.enabled:
        return []
    reasons = []
    if rows_failed >= MIN_RULE_COUNT and rows_failed > rails.max_error_share * rows:
        reasons.append(
            f"{rows_failed} of {rows} rows failed ({rows_failed / rows:.0%}, the limit is {rails.max_error_share:.0%})"
        )
    if diff.gone >= MIN_RULE_COUNT and diff.gone > rails.max_gone_share * diff.previous_items:
        reasons.append(
            f"{diff.gone} of the {diff.previous_items} SKUs of the previous list are gone "
            f"({diff.gone / diff.previous_items:.0%}, the limit is {rails.max_gone_share:.0%})"
        )
    moved, priced = diff.price_moved_over_half, diff.priced_in_both
    if moved >= MIN_RULE_COUNT and moved > rails.max_price_move_share * priced:
        reasons.append(
            f"{moved} of {priced} prices moved by more than {rails.price_move:.0%} "
            f"(the limit is {rails.max_price_move_share:.0%} of them)"
            + (f"; {diff.returned_changed} of the SKUs came back at a new price" if diff.returned_changed else "")
        )
    lost, before = diff.currency_lost, diff.priced_in_both + diff.currency_changed  # SKUs priced in both lists
    if (
        rails.hold_on_currency_change
        and (diff.main_currency or not diff.previous_main_currency or diff.main_currency == diff.previous_main_currency)
        and lost >= MIN_RULE_COUNT
        and lost > rails.max_price_move_share * before
    ):
        # the list keeps its currency, but a share of its SKUs lost theirs (a trial: half the rows with an
        # empty currency cell were published and their RUB became NULL); counted like moved prices
        reasons.append(
            f"{lost} of {before} SKUs priced before lost their currency (the limit is "
            f"{rails.max_price_move_share:.0%} of them): are their currency cells empty?"
        )
    if (
        rails.hold_on_currency_change
        and diff.previous_main_currency
        and diff.main_currency != diff.previous_main_currency
        and (diff.main_currency or diff.priced_without_currency)
    ):
        if diff.main_currency:
            reasons.append(f"the list's currency changed from {diff.previous_main_currency} to {diff.main_currency}")
        else:
            reasons.append(
                f"the list's currency changed from {diff.previous_main_currency} to none: "
                f"{diff.priced_without_currency} priced item(s) have no currency (is the currency column empty "
                "or missing?)"
            )
    return reasons


# --- runs -------------------------------------------------------------------------------
def previous_run(supplier_id: str, job_id: str) -> IngestionRun | None:
    """The supplier's last published (or released) run other than ``job_id``."""
    run: IngestionRun | None = (
        IngestionRun.select()
        .where(
            (IngestionRun.supplier == uuid.UUID(supplier_id))
            & (IngestionRun.status.in_(("published", "released")))
            & (IngestionRun.job_id != job_id)
        )
        .order_by(IngestionRun.created_at.desc())
        .first()
    )
    return run


def start_run(job_id: str, supplier_id: str, sha256: str | None, file_type: str | None) -> IngestionRun:
    """Create (or, for a redelivered parse, reset) the run of ``job_id``; its staged rows are dropped."""
    drop_run(job_id)
    prev = previous_run(supplier_id, job_id)
    values = {
        "supplier": uuid.UUID(supplier_id),
        "status": "staged",
        "source_sha256": sha256,
        "file_type": file_type,
        "previous_job_id": prev.job_id if prev else None,
        "diff": None,
        "held_reasons": None,
        "created_at": utcnow(),
        "finished_at": None,
    }
    with database.atomic():
        IngestionRun.delete().where(IngestionRun.job_id == job_id).execute()
        return IngestionRun.create(job_id=job_id, **values)


def finish_run(
    run: IngestionRun, writer: ItemWriter, diff: ListDiff, rows: int, rows_failed: int, reasons: list[str]
) -> Published | None:
    """Record the run's counts and ``diff`` (from ``writer.finish()``); publish the writer's list, or stage it
    and hold the run when there are ``reasons``.  Returns what was published (``None`` when held)."""
    now = utcnow()
    fields: dict[str, Any] = {
        "rows_read": rows,
        "items": diff.items,
        "rows_failed": rows_failed,
        "diff": diff.to_dict(),
        "held_reasons": reasons or None,
    }
    if reasons:
        with database.atomic():
            writer.stage()
            IngestionRun.update(status="held", **fields).where(IngestionRun.job_id == run.job_id).execute()
        return None
    with database.atomic():
        published = writer.publish()
        IngestionRun.update(status="published", finished_at=now, **fields).where(
            IngestionRun.job_id == run.job_id
        ).execute()
    return published


@attrs.frozen
class Standing:
    """Where a held list stands among the supplier's lists (:func:`held_standing`).

    ``compared_with``: the job whose list the held one was compared with
    (``None``: it was the supplier's first list); ``current``: the job of the
    supplier's current list now (its last published or released one, ``None``
    when there is none); ``newer_held`` / ``older_held``: the job ids of the
    supplier's other held lists read after / before this one, oldest first.
    """

    job_id: str
    compared_with: str | None
    current: str | None
    newer_held: tuple[str, ...]
    older_held: tuple[str, ...]

    @property
    def current_moved(self) -> bool:
        """The supplier's current list is no longer the one this list was compared with."""
        return self.current != self.compared_with

    @property
    def out_of_date(self) -> bool:
        """The list can no longer be released: the current list moved on, or a newer list of the supplier is
        held (releasing this one would publish prices older than the supplier's latest list)."""
        return self.current_moved or bool(self.newer_held)

    def reason(self) -> str | None:
        """Why the list is out of date, naming the newer list (a sentence without advice); ``None`` when it is not."""
        if self.current_moved:
            return (f"it was compared with the list of job {self.compared_with or '(none)'}, but the supplier's "
                    f"current list is now job {self.current or '(none)'}")
        if self.newer_held:
            newest = self.newer_held[-1]
            sent = (f"job {newest}" if len(self.newer_held) == 1 else
                    f"jobs {', '.join(self.newer_held)}; the latest is job {newest}")
            return (f"the supplier sent a newer list meanwhile, which is held too ({sent}), so releasing this one "
                    "would publish prices older than the supplier's latest list")
        return None


def held_standing(run: IngestionRun) -> Standing:
    """Where the held list of ``run`` stands: the supplier's current list and its other held lists (two queries).

    A held list is out of date (:attr:`Standing.out_of_date`) when the
    supplier's current list is no longer the one it was compared with, or
    while a list of the same supplier read after it is held too.  Lists are
    ordered by when their run started (``created_at``).
    """
    supplier_id = str(run.supplier_id)  # type: ignore[attr-defined]
    current = previous_run(supplier_id, run.job_id)
    newer: list[str] = []
    older: list[str] = []
    for other in (
        IngestionRun.select(IngestionRun.job_id, IngestionRun.created_at)
        .where(
            (IngestionRun.supplier == uuid.UUID(supplier_id))
            & (IngestionRun.status == "held")
            & (IngestionRun.job_id != run.job_id)
        )
        .order_by(IngestionRun.created_at, IngestionRun.job_id)
    ):
        if other.created_at > run.created_at:
            newer.append(other.job_id)
        elif other.created_at < run.created_at:
            older.append(other.job_id)
    return Standing(run.job_id, run.previous_job_id, current.job_id if current else None, tuple(newer), tuple(older))


def release_run(job_id: str, decided_by: str | None) -> Published:
    """Publish a held list; returns what was written.

    Raises :class:`RunNotHeld` when the job has no held list, or when its
    list is out of date (:func:`held_standing`): the supplier's current list
    moved on since it was compared, or a newer list of the supplier is held
    too.  The message names the newer list.
    """
    run = IngestionRun.get_or_none(IngestionRun.job_id == job_id)
    if run is None or run.status != "held":
        raise RunNotHeld(f"job {job_id} has no held list (status {run.status if run else 'unknown'})")
    standing = held_standing(run)
    if standing.current_moved:
        raise RunNotHeld(
            f"job {job_id} was compared with the list of job {run.previous_job_id or '(none)'}, but the supplier's "
            f"current list is now job {standing.current or '(none)'}; its diff is out of date — "
            "reject it and send the file again"
        )
    if standing.newer_held:
        raise RunNotHeld(
            f"job {job_id} is out of date: {standing.reason()} — decide on job {standing.newer_held[-1]} "
            f"and reject job {job_id}"
        )
    now = utcnow()
    with database.atomic():
        published = publish_run(job_id, str(run.supplier_id), now)  # type: ignore[attr-defined]
        IngestionRun.update(status="released", decided_by=decided_by, finished_at=now).where(
            IngestionRun.job_id == job_id
        ).execute()
    return published


def reject_run(job_id: str, decided_by: str | None) -> int:
    """Drop a held list (nothing of it is published); returns the staged rows dropped."""
    run = IngestionRun.get_or_none(IngestionRun.job_id == job_id)
    if run is None or run.status != "held":
        raise RunNotHeld(f"job {job_id} has no held list (status {run.status if run else 'unknown'})")
    with database.atomic():
        dropped = drop_run(job_id)
        IngestionRun.update(status="rejected", decided_by=decided_by, finished_at=utcnow()).where(
            IngestionRun.job_id == job_id
        ).execute()
    return dropped


def expire_held_runs(older_than: dt.timedelta, now: dt.datetime | None = None) -> list[str]:
    """Drop held lists older than ``older_than``; returns their job ids."""
    cutoff = (now or utcnow()) - older_than
    expired = [
        r.job_id
        for r in IngestionRun.select(IngestionRun.job_id).where(
            (IngestionRun.status == "held") & (IngestionRun.created_at < cutoff)
        )
    ]
    for job_id in expired:
        with database.atomic():
            drop_run(job_id)
            IngestionRun.update(status="expired", finished_at=utcnow()).where(IngestionRun.job_id == job_id).execute()
    return expired


# --- layout memory ----------------------------------------------------------------------
def layout_of(price_list: PriceList) -> dict[str, Any]:
    """What the reader decided, in a JSON-able form: file type, details and each sheet's header rows and roles."""
    return {
        "file_type": price_list.file_type,
        "encoding": price_list.details.get("encoding"),
        "delimiter": price_list.details.get("delimiter"),
        "sheets": [
            {"sheet": lay.sheet, "header_rows": list(lay.header_rows), "columns": dict(lay.columns),
             "currency": lay.currency, "decimal_separators": dict(lay.decimal_separators)}
            for lay in price_list.layouts
        ],
    }


def layout_signature(layout: dict[str, Any]) -> str:
    """sha1 hex of the sheets' names and header labels, in order (roles and row numbers left out)."""
    parts = [[s.get("sheet"), list(s.get("columns") or {})] for s in layout.get("sheets") or []]
    return hashlib.sha1(json.dumps(parts, ensure_ascii=False).encode("utf-8")).hexdigest()


def remembered_layout(supplier_id: str) -> SupplierLayout | None:
    return SupplierLayout.get_or_none(SupplierLayout.supplier == uuid.UUID(supplier_id))


def with_remembered_locale(options: ReadOptions, remembered: SupplierLayout | None) -> ReadOptions:
    """``options`` with the decimal marks the supplier's earlier lists showed per price column.

    They only decide columns whose own values cannot (per-column number locale),
    so they apply whether or not the headers changed.
    """
    if remembered is None:
        return options
    marks: dict[str, str] = {}
    for sheet in (remembered.layout or {}).get("sheets") or []:
        for label, mark in (sheet.get("decimal_separators") or {}).items():
            marks.setdefault(label, mark)
    return attrs.evolve(options, column_decimal_separators={**marks, **options.column_decimal_separators})


def remembered_options(options: ReadOptions, remembered: SupplierLayout | None) -> ReadOptions:
    """``options`` with the remembered column roles (by header text) and encoding/delimiter filled in.

    The supplier's own overrides (already in ``options``) win.
    """
    if remembered is None:
        return options
    layout = remembered.layout or {}
    mapping: dict[str, str] = {}
    for sheet in layout.get("sheets") or []:
        for header, role in (sheet.get("columns") or {}).items():
            mapping.setdefault(header, role)
    mapping.update(options.column_mapping)
    return attrs.evolve(
        options,
        column_mapping=mapping,
        encoding=options.encoding or layout.get("encoding"),
        delimiter=options.delimiter or layout.get("delimiter"),
    )


def remember_layout(
    supplier_id: str, job_id: str, layout: dict[str, Any], before: SupplierLayout | None = None
) -> None:
    """Keep ``layout`` as the supplier's (replacing the one before).

    Decimal marks the new list's values could not decide keep what ``before``
    (the layout remembered so far) knew for the same column.
    """
    if before is not None:
        old: dict[str, str] = {}
        for sheet in (before.layout or {}).get("sheets") or []:
            old.update(sheet.get("decimal_separators") or {})
        for sheet in layout.get("sheets") or []:
            marks = sheet.setdefault("decimal_separators", {})
            for label in sheet.get("columns") or {}:
                if label not in marks and label in old:
                    marks[label] = old[label]
    signature = layout_signature(layout)
    now = utcnow()
    (
        SupplierLayout.insert(supplier=uuid.UUID(supplier_id), signature=signature, layout=layout, job_id=job_id,
                              updated_at=now)
        .on_conflict(
            conflict_target=[SupplierLayout.supplier],
            preserve=[SupplierLayout.signature, SupplierLayout.layout, SupplierLayout.job_id, SupplierLayout.updated_at],
        )
        .execute()
    )
