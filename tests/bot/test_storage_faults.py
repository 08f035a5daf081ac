"""Storage faults injected under a running bot process, observed from outside (HTTP, SQL, its log).

The bot runs as `python -m tests.bot.fault_app` — the real `dallebot run` with stand-ins only for
the model and the classifiers. Faults: a private PostgreSQL server stopped and started again under
load; a SQLite database on a small tmpfs that fills up, then is remounted read-only. Afterwards every
request the bot accepted has exactly one answer, none is left running, no response carried a
traceback, every 503 said when to retry, /readyz went unready and back, and the outage cost the log
two lines.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.domain import Platform, Status
from storage import open_store
from tests.storage.private_pg import private_postgres

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


def _http(opener: urllib.request.OpenerDirector, url: str, payload: dict[str, Any] | None = None) -> Answer:
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with opener.open(request, timeout=30) as response:
            return Answer(response.status, dict(response.headers), response.read().decode())
    except urllib.error.HTTPError as error:
        return Answer(error.code, dict(error.headers), error.read().decode())


class Bot:
    """The bot process: its playground URL, and its log (stderr) once stopped."""

    def __init__(self, workdir: Path, settings: dict[str, Any], env: dict[str, str] | None = None) -> None:
        config = workdir / "config.yaml"
        config.write_text(yaml.safe_dump(settings))
        self._log = open(workdir / "bot.log", "w+")  # noqa: SIM115 (a file, kept open: a pipe nobody reads would block the bot)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.bot.fault_app", "--config", str(config)],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line.startswith("dallebot playground: "), line + self.log()
        self.url = line.split()[2].rstrip("/")
        # one browser: its cookie owns the requests it sends (their ids are tokens only it may read)
        self._opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())

    def get(self, path: str) -> Answer:
        return _http(self._opener, self.url + path)

    def submit(self, external_id: str) -> Answer:
        payload = {"prompt": f"a red heron {external_id}", "id": external_id}
        return _http(self._opener, self.url + "/api/requests", payload)

    def log(self) -> str:
        self._log.seek(0)
        return self._log.read()

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=60)
        return self.log()


@contextmanager
def running_bot(workdir: Path, storage: dict[str, Any], env: dict[str, str] | None = None) -> Iterator[Bot]:
    settings = {
        "storage": {"write_timeout_seconds": 1.0, **storage},
        "web": {"port": 0, "submits_per_minute": 10_000},
        "queue": {"cap": 100_000, "max_share": 1.0},
        "quotas": {"images_per_window": 100_000, "max_in_flight": 100_000},
        "worker": {
            "batching": "static", "batch_size": 4, "poll_seconds": 0.05, "lease_seconds": 2.0,
            "heartbeat_seconds": 0.5,
        },
    }  # fmt: skip
    bot = Bot(workdir, settings, env)
    try:
        yield bot
    finally:
        if bot.process.poll() is None:
            bot.process.kill()


@dataclass
class Load:
    """Submits requests one after another from a thread and keeps every answer."""

    bot: Bot
    prefix: str
    answers: list[tuple[str, Answer]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        n = 0
        while not self._stop.is_set():
            external_id = f"{self.prefix}-{n}"
            self.answers.append((external_id, self.bot.submit(external_id)))
            n += 1
            time.sleep(0.02)

    def __enter__(self) -> Load:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=60)

    def accepted(self) -> list[str]:
        return [answer.json()["request_id"] for _, answer in self.answers if answer.status == 202]


def _wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _ready(bot: Bot) -> bool:
    return bot.get("/readyz").status == 200


def _unready(bot: Bot) -> bool:
    answer = bot.get("/readyz")
    if answer.status == 200:
        return False
    assert answer.status == 503 and answer.headers.get("Retry-After"), answer
    assert answer.json()["status"] == "unavailable", answer.body
    return True


def _assert_clean(answers: list[Answer]) -> list[Answer]:
    """No traceback or exception text in any body; every 503 says when to retry. Returns the 503s."""
    for answer in answers:
        assert "Traceback" not in answer.body and 'File "' not in answer.body, answer.body
        body = answer.json()  # always JSON, errors included
        if answer.status == 503:
            assert int(answer.headers["Retry-After"]) > 0, answer
            assert body["status"] in ("unavailable", "rejected") and body.get("message"), body
            assert "sqlite" not in answer.body and "postgresql" not in answer.body, answer.body
        else:
            assert answer.status == 202, answer
    return [answer for answer in answers if answer.status == 503]


def _assert_each_answered_once(bot: Bot, url: str, accepted: list[str]) -> None:
    """Every accepted request (by its HTTP token) done and shown exactly once; nothing left running."""

    def all_shown() -> bool:
        for token in accepted:
            answer = bot.get(f"/api/requests/{token}")
            if answer.status != 200 or not answer.json()["image_url"]:
                return False
        return True

    _wait_for(all_shown, 60, f"{len(accepted)} accepted requests to be answered")
    store = open_store(url, upgrade=False)
    try:
        assert store.count_requests(Status.RUNNING) == 0
        assert store.count_requests(Status.QUEUED) == 0
        assert store.count_requests(Status.DONE) == len(accepted)  # none failed, none generated twice over
        for token in accepted:  # one outbox entry per request (its primary key), posted once
            request = store.find_request(Platform.WEB, token)
            assert request is not None and request.posted_message_id == f"web:{request.id}"
    finally:
        store.close()


def _outage_lines(log: str) -> list[str]:
    return [line for line in log.splitlines() if "storage unavailable" in line or "storage available" in line]


def test_postgresql_restart_under_load(tmp_path: Path) -> None:
    with private_postgres() as server, running_bot(tmp_path, {"url": server.url}) as bot:
        with Load(bot, "pg") as load:
            _wait_for(lambda: len(load.accepted()) >= 10, 20, "requests before the outage")
            server.stop("fast")
            _wait_for(lambda: _unready(bot), 10, "/readyz to turn unready")
            down = len(load.answers)
            time.sleep(2.0)
            assert any(a.status == 503 for _, a in load.answers[down:]), "no 503 while the server was down"
            server.start()
            _wait_for(lambda: _ready(bot), 20, "/readyz to turn ready again")
            after = len(load.answers)
            _wait_for(lambda: len(load.answers) >= after + 10, 20, "requests after the outage")
        refused = _assert_clean([answer for _, answer in load.answers])
        assert refused and all(a.status == 202 for _, a in load.answers[-5:])
        _assert_each_answered_once(bot, server.url, load.accepted())
        log = bot.stop()
    assert bot.process.returncode == 0, log
    assert "Traceback" not in log
    outage = _outage_lines(log)
    assert len(outage) == 2, outage
    assert "storage unavailable (unreachable)" in outage[0] and "storage available again after" in outage[1]
    start = log.index(outage[0])
    assert len(log[start : log.index(outage[1]) + len(outage[1])].encode()) < 4096  # the whole outage's log


@contextmanager
def small_tmpfs(size: str) -> Iterator[Path]:
    """A tmpfs of `size` (a real disk that fills up, and can be remounted read-only)."""
    mountpoint = Path(tempfile.mkdtemp(prefix="dallebot-tmpfs-"))
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mountpoint)])
    if mounted.returncode != 0:
        mountpoint.rmdir()
        reason = (
            "needs to mount a tmpfs (run as root with CAP_SYS_ADMIN) to fill a disk and make it read-only"
        )
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI is set: this test must run)")
        pytest.skip(reason)
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)])
        mountpoint.rmdir()


def _fill(directory: Path) -> Path:
    """Write a file until the disk is full; returns it."""
    filler = directory / "filler"
    with open(filler, "wb") as out, suppress(OSError):
        while True:
            out.write(b"\0" * 65536)
            out.flush()
    return filler


def test_full_disk_under_load(tmp_path: Path) -> None:
    with small_tmpfs("8m") as disk:
        url = f"sqlite:///{disk / 'bot.db'}"
        with running_bot(tmp_path, {"url": url}) as bot:
            before = [bot.submit(f"before-{n}") for n in range(4)]
            filler = _fill(disk)
            _wait_for(lambda: _unready(bot), 10, "/readyz to turn unready on a full disk")
            during = [bot.submit(f"full-{n}") for n in range(20)]
            assert any(a.status == 503 for a in during), [a.body for a in during]
            filler.unlink()
            _wait_for(lambda: _ready(bot), 10, "/readyz to turn ready once space is freed")
            after = [bot.submit(f"after-{n}") for n in range(4)]
            _assert_clean(before + during + after)
            assert all(a.status == 202 for a in before + after)
            accepted = [a.json()["request_id"] for a in before + during + after if a.status == 202]
            _assert_each_answered_once(bot, url, accepted)
            log = bot.stop()
    assert bot.process.returncode == 0, log
    assert "Traceback" not in log
    outage = _outage_lines(log)
    assert outage and "storage unavailable (full)" in outage[0], outage
    assert len(outage) <= 4, (
        outage
    )  # a line when it starts, one when it ends (a write that fit between: 2 more)


def _clis(*commands: list[str]) -> list[subprocess.CompletedProcess[str]]:
    """Run `dallebot` commands side by side (each spends seconds importing); their results in order."""
    running = [
        subprocess.Popen(
            [sys.executable, "-m", "bot", *args],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for args in commands
    ]
    results = []
    for process in running:
        out, err = process.communicate(timeout=120)
        results.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    return results


def test_a_read_only_database_file_is_named_by_check_config_and_run(tmp_path: Path) -> None:
    with small_tmpfs("4m") as disk:
        url = f"sqlite:///{disk / 'bot.db'}"
        open_store(url).close()
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        config = tmp_path / "config.yaml"
        # a model directory that exists: check-config then need not import torch to find the embedded one
        settings = {"storage": {"url": url}, "web": {"port": 0}, "generation": {"model": str(tmp_path)}}
        config.write_text(yaml.safe_dump(settings))
        checked, ran = _clis(["check-config", "--config", str(config)], ["run", "--config", str(config)])
    said = f"{disk / 'bot.db'} is on a read-only filesystem"
    assert checked.returncode == 1 and f"error: storage.url in config.yaml: {said}" in checked.stderr
    assert ran.returncode == 1 and f"cannot start: storage.url in config.yaml: {said}" in ran.stderr
    assert "playground" not in ran.stdout and "Traceback" not in ran.stderr + checked.stderr
    assert "is valid" not in checked.stdout and "problem(s) stop `dallebot run`" in checked.stdout


async def test_a_read_only_database_answers_503_with_retry_after_and_reads_still_work(tmp_path: Path) -> None:
    """A database that turns read-only under a running bot (its file, its server): the web side."""
    import aiohttp

    from bot.app import BotApp
    from bot.config import parse_settings
    from tests.bot.fakes import StandInSafety

    path = tmp_path / "bot.db"
    open_store(f"sqlite:///{path}").close()
    store = open_store(f"sqlite:///file:{path}?mode=ro&uri=true", upgrade=False)
    app = BotApp(parse_settings({"web": {"port": 0}}), {}, workers=0, store=store, safety=StandInSafety())  # type: ignore[arg-type]
    await app.start()
    try:
        adapter = next(iter(app.adapters.values()))
        base = adapter.url.rstrip("/")  # type: ignore[attr-defined]
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{base}/api/requests", json={"prompt": "a red heron"}) as response:
                body = await response.json()
                assert response.status == 503 and response.headers["Retry-After"] == "5", body
                assert body["reason"] == "unavailable" and "sqlite" not in json.dumps(body)
            async with session.get(f"{base}/readyz") as response:
                body = await response.json()
                assert response.status == 503 and response.headers["Retry-After"] == "5"
                assert body["reason"] == "storage_read_only" and "Traceback" not in json.dumps(body)
            async with session.get(f"{base}/healthz") as response:
                assert response.status == 200  # alive: a database outage is no reason to restart it
            async with session.get(f"{base}/api/gallery") as response:
                assert response.status == 200 and await response.json() == []  # reads still work
            async with session.get(f"{base}/metrics") as response:
                metrics = await response.text()
        assert 'dallebot_storage_errors_total{kind="read_only"}' in metrics
        assert 'dallebot_storage_errors_total{kind="read_only"} 0.0' not in metrics
    finally:
        await app.stop()
        store.close()
