"""Queue throughput: enqueue → claim → complete cycles per second with several worker processes.

    python -m storage.bench [--requests 4000] [--workers 4] [--batch 4] [--postgres-url URL]

Each worker process enqueues a page of `batch` requests (quota and queue cap checked, as the bot
does), claims up to `batch`, and completes them with a small PNG each in one `complete_many`, as
the bot's worker stores a finished batch — the bot's whole storage path.
The baseline in the same run is batch 1 (every step one request at a time). SQLite runs on a
temporary file; PostgreSQL on a fresh schema of DALLEBOT_TEST_POSTGRES_URL (or the local server),
dropped afterwards. The last line is one JSON object with the batched figures.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import time
import uuid
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path

from storage import Completion, Store, open_store
from storage.domain import NewRequest, Platform, QuotaPolicy

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
POLICY = QuotaPolicy(images_per_window=1_000_000, window_seconds=3600, max_in_flight=1_000_000)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(2048)


def _worker(
    url: str, name: str, count: int, batch: int, barrier: Barrier, results: Queue[tuple[float, float, int]]
) -> None:
    store = open_store(url, upgrade=False)
    barrier.wait()
    started = time.monotonic()
    done = 0
    for first in range(0, count, batch):
        page = [
            NewRequest(
                Platform.X, f"{name}-{n}", f"{name}-user{n % 10}", "an armchair in the shape of an avocado"
            )
            for n in range(first, min(count, first + batch))
        ]
        store.enqueue_many(page, quota=POLICY, queue_cap=1_000_000, cursor=None)
        done += _finish(store, name, batch)[1]
    while True:  # drain what the other workers left queued
        claimed, completed = _finish(store, name, batch)
        done += completed
        if not claimed:
            break
    results.put((started, time.monotonic(), done))
    store.close()


def _finish(store: Store, name: str, batch: int) -> tuple[int, int]:
    """Claim up to `batch` queued requests (anyone's) and complete them: (claimed, completed).

    Only a complete that committed counts as a cycle (a fenced-out one returns False).
    """
    claims = store.claim(name, limit=batch, lease_seconds=60)
    return len(claims), sum(store.complete_many([Completion(claim, PNG, 0.5) for claim in claims]))


def run(url: str, *, requests: int, workers: int, batch: int) -> float:
    """Cycles per second for `requests` spread over `workers` processes on a fresh database."""
    open_store(url).close()
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(workers), context.Queue()
    per_worker = requests // workers
    processes = [
        context.Process(target=_worker, args=(url, f"w{i}", per_worker, batch, barrier, results))
        for i in range(workers)
    ]
    for process in processes:
        process.start()
    reports = [results.get(timeout=600) for _ in processes]
    for process in processes:
        process.join()
    elapsed = max(end for _, end, _ in reports) - min(start for start, _, _ in reports)
    done = sum(done for _, _, done in reports)
    assert done == per_worker * workers, f"{done} of {per_worker * workers} requests completed"
    return float(done / elapsed)


def _postgres_schema(base_url: str) -> tuple[str, str] | None:
    """(url with a fresh search_path, schema) — or None when the server does not answer."""
    import psycopg
    from sqlalchemy.engine import make_url

    libpq = make_url(base_url).set(drivername="postgresql").render_as_string(hide_password=False)
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(libpq, autocommit=True, connect_timeout=3) as connection:
            connection.execute(f'CREATE SCHEMA "{schema}"')
    except psycopg.OperationalError as error:
        print(f"postgres: skipped, not reachable ({str(error).strip()})", file=sys.stderr)
        return None
    url = make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False), schema


def _drop_schema(base_url: str, schema: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    libpq = make_url(base_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m storage.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000, help="requests per measurement")
    parser.add_argument("--workers", type=int, default=4, help="worker processes")
    parser.add_argument("--batch", type=int, default=4, help="page / claim size (worker.batch_size)")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("DALLEBOT_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help="PostgreSQL server to measure (a fresh schema is created and dropped)",
    )
    args = parser.parse_args(argv)
    print(f"{args.workers} worker processes, {args.requests} requests, {os.cpu_count()} CPUs")
    figures: dict[str, float | None] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for batch in (1, args.batch):
            url = f"sqlite:///{Path(tmp) / f'bench-{batch}.db'}"
            rate = run(url, requests=args.requests, workers=args.workers, batch=batch)
            print(f"sqlite      batch {batch:>2}: {rate:8.0f} cycles/s")
            figures["sqlite"] = rate
    postgres = _postgres_schema(args.postgres_url)
    figures["postgres"] = None
    if postgres is not None:
        for batch in (1, args.batch):
            fresh = _postgres_schema(args.postgres_url) if batch != 1 else postgres
            if fresh is None:  # the server went away between the two batch sizes
                continue
            url, schema = fresh
            try:
                rate = run(url, requests=args.requests, workers=args.workers, batch=batch)
            finally:
                _drop_schema(args.postgres_url, schema)
            print(f"postgres    batch {batch:>2}: {rate:8.0f} cycles/s")
            figures["postgres"] = rate
    print(
        json.dumps(
            {
                "sqlite_cycles_per_s": round(figures["sqlite"] or 0, 1),
                "postgres_cycles_per_s": None
                if figures["postgres"] is None
                else round(figures["postgres"], 1),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
