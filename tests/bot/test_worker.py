"""The worker against a real SQLite store: batching, the image gate, poison jobs, shutdown, kills."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image

from bot.config import Settings
from bot.domain import NewRequest, Options, Platform, Status
from bot.vocabulary import GENERATION_FAILED, IMAGE_BLOCKED, IMAGE_GATE_UNAVAILABLE
from bot.worker import Worker
from generation.images import GUTTER
from storage import Claim, DeliveryKind, ImageAction, Store, open_store
from tests.bot.fakes import FakeClock, StandInPipeline, StandInSafety

REPO = Path(__file__).resolve().parents[2]


def enqueue(
    store: Store,
    n: int | str,
    prompt: str = "a red fox",
    *,
    platform: Platform = Platform.WEB,
    reply_to: dict[str, str] | None = None,
    **options: object,
) -> int:
    outcome = store.enqueue(
        NewRequest(platform, f"e{n}", f"u{n}", prompt, reply_to=reply_to or {}, options=Options(**options)),  # type: ignore[arg-type]
        quota=None,
        queue_cap=None,
    )
    return outcome.request_id  # type: ignore[union-attr]


def make_worker(store: Store, pipeline: StandInPipeline, safety: StandInSafety, settings: Settings) -> Worker:
    return Worker(store, lambda: pipeline, safety, settings, worker_id="w1")  # type: ignore[arg-type]


def pixel(store: Store, request_id: int) -> tuple[int, int, int]:
    png = store.get_image(request_id)
    assert png is not None
    return Image.open(BytesIO(png)).convert("RGB").getpixel((0, 0))  # type: ignore[return-value]


def test_three_queued_requests_run_in_one_call_each_with_its_own_image(
    store: Store, pipeline: StandInPipeline, safety: StandInSafety, settings: Settings
) -> None:
    ids = [enqueue(store, n, f"prompt {n}", seed=100 + n) for n in range(3)]
    assert make_worker(store, pipeline, safety, settings).run_once() == 3
    assert len(pipeline.calls) == 1
    call = pipeline.calls[0]
    assert call.prompts == ["prompt 0", "prompt 1", "prompt 2"]
    assert call.seeds == [100, 101, 102]
    for n, request_id in enumerate(ids):
        request = store.get_request(request_id)
        assert request is not None and request.status is Status.DONE
        assert pixel(store, request_id) == StandInPipeline.colour(f"prompt {n}", 100 + n)
    deliveries = store.pending_deliveries(Platform.WEB)
    assert sorted(d.request.id for d in deliveries) == ids and {d.kind for d in deliveries} == {"image"}
    assert safety.image_checks == 3


def test_unseeded_requests_in_one_batch_get_different_seeds(
    store: Store, pipeline: StandInPipeline, safety: StandInSafety, settings: Settings
) -> None:
    for n in range(3):
        enqueue(store, n, "the same prompt")
    make_worker(store, pipeline, safety, settings).run_once()
    assert len(set(pipeline.calls[0].seeds)) == 3


def test_requests_with_different_options_are_separate_calls_and_grids_are_tiled(
    store: Store, pipeline: StandInPipeline, safety: StandInSafety, settings: Settings
) -> None:
    one = enqueue(store, 1, seed=1)
    four = enqueue(store, 2, seed=2, images=4)
    hot = enqueue(store, 3, seed=3, temperature=1.5)
    make_worker(store, pipeline, safety, settings).run_once()
    assert sorted((len(c.prompts), c.images_per_prompt, c.temperature) for c in pipeline.calls) == [
        (1, 1, 0.7),
        (1, 1, 1.5),
        (1, 4, 0.7),
    ]
    # 8×8 stand-in images are posted at 256×256 each: a 2×2 grid with its gutter, and a single picture
    assert Image.open(BytesIO(store.get_image(four))).size == (512 + GUTTER, 512 + GUTTER)  # type: ignore[arg-type]
    assert Image.open(BytesIO(store.get_image(one))).size == (256, 256)  # type: ignore[arg-type]
    assert store.get_request(hot).status is Status.DONE  # type: ignore[union-attr]


def test_poison_request_fails_after_max_attempts_while_others_continue(
    store: Store,
    safety: StandInSafety,
    settings: Settings,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Row 18: generation raises every time for one request; the user is told once, in plain words
    (the exception text goes only to the log, with the request id); others finish."""
    pipeline = StandInPipeline(fail_on="poison")
    worker = make_worker(store, pipeline, safety, settings)
    poison = enqueue(store, "p", "poison apple")
    good = [enqueue(store, 1, "good 1"), enqueue(store, 2, "good 2")]
    worker.run_once()
    assert [store.get_request(i).status for i in good] == [Status.DONE, Status.DONE]  # type: ignore[union-attr]
    for round_ in range(2, 5):
        clock.advance(3600)  # past the retry backoff
        good.append(enqueue(store, 10 + round_, f"good {round_}"))
        worker.run_once()
    request = store.get_request(poison)
    assert request is not None and request.status is Status.FAILED
    assert request.attempts == settings.worker.max_attempts
    assert request.last_error == GENERATION_FAILED  # what the user reads: no exception text
    assert f"request {poison}: generation failed: RuntimeError: CUDA out of memory" in caplog.text
    assert all(store.get_request(i).status is Status.DONE for i in good)  # type: ignore[union-attr]
    failures = [d for d in store.pending_deliveries(Platform.WEB, limit=100) if d.kind == "failure"]
    assert [d.request.id for d in failures] == [poison]


