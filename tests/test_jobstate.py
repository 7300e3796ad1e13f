import json
import uuid
from typing import Iterator

import pytest
import redis

from ingestion.jobstate import ACTIVE_SET, FIELDS, JobStore, MemoryJobStore, RedisJobStore, job_key

from conftest import REDIS_TEST_URL


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> Iterator[JobStore]:
    if request.param == "memory":
        yield MemoryJobStore()
        return
    s = RedisJobStore.from_url(REDIS_TEST_URL, ttl_seconds=3600)
    yield s


def test_create_fills_every_field_and_is_idempotent(store: JobStore) -> None:
    job_id = f"t-{uuid.uuid4().hex}"
    assert store.create(job_id, supplier_name="ACME", source_url="/x.csv")
    assert not store.create(job_id, supplier_name="other")
    state = store.get(job_id)
    assert state is not None
    assert set(state) == set(FIELDS)
    assert state["supplier_name"] == "ACME"
    assert state["phase"] == "downloading" and state["status"] == "pending"
    assert state["error_details"] == "[]" and state["can_retry"] == "false"
    assert job_id in store.active()


def test_terminal_phase_leaves_the_active_set(store: JobStore) -> None:
    job_id = f"t-{uuid.uuid4().hex}"
    store.create(job_id)
    store.update(job_id, phase="failed", status="failed", error_details=[{"type": "x"}], can_retry=True)
    state = store.get(job_id)
    assert state is not None
    assert json.loads(state["error_details"]) == [{"type": "x"}]
    assert state["can_retry"] == "true"
    assert job_id not in store.active()


def test_unknown_fields_are_refused(store: JobStore) -> None:
    with pytest.raises(ValueError, match="unknown"):
        store.update("x", colour="red")


@pytest.mark.integration
def test_redis_keys_and_ttl() -> None:
    store = RedisJobStore.from_url(REDIS_TEST_URL, ttl_seconds=7 * 24 * 3600)
    job_id = f"t-{uuid.uuid4().hex}"
    store.create(job_id)
    store.update(job_id, items_processed=10)
    client = redis.Redis.from_url(REDIS_TEST_URL, decode_responses=True)
    assert client.hget(job_key(job_id), "items_processed") == "10"
    assert 7 * 24 * 3600 - 10 < client.ttl(job_key(job_id)) <= 7 * 24 * 3600
    assert client.sismember(ACTIVE_SET, job_id)
    store.update(job_id, phase="complete")
    assert not client.sismember(ACTIVE_SET, job_id)
    client.delete(job_key(job_id))


@pytest.mark.integration
def test_a_job_is_created_whole_or_not_at_all() -> None:
    store = RedisJobStore.from_url(REDIS_TEST_URL, ttl_seconds=60)
    job_id = f"t-{uuid.uuid4().hex}"
    with pytest.raises(UnicodeEncodeError):
        store.create(job_id, supplier_name="UT\ud800")
    assert store.get(job_id) is None
    assert store.create(job_id, supplier_name="fine")
