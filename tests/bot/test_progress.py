"""Progress and previews: the board's ETA from measured throughput, the preview budget, and the
worker reporting steps and gated previews while it generates (issue 20)."""

from __future__ import annotations

import threading
from io import BytesIO

import pytest
from PIL import Image

from bot.config import Settings
from bot.progress import PreviewCosts, PreviewTracker, ProgressBoard
from bot.worker import Worker
from storage import Store
from tests.bot.fakes import StandInSafety, SteppingPipeline
from tests.bot.test_worker import enqueue


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_eta_comes_from_the_throughput_measured_so_far() -> None:
    clock = Clock()
    board = ProgressBoard(clock)
    board.begin([7], steps=256)
    view = board.view(7)
    assert view is not None and (view.step, view.steps, view.eta_seconds, view.preview_step) == (
        0,
        256,
        None,
        None,
    )
    clock.now = 2.0
    board.advance([7], 64)  # 64 steps in 2 s
    assert board.view(7).eta_seconds == 6.0  # type: ignore[union-attr]  # 192 more at that pace
    clock.now = 3.0
    assert board.view(7).eta_seconds == 5.0  # type: ignore[union-attr]  # and the clock runs on
    board.show(7, b"png", 64)
    assert board.preview(7) == (64, b"png") and board.view(7).preview_step == 64  # type: ignore[union-attr]
    board.end([7])
    assert board.view(7) is None and board.preview(7) is None


def tracker(clock: Clock, per_row: float, *, max_share: float = 0.10) -> tuple[PreviewTracker, list[int]]:
    """256 steps on a 16-wide grid, one image; decoding takes 1 s per 64 steps; a preview takes
    what the cost model says it will."""
    costs = PreviewCosts()
    costs.per_row = per_row
    shown: list[int] = []

    def publish(step: int, tokens: object) -> None:
        clock.now += per_row * (step // 16)
        shown.append(step)

    made = PreviewTracker(
        ProgressBoard(clock), [1], steps=256, grid=16, images=1, every=0.25, max_share=max_share,
        costs=costs, publish=publish, clock=clock,
    )  # fmt: skip
    return made, shown


def run(made: PreviewTracker, clock: Clock) -> None:
    for step in range(16, 257, 16):
        clock.now += 0.25  # 16 steps of decoding
        made(step, None)


def test_previews_at_every_quarter_when_they_are_cheap() -> None:
    clock = Clock()
    made, shown = tracker(clock, per_row=0.005)  # 0.02 s for a quarter's 4 rows, against ~4 s of decoding
    run(made, clock)
    assert shown == [64, 128, 192] and made.skipped == []
    assert made.spent <= 0.10 * clock.now


def test_previews_stay_within_their_share_of_the_call() -> None:
    clock = Clock()
    made, shown = tracker(clock, per_row=0.06)  # a quarter: 0.24 s, a half 0.48 s, three quarters 0.72 s
    run(made, clock)
    assert shown == [64] and made.skipped == [128, 192]  # the second would take previews past 10 %
    assert made.spent <= 0.10 * clock.now
    clock = Clock()
    made, shown = tracker(clock, per_row=0.06, max_share=0.0)
    run(made, clock)
    assert shown == [] and made.skipped == [64, 128, 192]


def test_the_cost_model_follows_what_previews_measure() -> None:
    costs = PreviewCosts()
    assert costs.estimate(4, 4) is None
    costs.learn(0.8, images=4, rows=4)  # no model yet: all of it per row
    assert costs.estimate(1, 1) == pytest.approx(0.05)
    costs.per_row, costs.per_image = 0.01, 0.1  # a row of VQGAN, and a gate + PNG per image
    assert costs.estimate(2, 4) == pytest.approx(2 * (0.04 + 0.1))
    costs.learn(0.84, images=2, rows=4)  # three times the estimate: the model moves halfway, to twice
    assert costs.estimate(2, 4) == pytest.approx(0.56)


@pytest.fixture
def settings() -> Settings:
    """No budget in the way: the tracker's budget is tested above; here, the worker's wiring."""
    from bot.config import parse_settings

    return parse_settings({"worker": {"preview_max_share": 1.0}})


def test_the_worker_reports_steps_and_gated_previews_while_it_generates(
    store: Store, safety: StandInSafety, settings: Settings
) -> None:
    board = ProgressBoard()
    pipeline = SteppingPipeline(every=16)
    pipeline.gate = threading.Event()
    worker = Worker(store, lambda: pipeline, safety, settings, worker_id="w1", progress=board)  # type: ignore[arg-type]
    request_id = enqueue(store, 1, seed=1, images=4)
    safety_checks = safety.image_checks
    seen: list[tuple[int, int | None]] = []
    runner = threading.Thread(target=worker.run_once)
    runner.start()
    assert pipeline.entered.wait(30)
    pipeline.gate.set()
    while runner.is_alive():
        view = board.view(request_id)
        if view is not None:
            seen.append((view.step, view.preview_step))
    runner.join()
    # one row at load, twice (a warm-up, then timed: the cost model's first figure), then a quarter,
    # a half and three quarters of 256 steps
    assert pipeline.previews == [16, 16, 64, 128, 192]
    # the calibration picture (twice), every preview tile, then the final pictures
    assert safety.image_checks - safety_checks == 2 + 4 * 3 + 4
    assert board.view(request_id) is None  # the board forgets a finished request
    assert seen and max(step for step, _ in seen) >= 192


def test_a_flagged_preview_tile_is_greyed_like_a_picture(
    store: Store, safety: StandInSafety, settings: Settings
) -> None:
    board = ProgressBoard()
    pipeline = SteppingPipeline(every=64, preview_colour=(255, 0, 0), size=256)  # pure red: the gate flags it
    shown: list[bytes] = []
    original = board.show
    board.show = lambda request_id, png, step: (shown.append(png), original(request_id, png, step))  # type: ignore[method-assign]
    worker = Worker(store, lambda: pipeline, safety, settings, worker_id="w1", progress=board)  # type: ignore[arg-type]
    enqueue(store, 1, seed=1, images=4)
    worker.run_once()
    assert pipeline.previews  # made, but never shown: every tile is flagged, so nothing passes the gate
    assert shown == []
    pipeline2 = SteppingPipeline(every=64)
    worker2 = Worker(store, lambda: pipeline2, safety, settings, worker_id="w2", progress=board)  # type: ignore[arg-type]
    enqueue(store, 2, seed=2, images=1)
    worker2.run_once()
    assert len(shown) == 3 and pipeline2.previews == [16, 16, 64, 128, 192]
    preview = Image.open(BytesIO(shown[0])).convert("RGB")
    assert preview.size == (256, 256)  # posted size (upsampled like a picture)
    r, g, b = preview.getpixel((128, 16))  # type: ignore[misc]
    assert g > 140 and r < 30 and b < 30  # the rows drawn so far
    assert preview.getpixel((128, 200)) == (128, 128, 128)  # the rows not yet drawn


def test_without_previews_configured_only_steps_are_reported(store: Store, safety: StandInSafety) -> None:
    from bot.config import parse_settings

    settings = parse_settings({"worker": {"preview_every": 0}})
    board = ProgressBoard()
    pipeline = SteppingPipeline(every=64)
    worker = Worker(store, lambda: pipeline, safety, settings, worker_id="w1", progress=board)  # type: ignore[arg-type]
    enqueue(store, 1, seed=1)
    worker.run_once()
    assert pipeline.previews == []