def test_flagged_image_is_blocked_and_user_told(
    store: Store, safety: StandInSafety, settings: Settings
) -> None:
    pipeline = StandInPipeline(red_on="crimson")
    blocked = enqueue(store, 1, "crimson")
    make_worker(store, pipeline, safety, settings).run_once()
    request = store.get_request(blocked)
    assert request is not None and request.status is Status.FAILED
    assert store.get_image(blocked) is None
    (delivery,) = store.pending_deliveries(Platform.WEB)
    assert delivery.kind == "failure" and delivery.message == IMAGE_BLOCKED
    assert [d["action"] for d in store.safety_decisions(blocked)] == ["block"]


def test_flagged_image_in_an_allowed_nsfw_channel_is_never_posted_without_its_spoiler(
    store: Store, safety: StandInSafety, settings: Settings
) -> None:
    pipeline = StandInPipeline(red_on="crimson")
    request_id = enqueue(store, 1, "crimson", platform=Platform.DISCORD, reply_to={"nsfw": "true"})
    worker = make_worker(store, pipeline, safety, settings)
    worker.run_once()
    request = store.get_request(request_id)
    (delivery,) = store.pending_deliveries(Platform.DISCORD)
    assert request is not None and request.status is Status.DONE
    assert delivery.kind is DeliveryKind.IMAGE and delivery.image_action is ImageAction.SPOILER
    assert delivery.message is None  # the delivery says what it is in its fields, not in words
    assert [d["action"] for d in store.safety_decisions(request_id)] == ["spoiler"]


def test_a_flagged_tile_of_a_grid_is_blanked_and_the_rest_posted(
    store: Store, safety: StandInSafety, settings: Settings
) -> None:
    class OneRedTile(StandInPipeline):
        def __call__(self, prompts, **options):  # type: ignore[no-untyped-def]
            images = super().__call__(prompts, **options)
            images[1] = Image.new("RGB", images[1].size, (255, 0, 0))
            return images

    request_id = enqueue(store, 1, "four foxes", seed=1, images=4)
    make_worker(store, OneRedTile(), safety, settings).run_once()
    sheet = Image.open(BytesIO(store.get_image(request_id))).convert("RGB")  # type: ignore[arg-type]
    assert sheet.getpixel((0, 0)) == StandInPipeline.colour("four foxes", 1, 0)
    assert sheet.getpixel((256 + GUTTER, 0)) == (128, 128, 128)  # the flagged tile, blanked
    assert [d["action"] for d in store.safety_decisions(request_id)] == ["post", "block", "post", "post"]


