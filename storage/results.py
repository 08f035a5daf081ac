"""Results of claimed requests: DONE, the image, its outbox entry and safety records, fenced per claim.

Every completion is checked against its own claim's fencing token (id, token, status running): a
fenced-out one writes nothing, the others in the same call still commit. On SQLite the statements
run one after another inside the caller's `BEGIN IMMEDIATE` transaction (in-process, each costs
microseconds). On PostgreSQL a whole batch is one statement — the fenced UPDATE … RETURNING feeds
the image, outbox and safety inserts as data-modifying CTEs — so finishing a batch costs one round
trip and one commit rather than three statements and a commit per request.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, text

from storage import decisions, images, outbox, queue
from storage.models import UTCDateTime
from storage.records import Completion, DeliveryKind
from storage.sql import Fast

# One row of `input` per completion and one row of `decided` per safety record; only rows whose
# fenced UPDATE matched (`done`) are joined into the inserts, so a lost claim writes nothing.
_finish_postgres = Fast(
    lambda _dialect: text(
        """
WITH input AS (
    SELECT * FROM unnest(
        CAST(:ids AS bigint[]), CAST(:tokens AS bigint[]), CAST(:seconds AS float8[]),
        CAST(:pngs AS bytea[])
    ) AS t(id, token, seconds, png)
),
done AS (
    UPDATE requests AS r
    SET status = 'done', result_ref = 'image:' || r.id, generation_seconds = input.seconds,
        lease_expires = NULL, last_error = NULL, finished_at = :now, updated_at = :now
    FROM input
    WHERE r.id = input.id AND r.token = input.token AND r.status = 'running'
    RETURNING r.id, r.platform
),
saved AS (
    INSERT INTO images (request_id, png, size_bytes, created_at)
    SELECT done.id, input.png, length(input.png), :now FROM done JOIN input ON input.id = done.id
    ON CONFLICT (request_id) DO UPDATE
    SET png = excluded.png, size_bytes = excluded.size_bytes, created_at = excluded.created_at
),
owed AS (
    INSERT INTO deliveries (request_id, platform, kind, state, attempts, message, not_before,
                            created_at, updated_at)
    SELECT done.id, done.platform, 'image', 'pending', 0, NULL, :now, :now, :now
    FROM done
    ON CONFLICT (request_id) DO NOTHING
),
decided AS (
    INSERT INTO safety_decisions (request_id, gate, score, threshold, flagged, action, created_at)
    SELECT s.request_id, s.gate, s.score, s.threshold, s.flagged, s.action, :now
    FROM unnest(
        CAST(:s_ids AS bigint[]), CAST(:s_gates AS text[]), CAST(:s_scores AS float8[]),
        CAST(:s_thresholds AS float8[]), CAST(:s_flagged AS boolean[]), CAST(:s_actions AS text[])
    ) WITH ORDINALITY AS s(request_id, gate, score, threshold, flagged, action, n)
    JOIN done ON done.id = s.request_id
    ORDER BY s.n
)
SELECT id FROM done
"""
    ).bindparams(bindparam("now", type_=UTCDateTime())),
    binary=("pngs",),
)


def write(connection: Connection, completions: list[Completion], now: datetime) -> list[bool]:
    """Write each completion whose claim still holds its request; True where it was written."""
    ids = [completion.claim.request_id for completion in completions]
    if len(set(ids)) != len(ids):
        raise ValueError(f"one completion per request, got requests {ids}")
    for completion in completions:
        for decision in completion.safety:
            decisions.check(completion.claim.request_id, decision)
    if connection.dialect.name == "postgresql":
        return _write_batch(connection, completions, now)
    return [_write_one(connection, completion, now) for completion in completions]


def _write_one(connection: Connection, completion: Completion, now: datetime) -> bool:
    claim = completion.claim
    if not queue.mark_done(connection, claim, completion.seconds, now):
        return False
    images.save(connection, claim.request_id, completion.image_png, now)
    outbox.add(connection, claim.request_id, claim.request.platform.value, DeliveryKind.IMAGE, None, now)
    for decision in completion.safety:
        decisions.record(connection, claim.request_id, decision, now)
    return True


def _write_batch(connection: Connection, completions: list[Completion], now: datetime) -> list[bool]:
    records = [(c.claim.request_id, decision) for c in completions for decision in c.safety]
    params: dict[str, Any] = {
        "ids": [c.claim.request_id for c in completions],
        "tokens": [c.claim.token for c in completions],
        "seconds": [float(c.seconds) for c in completions],
        "pngs": [bytes(c.image_png) for c in completions],
        "s_ids": [request_id for request_id, _ in records],
        "s_gates": [str(d["gate"]) for _, d in records],
        "s_scores": [float(d["score"]) for _, d in records],
        "s_thresholds": [float(d["threshold"]) for _, d in records],
        "s_flagged": [bool(d["flagged"]) for _, d in records],
        "s_actions": [str(d["action"]) for _, d in records],
        "now": now,
    }
    written = {row[0] for row in _finish_postgres.execute(connection, params).fetchall()}
    return [c.claim.request_id in written for c in completions]
