"""`submit`: the one door every platform's requests come through.

validate (length, empty, invisible/control characters, option ranges) → prompt safety gate →
what the model understands → ban → duplicate → queue cap → in-flight cap → quota → enqueue. The
last five happen inside one storage transaction (`Store.enqueue`), so a restart between rapid
requests cannot let extra ones through. Every rejection is recorded (audit, and the outbox tells
background-ingested users once), and so is the prompt gate's decision, pass or refusal, for every
request that reached it.

What the model understands is read from its tokenizer alone (`generation.understanding`): a prompt
with nothing it knows is refused (not queued, not charged); the words it will leave out of a
picture are stored with the request (`ignored_words`), so every platform's reply can name them.

Storage is synchronous; its calls run on a small thread pool so the event loop never blocks.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeVar

from bot import vocabulary
from bot.config import Settings
from bot.domain import (
    Accepted,
    NewRequest,
    Options,
    Outcome,
    Platform,
    Refusal,
    Rejected,
    RejectionReason,
    Request,
    Status,
)
from bot.metrics import Metrics
from bot.safety.policy import Category
from bot.validation import printable, validate
from storage import StorageError
from storage.outage import log_failure

if TYPE_CHECKING:
    from datetime import datetime

    from bot.progress import ProgressBoard, ProgressView
    from bot.safety.filter import SafetyFilter, Verdict
    from generation.understanding import PromptReader
    from storage import ChannelSettings, Delivery, QueueStats, QuotaStatus, Store

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class RequestView:
    """A stored request with where it stands in the queue, for progress displays."""

    request: Request
    position: int  # 1 = next; 0 = running or finished
    eta_seconds: float | None
    progress: ProgressView | None = None  # steps done, while this process generates it


class BotService:
    """Implements `bot.adapters.base.Service` over a `Store` and the prompt gate."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        safety: SafetyFilter | None,
        *,
        metrics: Metrics | None = None,
        on_enqueued: Callable[[], None] | None = None,
        db_threads: int = 4,
        reader: PromptReader | None = None,
        progress: ProgressBoard | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.safety = safety
        self.reader = reader  # the model's vocabulary; None: prompts are not read against it
        self.progress = progress  # steps and previews of this process's workers (none: front end only)
        self.metrics = metrics or Metrics()
        self._on_enqueued = on_enqueued  # wakes an in-process worker so it need not poll
        # A few threads: reads (position, gallery, images) need not wait behind a write. (Measured with
        # `python -m bot.bench`: 4 threads submitted 10–15 % more per second than 1.)
        self._db = ThreadPoolExecutor(max_workers=db_threads, thread_name_prefix="dallebot-db")

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run one storage call off the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._db, lambda: fn(*args, **kwargs))

    def close(self) -> None:
        self._db.shutdown(wait=True)

    # -- submit -------------------------------------------------------------------------------

    async def submit(self, new: NewRequest, *, trusted: bool = False) -> Outcome:
        """Validate, gate and enqueue one request; `trusted` (the daily prompt) skips the quota."""
        return await self.call(self.submit_sync, new, trusted=trusted)

    def submit_sync(self, new: NewRequest, *, trusted: bool = False) -> Outcome:
        """`submit` for callers already off the event loop (the daily job, the benchmark)."""
        try:
            checked, verdict = self._check(new)
            if isinstance(checked, Rejected):  # recording is idempotent: a repeat keeps the first row
                return self._reject(self._for_record(new), checked, verdict)
            quota = None if trusted else self.settings.admission_policy(new.platform)
            outcome = self.store.enqueue(
                checked, quota=quota, queue_cap=self.settings.queue.cap, safety=_decision(verdict)
            )
            return self._settle(checked, outcome, verdict)
        except StorageError:  # an outage is logged once by storage.outage; anything else in full
            log_failure(log, "submit %s/%s failed", new.platform, new.external_id)
            return self._count(Rejected(RejectionReason.UNAVAILABLE, vocabulary.STORAGE_UNAVAILABLE))

    async def submit_many(
        self, news: Sequence[NewRequest], *, platform: Platform, cursor: tuple[str, str] | None = None
    ) -> list[Outcome]:
        """Submit one platform's page of events; the cursor (key, value) is stored in the same
        transaction, also for an empty page (every event ignored, a skipped backlog)."""
        if any(new.platform is not platform for new in news):
            raise ValueError(f"submit_many: a {platform.value} page holds another platform's request")
        return await self.call(self._submit_many_sync, list(news), platform, cursor)

    def _submit_many_sync(
        self, news: list[NewRequest], platform: Platform, cursor: tuple[str, str] | None
    ) -> list[Outcome]:
        outcomes: list[Outcome | None] = [None] * len(news)
        to_enqueue: list[tuple[int, NewRequest, Verdict | None]] = []
        try:
            for index, new in enumerate(news):
                checked, verdict = self._check(new)
                if isinstance(checked, Rejected):
                    # Recorded before the cursor moves: a crash here re-reads the page, finds the row.
                    outcomes[index] = self._reject(self._for_record(new), checked, verdict)
                else:
                    to_enqueue.append((index, checked, verdict))
            store_cursor = (platform.value, *cursor) if cursor else None
            if to_enqueue or store_cursor:
                results = self.store.enqueue_many(
                    [new for _, new, _ in to_enqueue],
                    quota=self.settings.admission_policy(platform),
                    queue_cap=self.settings.queue.cap,
                    cursor=store_cursor,
                    safety=[_decision(verdict) for _, _, verdict in to_enqueue],
                )
                for (index, new, verdict), outcome in zip(to_enqueue, results, strict=True):
                    outcomes[index] = self._settle(new, outcome, verdict)
        except StorageError:
            log_failure(log, "submit_many: nothing stored, cursor not advanced")
            raise
        return [outcome for outcome in outcomes if outcome is not None]

    def _settle(
        self, new: NewRequest, outcome: Accepted | Refusal, verdict: Verdict | None = None
    ) -> Outcome:
        """Word and record storage's refusals (ban, cap, quota), with the prompt gate's verdict; a
        redelivered platform id gets its first answer. (enqueue stored an admitted one's verdict.)"""
        if isinstance(outcome, Refusal):
            return self._reject(new, vocabulary.refusal(outcome), verdict)
        if outcome.duplicate:
            previous = self.store.find_request(new.platform, new.external_id)
            if previous is not None and previous.status is Status.REJECTED:
                try:  # storage keeps the reason's value in last_error
                    reason = RejectionReason(previous.last_error or "")
                except ValueError:
                    reason = RejectionReason.UNAVAILABLE
                return Rejected(reason, vocabulary.ALREADY_REFUSED)
            return outcome
        self.metrics.submitted.labels(platform=new.platform.value).inc()
        if self._on_enqueued is not None:
            self._on_enqueued()
        return outcome

    def _check(self, new: NewRequest) -> tuple[NewRequest | Rejected, Verdict | None]:
        """Validation, the prompt gate, then what the model understands; the gate's verdict (pass or
        refusal) comes back for the audit, None when the gate did not run (invalid input, or no gate)."""
        checked = validate(new, self.settings.generation.limits)
        if isinstance(checked, Rejected):
            return checked, None
        if self.safety is None:
            return self._understand(checked), None
        verdict = self.safety.check_prompt(
            checked.prompt, platform=checked.platform.value, nsfw_channel=checked.nsfw_channel
        )
        if verdict.category is Category.SEXUAL_MINORS:  # for the operator: who asked, never the prompt's text
            log.warning("sexual_minors prompt refused: %s user %s", checked.platform.value, checked.user_id)
        if not verdict.allowed:
            refused = Rejected(
                RejectionReason.UNSAFE_PROMPT,
                verdict.reason or vocabulary.UNSAFE_PROMPT,
            )
            return refused, verdict
        return self._understand(checked), verdict

    def _understand(self, new: NewRequest) -> NewRequest | Rejected:
        """Refuse a prompt the model understands nothing of; note the words it will leave out."""
        if self.reader is None:
            return new
        understanding = self.reader.read(new.prompt)
        if understanding.nothing_understood:
            message = vocabulary.not_understood(understanding, self.reader.repertoire)
            return Rejected(RejectionReason.NOT_UNDERSTOOD, message)
        return replace(new, ignored_words=understanding.ignored)

    def _for_record(self, new: NewRequest) -> NewRequest:
        """An invalid request made safe to store: bounded, printable prompt; options dropped (NaN…)."""
        limit = self.settings.generation.limits.max_prompt_chars
        prompt = new.prompt if isinstance(new.prompt, str) else ""
        return replace(new, prompt=printable(prompt[: limit + 1]), options=Options())

    def _reject(self, new: NewRequest, rejected: Rejected, verdict: Verdict | None = None) -> Rejected:
        """Keep the rejection (audit; the outbox owes background-ingested users one reply) and the
        prompt gate's decision behind it (issue 5: which gate, score, threshold)."""
        request_id = self.store.record_rejection(new, rejected)
        decision = _decision(verdict)
        if decision is not None and not any(
            kept["gate"] == decision["gate"] for kept in self.store.safety_decisions(request_id)
        ):  # a redelivered id finds its first row, already audited
            self.store.record_safety(request_id, **decision)
        return self._count(rejected)

    def _count(self, rejected: Rejected) -> Rejected:
        self.metrics.rejections.labels(reason=rejected.reason.value).inc()
        return rejected

    # -- what adapters may read -----------------------------------------------------------------

    async def get_cursor(self, platform: Platform, key: str) -> str | None:
        return await self.call(self.store.get_cursor, platform, key)

    async def find_request(self, platform: Platform, external_id: str) -> Request | None:
        return await self.call(self.store.find_request, platform, external_id)

    async def open_requests(self, platform: Platform, *, limit: int = 200) -> list[Request]:
        """`platform`'s requests still queued or running (a restarted adapter picks up its messages)."""
        return await self.call(self.store.open_requests, platform, limit=limit)

    async def quota_status(self, platform: Platform, user_id: str) -> QuotaStatus:
        return await self.call(
            self.store.quota_status, platform, user_id, self.settings.admission_policy(platform)
        )

    async def view(self, request_id: int) -> RequestView | None:
        """A request with its queue position and ETA."""
        return await self.call(self._view_sync, request_id)

    def _view_sync(self, request_id: int) -> RequestView | None:
        request = self.store.get_request(request_id)
        if request is None:
            return None
        if request.status is Status.QUEUED:
            return RequestView(request, self.store.position(request_id), self.store.eta_seconds(request_id))
        progress = None
        if request.status is Status.RUNNING and self.progress is not None:
            progress = self.progress.view(request_id)
        return RequestView(request, 0, None if progress is None else progress.eta_seconds, progress)

    def preview(self, request_id: int) -> tuple[int, bytes] | None:
        """(step, PNG) of the latest preview of a request being generated in this process."""
        return None if self.progress is None else self.progress.preview(request_id)

    async def queue_stats(self) -> QueueStats:
        return await self.call(self.store.stats)

    async def ban(self, platform: Platform, user_id: str, *, reason: str = "") -> None:
        await self.call(self.store.ban, platform, user_id, reason)
        log.info("banned %s user %s", platform, user_id)  # after the commit: the log never runs ahead

    async def unban(self, platform: Platform, user_id: str) -> None:
        await self.call(self.store.unban, platform, user_id)

    async def reset_quota(self, platform: Platform, user_id: str) -> None:
        await self.call(self.store.reset_quota, platform, user_id)

    async def get_image(self, request_id: int) -> bytes | None:
        return await self.call(self.store.get_image, request_id)

    async def recent_images(self, limit: int) -> list[Request]:
        """Newest images that passed every gate and no operator hid (for a public gallery)."""
        return await self.call(self.store.recent_images, limit, passed_gates_only=True)

    async def hide(self, request_id: int) -> None:
        """An operator keeps a request out of public view (KeyError for an unknown id)."""
        await self.call(self.store.hide, request_id)

    async def flagged(self, request_id: int) -> bool:
        """True when a gate flagged the request or an operator hid it: keep it out of public view."""
        decisions = await self.call(self.store.safety_decisions, request_id)
        return any(decision["flagged"] for decision in decisions)

    async def probe(self) -> None:
        """One small read: raises StorageError while storage is unavailable (readiness checks)."""
        await self.call(self.store.probe)

    # -- the outbox, for the delivery loop ----------------------------------------------------------

    async def pending_deliveries(self, platform: Platform, *, limit: int) -> list[Delivery]:
        """Replies owed on `platform`: "sending" ones first (to reconcile), then due "pending" ones."""
        return await self.call(self.store.pending_deliveries, platform, limit=limit)

    async def begin_delivery(self, request_id: int) -> bool:
        """pending → sending; False when another process is posting it or it is done."""
        return await self.call(self.store.begin_delivery, request_id)

    async def finish_delivery(self, request_id: int, posted_id: str) -> None:
        await self.call(self.store.finish_delivery, request_id, posted_id)

    async def retry_delivery(
        self, request_id: int, error: str, *, not_before: datetime | None = None, count_attempt: bool = True
    ) -> None:
        """Back to pending after a failure known not to have posted (`count_attempt=False`: a rate limit)."""
        await self.call(
            self.store.retry_delivery, request_id, error, not_before=not_before, count_attempt=count_attempt
        )

    async def fail_delivery(self, request_id: int, error: str) -> None:
        await self.call(self.store.fail_delivery, request_id, error)

    # -- small state the bot keeps --------------------------------------------------------------------

    async def daily_state(self) -> str | None:
        """The daily prompt's rotation state (JSON), None before the first daily prompt."""
        return await self.call(self.store.daily_rotation)

    async def save_daily_state(self, state: str) -> None:
        await self.call(self.store.set_daily_rotation, state)

    async def channel_settings(self, platform: Platform, channel_id: str) -> ChannelSettings | None:
        """What moderators set for a channel; None when nothing was ever set."""
        return await self.call(self.store.channel_settings, platform, channel_id)

    async def save_channel_settings(
        self, platform: Platform, channel_id: str, settings: ChannelSettings
    ) -> None:
        await self.call(self.store.set_channel_settings, platform, channel_id, settings)


def _decision(verdict: Verdict | None) -> dict[str, Any] | None:
    """The prompt gate's verdict as a stored safety decision: 'refuse', or 'allow' (whatever came
    after: a ban or quota may still reject it). None when the gate did not run."""
    if verdict is None:
        return None
    return {
        "gate": verdict.gate,
        "score": verdict.score,
        "threshold": verdict.threshold,
        "flagged": not verdict.allowed,
        "action": "allow" if verdict.allowed else "refuse",
    }