def test_image_gate_failure_is_fail_closed(
    store: Store, pipeline: StandInPipeline, settings: Settings
) -> None:
    safety = StandInSafety()
    safety.unavailable = True
    request_id = enqueue(store, 1)
    make_worker(store, pipeline, safety, settings).run_once()
    request = store.get_request(request_id)
    assert request is not None and request.status is Status.QUEUED  # retried later, never posted
    assert request.last_error == IMAGE_GATE_UNAVAILABLE
    assert store.get_image(request_id) is None
    assert store.pending_deliveries(Platform.WEB) == []


def test_a_lost_lease_drops_the_late_result(
    store: Store, pipeline: StandInPipeline, safety: StandInSafety, settings: Settings, clock: FakeClock
) -> None:
    """Row 4: a paused worker's late write changes nothing once another worker holds the request."""
    request_id = enqueue(store, 1, seed=5)
    pipeline.gate = threading.Event()
    slow = make_worker(store, pipeline, safety, settings)
    runner = threading.Thread(target=slow.run_once)
    runner.start()
    assert pipeline.entered.wait(10)
    clock.advance(settings.worker.lease_seconds + 1)
    assert store.reap() == 1
    slow.heartbeat()  # notices the loss
    clock.advance(3600)
    other = Worker(store, StandInPipeline, safety, settings, worker_id="w2")  # type: ignore[arg-type]
    assert other.run_once() == 1
    pipeline.gate.set()
    runner.join(10)
    request = store.get_request(request_id)
    assert request is not None and request.status is Status.DONE and request.attempts == 2
    assert len(store.pending_deliveries(Platform.WEB)) == 1


def test_a_batch_is_stored_in_one_call_and_a_claim_lost_meanwhile_is_dropped(
    store: Store, pipeline: StandInPipeline, safety: StandInSafety, settings: Settings, monkeypatch
) -> None:
    kept, stolen = enqueue(store, 1, seed=5), enqueue(store, 2, seed=6)
    claimed: list[Claim] = []
    stored: list[tuple[list[int], list[bool]]] = []
    claim, complete_many = store.claim, store.complete_many

    def spy_claim(*args, **kwargs):  # type: ignore[no-untyped-def]
        claimed.extend(claims := claim(*args, **kwargs))
        return claims

    def spy_complete_many(completions):  # type: ignore[no-untyped-def]
        written = complete_many(completions)
        stored.append(([c.claim.request_id for c in completions], written))
        return written

    monkeypatch.setattr(store, "claim", spy_claim)
    monkeypatch.setattr(store, "complete_many", spy_complete_many)
    pipeline.gate = threading.Event()
    runner = threading.Thread(target=make_worker(store, pipeline, safety, settings).run_once)
    runner.start()
    assert pipeline.entered.wait(10)
    assert store.release(next(c for c in claimed if c.request_id == stolen))  # e.g. an operator's requeue
    other = Worker(store, StandInPipeline, safety, settings, worker_id="w2")  # type: ignore[arg-type]
    assert other.run_once() == 1
    pipeline.gate.set()
    runner.join(10)
    assert stored == [([stolen], [True]), ([kept, stolen], [True, False])]
    for request_id in (kept, stolen):
        request = store.get_request(request_id)
        assert request is not None and request.status is Status.DONE
    assert sorted(d.request.id for d in store.pending_deliveries(Platform.WEB)) == [kept, stolen]
    assert [d["action"] for d in store.safety_decisions(stolen)] == ["post"]  # only the stored result's


def test_stop_during_a_job_lets_it_finish(
    store: Store, pipeline: StandInPipeline, safety: StandInSafety, settings: Settings
) -> None:
    """Row 17, graceful: the running batch completes before the worker exits."""
    request_id = enqueue(store, 1)
    pipeline.gate = threading.Event()
    worker = make_worker(store, pipeline, safety, settings)
    worker.start()
    assert pipeline.entered.wait(10)
    threading.Timer(0.2, pipeline.gate.set).start()
    worker.stop(grace_seconds=10)
    assert store.get_request(request_id).status is Status.DONE  # type: ignore[union-attr]


