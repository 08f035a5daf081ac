"""The GPU worker: claim → generate (batched) → image gate → store result + outbox entry.

One thread owns the pipeline (and so the GPU): it loads it, and every generation call happens on
it. A finishing thread runs the image gate, PNG encoding and the storing of one batch while the
GPU thread generates the next. A small third thread heartbeats the leases of the requests in
hand, so a long batch is never mistaken for a dead worker, while a killed worker's leases expire
and storage re-queues them (at-least-once; fencing tokens drop a zombie's late result).

A claim is owned until it is completed, failed or released, on every path: when storing a batch
fails (the database locked, full, unreachable), its requests are given back — re-queued with the
attempt counted, or failed with a plain reason after the last one — and when storage cannot even
take them back, they stop being heartbeaten, so their leases expire and the reaper re-queues them.
The static and the continuous worker share that one path (`_hand_off` → `_finish_all`).

Requests claimed together are grouped by the options that must be shared within one pipeline call
(images per prompt, top_k, temperature, cond_scale); each group is one call with one seed per
request. When a batched call raises, each request is retried alone, so one poison request fails
by itself (after the configured attempts) while the others complete.
"""

from __future__ import annotations

import logging
import math
import os
import random
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, TypeVar

from PIL import Image

from bot.batches import BatchKey, ImagePipeline, batch_key
from bot.claims import HeldClaims
from bot.config import Settings
from bot.image_gate import gate_images
from bot.metrics import Metrics
from bot.previews import Previews
from bot.vocabulary import GENERATION_FAILED
from storage.errors import StorageError, StorageUnavailable
from storage.outage import log_failure

if TYPE_CHECKING:
    from bot.progress import ProgressBoard
    from bot.safety.filter import SafetyFilter
    from storage import Claim, Completion, Store

log = logging.getLogger(__name__)
T = TypeVar("T")

STORE_TRIES = 2  # storing a finished batch: tries before its requests are given back


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{random.randrange(16**6):06x}"


