"""The worker's side of progress: an `on_step` for each pipeline call, and previews made like pictures.

A preview is the tokens decoded so far, through the VQGAN (only the complete token rows, the rest
grey) and then through the image gate exactly as a final picture is (a flagged tile greyed; a
tile the policy shows only behind a spoiler keeps the preview back), so nothing reaches a page
that the gate would not post.
When it is made, and whether, is `bot.progress.PreviewTracker`'s decision (its budget).
"""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING, Any

from bot.image_gate import gate_images
from bot.progress import PreviewCosts, PreviewTracker, ProgressBoard
from storage.domain import Platform

if TYPE_CHECKING:
    from bot.batches import BatchKey
    from bot.config import WorkerSettings
    from bot.safety.filter import SafetyFilter
    from storage import Claim

log = logging.getLogger(__name__)


class Previews:
    def __init__(self, board: ProgressBoard, safety: SafetyFilter, settings: WorkerSettings) -> None:
        self.board = board
        self.safety = safety
        self.settings = settings
        self.costs = PreviewCosts()

    def possible(self, pipeline: Any) -> bool:
        """Previews are on, and the pipeline can decode a partial token grid."""
        return (
            self.settings.preview_every > 0
            and hasattr(pipeline, "decode_preview")
            and hasattr(getattr(pipeline, "config", None), "vqgan")
        )

    def calibrate(self, pipeline: Any) -> None:
        """The cost model's first figure: one token row of one image through the VQGAN, at load."""
        if self.possible(pipeline):
            request = _Calibration()
            self.costs.calibrate(pipeline, lambda tiles: gate_images(self.safety, request, tiles))  # type: ignore[arg-type]
            log.info(
                "previews: %.1f ms per image per token row (measured at load)",
                1000 * (self.costs.per_row or 0),
            )

    def tracker(self, pipeline: Any, key: BatchKey, group: list[Claim]) -> PreviewTracker:
        """The on_step of one call: steps to the board, and previews within their budget."""
        config = getattr(pipeline, "config", None)
        steps = getattr(getattr(config, "bart", None), "image_tokens", 256)
        grid = getattr(getattr(config, "vqgan", None), "grid", 16)
        publish = None
        if self.possible(pipeline):
            if self.costs.per_row is None:  # a worker driven without start() (run_once)
                self.calibrate(pipeline)
            publish = functools.partial(self._publish, pipeline, group, key.images)
        return PreviewTracker(
            self.board, [claim.request_id for claim in group], steps=steps, grid=grid, images=key.images,
            every=self.settings.preview_every, max_share=self.settings.preview_max_share,
            costs=self.costs, publish=publish,
        )  # fmt: skip

    def _publish(self, pipeline: Any, group: list[Claim], images: int, step: int, tokens: Any) -> None:
        pictures = pipeline.decode_preview(tokens)
        for i, claim in enumerate(group):
            tiles = pictures[i * images : (i + 1) * images]
            gated = gate_images(self.safety, claim.request, tiles)
            # a blocked tile is grey in the PNG; one the policy would show only behind a spoiler
            # (Discord NSFW channels) is not shown in a preview at all, as previews have no spoiler
            if gated.png is not None and all(entry["action"] != "spoiler" for entry in gated.safety):
                self.board.show(claim.request_id, gated.png, step)


class _Calibration:
    """What the gate reads of a request, for the calibration picture (never stored or shown)."""

    id = 0
    nsfw_channel = False
    platform = Platform.WEB
