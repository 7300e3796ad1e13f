"""Sharing one list's matching between runs: how many are sent, what a sharing run does to the job,
a run whose last items are in another run's open batch, and two real worker processes on one list."""

from __future__ import annotations

import uuid
from decimal import Decimal
from pathlib import Path
from typing import Iterator

import attrs
import psycopg2
import pytest
import redis

from ingestion.jobstate import aux_key
from ingestion.models import SupplierItem
from ingestion.pipeline import get_runtime, match_sharers, match_step
from ingestion.reading.model import Item
from ingestion.settings import Settings, set_settings
from ingestion.store import ItemWriter, get_or_create_supplier, publish


def store_items(supplier_name: str, count: int) -> str:
    """``count`` items of distinct made-up products for a new supplier; returns the supplier id."""
    supplier, _ = get_or_create_supplier(supplier_name)
    w = ItemWriter(supplier.id, f"load-{uuid.uuid4().hex[:6]}", None)
    for n in range(count):
        w.add(Item(row=n + 2, sku=f"S-{n:05d}", name=f"Насос циркуляционный модель QX{n:05d}-{n % 7}",
                   price=Decimal(100 + n), currency="RUB", available=True))
    publish(w)
    return str(supplier.id)


@pytest.fixture
def sharing(settings: Settings) -> Iterator[Settings]:
    """The test settings with sharing from 100 items a run (at most 3 runs)."""
    from ingestion.pipeline import reset_runtime

    s = attrs.evolve(settings, match_share_items=100, match_sharers=3)
    set_settings(s)
    reset_runtime()
    yield s


def test_how_many_runs_share_a_list(sharing: Settings) -> None:
    rt = get_runtime()
    big = store_items("Большой", 450)
    small = store_items("Малый", 150)
    if sharing.database_url.startswith("sqlite"):
        # one process matches on SQLite: nothing to share (no row locks to skip)
        assert match_sharers(rt, big) == 0
        return
    assert match_sharers(rt, big) == 3  # 450 items: one per 100 beyond the first 100, at most 3
    assert match_sharers(rt, small) == 0  # fewer than two blocks: the job's own run is enough
    set_settings(attrs.evolve(sharing, match_share_items=0))
    from ingestion.pipeline import reset_runtime

    reset_runtime()
    assert match_sharers(get_runtime(), big) == 0  # MATCH_SHARE_ITEMS=0 turns it off


def test_a_sharing_run_counts_in_the_job_and_the_jobs_run_completes_it(sharing: Settings) -> None:
    rt = get_runtime()
    sid = store_items("Делёжка", 300)
    job = f"share-{uuid.uuid4().hex[:8]}"
    rt.jobs.create(job, supplier_id=sid, phase="matching", status="processing")

    shared = match_step(rt, sid, job, share=True)
    assert shared["matched"] == 300 and shared["remaining"] == 0, shared
    state = rt.jobs.get(job) or {}
    assert state["phase"] == "matching", "a sharing run never moves the job on"
    aux = rt.jobs.get_aux(job)
    assert int(aux["shared_matched"]) == 300
    assert int(aux["shared_auto"]) == shared["auto"] and int(aux["shared_review"]) == shared["review"]

    done = match_step(rt, sid, job, {"rows": 300})
    assert done["matched"] == 0 and done["remaining"] == 0
    state = rt.jobs.get(job) or {}
    assert (state["phase"], state["items_processed"]) == ("complete", "300"), state
    assert int(state["matches_found"]) == shared["auto"] and int(state["review_queue_count"]) == shared["review"]
    assert SupplierItem.select().where(SupplierItem.match_status == "unmatched").count() == 0

    # a run sent to share a job that is over does nothing
    late = match_step(rt, sid, job, share=True)
    assert late.get("skipped") == "the job is complete", late


