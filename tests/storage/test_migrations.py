"""Schema migrations: an old database with data in it upgrades, and models match migrations."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from storage import ChannelSettings, open_store, schema
from storage.db import dispose, make_engine, transaction
from storage.domain import Platform, QuotaPolicy, Status
from storage.models import metadata
from tests.storage.helpers import T0, FakeClock

REPO = Path(__file__).resolve().parents[2]


def _naive(moment):  # what revision 0001 stored: naive UTC
    return moment.replace(tzinfo=None)


def test_upgrade_keeps_data_written_by_the_first_schema(db_url: str) -> None:
    engine = make_engine(db_url)
    assert schema.upgrade(engine, "0001") == "0001"
    with transaction(engine, write=True) as connection:
        rows = [
            (1, "queued", None, None),
            (2, "done", "image:2", 3.0),
        ]
        for request_id, status, result_ref, seconds in rows:
            connection.execute(
                text(
                    "INSERT INTO requests (id, platform, external_id, user_id, user_name, prompt, options,"
                    " reply_to, status, attempts, token, not_before, created_at, updated_at, finished_at,"
                    " generation_seconds, result_ref) VALUES (:id, 'x', :ext, 'u1', 'Ann', 'a cat', :options,"
                    " :reply_to, :status, :attempts, :attempts, :t0, :t0, :t0, :finished, :seconds, :ref)"
                ),
                {
                    "id": request_id,
                    "ext": f"tweet-{request_id}",
                    "options": json.dumps({"seed": 3, "images": 1}),
                    "reply_to": json.dumps({"tweet_id": f"tweet-{request_id}"}),
                    "status": status,
                    "attempts": 0 if status == "queued" else 1,
                    "t0": _naive(T0),
                    "finished": None if status == "queued" else _naive(T0),
                    "seconds": seconds,
                    "ref": result_ref,
                },
            )
        connection.execute(
            text("INSERT INTO images (request_id, png, created_at) VALUES (2, :png, :t0)"),
            {"png": b"\x89PNG-old", "t0": _naive(T0)},
        )
        connection.execute(
            text(
                "INSERT INTO deliveries (request_id, platform, kind, state, attempts, not_before,"
                " created_at, updated_at) VALUES (2, 'x', 'image', 'pending', 0, :t0, :t0, :t0)"
            ),
            {"t0": _naive(T0)},
        )
        connection.execute(
            text(
                "INSERT INTO quota_usage (platform, user_id, request_id, images, used_at)"
                " VALUES ('x', 'u1', 1, 1, :t0), ('x', 'u1', 2, 1, :t0)"
            ),
            {"t0": _naive(T0)},
        )
        connection.execute(
            text(
                "INSERT INTO cursors (platform, key, value, updated_at) VALUES ('x', 'since_id', '77', :t0)"
            ),
            {"t0": _naive(T0)},
        )
    dispose(engine)

    clock = FakeClock(T0 + timedelta(minutes=5))
    store = open_store(db_url, clock=clock)  # upgrades to head
    assert schema.current_revision(store.engine) == schema.head_revision() == "0004"
    old = store.get_request(2)
    assert (old.status, old.user_name, old.options.seed, old.reply_to) == (
        Status.DONE,
        "Ann",
        3,
        {"tweet_id": "tweet-2"},
    )
    assert old.ignored_words == ()  # 0003: requests from before it ignored nothing that is known
    assert store.get_image(2) == b"\x89PNG-old"
    with transaction(store.engine, write=False) as connection:
        assert connection.execute(text("SELECT size_bytes FROM images")).scalar_one() == len(b"\x89PNG-old")
    assert store.get_cursor(Platform.X, "since_id") == "77"
    assert store.quota_status(Platform.X, "u1", QuotaPolicy(images_per_window=5)).used == 2
    [delivery] = store.pending_deliveries(Platform.X)
    assert (delivery.request.id, delivery.image_png) == (2, b"\x89PNG-old")
    # the old queued request runs on the new schema, with the new safety records
    [claim] = store.claim("w1")
    assert claim.request.id == 1
    safety = [{"gate": "image", "score": 0.9, "threshold": 0.5, "flagged": True, "action": "spoiler"}]
    assert store.complete(claim, image_png=b"new", seconds=2.0, safety=safety)
    assert store.safety_decisions(1)[0]["action"] == "spoiler"
    store.close()


def test_0004_moves_channel_settings_and_the_rotation_out_of_the_cursor_table(db_url: str) -> None:
    engine = make_engine(db_url)
    assert schema.upgrade(engine, "0003") == "0003"
    rows = [
        ("x", "since_id", "77"),
        ("discord", "channel:123", json.dumps({"enabled": True, "nsfw_images": True})),
        ("discord", "channel:456", json.dumps({"enabled": None, "nsfw_images": False})),
        ("discord", "channel:789", "not json"),  # was read as the defaults: stays the defaults
        ("daily", "rotation", json.dumps({"used": ["a fox"], "picked": {"2026-12-01": "a fox"}})),
    ]
    with transaction(engine, write=True) as connection:
        for platform, key, value in rows:
            connection.execute(
                text("INSERT INTO cursors (platform, key, value, updated_at) VALUES (:p, :k, :v, :t0)"),
                {"p": platform, "k": key, "v": value, "t0": _naive(T0)},
            )
    dispose(engine)

    store = open_store(db_url, clock=FakeClock(T0))  # upgrades to 0004
    assert store.get_cursor(Platform.X, "since_id") == "77"
    assert store.channel_settings(Platform.DISCORD, "123") == ChannelSettings(enabled=True, nsfw_images=True)
    assert store.channel_settings(Platform.DISCORD, "456") == ChannelSettings(enabled=None, nsfw_images=False)
    assert store.channel_settings(Platform.DISCORD, "789") == ChannelSettings()
    assert store.channel_settings(Platform.DISCORD, "999") is None
    assert store.daily_rotation() == rows[-1][2]
    with transaction(store.engine, write=False) as connection:
        left = connection.execute(text("SELECT platform, key FROM cursors")).all()
    assert [tuple(row) for row in left] == [("x", "since_id")]  # only cursors stay cursors

    with transaction(store.engine, write=True) as connection:  # and back again
        command.downgrade(schema.alembic_config(connection), "0003")
    with transaction(store.engine, write=False) as connection:
        back = dict(
            ((row.platform, row.key), row.value)
            for row in connection.execute(text("SELECT platform, key, value FROM cursors"))
        )
    assert json.loads(back[("discord", "channel:123")]) == {"enabled": True, "nsfw_images": True}
    assert back[("daily", "rotation")] == rows[-1][2] and back[("x", "since_id")] == "77"
    store.close()


def test_models_match_the_migrations(db_url: str) -> None:
    engine = make_engine(db_url)
    schema.upgrade(engine)
    with transaction(engine, write=False) as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []
    dispose(engine)


def test_upgrade_is_idempotent_and_concurrent_opens_agree(db_url: str) -> None:
    first, second = open_store(db_url), open_store(db_url)
    assert schema.upgrade(first.engine) == "head"
    first.close()
    second.close()


def test_alembic_cli_runs_the_packaged_migrations(tmp_path: Path) -> None:
    database = tmp_path / "manual.db"
    env = {**os.environ, "DALLEBOT_DATABASE_URL": f"sqlite:///{database}"}
    config = REPO / "storage" / "migrations" / "alembic.ini"
    subprocess.run(
        [sys.executable, "-m", "alembic", "-c", str(config), "upgrade", "head"],
        check=True,
        env=env,
        cwd=tmp_path,  # not the repository root: the config finds its own way
        capture_output=True,
    )
    engine = make_engine(f"sqlite:///{database}")
    assert schema.current_revision(engine) == "0004"
    dispose(engine)
