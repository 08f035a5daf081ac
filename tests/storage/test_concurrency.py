"""Real processes against one database: racing claimers and enqueuers, and a worker SIGKILLed mid-job."""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections import Counter
from datetime import datetime, timedelta

from storage import open_store
from storage.domain import Platform, Status
from tests.storage import workers
from tests.storage.helpers import T0, FakeClock, new_request

SPAWN = multiprocessing.get_context("spawn")
REQUESTS = 1000
WORKERS = 8


def test_every_request_claimed_exactly_once_under_contention(db_url: str) -> None:
    open_store(db_url).close()  # schema at head before the race
    start, enqueued, results = SPAWN.Event(), SPAWN.Event(), SPAWN.Queue()
    # two enqueuers whose ranges overlap by 200 ids: those race on UNIQUE(platform, external_id)
    ranges = {"enq-a": list(range(0, 600)), "enq-b": list(range(400, REQUESTS))}
    enqueuers = [
        SPAWN.Process(target=workers.enqueuer, args=(db_url, name, ids, start, results))
        for name, ids in ranges.items()
    ]
    claimers = [
        SPAWN.Process(target=workers.claimer, args=(db_url, f"w{i}", start, enqueued, results))
        for i in range(WORKERS)
    ]
    for process in enqueuers + claimers:
        process.start()
    start.set()
    reports = {}
    for _ in enqueuers:
        name, accepted, errors = results.get(timeout=120)
        reports[name] = (accepted, errors)
    enqueued.set()
    for _ in claimers:
        name, claimed, errors = results.get(timeout=120)
        reports[name] = (claimed, errors)
    for process in enqueuers + claimers:
        process.join(timeout=30)
        assert process.exitcode == 0

    errors = [error for _, errs in reports.values() for error in errs]
    assert errors == []  # in particular no "database is locked"
    first_inserts = Counter(n for name in ranges for n in reports[name][0])
    assert sorted(first_inserts) == list(range(REQUESTS))
    assert set(first_inserts.values()) == {1}  # each overlapping id inserted by exactly one enqueuer
    claimed = Counter(external_id for i in range(WORKERS) for external_id, _ in reports[f"w{i}"][0])
    assert sorted(int(n) for n in claimed) == list(range(REQUESTS))
    assert set(claimed.values()) == {1}  # claimed set == inserted set, each once
    assert all(token == 1 for i in range(WORKERS) for _, token in reports[f"w{i}"][0])
    busy = [name for name in (f"w{i}" for i in range(WORKERS)) if reports[name][0]]
    assert len(busy) >= 2  # the claims were really spread over processes

    store = open_store(db_url)
    assert store.count_requests() == REQUESTS
    assert store.count_requests(Status.DONE) == REQUESTS
    assert len(store.pending_deliveries(Platform.X, limit=2 * REQUESTS)) == REQUESTS
    assert store.get_cursor("x", "enq-a") is not None
    store.close()


def test_worker_killed_mid_job_is_requeued_and_finished_by_another(db_url: str) -> None:
    clock = FakeClock(T0)
    store = open_store(db_url, clock=clock, backoff_seconds=5)
    request_id = store.enqueue(new_request(1), quota=None, queue_cap=None).request_id
    # the doomed process gets a queue of its own: a process killed while it holds a Queue can
    # leave that queue unusable for everyone else
    claimed, doomed_results, results = SPAWN.Event(), SPAWN.Queue(), SPAWN.Queue()
    doomed = SPAWN.Process(
        target=workers.claim_and_hang, args=(db_url, T0.isoformat(), claimed, doomed_results)
    )
    doomed.start()
    assert claimed.wait(60)
    assert doomed_results.get(timeout=10) == (request_id, 1)
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.join(timeout=30)
    assert doomed.exitcode == -signal.SIGKILL

    assert store.get_request(request_id).status is Status.RUNNING  # nobody knows yet
    clock.advance(29)
    assert store.reap() == 0  # the lease still runs
    clock.advance(2)
    assert store.reap() == 1
    later = (clock.now + timedelta(seconds=5)).isoformat()  # after the retry backoff
    rescuer = SPAWN.Process(target=workers.claim_and_complete, args=(db_url, later, results))
    rescuer.start()
    assert results.get(timeout=60) == ([request_id], [True])
    rescuer.join(timeout=30)

    clock.now = datetime.fromisoformat(later)
    stored = store.get_request(request_id)
    assert (stored.status, stored.attempts) == (Status.DONE, 2)
    assert store.get_image(request_id) == b"rescued"
    [delivery] = store.pending_deliveries(Platform.X)
    assert delivery.request.id == request_id and delivery.kind == "image"
    store.close()