def test_the_jobs_run_waits_for_items_in_another_runs_open_batch(sharing: Settings) -> None:
    if sharing.database_url.startswith("sqlite"):
        pytest.skip("row locks: PostgreSQL only")
    rt = get_runtime()
    sid = store_items("Ожидание", 200)
    job = f"wait-{uuid.uuid4().hex[:8]}"
    rt.jobs.create(job, supplier_id=sid, phase="matching", status="processing")
    other = psycopg2.connect(sharing.database_url)  # another worker's open batch: 30 items locked
    try:
        cur = other.cursor()
        cur.execute("SELECT id FROM supplier_items WHERE supplier_id = %s AND match_status = 'unmatched' "
                    "ORDER BY id LIMIT 30 FOR UPDATE", (sid,))
        assert len(cur.fetchall()) == 30
        first = match_step(rt, sid, job, {"rows": 200})
        assert (first["matched"], first["remaining"], first["wait"]) == (170, 30, True), first
        assert (rt.jobs.get(job) or {})["phase"] == "matching", "not complete while items are in another batch"
        carry = first["carry"]
    finally:
        other.rollback()  # that worker died: its batch rolled back, its items are unmatched again
        other.close()
    second = match_step(rt, sid, job, carry)
    assert (second["matched"], second["remaining"]) == (30, 0), second
    state = rt.jobs.get(job) or {}
    assert (state["phase"], state["items_processed"]) == ("complete", "200"), state
    assert int(state["matches_found"]) + int(state["review_queue_count"]) == first["auto"] + first["review"] + \
        second["auto"] + second["review"]


# --- two real worker processes ------------------------------------------------------------------
@pytest.mark.integration
def test_two_workers_share_one_big_list_and_nothing_is_matched_twice(pg_url: str, tmp_path: Path) -> None:
    from conftest import RABBITMQ_TEST_URL, REDIS_TEST_URL
    from fault_services import JobWatch, Worker, delete_queues, publish as publish_message, wait_for_queue, \
        worker_env, write_price_csv
    from test_faults import match_invariants

    rows = 6000
    good, bad = write_price_csv(tmp_path / "big.csv", rows, bad_every=1000)
    queue = f"ingestion_share_{uuid.uuid4().hex[:8]}"
    env = worker_env(database_url=pg_url, rabbitmq_url=RABBITMQ_TEST_URL, redis_url=REDIS_TEST_URL, queue=queue,
                     uploads=tmp_path / "uploads", allowed_root=tmp_path,
                     extra={"MATCH_SHARE_ITEMS": "1000", "MATCH_SHARERS": "3"})
    job_id, supplier = f"share-{uuid.uuid4().hex}", f"Share {uuid.uuid4().hex[:6]}"
    workers = [Worker(env, tmp_path / f"worker{n}.log") for n in range(2)]
    try:
        for w in workers:
            wait_for_queue(RABBITMQ_TEST_URL, queue, w)
        publish_message(RABBITMQ_TEST_URL, queue, "ingest", {"source_url": str(tmp_path / "big.csv"),
                                                             "supplier_name": supplier, "job_id": job_id})
        state = JobWatch(REDIS_TEST_URL).wait(job_id, 240, workers)
    finally:
        for w in workers:
            w.stop()
        delete_queues(RABBITMQ_TEST_URL, queue)
    assert (state["phase"], state["status"]) == ("complete", "completed"), state
    assert state["items_processed"] == str(rows)
    assert match_invariants(pg_url, supplier) == {"unmatched": 0, "orphan_products": 0, "review_duplicates": 0}
    client = redis.Redis.from_url(REDIS_TEST_URL, decode_responses=True)
    shared = int(client.hget(aux_key(job_id), "shared_matched") or 0)
    # (the sharing runs may even have matched every item: the job's run waits while one of them holds
    # its process's catalog, and completes the job at the end)
    assert 0 < shared <= good, f"the sharing runs matched {shared} of {good} items"
    conn = psycopg2.connect(pg_url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT count(*) FILTER (WHERE i.match_status = 'auto_matched' AND i.match_score IS NOT NULL), "
                        "count(*) FILTER (WHERE i.match_status = 'potential_match'), count(*) "
                        "FROM supplier_items i JOIN suppliers s ON s.id = i.supplier_id WHERE s.name = %s",
                        (supplier,))
            auto, review, items = cur.fetchone()
    finally:
        conn.close()
    assert items == good
    # the job's counts are every run's decisions, each item counted once
    assert (int(state["matches_found"]), int(state["review_queue_count"])) == (auto, review)
