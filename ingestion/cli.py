"""``ingestion`` command line: a face over the same functions the actors use.

Commands: ``health`` (are the database, Redis and RabbitMQ up),
``ingest`` (run a job in this process on the embedded default), ``release`` /
``reject`` (decide on a list the guard-rails held, in the same embedded mode),
``diff`` (what a list changed),
``preview`` (what the reader sees, writes nothing), ``match`` (the matcher on
two CSV files, writes nothing), ``publish ingest`` (send
the public message to RabbitMQ), ``job`` (print a job's state), ``migrate``.

Exit codes (:data:`EXIT_CODES`): 0 success, 1 the job or command failed, 2 bad
usage or settings, 3 the list was held by the guard-rails (``ingest``), 4 the
file could not be read (``preview``), 5 unknown job (``release``, ``reject``,
``diff``, ``job``), 6 the job holds no list
(``release``/``reject``), 7 the held list is out of date (``release``), 141
standard output was closed early (``… | head``: the output is cut short
quietly, as other Unix tools do).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
import uuid
from typing import Any, Callable, Generic, Sequence, TextIO, TypeVar

import attrs

from ingestion.errors import ConfigError
from ingestion.jobstate import TERMINAL_PHASES
from ingestion.settings import Settings, get_settings, set_settings

#: Retries of a transient download fault when running in this process.
LOCAL_DOWNLOAD_RETRIES = 2
#: How long ``ingest`` waits for its job at most (seconds).
LOCAL_JOB_TIMEOUT = 3 * 3600
#: Problems of each level shown in the summary.
FIRST_PROBLEMS = 5

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_HELD = 3
EXIT_UNREADABLE = 4
EXIT_UNKNOWN_JOB = 5
EXIT_NOT_HELD = 6
EXIT_OUT_OF_DATE = 7
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a tool killed by a closed pipe

T = TypeVar("T")

#: Every exit code of the command line and what it means (shown by ``--help`` and in the README).
EXIT_CODES: dict[int, str] = {
    EXIT_OK: "success",
    EXIT_FAILED: "the job or the command failed",
    EXIT_USAGE: "bad usage or settings",
    EXIT_HELD: "ingest: the list was held by the guard-rails, nothing was published",
    EXIT_UNREADABLE: "preview: the file could not be read",
    EXIT_UNKNOWN_JOB: "unknown job (release/reject/diff: not in DATABASE_URL; job: not in Redis)",
    EXIT_NOT_HELD: "release/reject: the job holds no list (published, already decided or expired)",
    EXIT_OUT_OF_DATE: "release: the held list is out of date (the supplier's newer list was published or is held "
                      "too: reject this one)",
    EXIT_BROKEN_PIPE: "standard output was closed before everything was written (e.g. `| head`)",
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line on ``argv`` (default ``sys.argv[1:]``); returns the exit code (:data:`EXIT_CODES`).

    Standard output closed by the reader (``ingestion … | head -1``) ends the
    command quietly with :data:`EXIT_BROKEN_PIPE` instead of a traceback.
    """
    return run_guarded(_dispatch, list(sys.argv[1:] if argv is None else argv))


def run_guarded(entry: Callable[[list[str]], int], argv: list[str]) -> int:
    """``entry(argv)`` with its output flushed; a closed standard output gives :data:`EXIT_BROKEN_PIPE`.

    Standard output is pointed at ``/dev/null`` then, so the interpreter's own
    flush at exit has nowhere to fail.  Also used by ``python -m
    ingestion.preview`` and ``python -m ingestion.matching.cli``.
    """
    try:
        try:
            code = entry(argv)
        finally:
            sys.stdout.flush()
    except BrokenPipeError:
        _stdout_to_devnull()
        return EXIT_BROKEN_PIPE
    return code


#: Characters written to standard output at a time by :func:`write_out` (64 Ki).
OUTPUT_CHUNK_CHARS = 64 * 1024


def write_out(text: str, stream: TextIO | None = None) -> None:
    """Write ``text`` to ``stream`` (default: standard output) in chunks of :data:`OUTPUT_CHUNK_CHARS`, each flushed.

    One large ``write`` of several MB to a pipe whose reader goes away part
    way (``… | head -1``) can end without any error in Python 3.11 — the
    command then exits 0 although most of its output was lost.  Written a
    chunk at a time, the first write after the reader left raises
    :class:`BrokenPipeError`, which :func:`run_guarded` turns into
    :data:`EXIT_BROKEN_PIPE`.
    """
    out = sys.stdout if stream is None else stream
    for start in range(0, len(text), OUTPUT_CHUNK_CHARS):
        out.write(text[start:start + OUTPUT_CHUNK_CHARS])
        out.flush()


def _stdout_to_devnull() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no real file descriptor behind sys.stdout (a test's capture)
        pass


def _dispatch(argv: list[str]) -> int:
    if argv[:1] == ["preview"]:  # the reader's own options; it writes nothing and needs no settings
        from ingestion import preview

        if "--supplier" in argv:
            return preview_for_supplier(argv[1:])
        code: int = preview.main(argv[1:])
        return code
    if argv[:1] == ["match"]:  # the matcher on two CSV files; writes nothing
        from ingestion.matching import cli as match_cli

        code = match_cli.main(argv[1:])
        return code
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if not getattr(args, "verbose", False) else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "verbose", False):  # commands report connection trouble in one line of their own
        logging.getLogger("pika").setLevel(logging.CRITICAL)
    try:
        settings = get_settings()
    except ConfigError as exc:
        print(f"ingestion: bad setting: {exc}", file=sys.stderr)
        return EXIT_USAGE
    handler = args.handler
    result: int = handler(args, settings)
    return result


