"""The storage contract, run against every backend (SQLite file and PostgreSQL)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from storage import Completion, DeliveryKind, ImageAction, ImageRetention, StorageError, Store
from storage.domain import (
    Accepted,
    Options,
    Platform,
    QuotaPolicy,
    Refusal,
    Rejected,
    RejectionReason,
    Status,
)
from storage.models import requests
from tests.storage.helpers import T0, FakeClock, new_request

NO_LIMITS = {"quota": None, "queue_cap": None}
PNG = b"\x89PNG\r\n\x1a\n" + b"x" * 100
EVERY_BYTE = bytes(range(256)) * 40  # an image is stored byte for byte, whatever the bytes


def done_request(store: Store, n: int, *, seconds: float = 1.0, worker: str = "w1", png: bytes = PNG) -> int:
    outcome = store.enqueue(new_request(n), **NO_LIMITS)
    assert isinstance(outcome, Accepted)
    [claim] = store.claim(worker)
    assert claim.request.id == outcome.request_id
    assert store.complete(claim, image_png=png, seconds=seconds)
    return claim.request.id


def generation_seconds(store: Store, request_id: int) -> float | None:
    with store.engine.connect() as connection:
        stmt = select(requests.c.generation_seconds).where(requests.c.id == request_id)
        return connection.execute(stmt).scalar_one()


# -- ingest ----------------------------------------------------------------------------------------


def test_enqueue_stores_the_request_and_reports_its_position(store: Store) -> None:
    first = store.enqueue(new_request(1), **NO_LIMITS)
    second = store.enqueue(new_request(2), **NO_LIMITS)
    assert first == Accepted(request_id=first.request_id, position=1, eta_seconds=None)
    assert isinstance(second, Accepted) and second.position == 2
    stored = store.get_request(first.request_id)
    assert stored is not None
    assert (stored.platform, stored.external_id, stored.user_id, stored.user_name) == (
        Platform.X,
        "1",
        "u1",
        "name-u1",
    )
    assert stored.options == Options(seed=7, images=1)
    assert stored.reply_to == {"tweet_id": "1"}
    assert (stored.status, stored.attempts, stored.created_at) == (Status.QUEUED, 0, T0)
    assert store.find_request(Platform.X, "2").id == second.request_id
    assert store.find_request(Platform.DISCORD, "2") is None


def test_same_external_id_twice_is_one_row(store: Store) -> None:
    first = store.enqueue(new_request(1), **NO_LIMITS)
    again = store.enqueue(new_request(1, user="someone-else"), **NO_LIMITS)
    other_platform = store.enqueue(new_request(1, platform=Platform.DISCORD), **NO_LIMITS)
    assert isinstance(again, Accepted) and again.duplicate and again.request_id == first.request_id
    assert isinstance(other_platform, Accepted) and not other_platform.duplicate
    assert store.count_requests() == 2


def test_enqueue_many_advances_the_cursor_with_the_requests(store: Store) -> None:
    outcomes = store.enqueue_many(
        [new_request(n) for n in (10, 11, 10)], quota=None, queue_cap=None, cursor=("x", "since_id", "11")
    )
    assert [o.duplicate for o in outcomes] == [False, False, True]
    assert store.get_cursor(Platform.X, "since_id") == "11"
    assert store.count_requests() == 2


def test_ignored_words_are_kept_with_the_request_on_every_enqueue_path(store: Store) -> None:
    """Issue 14: the words the model will leave out reach the claim and the delivery."""
    policy = QuotaPolicy(images_per_window=10, max_in_flight=10)
    words = ("sunset", "mountains")
    one = store.enqueue(replace(new_request(1), ignored_words=words), quota=policy, queue_cap=10)
    page = store.enqueue_many(
        [replace(new_request(2), ignored_words=("fox",)), new_request(3)], quota=policy, queue_cap=10
    )
    assert isinstance(one, Accepted) and all(isinstance(outcome, Accepted) for outcome in page)
    claims = store.claim("w1", limit=3)
    assert [claim.request.ignored_words for claim in claims] == [words, ("fox",), ()]
    assert store.complete(claims[0], image_png=PNG, seconds=1.0)
    [delivery] = store.pending_deliveries(Platform.X)
    assert delivery.request.ignored_words == words


def test_a_failed_batch_writes_nothing_and_keeps_the_cursor(store: Store) -> None:
    store.set_cursor(Platform.X, "since_id", "5")
    unstorable = new_request(7).__class__(**{**new_request(7).__dict__, "options": Options(seed=object())})
    with pytest.raises(Exception):  # noqa: B017 — whatever the driver raises, the batch must roll back
        store.enqueue_many(
            [new_request(6), unstorable], quota=None, queue_cap=None, cursor=("x", "since_id", "7")
        )
    assert store.count_requests() == 0
    assert store.get_cursor("x", "since_id") == "5"


PASS = {"gate": "prompt", "score": 0.1, "threshold": 0.7, "flagged": False, "action": "allow"}


def test_the_decision_that_let_a_request_in_is_stored_with_it(store: Store) -> None:
    """Queued rows carry their audit row from the same transaction; duplicates and refusals add none."""
    policy = QuotaPolicy(images_per_window=1)
    outcomes = store.enqueue_many(
        [new_request(1), new_request(1), new_request(2)], quota=policy, queue_cap=None, safety=[PASS] * 3
    )
    accepted, duplicate, over_quota = outcomes
    assert isinstance(accepted, Accepted) and duplicate.duplicate and isinstance(over_quota, Refusal)
    assert [d["action"] for d in store.safety_decisions(accepted.request_id)] == ["allow"]
    assert store.enqueue(new_request(1), quota=None, queue_cap=None, safety=PASS).duplicate
    assert len(store.safety_decisions(accepted.request_id)) == 1


def test_an_incomplete_decision_rolls_the_page_back(store: Store) -> None:
    with pytest.raises(ValueError, match="lacks threshold"):
        store.enqueue_many(
            [new_request(1), new_request(2)],
            quota=None,
            queue_cap=None,
            safety=[PASS, {k: v for k, v in PASS.items() if k != "threshold"}],
        )
    assert store.count_requests() == 0
    with pytest.raises(ValueError, match="2 safety decisions for 1 requests"):
        store.enqueue_many([new_request(3)], quota=None, queue_cap=None, safety=[PASS, PASS])


def test_a_failed_batch_after_claims_and_completes_still_writes_nothing(store: Store) -> None:
    """Claim and complete run without BEGIN on PostgreSQL; the pooled connection must not keep that."""
    store.enqueue(new_request(1), **NO_LIMITS)
    [claim] = store.claim("w1")
    assert store.complete(claim, image_png=PNG, seconds=1.0)
    assert store.claim("w1") == []
    unstorable = new_request(7).__class__(**{**new_request(7).__dict__, "options": Options(seed=object())})
    with pytest.raises(Exception):  # noqa: B017 — whatever the driver raises, the batch must roll back
        store.enqueue_many([new_request(6), unstorable], quota=None, queue_cap=None)
    assert store.count_requests() == 1


def test_record_rejection_owes_one_reply(store: Store) -> None:
    rejected = Rejected(RejectionReason.UNSAFE_PROMPT, "That prompt is not allowed.")
    request_id = store.record_rejection(new_request(1), rejected)
    assert store.record_rejection(new_request(1), rejected) == request_id
    stored = store.get_request(request_id)
    assert stored.status is Status.REJECTED and stored.last_error == "unsafe_prompt"
    [delivery] = store.pending_deliveries(Platform.X)
    assert (delivery.kind, delivery.message, delivery.image_png) == ("rejection", rejected.message, None)
    assert store.claim("w1") == []


# -- claims and leases -----------------------------------------------------------------------------


def test_claim_takes_the_oldest_first_with_a_lease_and_token(store: Store, clock: FakeClock) -> None:
    ids = [store.enqueue(new_request(n), **NO_LIMITS).request_id for n in range(5)]
    claims = store.claim("w1", limit=3, lease_seconds=30)
    assert [c.request.id for c in claims] == ids[:3]
    assert all(c.request.status is Status.RUNNING and c.request.attempts == 1 for c in claims)
    assert all(c.token == 1 and c.lease_expires == clock.now + timedelta(seconds=30) for c in claims)
    assert [c.request for c in claims] == [store.get_request(i) for i in ids[:3]]  # read the same way
    assert claims[0].request.options == Options(seed=7, images=1) and claims[0].request.created_at == T0
    assert [c.request.id for c in store.claim("w2", limit=10)] == ids[3:]
    assert store.claim("w3") == []
    assert store.position(ids[0]) == 0


def test_complete_stores_image_and_outbox_entry_together(store: Store) -> None:
    store.enqueue(new_request(1), **NO_LIMITS)
    [claim] = store.claim("w1")
    safety = [{"gate": "image", "score": 0.2, "threshold": 0.5, "flagged": False, "action": "post"}]
    assert store.complete(claim, image_png=PNG, seconds=3.5, safety=safety)
    stored = store.get_request(claim.request.id)
    assert (stored.status, stored.result_ref) == (Status.DONE, f"image:{claim.request.id}")
    assert store.get_image(claim.request.id) == PNG
    [delivery] = store.pending_deliveries(Platform.X)
    assert (delivery.kind, delivery.state, delivery.image_png, delivery.attempts) == (
        "image",
        "pending",
        PNG,
        0,
    )
    [decision] = store.safety_decisions(claim.request.id)
    assert (decision["gate"], decision["score"], decision["flagged"], decision["action"]) == (
        "image",
        0.2,
        False,
        "post",
    )
    assert store.complete(claim, image_png=b"again", seconds=1.0) is False
    assert store.get_image(claim.request.id) == PNG


def test_complete_many_fences_each_claim_on_its_own(store: Store, clock: FakeClock) -> None:
    for n in range(3):
        store.enqueue(new_request(n), **NO_LIMITS)
    [zombie] = store.claim("paused", lease_seconds=30)
    clock.advance(31)
    store.reap()  # the zombie's request goes back to the queue (backing off)
    first, second = store.claim("w1", limit=2)
    clock.advance(5)
    [again] = store.claim("w2")
    assert again.request.id == zombie.request.id and again.token == zombie.token + 1
    post = {"gate": "image", "score": 0.1, "threshold": 0.5, "flagged": False, "action": "post"}
    spoiler = {**post, "score": 0.7, "flagged": True, "action": "spoiler"}
    written = store.complete_many(
        [
            Completion(first, b"first", 1.5, (post,)),
            Completion(zombie, b"zombie", 9.0, (post,)),
            Completion(second, EVERY_BYTE, 2.5, (post, spoiler)),
        ]
    )
    assert written == [True, False, True]
    for claim, png, seconds in ((first, b"first", 1.5), (second, EVERY_BYTE, 2.5)):
        stored = store.get_request(claim.request.id)
        assert (stored.status, stored.result_ref, stored.last_error) == (
            Status.DONE,
            f"image:{claim.request.id}",
            None,
        )
        assert store.get_image(claim.request.id) == png
        assert generation_seconds(store, claim.request.id) == seconds
    assert [d["action"] for d in store.safety_decisions(second.request.id)] == ["post", "spoiler"]
    assert [d["score"] for d in store.safety_decisions(first.request.id)] == [0.1]
    # the zombie wrote nothing: its request is still running under the live claim
    assert store.get_request(zombie.request.id).status is Status.RUNNING
    assert store.get_image(zombie.request.id) is None
    assert store.safety_decisions(zombie.request.id) == []
    pending = store.pending_deliveries(Platform.X)
    owed = {d.request.id: (d.kind, d.image_action, d.message, d.image_png) for d in pending}
    assert owed == {
        first.request.id: (DeliveryKind.IMAGE, ImageAction.POST, None, b"first"),
        second.request.id: (DeliveryKind.IMAGE, ImageAction.SPOILER, None, EVERY_BYTE),
    }
    assert store.complete_many([Completion(again, b"live", 3.0)]) == [True]
    unjudged = {d.request.id: d.image_action for d in store.pending_deliveries(Platform.X)}
    assert unjudged[again.request.id] is None  # no image gate ran: the adapter must not assume "post"
    assert store.complete_many([Completion(first, b"twice", 1.0)]) == [False]
    assert store.get_image(first.request.id) == b"first"
    assert store.complete_many([]) == []


def test_complete_many_writes_nothing_when_one_completion_is_invalid(store: Store) -> None:
    for n in range(2):
        store.enqueue(new_request(n), **NO_LIMITS)
    first, second = store.claim("w1", limit=2)
    incomplete = {"gate": "image", "score": 0.1}
    with pytest.raises(ValueError, match="lacks threshold"):
        store.complete_many([Completion(first, PNG, 1.0), Completion(second, PNG, 1.0, (incomplete,))])
    with pytest.raises(ValueError, match="one completion per request"):
        store.complete_many([Completion(first, PNG, 1.0), Completion(first, PNG, 1.0)])
    assert store.count_requests(Status.RUNNING) == 2
    assert store.get_image(first.request.id) is None
    assert store.pending_deliveries(Platform.X) == []


def test_heartbeat_keeps_the_lease_alive(store: Store, clock: FakeClock) -> None:
    store.enqueue(new_request(1), **NO_LIMITS)
    [claim] = store.claim("w1", lease_seconds=30)
    clock.advance(25)
    assert store.heartbeat(claim, 30)
    clock.advance(25)  # past the first lease, inside the extended one
    assert store.reap() == 0
    assert store.complete(claim, image_png=PNG, seconds=50)


def test_zombie_worker_late_writes_change_nothing(store: Store, clock: FakeClock) -> None:
    store.enqueue(new_request(1), **NO_LIMITS)
    [zombie] = store.claim("paused", lease_seconds=30)
    clock.advance(31)
    assert store.reap() == 1
    assert store.get_request(zombie.request.id).status is Status.QUEUED
    assert store.claim("w2") == []  # backing off
    clock.advance(5)
    [live] = store.claim("w2", lease_seconds=30)
    assert live.token == zombie.token + 1 and live.request.attempts == 2
    assert store.complete(live, image_png=b"live", seconds=1.0)
    # the paused worker wakes up
    assert store.heartbeat(zombie, 30) is False
    assert store.complete(zombie, image_png=b"zombie", seconds=1.0) is False
    assert store.fail(zombie, "late failure") is False
    assert store.release(zombie) is False
    stored = store.get_request(live.request.id)
    assert (stored.status, stored.attempts, stored.last_error) == (Status.DONE, 2, None)
    assert store.get_image(live.request.id) == b"live"
    assert [d.kind for d in store.pending_deliveries(Platform.X)] == ["image"]


def test_zombie_write_between_reap_and_reclaim_changes_nothing(store: Store, clock: FakeClock) -> None:
    store.enqueue(new_request(1), **NO_LIMITS)
    [zombie] = store.claim("paused", lease_seconds=30)
    clock.advance(31)
    store.reap()
    assert store.complete(zombie, image_png=b"zombie", seconds=1.0) is False
    assert store.get_request(zombie.request.id).status is Status.QUEUED
    assert store.get_image(zombie.request.id) is None


def test_retryable_failure_backs_off_then_fails_for_good(make_store, clock: FakeClock) -> None:
    store = make_store(max_attempts=3, backoff_seconds=10)
    outcome = store.enqueue(new_request(1), quota=QuotaPolicy(images_per_window=5), queue_cap=None)
    delays = []
    for attempt in (1, 2):
        [claim] = store.claim("w1")
        assert claim.request.attempts == attempt
        assert store.fail(claim, f"out of memory #{attempt}")
        start = clock.now
        while not (claims := store.claim("w1")):
            clock.advance(1)
        delays.append((clock.now - start).total_seconds())
        assert store.release(claims[0])
    assert delays == [10, 20]  # exponential backoff
    [claim] = store.claim("w1")
    assert claim.request.attempts == 3
    assert store.fail(claim, "out of memory #3")
    stored = store.get_request(outcome.request_id)
    assert (stored.status, stored.last_error) == (Status.FAILED, "out of memory #3")
    [delivery] = store.pending_deliveries(Platform.X)
    assert (delivery.kind, delivery.message) == ("failure", "out of memory #3")
    # the failure was ours, not the user's: the images come back
    assert store.quota_status(Platform.X, "u1", QuotaPolicy(images_per_window=5)).used == 0


def test_permanent_failure_fails_at_once(store: Store) -> None:
    store.enqueue(new_request(1), **NO_LIMITS)
    [claim] = store.claim("w1")
    assert store.fail(claim, "checkpoint missing", retryable=False)
    assert store.get_request(claim.request.id).status is Status.FAILED
    assert store.claim("w1") == []


def test_release_requeues_without_counting_the_attempt(store: Store) -> None:
    store.enqueue(new_request(1), **NO_LIMITS)
    [claim] = store.claim("w1")
    assert store.release(claim)
    [again] = store.claim("w2")
    assert again.request.attempts == 1 and again.token == claim.token + 1


def test_reaper_fails_a_request_after_its_last_attempt(make_store, clock: FakeClock, caplog) -> None:
    """The user reads a plain reason; the log (written after the commit) names the worker."""
    caplog.set_level("INFO", logger="storage.store")
    store = make_store(max_attempts=2, backoff_seconds=1)
    store.enqueue(new_request(1), **NO_LIMITS)
    for _ in range(2):
        clock.advance(2)
        [claim] = store.claim("crashy", lease_seconds=10)
        clock.advance(11)
        assert store.reap() == 1
    stored = store.get_request(claim.request.id)
    assert (stored.status, stored.attempts) == (Status.FAILED, 2)
    assert stored.last_error == "the worker generating it stopped (attempt 2 of 2)"
    assert f"request {stored.id}: worker crashy stopped renewing its lease; failed" in caplog.text
    [delivery] = store.pending_deliveries(Platform.X)
    assert delivery.kind == "failure"
    assert store.reap() == 0


# -- outbox ----------------------------------------------------------------------------------------


def test_delivery_is_begun_once_and_records_the_posted_id(store: Store) -> None:
    request_id = done_request(store, 1)
    assert store.begin_delivery(request_id)
    assert store.begin_delivery(request_id) is False  # a second sender backs off
    store.finish_delivery(request_id, "tweet-99")
    assert store.pending_deliveries(Platform.X) == []
    assert store.get_request(request_id).posted_message_id == "tweet-99"
    assert store.begin_delivery(request_id) is False


def test_an_unfinished_send_is_surfaced_for_reconcile(store: Store) -> None:
    request_id = done_request(store, 1)
    assert store.begin_delivery(request_id)
    # the process dies here: posted or not, nobody knows
    [delivery] = store.pending_deliveries(Platform.X)
    assert (delivery.state, delivery.attempts) == ("sending", 1)
    store.retry_delivery(request_id, "reconcile found no post")  # not posted: send again
    assert store.begin_delivery(request_id)
    store.finish_delivery(request_id, "tweet-1")
    assert store.pending_deliveries(Platform.X) == []


def test_a_rate_limited_retry_hands_its_attempt_back(store: Store) -> None:
    request_id = done_request(store, 1)
    assert store.begin_delivery(request_id)
    store.retry_delivery(request_id, "502", not_before=None)
    assert store.begin_delivery(request_id)
    store.retry_delivery(request_id, "429", not_before=None, count_attempt=False)
    [delivery] = store.pending_deliveries(Platform.X)
    assert (delivery.state, delivery.attempts) == ("pending", 1)


def test_retry_delivery_waits_until_due_and_fail_delivery_stops(store: Store, clock: FakeClock) -> None:
    first, second = done_request(store, 1), done_request(store, 2)
    assert store.begin_delivery(first)
    store.retry_delivery(first, "429", not_before=clock.now + timedelta(seconds=60))
    assert [d.request.id for d in store.pending_deliveries(Platform.X)] == [second]
    clock.advance(60)
    [due, _] = store.pending_deliveries(Platform.X)
    assert (due.request.id, due.state, due.attempts) == (first, "pending", 1)
    store.fail_delivery(second, "403 forbidden")
    assert [d.request.id for d in store.pending_deliveries(Platform.X)] == [first]
    assert store.pending_deliveries(Platform.DISCORD) == []


# -- quotas, bans, queue cap -----------------------------------------------------------------------


def test_sliding_window_quota_with_retry_after(store: Store, clock: FakeClock) -> None:
    policy = QuotaPolicy(images_per_window=3, window_seconds=600, max_in_flight=10)
    assert isinstance(store.enqueue(new_request(1, images=2), quota=policy, queue_cap=None), Accepted)
    clock.advance(100)
    assert isinstance(store.enqueue(new_request(2), quota=policy, queue_cap=None), Accepted)
    clock.advance(100)
    rejected = store.enqueue(new_request(3), quota=policy, queue_cap=None)
    assert isinstance(rejected, Refusal) and rejected.reason is RejectionReason.QUOTA_EXCEEDED
    assert rejected.retry_after == T0 + timedelta(seconds=600)  # when the first 2 images leave
    assert (rejected.used, rejected.policy) == (3, policy)  # facts for the bot to word, no words
    status = store.quota_status(Platform.X, "u1", policy)
    assert (status.used, status.remaining, status.refills_at, status.in_flight) == (
        3,
        0,
        T0 + timedelta(seconds=600),
        2,
    )
    # another platform's policy counts separately
    assert isinstance(
        store.enqueue(new_request(4, platform=Platform.DISCORD), quota=policy, queue_cap=None), Accepted
    )
    clock.now = rejected.retry_after
    assert isinstance(store.enqueue(new_request(3), quota=policy, queue_cap=None), Accepted)


def test_in_flight_cap_counts_queued_and_running(store: Store) -> None:
    policy = QuotaPolicy(images_per_window=100, max_in_flight=2)
    store.enqueue(new_request(1), quota=policy, queue_cap=None)
    store.enqueue(new_request(2), quota=policy, queue_cap=None)
    [claim] = store.claim("w1")
    rejected = store.enqueue(new_request(3), quota=policy, queue_cap=None)
    assert isinstance(rejected, Refusal) and rejected.reason is RejectionReason.TOO_MANY_IN_FLIGHT
    assert rejected.in_flight == 2
    assert store.complete(claim, image_png=PNG, seconds=1)
    assert isinstance(store.enqueue(new_request(3), quota=policy, queue_cap=None), Accepted)
    assert isinstance(store.enqueue(new_request(4, user="u2"), quota=policy, queue_cap=None), Accepted)


def test_global_queue_cap_rejects_at_once(store: Store) -> None:
    for n in range(3):
        store.enqueue(new_request(n, user=f"u{n}"), quota=None, queue_cap=3)
    rejected = store.enqueue(new_request(9, user="u9"), quota=None, queue_cap=3)
    assert isinstance(rejected, Refusal) and rejected.reason is RejectionReason.QUEUE_FULL
    assert store.count_requests() == 3
    store.claim("w1")  # running requests no longer wait in the queue
    assert isinstance(store.enqueue(new_request(9, user="u9"), quota=None, queue_cap=3), Accepted)


def test_ban_checked_before_everything_and_reset_quota(store: Store) -> None:
    policy = QuotaPolicy(images_per_window=1)
    store.enqueue(new_request(1), quota=policy, queue_cap=None)
    store.ban(Platform.X, "u1", "spam")
    assert store.is_banned(Platform.X, "u1") and not store.is_banned(Platform.DISCORD, "u1")
    rejected = store.enqueue(new_request(1), quota=policy, queue_cap=None)
    assert isinstance(rejected, Refusal) and rejected.reason is RejectionReason.BANNED
    assert rejected.ban_reason == "spam"
    store.unban(Platform.X, "u1")
    assert isinstance(store.enqueue(new_request(2), quota=policy, queue_cap=None), Refusal)
    store.reset_quota(Platform.X, "u1")
    assert isinstance(
        store.enqueue(
            new_request(2), quota=QuotaPolicy(images_per_window=1, max_in_flight=5), queue_cap=None
        ),
        Accepted,
    )


def test_quotas_hold_exactly_across_a_restart(make_store, clock: FakeClock) -> None:
    policy = QuotaPolicy(images_per_window=5, window_seconds=3600, max_in_flight=100)
    first = make_store()
    accepted = [first.enqueue(new_request(n), quota=policy, queue_cap=None) for n in range(3)]
    first.close()
    clock.advance(60)
    second = make_store()
    later = [second.enqueue(new_request(n), quota=policy, queue_cap=None) for n in range(3, 8)]
    outcomes = accepted + later
    assert [isinstance(o, Accepted) for o in outcomes] == [True] * 5 + [False] * 3
    assert all(o.retry_after == T0 + timedelta(seconds=3600) for o in later[2:])


# -- position, ETA, stats, images ------------------------------------------------------------------


def test_position_and_eta_from_recent_generation_times(store: Store) -> None:
    for n, seconds in enumerate((2.0, 4.0, 6.0)):
        done_request(store, n, seconds=seconds)
    waiting = [store.enqueue(new_request(10 + n), **NO_LIMITS) for n in range(3)]
    assert [w.position for w in waiting] == [1, 2, 3]
    assert [w.eta_seconds for w in waiting] == [4.0, 8.0, 12.0]  # one worker, 4 s each
    store.claim("w2")
    assert store.position(waiting[2].request_id) == 2
    assert store.eta_seconds(waiting[2].request_id) == 4.0  # two workers now
    assert store.eta_seconds(waiting[0].request_id) is None


def test_stats_count_by_status_and_platform(store: Store, clock: FakeClock) -> None:
    done_request(store, 1)
    store.enqueue(new_request(2), **NO_LIMITS)
    store.enqueue(new_request(3, platform=Platform.DISCORD), **NO_LIMITS)
    [claim] = store.claim("w1")
    store.fail(claim, "boom", retryable=False)
    store.enqueue(new_request(4), **NO_LIMITS)
    store.claim("w1")
    stats = store.stats()
    assert (stats.queued, stats.running, stats.failed_recent, stats.done_recent) == (1, 1, 1, 1)
    assert stats.by_platform == {"x": {"done": 1, "failed": 1, "queued": 1}, "discord": {"running": 1}}
    clock.advance(25 * 3600)
    assert (store.stats().done_recent, store.stats().failed_recent) == (0, 0)


def test_images_pruned_by_age_and_total_size_but_not_while_owed(make_store, clock: FakeClock) -> None:
    store = make_store(image_retention=ImageRetention(max_age_seconds=3600, max_total_bytes=250))
    ids = []
    for n in range(4):
        ids.append(done_request(store, n, png=bytes(100)))
        assert store.begin_delivery(ids[-1])
        store.finish_delivery(ids[-1], f"t{n}")
        clock.advance(60)
    owed = done_request(store, 9, png=bytes(100))  # not delivered yet: kept whatever its age
    assert store.prune_images() == 3  # 500 bytes → the two oldest … and one more to reach ≤ 250
    assert [store.get_image(i) is not None for i in ids] == [False, False, False, True]
    assert store.get_request(ids[0]).result_ref is None
    clock.advance(7200)
    assert store.prune_images() == 1
    assert store.get_image(owed) == bytes(100)
    assert [r.id for r in store.recent_images()] == [owed]
    assert store.recent_images(platform=Platform.DISCORD) == []


def test_refusals_are_pruned_past_the_age_limit_once_not_owed(make_store, clock: FakeClock) -> None:
    store = make_store(image_retention=ImageRetention(max_age_seconds=3600))
    refused = Rejected(RejectionReason.QUOTA_EXCEEDED, "no")
    answered, owed = (store.record_rejection(new_request(n), refused) for n in (1, 2))
    store.record_safety(answered, gate="prompt", score=0.9, threshold=0.5, flagged=True, action="refuse")
    assert store.begin_delivery(answered)
    store.finish_delivery(answered, "t1")
    clock.advance(7200)
    young = store.record_rejection(new_request(3), refused)
    store.begin_delivery(young)
    store.finish_delivery(young, "t3")
    assert store.prune_refusals() == 1
    assert store.get_request(answered) is None and store.safety_decisions(answered) == []
    assert store.get_request(owed) is not None and store.get_request(young) is not None


def test_opening_an_old_schema_without_upgrade_says_what_to_run(db_url: str) -> None:
    from storage import open_store

    with pytest.raises(StorageError, match="dallebot db upgrade"):
        open_store(db_url, upgrade=False)


def test_the_public_gallery_leaves_out_flagged_and_hidden_images(store: Store) -> None:
    shown, spoilered, hidden = (done_request(store, n) for n in (1, 2, 3))
    store.record_safety(spoilered, "image", 0.9, 0.8, True, "spoiler")
    store.record_safety(shown, "image", 0.1, 0.8, False, "post")
    store.hide(hidden)
    assert [r.id for r in store.recent_images()] == [hidden, spoilered, shown]
    assert [r.id for r in store.recent_images(passed_gates_only=True)] == [shown]
    assert store.safety_decisions(hidden)[-1]["action"] == "hide"
    with pytest.raises(KeyError):
        store.hide(9999)


# -- small state: channel settings and the daily rotation (revision 0004) ------------------------


def test_channel_settings_and_the_daily_rotation_have_their_own_rows(store: Store) -> None:
    from storage import ChannelSettings

    assert store.channel_settings(Platform.DISCORD, "42") is None
    store.set_channel_settings(Platform.DISCORD, "42", ChannelSettings(enabled=True, nsfw_images=True))
    store.set_channel_settings(Platform.DISCORD, "42", ChannelSettings(enabled=None, nsfw_images=True))
    assert store.channel_settings(Platform.DISCORD, "42") == ChannelSettings(enabled=None, nsfw_images=True)
    assert store.channel_settings(Platform.X, "42") is None  # per platform
    assert store.daily_rotation() is None
    store.set_daily_rotation('{"used": [], "picked": {}}')
    store.set_daily_rotation('{"used": ["a fox"], "picked": {}}')
    assert store.daily_rotation() == '{"used": ["a fox"], "picked": {}}'
    assert store.get_cursor(Platform.DISCORD, "channel:42") is None  # not a cursor any more