def test_stop_past_the_grace_releases_the_job_unposted(
    store: Store, pipeline: StandInPipeline, safety: StandInSafety, settings: Settings
) -> None:
    """Row 17, impatient: the job goes back to the queue, its attempt not counted; nothing is posted."""
    request_id = enqueue(store, 1)
    pipeline.gate = threading.Event()
    worker = make_worker(store, pipeline, safety, settings)
    worker.start()
    assert pipeline.entered.wait(10)
    worker.stop(grace_seconds=0.05)
    request = store.get_request(request_id)
    assert request is not None and request.status is Status.QUEUED and request.attempts == 0
    pipeline.gate.set()  # the abandoned call returns late: its result is fenced out
    assert worker._thread is not None
    worker._thread.join(10)
    assert store.get_request(request_id).status is Status.QUEUED  # type: ignore[union-attr]
    assert store.pending_deliveries(Platform.WEB) == []


CHILD = textwrap.dedent(
    """
    import sys, threading
    from pathlib import Path
    from bot.config import parse_settings
    from bot.worker import Worker
    from storage import open_store
    from tests.bot.fakes import StandInPipeline, StandInSafety

    url, marker = sys.argv[1], Path(sys.argv[2])
    pipeline = StandInPipeline()
    pipeline.gate = threading.Event()  # never set: the job hangs until the process is killed
    original = pipeline.__call__
    def call(*args, **kwargs):
        marker.write_text("generating")
        return original(*args, **kwargs)
    settings = parse_settings({"worker": {"lease_seconds": 30, "heartbeat_seconds": 5}})
    Worker(open_store(url), lambda: call, StandInSafety(), settings, worker_id="doomed").run_once()
    """
)


def test_worker_killed_mid_job_is_requeued_and_posted_once(
    tmp_path: Path, pipeline: StandInPipeline, safety: StandInSafety, settings: Settings
) -> None:
    """Row 1: SIGKILL a real worker process mid-generation; another worker finishes it, attempts = 2."""
    url = f"sqlite:///{tmp_path / 'kill.db'}"
    from datetime import UTC, datetime

    clock = FakeClock(datetime.now(UTC))
    store = open_store(url, clock=clock, max_attempts=3)
    request_id = enqueue(store, 1, seed=9)
    marker = tmp_path / "generating"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, url, str(marker)], cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():  # waiting for the child to reach the pipeline, not for a lease
            assert child.poll() is None, "worker process exited early"
            assert time.monotonic() < deadline, "worker process never started generating"
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
    assert store.get_request(request_id).status is Status.RUNNING  # type: ignore[union-attr]
    clock.now = datetime.now(UTC)  # the child claimed on the real clock
    clock.advance(31)  # the lease expires: time is moved, not waited for
    assert store.reap() == 1
    clock.advance(3600)
    assert make_worker(store, pipeline, safety, settings).run_once() == 1
    request = store.get_request(request_id)
    assert request is not None and request.status is Status.DONE and request.attempts == 2
    assert [d.kind for d in store.pending_deliveries(Platform.WEB)] == ["image"]
    store.close()


def test_next_batch_generates_while_the_last_one_is_gated_and_stored(
    store: Store, safety: StandInSafety, settings: Settings
) -> None:
    """The GPU thread does not wait for the CPU work (image gate, PNG, storing) of the batch before."""
    settings = settings.model_copy(update={"worker": settings.worker.model_copy(update={"batch_size": 1})})
    second_call = threading.Event()
    gate_open = threading.Event()

    class Pipeline(StandInPipeline):
        def __call__(self, prompts, **options):  # type: ignore[no-untyped-def]
            images = super().__call__(prompts, **options)
            if len(self.calls) == 2:
                second_call.set()
            return images

    class SlowGate(StandInSafety):
        def check_image(self, image):  # type: ignore[no-untyped-def]
            gate_open.wait(10)
            return super().check_image(image)

    first, second = enqueue(store, 1), enqueue(store, 2)
    worker = make_worker(store, Pipeline(), SlowGate(), settings)
    worker.start()
    try:
        assert second_call.wait(10), "the second batch waited for the first one's image gate"
        assert store.get_request(first).status is Status.RUNNING  # type: ignore[union-attr]
        gate_open.set()
    finally:
        gate_open.set()
        worker.stop(grace_seconds=10)
    assert [store.get_request(i).status for i in (first, second)] == [Status.DONE, Status.DONE]  # type: ignore[union-attr]


