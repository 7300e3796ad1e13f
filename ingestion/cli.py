"""``ingestion`` command line: a face over the same functions the actors use.

Commands: ``health`` (are the database, Redis and RabbitMQ up),
``ingest`` (run a job in this process on the embedded default), ``diff``
(what a list changed),
``preview`` (what the reader sees, writes nothing), ``match`` (the matcher on
two CSV files, writes nothing), ``publish ingest`` (send
the public message to RabbitMQ), ``job`` (print a job's state), ``migrate``.
Exit codes: 0 success, 1 the job or command failed, 2 bad usage or settings.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
import uuid
from typing import Any, Sequence

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


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
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
        return 2
    handler = args.handler
    result: int = handler(args, settings)
    return result


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ingestion", description="Supplier price-list ingestion service")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="run one ingestion in this process and print a summary")
    p.add_argument("source", help="a local path or an http(s) URL of a price list")
    p.add_argument("--supplier", required=True, help="supplier name (created when new)")
    p.add_argument("--job-id", help="job id (default: a new UUID)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("-v", "--verbose", action="store_true", help="log what the workers do")
    p.set_defaults(handler=cmd_ingest)

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

    p = sub.add_parser("job", help="print a job's state as JSON")
    p.add_argument("job_id")
    p.set_defaults(handler=cmd_job)

    p = sub.add_parser("diff", help="what a job's list changed against the supplier's previous list")
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
def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from ingestion.models import apply_migrations

    local = attrs.evolve(
        settings,
        rabbitmq_url=None,
        never_use_ml=True,  # the local command always reads the file itself
        download_allowed_roots=("*",),  # the user names their own file
        download_max_retries=min(settings.download_max_retries, LOCAL_DOWNLOAD_RETRIES),
    )
    set_settings(local)
    apply_migrations(local.database_url)
    if not args.verbose:  # the summary tells what went wrong; keep worker tracebacks out of it
        logging.getLogger("dramatiq").setLevel(logging.CRITICAL)
        logging.getLogger("ingestion").setLevel(logging.CRITICAL)

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
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
    else:
        print(_render_summary(summary))
    return 0 if summary["phase"] == "complete" else (3 if summary["phase"] == "held" else 1)


def _wait(jobs: Any, job_id: str, started: float, show: bool) -> dict[str, str]:
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
    from peewee import fn

    from ingestion.models import IngestionRun, ParsingLog

    run = IngestionRun.get_or_none(IngestionRun.job_id == job_id)
    items = run.items if run is not None else 0
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
    return {
        "job_id": job_id,
        "supplier": state.get("supplier_name"),
        "phase": state.get("phase"),
        "file_type": state.get("file_type") or None,
        "rows_read": int(state.get("items_processed") or 0),
        "items_stored": items,
        "rows_failed": int(state.get("error_count") or 0),
        "error": state.get("error") or None,
        "diff": state.get("diff_summary") or None,
        "problem_counts": counts,
        "first_problems": problems,
        "seconds": round(seconds, 2),
    }


def _render_summary(s: dict[str, Any]) -> str:
    lines = [f"job {s['job_id']} for supplier {s['supplier']!r}: {s['phase']}"]
    if s["error"]:
        lines.append(f"  {'held' if s['phase'] == 'held' else 'error'}: {s['error']}")
    if s["phase"] == "held":
        lines.append("  nothing was published; to publish it anyway here, run again with GUARD_ENABLED=false")
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
    return "\n".join(lines)


# --- preview --supplier -----------------------------------------------------------------
def preview_for_supplier(argv: list[str]) -> int:
    """``preview --supplier NAME FILE``: read as that supplier's next list would be read.

    The supplier's ``meta`` overrides and remembered layout apply (options on
    the command line win); the report says whether the remembered layout
    matched this file's headers.  Writes nothing.
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
    if args.json:
        print(json.dumps(doc, ensure_ascii=False, default=str))
    else:
        print(f"Supplier: {supplier.name} — layout {doc['supplier']['layout']}")
        print(preview.render_text(doc, rows=args.rows))
    return 0 if doc["status"] == "ok" else 1


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
        print(f"ingestion: no job {args.job_id!r} (unknown, or older than the state's TTL)", file=sys.stderr)
        return 1
    if state.get("error_details"):
        try:
            state["error_details"] = json.loads(state["error_details"])
        except ValueError:
            pass
    print(json.dumps(state, ensure_ascii=False, indent=2))
    return 0


# --- diff -------------------------------------------------------------------------------
def cmd_diff(args: argparse.Namespace, settings: Settings) -> int:
    from ingestion.models import IngestionRun, open_database

    import peewee

    open_database(settings.database_url)
    try:
        run = IngestionRun.get_or_none(IngestionRun.job_id == args.job_id)
    except peewee.DatabaseError as exc:
        print(f"ingestion: cannot read the database ({exc}); set DATABASE_URL, and run `ingestion migrate` once",
              file=sys.stderr)
        return 2
    if run is None or run.diff is None:
        print(f"ingestion: no list diff for job {args.job_id!r} (unknown job, or its file was never read)",
              file=sys.stderr)
        return 1
    doc = {
        "job_id": run.job_id,
        "supplier_id": str(run.supplier_id),  # type: ignore[attr-defined]
        "status": run.status,
        "previous_job_id": run.previous_job_id,
        "rows_read": run.rows_read,
        "rows_failed": run.rows_failed,
        "held_reasons": run.held_reasons or [],
        "diff": run.diff,
    }
    if args.json:
        print(json.dumps(doc, ensure_ascii=False, indent=2, default=str))
        return 0
    d = run.diff
    lines = [
        f"job {run.job_id}: {run.status}" + (f" (against job {run.previous_job_id})" if run.previous_job_id else
                                             " (the supplier's first list)"),
        f"  {d['items']} items: {d['new']} new, {d['gone']} gone, {d['changed']} changed, {d['unchanged']} unchanged",
        f"  prices: {d['price_up']} up, {d['price_down']} down, {d['price_moved_over_half']} moved by more than 50%,"
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
    if d["gone_skus"]:
        lines.append("  gone: " + ", ".join(d["gone_skus"][:20]) + (" …" if d["gone"] > 20 else ""))
    print("\n".join(lines))
    return 0


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