def _exit_codes_epilog(*codes: int) -> str:
    """The ``--help`` epilog listing ``codes`` (all of them when none are given)."""
    shown = codes or tuple(EXIT_CODES)
    return "exit codes:\n" + "\n".join(f"  {c:<4} {EXIT_CODES[c]}" for c in shown)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command but ``preview`` and ``match`` (they parse their own)."""
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(prog="ingestion", description="Supplier price-list ingestion service",
                                     epilog=_exit_codes_epilog(), formatter_class=raw)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="run one ingestion in this process and print a summary",
                       description="Run one ingestion in this process (in-process broker, DATABASE_URL, default "
                                   "SQLite ingestion.db) and print a summary. A list the guard-rails hold is not "
                                   "published: decide on it with `ingestion release` or `ingestion reject`.",
                       epilog=_exit_codes_epilog(EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_HELD, EXIT_BROKEN_PIPE),
                       formatter_class=raw)
    p.add_argument("source", help="a local path or an http(s) URL of a price list")
    p.add_argument("--supplier", required=True, help="supplier name (created when new)")
    p.add_argument("--job-id", help="job id (default: a new UUID)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("-v", "--verbose", action="store_true", help="log what the workers do")
    p.set_defaults(handler=cmd_ingest)

    decision_codes = (EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNKNOWN_JOB, EXIT_NOT_HELD)
    p = sub.add_parser("release", help="publish a list the guard-rails held (local mode), then match it",
                       description="Publish a list the guard-rails held (as the release_job actor does) and match "
                                   "its items, in this process on DATABASE_URL. A held list whose supplier got "
                                   "another list meanwhile is out of date: reject it and ingest the file again. So "
                                   "is one while a newer list of the same supplier is held too: decide on the newer "
                                   "one.",
                       epilog=_exit_codes_epilog(*decision_codes, EXIT_OUT_OF_DATE, EXIT_BROKEN_PIPE),
                       formatter_class=raw)
    p.add_argument("job_id", help="the held job (its id is in the `ingestion ingest` summary)")
    p.add_argument("--by", dest="decided_by", help="who decides (kept on the run; default: your user name)")
    p.add_argument("--json", action="store_true", help="print the outcome as JSON")
    p.add_argument("-v", "--verbose", action="store_true", help="log what the workers do")
    p.set_defaults(handler=cmd_release)

    p = sub.add_parser("reject", help="drop a list the guard-rails held (local mode); nothing is published",
                       description="Drop a list the guard-rails held (as the reject_job actor does): nothing of it "
                                   "is published and the supplier's current list stays as it is.",
                       epilog=_exit_codes_epilog(*decision_codes, EXIT_BROKEN_PIPE), formatter_class=raw)
    p.add_argument("job_id", help="the held job")
    p.add_argument("--reason", help="why it is rejected (kept in parsing_logs and the job's error)")
    p.add_argument("--by", dest="decided_by", help="who decides (kept on the run; default: your user name)")
    p.add_argument("--json", action="store_true", help="print the outcome as JSON")
    p.add_argument("-v", "--verbose", action="store_true", help="log what the workers do")
    p.set_defaults(handler=cmd_reject)

    sub.add_parser("preview", help="show what the reader makes of a file; writes nothing (ingestion preview -h)")
    sub.add_parser("match", help="match items.csv against catalog.csv; writes nothing (ingestion match -h)")

    p = sub.add_parser("publish", help="publish a public message to RabbitMQ")
    pub = p.add_subparsers(dest="message", required=True)
    q = pub.add_parser("ingest", help="start an ingestion job")
    q.add_argument("--supplier", help="supplier name")
    q.add_argument("--supplier-id", help="supplier UUID")
    q.add_argument("--source", required=True, help="URL or path the workers can read")
    q.add_argument("--file-type", choices=["csv", "excel", "xlsx", "xls", "pdf"])
    q.add_argument("--job-id", help="idempotency key (default: a new UUID)")
    q.set_defaults(handler=cmd_publish_ingest)

    p = sub.add_parser("job", help="print a job's state as JSON", description="Print a job's state from Redis "
                       "(REDIS_URL) as JSON.",
                       epilog=_exit_codes_epilog(EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNKNOWN_JOB, EXIT_BROKEN_PIPE),
                       formatter_class=raw)
    p.add_argument("job_id")
    p.set_defaults(handler=cmd_job)

    p = sub.add_parser("diff", help="what a job's list changed against the supplier's previous list",
                       description="What a job's list changed against the supplier's previous list (DATABASE_URL); "
                                   "for a held list why it was held and whether it can still be released (an out-"
                                   "of-date one cannot: the supplier's newer list is named).",
                       epilog=_exit_codes_epilog(EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNKNOWN_JOB, EXIT_BROKEN_PIPE),
                       formatter_class=raw)
    p.add_argument("job_id")
    p.add_argument("--json", action="store_true", help="print the diff as JSON")
    p.set_defaults(handler=cmd_diff)

    p = sub.add_parser("migrate", help="apply the database migrations")
    p.set_defaults(handler=cmd_migrate)

    p = sub.add_parser("health", help="check the database, Redis and RabbitMQ (for container health checks)")
    p.add_argument("--timeout", type=float, default=5.0, help="seconds per check (default 5)")
    p.set_defaults(handler=cmd_health)
    return parser


# --- ingest -----------------------------------------------------------------------------
def _go_local(settings: Settings, verbose: bool) -> Settings:
    """Switch this process to the embedded local mode (in-process broker, files read here); returns its settings.

    Must run before ``ingestion.actors`` is imported (the broker is chosen then).
    """
    local = attrs.evolve(
        settings,
        rabbitmq_url=None,
        never_use_ml=True,  # the local command always reads the file itself
        download_allowed_roots=("*",),  # the user names their own file
        download_max_retries=min(settings.download_max_retries, LOCAL_DOWNLOAD_RETRIES),
    )
    set_settings(local)
    if not verbose:  # the summary tells what went wrong; keep worker tracebacks out of it
        logging.getLogger("dramatiq").setLevel(logging.CRITICAL)
        logging.getLogger("ingestion").setLevel(logging.CRITICAL)
    return local


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    """``ingest SOURCE --supplier NAME``: run the pipeline here and print a summary.

    Returns :data:`EXIT_OK` (complete), :data:`EXIT_HELD` (held by the
    guard-rails: the summary says why and how to release or reject it) or
    :data:`EXIT_FAILED`.
    """
    from ingestion.models import apply_migrations

    local = _go_local(settings, args.verbose)
    apply_migrations(local.database_url)

    import dramatiq

    from ingestion import actors
    from ingestion.pipeline import get_runtime

    rt = get_runtime()
    job_id = args.job_id or uuid.uuid4().hex
    worker = dramatiq.Worker(actors.broker, worker_threads=1, worker_timeout=100)
    worker.start()
    started = time.monotonic()
    try:
        actors.ingest.send(source_url=args.source, supplier_name=args.supplier, job_id=job_id)
        state = _wait(rt.jobs, job_id, started, show=sys.stderr.isatty() and not args.json)
    finally:
        worker.stop()
    summary = _summary(job_id, state, time.monotonic() - started)
    write_out((json.dumps(summary, ensure_ascii=False, indent=2) if args.json else _render_summary(summary)) + "\n")
    return EXIT_OK if summary["phase"] == "complete" else (EXIT_HELD if summary["phase"] == "held" else EXIT_FAILED)


def _wait(jobs: Any, job_id: str, started: float, show: bool) -> dict[str, str]:
    """Poll ``jobs`` until ``job_id`` is held, complete or failed (or :data:`LOCAL_JOB_TIMEOUT`); its last state.

    ``show`` draws a progress line on stderr meanwhile.
    """
    last_line = ""
    while True:
        state = jobs.get(job_id) or {}
        phase = state.get("phase", "")
        if show:
            line = _progress_line(state)
            if line != last_line:
                print("\r" + line.ljust(len(last_line)), end="", file=sys.stderr, flush=True)
                last_line = line
        if phase == "held" or (phase in TERMINAL_PHASES and state.get("status") in ("completed", "failed")):
            if show:
                print(file=sys.stderr)
            return state
        if time.monotonic() - started > LOCAL_JOB_TIMEOUT:
            return {**state, "phase": "failed", "error": "timed out waiting for the job"}
        time.sleep(0.2)


def _progress_line(state: dict[str, str]) -> str:
    phase = state.get("phase") or "queued"
    if phase == "downloading":
        return f"downloading: {int(state.get('download_bytes') or 0) / 1024:.0f} KB"
    if phase == "parsing":
        total = state.get("items_total") or "?"
        return f"parsing: {state.get('items_processed') or 0}/{total} rows, {state.get('error_count') or 0} failed"
    return phase


def _summary(job_id: str, state: dict[str, str], seconds: float) -> dict[str, Any]:
    """The ``ingest`` summary of ``job_id`` from its last job ``state`` and the database (a JSON-able dict).

    For a held list ``items_stored`` is 0, ``items_held`` counts the items
    waiting in it, ``held_reasons`` says why, ``older_held_job_ids`` names the
    supplier's earlier held lists this one puts out of date and ``next_steps``
    gives the commands that release or reject it.
    """
    from peewee import fn

    from ingestion.models import IngestionRun, ParsingLog

    run = IngestionRun.get_or_none(IngestionRun.job_id == job_id)
    items = run.items if run is not None else 0
    held = state.get("phase") == "held"
    grouped: Any = (
        ParsingLog.select(ParsingLog.level, ParsingLog.error_type, fn.COUNT(ParsingLog.id))
        .where((ParsingLog.job_id == job_id) & (ParsingLog.level != "info"))
        .group_by(ParsingLog.level, ParsingLog.error_type)
        .tuples()
    )
    counts = {f"{level}:{error_type}": n for level, error_type, n in grouped}
    problems = []
    for level in ("error", "warning"):
        for log in (
            ParsingLog.select()
            .where((ParsingLog.job_id == job_id) & (ParsingLog.level == level))
            .order_by(ParsingLog.id)
            .limit(FIRST_PROBLEMS)
        ):
            problems.append(
                {"level": log.level, "type": log.error_type, "sheet": log.sheet, "row": log.row_number,
                 "column": log.column_name, "message": log.message}
            )
    summary: dict[str, Any] = {
        "job_id": job_id,
        "supplier": state.get("supplier_name"),
        "phase": state.get("phase"),
        "file_type": state.get("file_type") or None,
        "rows_read": int(state.get("items_processed") or 0),
        "items_stored": 0 if held else items,
        "rows_failed": int(state.get("error_count") or 0),
        "error": state.get("error") or None,
        "diff": state.get("diff_summary") or None,
        "problem_counts": counts,
        "first_problems": problems,
        "seconds": round(seconds, 2),
    }
    if held:
        from ingestion.runs import held_standing

        summary["items_held"] = items
        summary["held_reasons"] = list((run.held_reasons if run is not None else None) or [])
        # the supplier's earlier held lists: this newer one puts them out of date (they can only be rejected now)
        summary["older_held_job_ids"] = list(held_standing(run).older_held) if run is not None else []
        summary["next_steps"] = {
            "release": f"ingestion release {job_id}",
            "reject": f"ingestion reject {job_id} --reason TEXT",
        }
    return summary


def _render_summary(s: dict[str, Any]) -> str:
    """The human form of an ``ingest`` summary (:func:`_summary`)."""
    held = s["phase"] == "held"
    if held:
        lines = [f"job {s['job_id']} for supplier {s['supplier']!r}: held by the guard-rails — "
                 "NOTHING WAS PUBLISHED (the supplier's current list is unchanged)"]
        for reason in s.get("held_reasons") or [s["error"]]:
            lines.append(f"  held because {reason}")
        lines.append(
            f"  {s['file_type'] or 'file'}: {s['rows_read']} rows read, 0 items stored "
            f"({s.get('items_held', 0)} items wait in the held list), {s['rows_failed']} rows failed, {s['seconds']} s"
        )
    else:
        lines = [f"job {s['job_id']} for supplier {s['supplier']!r}: {s['phase']}"]
        if s["error"]:
            lines.append(f"  error: {s['error']}")
        lines.append(
            f"  {s['file_type'] or 'file'}: {s['rows_read']} rows read, {s['items_stored']} items stored, "
            f"{s['rows_failed']} rows failed, {s['seconds']} s"
        )
    if s["diff"]:
        lines.append(f"  against the last list: {s['diff']}")
    if s["problem_counts"]:
        lines.append("  problems: " + ", ".join(f"{n} {k}" for k, n in sorted(s["problem_counts"].items())))
    if s["first_problems"]:
        lines.append("  first problems:")
        for p in s["first_problems"]:
            where = ", ".join(
                x for x in (
                    f"sheet {p['sheet']!r}" if p["sheet"] else "",
                    f"row {p['row']}" if p["row"] else "",
                    f"column {p['column']!r}" if p["column"] else "",
                ) if x
            )
            lines.append(f"    [{p['level']}] {where}: {p['message']}" if where else f"    [{p['level']}] {p['message']}")
    if held and s.get("older_held_job_ids"):
        older = s["older_held_job_ids"]
        lines.append(f"  the supplier's older held list{'s' if len(older) > 1 else ''} (job"
                     f"{'s' if len(older) > 1 else ''} {', '.join(older)}) can no longer be released (this list is "
                     "newer): reject " + ("them" if len(older) > 1 else "it") + " with "
                     + ", ".join(f"`ingestion reject {j}`" for j in older))
    if held:
        lines.append(f"  see what changed:  ingestion diff {s['job_id']}")
        lines.append(f"  publish it:        ingestion release {s['job_id']}")
        lines.append(f"  drop it:           ingestion reject {s['job_id']} --reason '…'")
        lines.append("  (or publish every list without the guard-rails: run again with GUARD_ENABLED=false)")
    return "\n".join(lines)


# --- release / reject -------------------------------------------------------------------
def _decider(given: str | None) -> str | None:
    """Who decides: ``--by``, else the user name of this process (``None`` when there is none)."""
    if given:
        return given
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # no user name in the environment or the password database
        return None


def _missing_database(database_url: str, job_id: str) -> str | None:
    """The error text when ``database_url`` is an SQLite file that does not exist (so ``job_id`` cannot be in it);
    ``None`` otherwise.  Looking creates nothing."""
    if database_url.startswith("sqlite:///"):
        path = database_url[len("sqlite:///"):]
        if path and path != ":memory:" and not os.path.exists(path):
            return (f"no job {job_id!r}: there is no database {path!r} here (DATABASE_URL {_redact(database_url)}); "
                    "run the command in the folder where `ingestion ingest` ran, or set DATABASE_URL")
    return None


def _open_local_database(database_url: str, job_id: str) -> str | None:
    """Open (and migrate) the local database; the error text when there is none to look in."""
    from ingestion.models import apply_migrations, open_database

    missing = _missing_database(database_url, job_id)
    if missing:
        return missing
    apply_migrations(database_url)
    open_database(database_url)
    return None


def _refusal(job_id: str, releasing: bool, database_url: str) -> tuple[int, str] | None:
    """Why the held list of ``job_id`` cannot be released (``releasing``) or rejected: ``(exit code, message)``;
    ``None`` when it can."""
    from ingestion.models import IngestionRun
    from ingestion.runs import held_standing

    verb = "release" if releasing else "reject"
    run = IngestionRun.get_or_none(IngestionRun.job_id == job_id)
    if run is None:
        return EXIT_UNKNOWN_JOB, (f"no job {job_id!r} in {_redact(database_url)} (unknown job id, or a job of "
                                  "another database: set DATABASE_URL to the one `ingestion ingest` used)")
    if run.status != "held":
        what = {
            "published": "was published at once (the guard-rails did not hold it)",
            "released": f"was already released{' by ' + run.decided_by if run.decided_by else ''}",
            "rejected": f"was already rejected{' by ' + run.decided_by if run.decided_by else ''}",
            "expired": "expired: nobody released or rejected it within HELD_TTL_DAYS, and it was dropped",
            "staged": "is still being read (or its reading stopped half-way)",
        }.get(run.status, f"has status {run.status!r}")
        return EXIT_NOT_HELD, f"job {job_id} holds no list to {verb}: its list {what}"
    if releasing:
        standing = held_standing(run)
        if standing.current_moved:
            return EXIT_OUT_OF_DATE, (
                f"the held list of job {job_id} is out of date: it was compared with the list of job "
                f"{run.previous_job_id or '(none)'}, but the supplier's current list is now job "
                f"{standing.current or '(none)'}, so releasing it would publish a stale diff. "
                f"Drop it with `ingestion reject {job_id}` and ingest the file again"
            )
        if standing.newer_held:
            newest = standing.newer_held[-1]
            return EXIT_OUT_OF_DATE, (
                f"the held list of job {job_id} is out of date: {standing.reason()}. Decide on the newer one "
                f"(`ingestion diff {newest}`, then `ingestion release {newest}` or `ingestion reject {newest}`) "
                f"and drop this one with `ingestion reject {job_id}`"
            )
    return None


def _print_outcome(doc: dict[str, Any], as_json: bool, text: str) -> None:
    write_out((json.dumps(doc, ensure_ascii=False, indent=2, default=str) if as_json else text) + "\n")


def _check_held(job_id: str, releasing: bool, database_url: str) -> int | None:
    """Open the local database and check that ``job_id`` holds a list that can be released (``releasing``)
    or rejected; ``None`` when it can, else the exit code, its reason printed on stderr."""
    missing = _open_local_database(database_url, job_id)
    if missing:
        print(f"ingestion: {missing}", file=sys.stderr)
        return EXIT_UNKNOWN_JOB
    refused = _refusal(job_id, releasing, database_url)
    if refused:
        print(f"ingestion: {refused[1]}", file=sys.stderr)
        return refused[0]
    return None


@attrs.frozen
class _Decided(Generic[T]):
    """A decision carried out by :func:`_decide`: the job's run as it is now, who decided, what the action gave."""

    run: Any
    decided_by: str | None
    outcome: T