def test_leases_are_still_heartbeaten_while_a_stopping_worker_finishes_its_batch(
    store: Store, pipeline: StandInPipeline, safety: StandInSafety, settings: Settings, clock: FakeClock
) -> None:
    settings = settings.model_copy(
        update={"worker": settings.worker.model_copy(update={"heartbeat_seconds": 0.01, "lease_seconds": 30})}
    )
    request_id = enqueue(store, 1)
    pipeline.gate = threading.Event()
    beat = threading.Event()
    original = store.heartbeat

    def heartbeat(claim, lease_seconds):  # type: ignore[no-untyped-def]
        alive = original(claim, lease_seconds)
        beat.set()
        return alive

    store.heartbeat = heartbeat  # type: ignore[method-assign]
    worker = make_worker(store, pipeline, safety, settings)
    worker.start()
    assert pipeline.entered.wait(10)
    stopping = threading.Thread(target=worker.stop, kwargs={"grace_seconds": 30})
    stopping.start()
    for _ in range(3):  # a long last batch: time passes, the stopping worker keeps its lease
        clock.advance(25)
        beat.clear()
        assert beat.wait(10), "no heartbeat while the last batch runs"
        beat.clear()
        assert beat.wait(10)  # one full beat after the clock moved
    assert store.reap() == 0
    pipeline.gate.set()
    stopping.join(10)
    assert store.get_request(request_id).status is Status.DONE  # type: ignore[union-attr]


def test_unset_options_come_from_config_then_from_the_model(
    store: Store, safety: StandInSafety, settings: Settings
) -> None:
    from types import SimpleNamespace

    pipeline = StandInPipeline()
    pipeline.config = SimpleNamespace(sampling=SimpleNamespace(top_k=7, temperature=0.9, cond_scale=2.0))  # type: ignore[attr-defined]
    enqueue(store, 1, "model's own")
    enqueue(store, 2, "asked for", cond_scale=4.0)
    make_worker(store, pipeline, safety, settings).run_once()
    configured = settings.model_copy(
        update={"generation": settings.generation.model_copy(
            update={"defaults": settings.generation.defaults.model_copy(update={"cond_scale": 3.0})}
        )}
    )  # fmt: skip
    enqueue(store, 3, "configured")
    make_worker(store, pipeline, safety, configured).run_once()
    used = {call.prompts[0]: (call.top_k, call.temperature, call.cond_scale) for call in pipeline.calls}
    assert used == {"model's own": (7, 0.9, 2.0), "asked for": (7, 0.9, 4.0), "configured": (7, 0.9, 3.0)}


def test_a_grid_samples_at_the_models_grid_temperature_unless_told_otherwise(
    store: Store, safety: StandInSafety, settings: Settings
) -> None:
    from types import SimpleNamespace

    from generation.config import SamplingConfig

    pipeline = StandInPipeline()
    pipeline.config = SimpleNamespace(  # type: ignore[attr-defined]
        sampling=SamplingConfig(top_k=50, temperature=0.2, cond_scale=1.25, grid_temperature=0.6)
    )
    enqueue(store, 1, seed=1)
    enqueue(store, 2, seed=2, images=4)
    enqueue(store, 3, seed=3, images=4, temperature=1.1)
    make_worker(store, pipeline, safety, settings).run_once()
    assert sorted((c.images_per_prompt, c.temperature) for c in pipeline.calls) == [
        (1, 0.2),
        (4, 0.6),
        (4, 1.1),
    ]
