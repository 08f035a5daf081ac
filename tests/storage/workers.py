"""Process entry points for the concurrency and crash tests (spawned, so importable by name)."""

from __future__ import annotations

import random
import time
from datetime import datetime
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event

from storage import open_store
from storage.domain import Accepted, QuotaPolicy
from tests.storage.helpers import new_request

POLICY = QuotaPolicy(images_per_window=10_000, window_seconds=3600, max_in_flight=10_000)


def enqueuer(url: str, name: str, ids: list[int], start: Event, results: Queue) -> None:
    """Enqueue `ids`, in pages with a cursor and one by one; report (name, accepted ids, errors)."""
    store = open_store(url, upgrade=False)
    accepted: list[int] = []
    errors: list[str] = []
    start.wait(60)
    try:
        for page_start in range(0, len(ids), 20):
            page = ids[page_start : page_start + 20]
            news = [new_request(n, user=f"u{n % 50}") for n in page]
            if page_start % 40 == 0:
                outcomes = store.enqueue_many(
                    news, quota=POLICY, queue_cap=None, cursor=("x", name, str(page[-1]))
                )
            else:
                outcomes = [store.enqueue(new, quota=POLICY, queue_cap=None) for new in news]
            for n, outcome in zip(page, outcomes, strict=True):
                if not isinstance(outcome, Accepted):
                    errors.append(f"{n}: {outcome}")
                elif not outcome.duplicate:
                    accepted.append(n)
    except Exception as error:  # reported to the test, which fails on any
        errors.append(repr(error))
    finally:
        store.close()
    results.put((name, accepted, errors))


def claimer(url: str, worker_id: str, start: Event, enqueued: Event, results: Queue) -> None:
    """Claim (1–4 at a time) and complete until the enqueuers are done and the queue is empty."""
    store = open_store(url, upgrade=False)
    claimed: list[tuple[str, int]] = []
    errors: list[str] = []
    rng = random.Random(worker_id)
    idle = 0.001
    start.wait(60)
    try:
        while True:
            finished = enqueued.is_set()  # read before claiming: an empty claim after it means done
            claims = store.claim(worker_id, limit=rng.randint(1, 4), lease_seconds=60)
            if not claims:
                if finished:
                    break
                time.sleep(idle)  # polling an empty queue (not waiting for a lease), backing off
                idle = min(idle * 2, 0.05)
                continue
            idle = 0.001
            for claim in claims:
                claimed.append((claim.request.external_id, claim.token))
                if not store.complete(claim, image_png=b"png", seconds=0.01):
                    errors.append(f"complete fenced out: {claim.request.id}")
    except Exception as error:
        errors.append(repr(error))
    finally:
        store.close()
    results.put((worker_id, claimed, errors))


def claim_and_hang(url: str, now: str, claimed: Event, results: Queue) -> None:
    """Claim one request and 'generate' forever: the test SIGKILLs this process mid-job."""
    clock_now = datetime.fromisoformat(now)
    store = open_store(url, clock=lambda: clock_now, upgrade=False)
    [claim] = store.claim("doomed-worker", lease_seconds=30)
    results.put((claim.request.id, claim.token))
    claimed.set()
    time.sleep(600)


def claim_and_complete(url: str, now: str, results: Queue) -> None:
    """Another worker, at a later time: claim one request and finish it."""
    clock_now = datetime.fromisoformat(now)
    store = open_store(url, clock=lambda: clock_now, upgrade=False)
    claims = store.claim("rescuer", lease_seconds=30)
    done = [store.complete(claim, image_png=b"rescued", seconds=1.0) for claim in claims]
    store.close()
    results.put(([claim.request.id for claim in claims], done))
