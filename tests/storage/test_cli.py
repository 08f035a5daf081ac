"""`dallebot db upgrade` and `dallebot queue` against a real SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from storage import open_store, schema
from storage.db import dispose, make_engine
from storage.domain import Platform
from tests.storage.helpers import new_request


def test_db_upgrade_then_queue(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    engine = make_engine(url)
    schema.upgrade(engine, "0001")
    dispose(engine)
    assert main(["db", "upgrade", "--url", url]) == 0
    assert "0001 → 0004" in capsys.readouterr().out
    assert main(["db", "upgrade", "--url", url]) == 0
    assert "already at the newest revision (0004)" in capsys.readouterr().out

    store = open_store(url)
    store.enqueue(new_request(1), quota=None, queue_cap=None)
    store.enqueue(new_request(2, platform=Platform.DISCORD), quota=None, queue_cap=None)
    store.enqueue(new_request(3, platform=Platform.DISCORD), quota=None, queue_cap=None)
    store.claim("w1")
    store.close()
    assert main(["queue", "--url", url]) == 0
    out = capsys.readouterr().out
    assert "queued   2" in out and "running  1" in out
    assert "discord  queued 2" in out and "x        running 1" in out


def test_queue_on_an_unmigrated_database_says_to_upgrade(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["queue", "--url", f"sqlite:///{tmp_path / 'empty.db'}"]) == 1
    assert "run `dallebot db upgrade`" in capsys.readouterr().err


def test_url_from_the_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DALLEBOT_DATABASE_URL", raising=False)
    database = tmp_path / "from-config.db"
    config = tmp_path / "config.yaml"
    config.write_text(f"storage:\n  url: sqlite:///{database}\n")
    assert main(["db", "upgrade", "--config", str(config)]) == 0
    assert database.exists()


def test_mod_hide_keeps_a_request_out_of_the_gallery(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    store = open_store(url)
    store.enqueue(new_request(1), quota=None, queue_cap=None)
    [claim] = store.claim("w1")
    store.complete(claim, image_png=b"png", seconds=1.0)
    store.close()
    assert main(["mod", "hide", str(claim.request.id), "--url", url]) == 0
    assert "hidden" in capsys.readouterr().out
    store = open_store(url)
    assert store.recent_images(passed_gates_only=True) == [] and len(store.recent_images()) == 1
    store.close()
    assert main(["mod", "hide", "999", "--url", url]) == 1
    assert "no request with id 999" in capsys.readouterr().err