def _decide(args: argparse.Namespace, settings: Settings, releasing: bool,
            act: Callable[[str | None], T]) -> _Decided[T] | int:
    """What ``release`` and ``reject`` share: switch to the local mode, check that ``args.job_id`` holds a list
    that can be released (``releasing``) or rejected, then ``act(decided_by)`` (the actor's call; who decides is
    ``args.decided_by`` or this process's user name).

    Returns the :class:`_Decided` outcome, or an exit code with its reason on stderr: the refusal found before
    acting, or — when ``act`` raises :class:`~ingestion.errors.PermanentError` because someone decided on the
    job meanwhile — the refusal found then (:data:`EXIT_FAILED` when the job looks decidable still).
    """
    from ingestion.errors import PermanentError

    local = _go_local(settings, args.verbose)
    refused = _check_held(args.job_id, releasing, local.database_url)
    if refused is not None:
        return refused

    from ingestion.models import IngestionRun

    decided_by = _decider(args.decided_by)
    try:
        outcome = act(decided_by)
    except PermanentError as exc:  # decided meanwhile by someone else
        again = _refusal(args.job_id, releasing, local.database_url)
        print(f"ingestion: {again[1] if again else exc.message}", file=sys.stderr)
        return again[0] if again else EXIT_FAILED
    return _Decided(IngestionRun.get(IngestionRun.job_id == args.job_id), decided_by, outcome)


