"""Safety decision records (revision 0002): why a prompt or image was posted, spoilered or blocked."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from storage.models import safety_decisions

FIELDS = ("gate", "score", "threshold", "flagged", "action")


def check(request_id: int, decision: dict[str, Any]) -> None:
    """Raise ValueError naming what a decision lacks (before anything is written)."""
    missing = [name for name in FIELDS if name not in decision]
    if missing:
        raise ValueError(f"safety decision for request {request_id} lacks {', '.join(missing)}")


def record(connection: Connection, request_id: int, decision: dict[str, Any], now: datetime) -> None:
    """Store one decision: a dict with gate, score, threshold, flagged and action."""
    check(request_id, decision)
    connection.execute(
        safety_decisions.insert().values(
            request_id=request_id,
            gate=str(decision["gate"]),
            score=float(decision["score"]),
            threshold=float(decision["threshold"]),
            flagged=bool(decision["flagged"]),
            action=str(decision["action"]),
            created_at=now,
        )
    )


def for_request(connection: Connection, request_id: int) -> list[dict[str, Any]]:
    rows = connection.execute(
        select(safety_decisions)
        .where(safety_decisions.c.request_id == request_id)
        .order_by(safety_decisions.c.id)
    ).all()
    return [dict(row._mapping) for row in rows]
