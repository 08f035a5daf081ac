"""Where each request being generated stands: decoder steps done of the total, the ETA from the
throughput measured so far, and the latest preview (the tokens so far, decoded by the VQGAN).

Kept in the memory of the process that generates (`ProgressBoard`), read by the front ends of
the same process through the service. A front end in another process (`dallebot run
--workers 0` with `dallebot worker` machines sharing PostgreSQL) sees no board entries: its page
goes from the queue position to "generating" to the final picture, as before. Progress changes
every decoder step, so writing it to the shared database would cost a write per step per worker
for a picture that is thrown away seconds later; the chosen trade is to keep it local.

`PreviewTracker` decides, during one pipeline call, when a preview is worth making: at every
`every` fraction of the steps, unless its measured cost would take previews past `max_share`
of the call's projected time (the VQGAN is not always cheap: on a CPU it is a fifth of DALL·E
Mini's time). Its cost model (VQGAN seconds per image per token row, and per image the image
gate's and the PNG's) starts from one row decoded and gated at load (`calibrate`) and follows every
preview made.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)
Clock = Callable[[], float]


@dataclass(frozen=True)
class ProgressView:
    """One request's progress as a page or a waiting message shows it."""

    step: int
    steps: int
    eta_seconds: float | None  # None until a step has been timed
    preview_step: int | None  # the step of the latest preview; None: none yet


@dataclass
class _Entry:
    steps: int
    began: float
    step: int = 0
    stepped_at: float = 0.0
    preview: bytes | None = None
    preview_step: int | None = None


class ProgressBoard:
    """Thread-safe: the generating thread writes, the event loop's readers read."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[int, _Entry] = {}

    def begin(self, request_ids: Sequence[int], steps: int) -> None:
        now = self._clock()
        with self._lock:
            for request_id in request_ids:
                self._entries[request_id] = _Entry(steps, now, stepped_at=now)

    def advance(self, request_ids: Sequence[int], step: int) -> None:
        now = self._clock()
        with self._lock:
            for request_id in request_ids:
                entry = self._entries.get(request_id)
                if entry is not None:
                    entry.step, entry.stepped_at = step, now

    def show(self, request_id: int, png: bytes, step: int) -> None:
        with self._lock:
            entry = self._entries.get(request_id)
            if entry is not None:
                entry.preview, entry.preview_step = png, step

    def end(self, request_ids: Sequence[int]) -> None:
        with self._lock:
            for request_id in request_ids:
                self._entries.pop(request_id, None)

    def view(self, request_id: int) -> ProgressView | None:
        with self._lock:
            entry = self._entries.get(request_id)
            if entry is None:
                return None
            eta = None
            if entry.step > 0 and entry.stepped_at > entry.began:
                per_step = (entry.stepped_at - entry.began) / entry.step  # measured on this call
                eta = max(0.0, (entry.steps - entry.step) * per_step - (self._clock() - entry.stepped_at))
            return ProgressView(entry.step, entry.steps, eta, entry.preview_step)

    def preview(self, request_id: int) -> tuple[int, bytes] | None:
        """(step, PNG) of the latest preview, if any."""
        with self._lock:
            entry = self._entries.get(request_id)
            if entry is None or entry.preview is None or entry.preview_step is None:
                return None
            return entry.preview_step, entry.preview


class PreviewCosts:
    """What a preview costs: VQGAN seconds per image per token row, and per image the gate and the
    encoding; measured once at load (`calibrate`), then scaled by every preview made."""

    def __init__(self) -> None:
        self.per_row: float | None = None
        self.per_image = 0.0

    def calibrate(
        self,
        pipeline: Any,
        gate: Callable[[list[Any]], object] | None = None,
        clock: Clock = time.perf_counter,
    ) -> None:
        """Time one token row of one image through the VQGAN, then through `gate` (gate and PNG)."""
        import torch

        grid = pipeline.config.vqgan.grid
        row = torch.zeros(1, grid, dtype=torch.long)
        if gate is not None:
            gate(pipeline.decode_preview(row))  # warm up: first calls load and import what they need
        started = clock()
        pictures = pipeline.decode_preview(row)
        decoded = clock()
        if gate is not None:
            gate(pictures)
        self.per_row, self.per_image = decoded - started, clock() - decoded

    def learn(self, seconds: float, images: int, rows: int) -> None:
        """A preview of `images` images at `rows` rows took `seconds`: move the model halfway there."""
        estimate = self.estimate(images, rows)
        if not estimate:
            self.per_row, self.per_image = seconds / max(1, images * rows), 0.0
            return
        scale = 0.5 * (1.0 + seconds / estimate)
        self.per_row, self.per_image = (self.per_row or 0.0) * scale, self.per_image * scale

    def estimate(self, images: int, rows: int) -> float | None:
        return None if self.per_row is None else (self.per_row * rows + self.per_image) * images


class PreviewTracker:
    """The `on_step` of one pipeline call: reports steps, and makes previews within the budget.

    `publish(step, tokens)` makes and shows the previews (the worker decodes and encodes them);
    it returns the seconds it took."""

    def __init__(
        self,
        board: ProgressBoard,
        request_ids: Sequence[int],
        *,
        steps: int,
        grid: int,
        images: int,
        every: float,
        max_share: float,
        costs: PreviewCosts,
        publish: Callable[[int, Any], None] | None,
        clock: Clock = time.perf_counter,
    ) -> None:
        self.board, self.request_ids, self.steps, self.grid = board, list(request_ids), steps, grid
        self.images, self.max_share, self.costs, self.publish, self.clock = (
            images, max_share, costs, publish, clock,
        )  # fmt: skip
        self.marks = (
            []
            if every <= 0
            else sorted({math.ceil(steps * every * k) for k in range(1, math.ceil(1 / every))})
        )
        self.marks = [m for m in self.marks if 0 < m < steps]
        self.started = clock()
        self.spent = 0.0  # seconds spent on previews in this call
        self.made: list[int] = []  # steps at which a preview was shown
        self.skipped: list[int] = []  # marks passed without one (over budget)
        board.begin(self.request_ids, steps)

    def __call__(self, step: int, tokens: Any) -> None:
        self.board.advance(self.request_ids, step)
        if self.publish is None or not self.marks or step < self.marks[0]:
            return
        while self.marks and self.marks[0] <= step:
            self.marks.pop(0)
        rows = max(1, step // self.grid)
        total_images = len(self.request_ids) * self.images
        cost = self.costs.estimate(total_images, rows)
        decoding = self.clock() - self.started - self.spent
        # the call's projected time: the tokens at the pace so far, then the final pixels
        final_pixels = self.costs.estimate(total_images, self.steps // self.grid) or 0.0
        projected = decoding * self.steps / step + final_pixels + self.spent
        if cost is None or self.spent + cost > self.max_share * projected:
            self.skipped.append(step)
            return
        began = self.clock()
        self.publish(step, tokens)
        took = self.clock() - began
        self.spent += took
        self.costs.learn(took, total_images, rows)
        self.made.append(step)

    def close(self) -> None:
        """The call ended (done or failed): the board forgets these requests."""
        self.board.end(self.request_ids)