def cmd_release(args: argparse.Namespace, settings: Settings) -> int:
    """``release JOB_ID``: publish a held list and match its items, as the ``release_job`` actor does, in this
    process (embedded local mode on ``DATABASE_URL``).

    Returns :data:`EXIT_OK` (published and matched), :data:`EXIT_FAILED`
    (published, but matching failed), :data:`EXIT_UNKNOWN_JOB`,
    :data:`EXIT_NOT_HELD` or :data:`EXIT_OUT_OF_DATE` (message on stderr).
    """

    def release(decided_by: str | None) -> tuple[dict[str, Any], dict[str, str], float]:
        """Publish, then wait for the matching it sends: ``(what was published, the job's last state, start)``."""
        import dramatiq

        from ingestion import actors  # only now: _decide chose the local broker
        from ingestion.pipeline import get_runtime

        rt = get_runtime()
        worker = dramatiq.Worker(actors.broker, worker_threads=1, worker_timeout=100)  # runs the matching it sends
        worker.start()
        started = time.monotonic()
        try:
            published: dict[str, Any] = actors.release_job(job_id=args.job_id, decided_by=decided_by)
            return published, _wait(rt.jobs, args.job_id, started, show=sys.stderr.isatty() and not args.json), started
        finally:
            worker.stop()

    decided = _decide(args, settings, True, release)
    if isinstance(decided, int):
        return decided
    run, decided_by, (published, state, started) = decided.run, decided.decided_by, decided.outcome
    matched = state.get("phase") == "complete"
    doc = {
        "job_id": args.job_id,
        "supplier": run.supplier.name,
        "status": run.status,
        "decided_by": decided_by,
        "items_written": published["upserted"],
        "price_history": published["history"],
        "delisted": published["delisted"],
        "phase": state.get("phase"),
        "matches_found": int(state.get("matches_found") or 0),
        "review_queue_count": int(state.get("review_queue_count") or 0),
        "error": None if matched else (state.get("error") or "matching did not finish"),
        "seconds": round(time.monotonic() - started, 2),
    }
    text = (
        f"job {args.job_id} for supplier {doc['supplier']!r}: released{' by ' + decided_by if decided_by else ''} "
        f"and published — {doc['items_written']} items written, {doc['price_history']} price history rows, "
        f"{doc['delisted']} items delisted"
    )
    if matched:
        text += (f"\n  matching: {doc['matches_found']} linked automatically, "
                 f"{doc['review_queue_count']} sent for review")
    else:
        text += (f"\n  matching failed: {doc['error']}\n  the list stays published; its items are matched by the "
                 "supplier's next run")
    _print_outcome(doc, args.json, text)
    return EXIT_OK if matched else EXIT_FAILED