class Worker:
    """Claims and generates in its own thread; `start` returns once the pipeline is loaded."""

    def __init__(
        self,
        store: Store,
        load_pipeline: Callable[[], ImagePipeline],
        safety: SafetyFilter,
        settings: Settings,
        *,
        worker_id: str | None = None,
        metrics: Metrics | None = None,
        on_completed: Callable[[], None] | None = None,
        rng: random.Random | None = None,
        progress: ProgressBoard | None = None,
    ) -> None:
        self.store = store
        self.safety = safety
        self.progress = progress  # steps and previews of what is being generated, for front ends
        self._previews = None if progress is None else Previews(progress, safety, settings.worker)
        self.settings = settings
        self.worker_id = worker_id or default_worker_id()
        self.metrics = metrics or Metrics()
        self._load_pipeline = load_pipeline
        self._pipeline: ImagePipeline | None = None
        self._on_completed = on_completed  # wakes the delivery loop of this process
        self._rng = rng or random.SystemRandom()
        self._stop = threading.Event()
        self._force = threading.Event()
        self._wake = threading.Event()
        self._beats_done = threading.Event()
        self.claims = HeldClaims(store, self.worker_id, settings.worker.lease_seconds)
        self._thread: threading.Thread | None = None
        self._finisher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dallebot-finish")
        self._finishing: Future[None] | None = None
        self._heartbeat_thread: threading.Thread | None = None
        self._last_reap = -math.inf

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        """Load the pipeline on the worker thread and begin claiming; raise if loading fails."""
        loaded: Future[None] = Future()
        self._thread = threading.Thread(target=self._main, args=(loaded,), name="dallebot-gpu", daemon=True)
        self._thread.start()
        loaded.result()  # re-raises the loading error here, in the caller
        self._heartbeat_thread = threading.Thread(
            target=self._heartbeat_loop, name="dallebot-heartbeat", daemon=True
        )
        self._heartbeat_thread.start()
        log.info("worker %s started (batch size %d)", self.worker_id, self.settings.worker.batch_size)

    def wake(self) -> None:
        """A request was enqueued: claim now rather than at the next poll."""
        self._wake.set()

    def stop(self, grace_seconds: float | None = None) -> None:
        """Stop claiming; let the running call finish within `grace_seconds`, else release its claims."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            deadline = math.inf if grace_seconds is None else time.monotonic() + grace_seconds
            while self._thread.is_alive() and not self._force.is_set() and time.monotonic() < deadline:
                self._thread.join(min(0.1, max(0.0, deadline - time.monotonic())))
            if self._thread.is_alive():
                self._beats_done.set()
                released = self.release_in_flight()
                log.warning(
                    "worker %s: stopped mid-generation; released %d request(s)", self.worker_id, released
                )
        if self._heartbeat_thread is not None:
            self._heartbeat_thread.join()
        if released := self.release_in_flight():  # nothing held outlives the worker
            log.warning("worker %s: released %d request(s) still held at stop", self.worker_id, released)
        log.info("worker %s stopped", self.worker_id)

    def force_stop(self) -> None:
        """Cut a `stop` short: the running call's claims are released now (a second Ctrl-C)."""
        self._force.set()

    def release_in_flight(self) -> int:
        """Hand every claim this worker holds back to the queue (the attempt is not counted)."""
        return self.claims.release_all()

    def _main(self, loaded: Future[None]) -> None:
        try:
            self._pipeline = self._load_pipeline()
            if self._previews is not None:
                self._previews.calibrate(self._pipeline)  # one token row through the VQGAN
        except BaseException as error:  # handed to start()'s caller, which reports it
            loaded.set_exception(error)
            return
        loaded.set_result(None)
        try:
            # After stop, work already started is finished (a subclass may hold some between rounds).
            while not self._stop.is_set() or self._busy():
                self._wake.clear()  # before claiming: a wake-up during the claim is not lost
                try:
                    worked = self._owned_round()  # its results are stored while the next batch generates
                except Exception:
                    log_failure(log, "worker %s: round failed; continuing", self.worker_id)
                    worked = 0
                # A short batch drained the queue: claiming again at once would only take SQLite's
                # write lock from the delivery loop. Wait for a wake-up (a submit here) or the poll.
                if worked < self.settings.worker.batch_size and not self._busy():
                    self._drain_logged()
                    self._wake.wait(self.settings.worker.poll_seconds)
        finally:
            self._drain_logged()
            self._finisher.shutdown(wait=True)
            self._beats_done.set()

    def _drain_logged(self) -> None:
        try:
            self.drain()
        except Exception:  # _finish_all settles its own errors: this is a bug, not an outage
            log.exception("worker %s: finishing a batch failed", self.worker_id)

    def _heartbeat_loop(self) -> None:
        # Beats on after stop() while the last batch finishes, so its lease never lapses mid-call.
        while not self._beats_done.wait(self.settings.worker.heartbeat_seconds):
            self.heartbeat()

    # -- one round ------------------------------------------------------------------------------

    def heartbeat(self) -> None:
        """Extend the lease of every claim being generated; note the ones lost to another worker."""
        for claim in self.claims.held():
            try:
                alive = self.store.heartbeat(claim, self.settings.worker.lease_seconds)
            except Exception:
                log_failure(log, "heartbeat for request %d failed", claim.request_id)
                continue
            if not alive:
                log.warning(
                    "request %d: lease lost to another worker; its result will be dropped", claim.request_id
                )
                self.claims.mark_lost(claim.request_id)

    def run_once(self) -> int:
        """Claim up to a batch, generate it, and wait until its results are stored; return how many."""
        try:
            return self._owned_round()
        finally:
            self.drain()

    def _owned_round(self) -> int:
        """`_round`, and when it raises, every claim it held and did not hand on is given back."""
        try:
            return self._round()
        except BaseException as error:
            orphans = self.claims.orphans(self._held_between_rounds())
            self.claims.give_back(orphans, f"round failed ({_short(error)})", message=GENERATION_FAILED)
            raise

    def _held_between_rounds(self) -> set[int]:
        """Request ids a subclass keeps between rounds (the continuous batcher's); none here."""
        return set()

    def drain(self) -> None:
        """Wait until the batch being gated and stored (on the finishing thread) is done."""
        pending, self._finishing = self._finishing, None
        if pending is not None:
            pending.result()

    def _busy(self) -> bool:
        """Work held between rounds that must finish before the worker exits (none here)."""
        return False

    def _reap_now_and_then(self) -> None:
        now = time.monotonic()
        if now - self._last_reap >= self.settings.worker.lease_seconds / 2:
            self._last_reap = now
            self.store.reap()  # it logs each request it re-queued or failed, after committing

    def _round(self) -> int:
        """Reap expired leases now and then, claim up to a batch, generate it; return how many."""
        if self._pipeline is None:
            self._pipeline = self._load_pipeline()
        self._reap_now_and_then()
        claims = self.store.claim(
            self.worker_id,
            limit=self.settings.worker.batch_size,
            lease_seconds=self.settings.worker.lease_seconds,
        )
        if not claims:
            return 0
        self.claims.hold(claims)
        groups: dict[BatchKey, list[Claim]] = {}
        for claim in claims:
            groups.setdefault(self._batch_key(claim), []).append(claim)
        for key, group in groups.items():
            if self._stop.is_set():  # shutting down: what has not started goes back to the queue
                self.claims.release(group)
                continue
            self._generate(key, group)
        return len(claims)

    def _batch_key(self, claim: Claim) -> BatchKey:
        """The request's options, else generation.defaults, else the model's own sampling settings."""
        return batch_key(claim.request.options, self.settings.generation.defaults, self._pipeline)

    def _generate(self, key: BatchKey, group: list[Claim]) -> None:
        assert self._pipeline is not None
        seeds = [
            claim.request.options.seed
            if claim.request.options.seed is not None
            else self._rng.randrange(2**31)
            for claim in group
        ]
        started = time.perf_counter()
        tracker = None if self._previews is None else self._previews.tracker(self._pipeline, key, group)
        try:
            images = self._pipeline(
                [claim.request.prompt for claim in group],
                images_per_prompt=key.images,
                seed=seeds,
                top_k=key.top_k,
                temperature=key.temperature,
                cond_scale=key.cond_scale,
                **({"on_step": tracker} if tracker is not None else {}),
            )
            if len(images) != len(group) * key.images:
                raise RuntimeError(f"pipeline returned {len(images)} images for {len(group)}×{key.images}")
        except Exception as error:
            if tracker is not None:
                tracker.close()
            if len(group) > 1:  # find the request that fails; the others should not pay for it
                log.warning("batch of %d failed (%s); retrying each request alone", len(group), error)
                for claim in group:
                    self._generate(key, [claim])
                return
            claim = group[0]
            log.warning(
                "request %d: generation failed: %s: %s", claim.request_id, type(error).__name__, error
            )
            self.claims.fail(claim, GENERATION_FAILED, retryable=True)
            return
        seconds = time.perf_counter() - started
        self.metrics.generation_seconds.observe(seconds)
        self.metrics.batch_size.observe(len(group))
        self._hand_off(
            [(claim, images[i * key.images : (i + 1) * key.images], seconds) for i, claim in enumerate(group)]
        )

    def _hand_off(self, results: list[tuple[Claim, list[Image.Image], float]]) -> None:
        """Image gate, PNG and storing go to the finishing thread, so the GPU can start on more.

        At most one hand-off waits there; the claims in it stay heartbeaten until settled."""
        self.drain()
        self.claims.hand_off(claim for claim, _, _ in results)
        self._finishing = self._finisher.submit(self._finish_all, results)

    def _finish_all(self, results: list[tuple[Claim, list[Image.Image], float]]) -> None:
        """Gate every result of the batch, then store the ones to post in one transaction.

        Never raises: whatever fails, every claim of the batch ends completed, failed or given back."""
        claims = [claim for claim, _, _ in results]
        try:
            completions = [
                completion
                for claim, images, seconds in results
                if (completion := self._judge(claim, images, seconds)) is not None
            ]
            if completions:
                self._store(completions)
        except Exception as error:
            if isinstance(error, StorageError):
                self.claims.give_back(claims, f"storing a batch failed ({_short(error)})")
            else:  # a bug in gating or encoding, not an outage: in full, and no talk of storage to users
                log.exception("worker %s: finishing a batch failed", self.worker_id)
                self.claims.give_back(claims, "finishing a batch failed", message=GENERATION_FAILED)
        finally:
            self.claims.hand_off(claims, done=True)
            if self.progress is not None:
                self.progress.end([claim.request_id for claim in claims])
            if self._on_completed is not None:
                self._on_completed()

    def _judge(self, claim: Claim, images: list[Image.Image], seconds: float) -> Completion | None:
        """Image gate (fail-closed): the result to store, or None when the request was failed here."""
        from storage import Completion

        gated = gate_images(self.safety, claim.request, images)
        if gated.png is None:
            assert gated.failure is not None
            records = list(gated.safety) or None
            self.claims.fail(claim, gated.failure, retryable=gated.retryable, safety=records)
            return None
        return Completion(claim, gated.png, seconds, gated.safety)

    def _store(self, completions: list[Completion]) -> None:
        """The batch's results and outbox entries in one transaction, each fenced by its own claim.

        A database that cannot take it (locked, unreachable) is tried again; then it raises."""
        written = self._retrying(lambda: self.store.complete_many(completions), STORE_TRIES)
        lost = self.claims.settled(completion.claim for completion in completions)
        for completion, stored in zip(completions, written, strict=True):
            if not stored:
                request_id = completion.claim.request_id
                log.warning(
                    "request %d: result dropped, another worker holds it%s",
                    request_id,
                    " (lease was lost)" if request_id in lost else "",
                )

    def _retrying(self, call: Callable[[], T], tries: int) -> T:
        """`call()`, tried again after a short pause while storage is unavailable (not on other errors)."""
        for attempt in range(1, tries + 1):
            try:
                return call()
            except StorageUnavailable:
                if attempt == tries or self._force.is_set():
                    raise
                time.sleep(0.5 * attempt)
        raise AssertionError("unreachable")


def _short(error: BaseException) -> str:
    """An error's kind for a log line: a storage error's cause, else its type."""
    return getattr(error, "cause", None) or type(error).__name__
