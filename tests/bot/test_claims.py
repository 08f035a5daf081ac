"""A claim is owned until completed, failed or released: storage faults during a hand-off strand nothing.

The workers run in their own threads on a real SQLite file. Two batches are in hand — the first
being gated and stored on the finishing thread, the second generated and waiting to be handed
off — when another connection (not dallebot's) takes SQLite's write lock and keeps it past every
retry. Before, the first batch's storage error was re-raised into the second's hand-off, which was
dropped while its claims were heartbeaten forever. Every request must end with exactly one answer.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import torch
from PIL import Image

from bot.config import Settings, parse_settings
from bot.continuous import ContinuousWorker
from bot.domain import NewRequest, Options, Platform, Status
from bot.worker import Worker
from storage import Store, open_store
from tests.bot.fakes import StandInPipeline, StandInSafety

SETTINGS = {
    "worker": {
        "lease_seconds": 1.5, "heartbeat_seconds": 0.3, "batch_size": 2, "poll_seconds": 0.05,
        "max_attempts": 3,
    },
}  # fmt: skip


@dataclass
class _Done:
    key: Hashable
    tokens: torch.Tensor  # (images, image_tokens)


class InstantBatcher:
    """A continuous batcher stand-in with two image slots: what was submitted finishes at the next step."""

    capacity = 2

    def __init__(self) -> None:
        self.waiting: list[tuple[Hashable, int]] = []

    @property
    def busy(self) -> bool:
        return bool(self.waiting)

    def submit(self, key: Hashable, prompt: str, *, images: int, **options: Any) -> None:
        self.waiting.append((key, images))

    def step(self) -> list[_Done]:
        done, self.waiting = self.waiting, []
        return [_Done(key, torch.zeros(images, 4, dtype=torch.long)) for key, images in done]


class TokenPipeline(StandInPipeline):
    def decode_tokens(self, tokens: torch.Tensor) -> list[Image.Image]:
        return [Image.new("RGB", (self.size, self.size), (10, 20, 30)) for _ in range(tokens.shape[0])]


class GatedSafety(StandInSafety):
    """The image gate waits for `gate`: the finishing thread holds a batch until the test lets it go."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()

    def check_image(self, image: Image.Image) -> Any:
        self.gate.wait(timeout=30)
        return super().check_image(image)


def _build(batching: str, store: Store, settings: Settings, safety: StandInSafety) -> Worker:
    pipeline = TokenPipeline()
    if batching == "static":
        return Worker(store, lambda: pipeline, safety, settings, worker_id="w1")  # type: ignore[arg-type]
    return ContinuousWorker(
        store, lambda: pipeline, safety, settings, worker_id="w1",  # type: ignore[arg-type]
        make_batcher=lambda _pipeline: InstantBatcher(),
    )  # fmt: skip


def _enqueue(store: Store, n: int) -> int:
    new = NewRequest(Platform.WEB, f"e{n}", f"u{n}", f"prompt {n}", options=Options(seed=n))
    return store.enqueue(new, quota=None, queue_cap=None).request_id  # type: ignore[union-attr]


def _wait(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting: {what}"
        time.sleep(0.02)


@pytest.mark.parametrize("batching", ["static", "continuous"])
def test_a_write_lock_held_through_the_hand_off_strands_no_request(tmp_path: Path, batching: str) -> None:
    path = tmp_path / "queue.db"
    store = open_store(f"sqlite:///{path}", busy_timeout=0.3, backoff_seconds=0.05, max_attempts=3)
    ids = [_enqueue(store, n) for n in range(4)]
    safety = GatedSafety()
    worker = _build(batching, store, parse_settings(SETTINGS), safety)
    worker.start()
    try:
        # batch 1 waits at the image gate; batch 2 is claimed, generated and waits to be handed off
        _wait(lambda: store.count_requests(Status.RUNNING) == 4, 10, "both batches to be claimed")
        time.sleep(0.2)
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another process's long write: past every retry
        try:
            safety.gate.set()  # both batches are stored into the held lock
            _wait(lambda: not worker.claims.held(), 15, "the worker to let go of its claims")
            time.sleep(0.4)  # its last write attempt runs into the lock as well
        finally:
            other.execute("ROLLBACK")
            other.close()
        # leases expire, the worker's own reaper re-queues them, it generates them again
        _wait(
            lambda: all(store.get_request(i).status is Status.DONE for i in ids),  # type: ignore[union-attr]
            20,
            "every request to be done",
        )
    finally:
        safety.gate.set()
        worker.stop(5)
    assert store.count_requests(Status.RUNNING) == 0 and not worker.claims.held()
    answers = store.pending_deliveries(Platform.WEB, limit=100)
    assert sorted(d.request.id for d in answers) == ids  # exactly one answer each
    assert {d.kind for d in answers} == {"image"}
    assert {store.get_request(i).attempts for i in ids} == {2}  # type: ignore[union-attr]
    store.close()


def test_stop_releases_claims_still_held(tmp_path: Path) -> None:
    """A worker stopped while its batch cannot finish hands every claim back, attempt not counted."""
    store = open_store(f"sqlite:///{tmp_path / 'queue.db'}")
    settings = parse_settings(SETTINGS)
    request_id = _enqueue(store, 1)
    pipeline = TokenPipeline()
    pipeline.gate = threading.Event()  # never set: generation hangs
    worker = Worker(store, lambda: pipeline, StandInSafety(), settings, worker_id="w1")  # type: ignore[arg-type]
    worker.start()
    assert pipeline.entered.wait(10)
    worker.stop(0.2)
    stored = store.get_request(request_id)
    assert stored is not None and (stored.status, stored.attempts) == (Status.QUEUED, 0)
    assert not worker.claims.held()
    pipeline.gate.set()
    store.close()