def cmd_reject(args: argparse.Namespace, settings: Settings) -> int:
    """``reject JOB_ID [--reason TEXT]``: drop a held list, as the ``reject_job`` actor does; nothing is published.

    The reason (when given) is logged to ``parsing_logs`` (``list_rejected``)
    and added to the job's error.  Returns :data:`EXIT_OK`,
    :data:`EXIT_UNKNOWN_JOB` or :data:`EXIT_NOT_HELD` (message on stderr).
    """

    def reject(decided_by: str | None) -> dict[str, Any]:
        from ingestion import actors  # only now: _decide chose the local broker

        result: dict[str, Any] = actors.reject_job(job_id=args.job_id, decided_by=decided_by)
        return result

    decided = _decide(args, settings, False, reject)
    if isinstance(decided, int):
        return decided

    from ingestion.errors import Problem
    from ingestion.pipeline import get_runtime
    from ingestion.store import log_problem

    rt = get_runtime()
    run, decided_by, result = decided.run, decided.decided_by, decided.outcome
    supplier_id = str(run.supplier_id)
    reason = " ".join((args.reason or "").split()) or None
    if reason:
        log_problem(Problem(type="list_rejected", level="info",
                            message=f"held list rejected by {decided_by or 'someone'}: {reason}"),
                    args.job_id, supplier_id)
        error = (rt.jobs.get(args.job_id) or {}).get("error") or "held list rejected"
        rt.jobs.update(args.job_id, error=f"{error} (reason: {reason})")
    doc = {
        "job_id": args.job_id,
        "supplier": run.supplier.name,
        "status": run.status,
        "decided_by": decided_by,
        "reason": reason,
        "rows_dropped": result["dropped"],
    }
    text = (
        f"job {args.job_id} for supplier {doc['supplier']!r}: rejected{' by ' + decided_by if decided_by else ''}"
        f"{' (' + reason + ')' if reason else ''} — the held list was dropped ({doc['rows_dropped']} staged changes: "
        "items to write and SKUs to delist); nothing was published "
        "and the supplier's current list is unchanged"
    )
    _print_outcome(doc, args.json, text)
    return EXIT_OK


# --- preview --supplier -----------------------------------------------------------------
def preview_for_supplier(argv: list[str]) -> int:
    """``preview --supplier NAME FILE``: read as that supplier's next list would be read.

    The supplier's ``meta`` overrides and remembered layout apply (options on
    the command line win); the report says whether the remembered layout
    matched this file's headers.  Writes nothing.  Returns :data:`EXIT_OK`,
    :data:`EXIT_UNREADABLE` (the reason on stderr too), 1 for an unknown
    supplier, 2 for bad options or settings.
    """
    from ingestion import preview
    from ingestion.models import Supplier, open_database
    from ingestion.pipeline import read_options
    from ingestion.runs import layout_signature, remembered_layout, remembered_options

    i = argv.index("--supplier")
    if i + 1 >= len(argv):
        print("ingestion: --supplier needs a supplier name", file=sys.stderr)
        return 2
    name = argv[i + 1]
    rest = argv[:i] + argv[i + 2:]
    args = preview._parser().parse_args(rest)
    try:
        settings = get_settings()
    except ConfigError as exc:
        print(f"ingestion: bad setting: {exc}", file=sys.stderr)
        return 2
    open_database(settings.database_url)
    supplier = Supplier.get_or_none(Supplier.name_key == Supplier.key_for(name))
    if supplier is None:
        print(f"ingestion: no supplier named {name!r}", file=sys.stderr)
        return 1
    given = preview.options_from_args(args)
    meta = read_options(supplier.meta)
    options = attrs.evolve(
        meta,
        **{f.name: getattr(given, f.name) for f in attrs.fields(type(given))
           if getattr(given, f.name) not in (None, {}, "")},
        column_mapping={**meta.column_mapping, **given.column_mapping},
    )
    remembered = remembered_layout(str(supplier.id))
    detected = preview.build_preview(args.file, options)
    signature = layout_signature({"sheets": detected.get("layouts") or []})
    matches = remembered is not None and remembered.signature == signature
    doc = preview.build_preview(args.file, remembered_options(options, remembered)) if matches else detected
    doc["supplier"] = {
        "name": supplier.name,
        "remembered_layout": remembered is not None,
        "layout": ("remembered (the headers match the supplier's last list)" if matches else
                   "detected afresh — the headers differ from the supplier's last list (layout_changed)"
                   if remembered is not None else "detected (no list of this supplier was published yet)"),
        "overrides": {k: v for k, v in attrs.asdict(options).items() if v not in (None, {}, "")},
    }
    if doc["status"] != "ok":  # the reason first: it is there even when stdout is closed early
        print(preview.failure_line(doc), file=sys.stderr, flush=True)
    if args.json:
        write_out(json.dumps(doc, ensure_ascii=False, default=str) + "\n")
    else:
        write_out(f"Supplier: {supplier.name} — layout {doc['supplier']['layout']}\n"
                  + preview.render_text(doc, rows=args.rows) + "\n")
    return EXIT_OK if doc["status"] == "ok" else EXIT_UNREADABLE


# --- publish ----------------------------------------------------------------------------
def cmd_publish_ingest(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.rabbitmq_url:
        print("ingestion: publish needs RABBITMQ_URL (and REDIS_URL) to be set", file=sys.stderr)
        return 2
    if not (args.supplier or args.supplier_id):
        print("ingestion: give --supplier NAME or --supplier-id UUID", file=sys.stderr)
        return 2
    from ingestion.messages import IngestMessage, structure_message
    from ingestion.errors import InvalidMessage

    kwargs: dict[str, Any] = {"source_url": args.source, "job_id": args.job_id or uuid.uuid4().hex}
    if args.supplier:
        kwargs["supplier_name"] = args.supplier
    if args.supplier_id:
        kwargs["supplier_id"] = args.supplier_id
    if args.file_type:
        kwargs["file_type"] = args.file_type
    try:
        structure_message(kwargs, IngestMessage)
    except InvalidMessage as exc:
        print(f"ingestion: {exc.message}", file=sys.stderr)
        return 2
    from ingestion import actors

    try:
        message = actors.ingest.send(**kwargs)
    except Exception as exc:  # the broker's connection errors differ by client version
        print(f"ingestion: cannot publish to RabbitMQ ({_redact(settings.rabbitmq_url)}): {type(exc).__name__}: {exc}",
              file=sys.stderr)
        return 1
    print(json.dumps({"job_id": kwargs["job_id"], "message_id": message.message_id}))
    return 0


# --- job --------------------------------------------------------------------------------
def cmd_job(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.redis_url:
        print("ingestion: job state lives in Redis: set REDIS_URL (the local `ingest` keeps it in process)",
              file=sys.stderr)
        return 2
    import redis

    from ingestion.jobstate import RedisJobStore

    try:
        state = RedisJobStore.from_url(settings.redis_url, settings.job_state_ttl_seconds).get(args.job_id)
    except redis.exceptions.RedisError as exc:
        print(f"ingestion: cannot read Redis ({_redact(settings.redis_url)}): {exc}", file=sys.stderr)
        return 1
    if state is None:
        print(f"ingestion: no job {args.job_id!r} in Redis (unknown, or older than the state's TTL)", file=sys.stderr)
        return EXIT_UNKNOWN_JOB
    if state.get("error_details"):
        try:
            state["error_details"] = json.loads(state["error_details"])
        except ValueError:
            pass
    write_out(json.dumps(state, ensure_ascii=False, indent=2) + "\n")
    return EXIT_OK


# --- diff -------------------------------------------------------------------------------
def _held_standing(run: Any, database_url: str) -> dict[str, Any]:
    """Whether the held list of ``run`` can still be released, as ``release`` would decide it.

    ``can_be_released`` and ``why_not`` come from the release refusal
    (:func:`_refusal`): a list is out of date when it was compared with
    another list than the supplier's current one (``current_job_id`` is that
    newer current list), or while a newer list of the supplier is held too
    (``newer_held_job_ids``, oldest first; the last is the one to decide on).
    ``older_held_job_ids`` are the supplier's earlier held lists, which this
    one puts out of date.
    """
    from ingestion.runs import held_standing

    refused = _refusal(run.job_id, True, database_url)
    standing = held_standing(run)
    return {
        "can_be_released": refused is None,
        "why_not": refused[1] if refused else None,
        "current_job_id": standing.current,
        "newer_held_job_ids": list(standing.newer_held),
        "older_held_job_ids": list(standing.older_held),
    }


def cmd_diff(args: argparse.Namespace, settings: Settings) -> int:
    """``diff JOB_ID``: what the job's list changed against the supplier's previous list, and for a held list
    why it was held and whether it can still be released (an out-of-date one cannot: the newer list is named).

    Returns :data:`EXIT_OK`, :data:`EXIT_UNKNOWN_JOB` (no such job in
    ``DATABASE_URL``), :data:`EXIT_FAILED` (the job has no diff: its file
    was never read) or :data:`EXIT_USAGE` (the database cannot be read).
    """
    from ingestion.models import IngestionRun, open_database

    import peewee

    missing = _missing_database(settings.database_url, args.job_id)
    if missing:
        print(f"ingestion: {missing}", file=sys.stderr)
        return EXIT_UNKNOWN_JOB
    open_database(settings.database_url)
    try:
        run = IngestionRun.get_or_none(IngestionRun.job_id == args.job_id)
        standing = _held_standing(run, settings.database_url) if run is not None and run.status == "held" else None
    except peewee.DatabaseError as exc:
        print(f"ingestion: cannot read the database ({exc}); set DATABASE_URL, and run `ingestion migrate` once",
              file=sys.stderr)
        return EXIT_USAGE
    if run is None:
        print(f"ingestion: no job {args.job_id!r} in {_redact(settings.database_url)} (unknown job id, or a job of "
              "another database: set DATABASE_URL to the one `ingestion ingest` used)", file=sys.stderr)
        return EXIT_UNKNOWN_JOB
    if run.diff is None:
        print(f"ingestion: job {args.job_id} has no list diff: its file was never read, or reading stopped "
              f"half-way (status {run.status!r})", file=sys.stderr)
        return EXIT_FAILED
    doc = {
        "job_id": run.job_id,
        "supplier_id": str(run.supplier_id),  # type: ignore[attr-defined]
        "status": run.status,
        "previous_job_id": run.previous_job_id,
        "rows_read": run.rows_read,
        "rows_failed": run.rows_failed,
        "held_reasons": run.held_reasons or [],
        "held": standing,
        "diff": run.diff,
    }
    if args.json:
        write_out(json.dumps(doc, ensure_ascii=False, indent=2, default=str) + "\n")
        return EXIT_OK
    d = run.diff
    status = run.status
    if standing is not None and not standing["can_be_released"]:
        status = "held, OUT OF DATE — it can no longer be released"
    lines = [
        f"job {run.job_id}: {status}" + (f" (against job {run.previous_job_id})" if run.previous_job_id else
                                         " (the supplier's first list)"),
    ]
    if standing is not None and standing["why_not"]:
        lines.append(f"  {standing['why_not']}")
    if standing is not None and standing["older_held_job_ids"]:
        older = standing["older_held_job_ids"]
        several = len(older) > 1
        lines.append(f"  {'older held lists' if several else 'an older held list'} of this supplier (job"
                     f"{'s' if several else ''} {', '.join(older)}) {'are' if several else 'is'} out of date because "
                     f"of this one and can only be rejected: " + "; ".join(f"`ingestion reject {j}`" for j in older))
    lines += [
        f"  {d['items']} items: {d['new']} new, "
        + (f"{d['returned']} returned, " if d.get("returned") else "")  # diffs recorded before it was counted lack it
        + f"{d['gone']} gone, {d['changed']} changed"
        + (f" ({d['returned_changed']} of them returned at a new price)" if d.get("returned_changed") else "")
        + f", {d['unchanged']} unchanged",
        f"  prices: {d['price_up']} up, {d['price_down']} down, {d['price_moved_over_half']} moved by more than "
        f"{settings.guard_price_move:.0%},"
        f" {d['currency_changed']} changed currency; stock changed for {d['stock_changed']}",
    ]
    for reason in run.held_reasons or []:
        lines.append(f"  HELD: {reason}")
    if d["largest_moves"]:
        lines.append("  largest price moves:")
        for m in d["largest_moves"]:
            lines.append(f"    {m['sku']:<20} {m['old']:>12} -> {m['new']:<12} {m.get('currency') or '':<4} "
                         f"{m['change_pct']:+.1f}%  {m.get('name') or ''}")
    if d["new_skus"]:
        lines.append("  new: " + ", ".join(d["new_skus"][:20]) + (" …" if d["new"] > 20 else ""))
    if d.get("returned_skus"):
        lines.append("  returned: " + ", ".join(d["returned_skus"][:20]) + (" …" if len(d["returned_skus"]) > 20 or d.get("returned", 0) + d.get("returned_changed", 0) > 20 else ""))
    if d["gone_skus"]:
        lines.append("  gone: " + ", ".join(d["gone_skus"][:20]) + (" …" if d["gone"] > 20 else ""))
    write_out("\n".join(lines) + "\n")
    return EXIT_OK


# --- migrate ----------------------------------------------------------------------------
def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    from ingestion.models import apply_migrations

    applied = apply_migrations(settings.database_url)
    print(f"applied {len(applied)} migration(s)" + (f": {', '.join(applied)}" if applied else "; schema is up to date"))
    return 0


# --- health -----------------------------------------------------------------------------
def cmd_health(args: argparse.Namespace, settings: Settings) -> int:
    """Prints ``{"ok": bool, "checks": {name: "ok" | error}}``; exit 0 only when every configured service answers."""
    checks: dict[str, str] = {}
    try:
        from ingestion.models import database, open_database

        open_database(settings.database_url)
        database.execute_sql("SELECT 1")
        database.close()
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"{type(exc).__name__}: {exc}".strip()
    if settings.redis_url:
        import redis

        try:
            redis.Redis.from_url(settings.redis_url, socket_timeout=args.timeout,
                                 socket_connect_timeout=args.timeout).ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"{type(exc).__name__}: {exc}"
    if settings.rabbitmq_url:
        import pika

        try:
            params = pika.URLParameters(settings.rabbitmq_url)
            params.socket_timeout = args.timeout
            params.blocked_connection_timeout = args.timeout
            params.connection_attempts = 1
            pika.BlockingConnection(params).close()
            checks["rabbitmq"] = "ok"
        except Exception as exc:
            checks["rabbitmq"] = f"{type(exc).__name__}: {exc!r}"
    ok = all(v == "ok" for v in checks.values())
    print(json.dumps({"ok": ok, "checks": checks}, ensure_ascii=False))
    return 0 if ok else 1


def _redact(url: str | None) -> str:
    """A URL without its password."""
    if not url or "@" not in url:
        return url or ""
    scheme, _, rest = url.partition("://")
    creds, _, host = rest.rpartition("@")
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in creds else f"{scheme}://{user}@{host}"


if __name__ == "__main__":
    sys.exit(main())
