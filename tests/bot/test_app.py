"""The composition root and `dallebot run | check-config`: what starts, what refuses to, and how it stops."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bot.app import BotApp
from bot.assembly import StartupError, plan_adapters
from bot.cli import main
from bot.cli.run import describe
from bot.config import parse_settings
from bot.domain import NewRequest, Platform, Status
from bot.safety.filter import SafetyFilter
from storage import open_store
from tests.bot.fakes import StandInPipeline

REPO = Path(__file__).resolve().parents[2]


def test_with_no_secrets_only_the_playground_runs() -> None:
    plan = plan_adapters(parse_settings({}), {})
    assert list(plan.adapters) == [Platform.WEB]
    assert plan.errors == []
    reasons = {item.platform: item.reason for item in plan.platforms}
    assert "discord.enabled is false" in reasons[Platform.DISCORD]
    assert "x.enabled is false" in reasons[Platform.X]


@pytest.mark.parametrize(
    ("section", "env_var"),
    [("discord", "DISCORD_TOKEN"), ("x", "X_API_KEY")],
)
def test_enabled_platform_without_its_secret_is_a_config_error(section: str, env_var: str) -> None:
    settings = parse_settings({section: {"enabled": True}})
    _, errors = describe(settings, {})
    assert any(env_var in error for error in errors), errors
    assert all("secret-value" not in error for error in errors)


def test_secret_present_enables_the_platform_without_logging_it() -> None:
    settings = parse_settings({"discord": {"enabled": True}})
    plan = plan_adapters(settings, {"DISCORD_TOKEN": "secret-value"})
    assert Platform.DISCORD in plan.adapters
    assert all("secret-value" not in item.reason for item in plan.platforms)


async def test_start_refuses_an_enabled_platform_without_its_secret(
    tmp_path: Path, real_safety: SafetyFilter
) -> None:
    settings = parse_settings({"discord": {"enabled": True}, "web": {"port": 0}})
    store = open_store(f"sqlite:///{tmp_path / 'a.db'}")
    app = BotApp(settings, {}, workers=0, store=store, safety=real_safety)
    with pytest.raises(StartupError, match="DISCORD_TOKEN"):
        await app.start()
    store.close()


async def test_missing_model_fails_with_a_clear_message(tmp_path: Path, real_safety: SafetyFilter) -> None:
    settings = parse_settings({"generation": {"model": str(tmp_path / "no-model")}, "web": {"port": 0}})
    store = open_store(f"sqlite:///{tmp_path / 'a.db'}")
    app = BotApp(settings, {}, workers=1, store=store, safety=real_safety)
    with pytest.raises(StartupError, match=r"cannot load .*no-model.*generation\.model"):
        await app.start()
    assert app.adapters == {} or not app._started_adapters  # no front end was left listening
    store.close()


def test_check_config_names_an_unknown_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("web:\n  prot: 8080\n")
    assert main(["check-config", "--config", str(config)]) == 1  # the README's exit code for an error
    assert "web.prot: unknown key" in capsys.readouterr().err


def test_check_config_reports_a_missing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["check-config", "--config", str(tmp_path / "nope.yaml")]) == 1
    captured = capsys.readouterr()
    assert f"error: {tmp_path / 'nope.yaml'}: no such file" in captured.err and "is valid" not in captured.out
    monkeypatch.chdir(tmp_path)  # no ./config.yaml either
    assert main(["check-config"]) == 1
    err = capsys.readouterr().err
    assert "error: config.yaml: no such file (`dallebot run` here would use every default" in err


def test_run_port_and_host_override_the_config_and_a_taken_port_stops_it_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    assert main(["run", "--port", "70000"]) == 2
    assert "--port: 70000 is out of range: use 0 to 65535" in capsys.readouterr().err
    # a directory that holds no model: loading it would fail, so the port must stop it first (a
    # directory that does not exist is refused earlier still, before anything binds: issue 14)
    config = tmp_path / "config.yaml"
    config.write_text(f"storage:\n  url: sqlite:///{tmp_path / 'a.db'}\ngeneration:\n  model: {tmp_path}\n")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["run", "--config", str(config), "--host", "127.0.0.1", "--port", str(port)]) == 1
    err = capsys.readouterr().err
    assert "cannot start: web: cannot start" in err and "Address already in use" in err


def test_check_config_says_what_will_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"generation:\n  model: {tmp_path}\nweb:\n  port: 8099\n")
    assert main(["check-config", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "web: playground on http://127.0.0.1:8099/" in out
    assert "discord: off" in out and "x: off" in out and "daily: off" in out


@pytest.mark.parametrize("model", ["things", "shapes"])
def test_check_config_takes_the_embedded_models_by_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, model: str
) -> None:
    monkeypatch.chdir(tmp_path)  # no folder here is named like the model
    config = tmp_path / "config.yaml"
    config.write_text(f"storage:\n  url: sqlite:///{tmp_path / 'a.db'}\ngeneration:\n  model: {model}\n")
    assert main(["check-config", "--config", str(config)]) == 0, capsys.readouterr().err
    assert f"generation: {model}, device auto" in capsys.readouterr().out


async def test_stop_during_a_job_finishes_it_and_posts_nothing_half_way(
    tmp_path: Path, real_safety: SafetyFilter
) -> None:
    """Row 17 through the whole app: the job completes, its delivery waits whole for the next start."""
    pipeline = StandInPipeline()
    pipeline.gate = threading.Event()
    settings = parse_settings({"web": {"port": 0}, "worker": {"poll_seconds": 0.05}})
    store = open_store(f"sqlite:///{tmp_path / 'a.db'}")
    app = BotApp(settings, {}, workers=1, store=store, load_pipeline=lambda: pipeline, safety=real_safety)
    await app.start()
    assert app.service is not None
    outcome = await app.service.submit(NewRequest(Platform.WEB, "e1", "u1", "a kite"))
    assert await asyncio.to_thread(pipeline.entered.wait, 10)
    stopping = asyncio.create_task(app.stop())
    await asyncio.sleep(0.1)
    assert not stopping.done()  # waiting for the running job, not abandoning it
    pipeline.gate.set()
    await asyncio.wait_for(stopping, 10)
    request = store.get_request(outcome.request_id)  # type: ignore[union-attr]
    assert request is not None and request.status is Status.DONE
    assert {d.state for d in store.pending_deliveries(Platform.WEB)} <= {"pending"}
    store.close()


def _run_cli(tmp_path: Path, config: str, *args: str, command: str = "run") -> subprocess.Popen[str]:
    path = tmp_path / "config.yaml"
    path.write_text(config)
    return subprocess.Popen(
        [sys.executable, "-m", "bot", command, "--config", str(path), *args],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"},  # tiny model, shared cores
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


async def test_daily_prompt_is_scheduled_and_caught_up_once(
    tmp_path: Path, real_safety: SafetyFilter
) -> None:
    """Row 16 through the app: started inside the grace period, the day's prompt is submitted once."""
    from datetime import UTC, datetime

    from tests.bot.fakes import FakeClock

    settings = parse_settings(
        {
            "web": {"port": 0},
            "worker": {"poll_seconds": 0.05},
            "daily": {
                "enabled": True,
                "time": "12:00",
                "timezone": "UTC",
                "prompts": ["an owl at noon"],
                "platforms": ["web", "x"],
            },
        }
    )
    clock = FakeClock(datetime(2026, 1, 1, 12, 5, tzinfo=UTC))
    store = open_store(f"sqlite:///{tmp_path / 'a.db'}")
    pipeline = StandInPipeline()
    for _ in range(2):  # a restart inside the grace period does not post it twice
        app = BotApp(
            settings,
            {},
            workers=1,
            store=store,
            load_pipeline=lambda: pipeline,
            safety=real_safety,
            clock=clock,
        )
        await app.start()
        await app.stop()
    daily = store.find_request(Platform.WEB, "daily:2026-01-01")
    assert daily is not None and daily.prompt == "an owl at noon"
    assert store.find_request(Platform.X, "daily:2026-01-01") is None  # x is not running
    assert store.count_requests() == 1
    store.close()


async def test_daily_prompt_skips_an_adapter_that_takes_no_daily_requests(
    tmp_path: Path, real_safety: SafetyFilter
) -> None:
    """A Discord adapter with no daily channel is not given the daily request (rather than failing it)."""
    from datetime import UTC, datetime

    from tests.bot.fakes import FakeClock, RecordingAdapter

    class NoDailyChannel(RecordingAdapter):
        def takes_daily(self) -> bool:
            return False

    settings = parse_settings(
        {
            "worker": {"poll_seconds": 0.05},
            "daily": {
                "enabled": True,
                "time": "12:00",
                "prompts": ["an owl at noon"],
                "platforms": ["discord"],
            },
        }
    )
    store = open_store(f"sqlite:///{tmp_path / 'a.db'}")
    app = BotApp(
        settings,
        {},
        workers=0,
        store=store,
        safety=real_safety,
        adapters={Platform.DISCORD: NoDailyChannel()},
        clock=FakeClock(datetime(2026, 1, 1, 12, 5, tzinfo=UTC)),
    )
    await app.start()
    await app.stop()
    assert store.count_requests() == 0
    store.close()


def test_dallebot_run_on_the_embedded_model_serves_an_image(tmp_path: Path) -> None:
    """The real thing end to end: CLI, the embedded model, the real gates (Open-NSFW too), worker, web."""
    process = _run_cli(tmp_path, _embedded_model_config(tmp_path))
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("dallebot playground: "), line + (
            process.stderr.read() if process.stderr else ""
        )
        # the default embedded model draws things and shapes; the reply names what it left out (issue 14)
        status = _post_and_wait_for_image(line.split()[2].rstrip("/"), "a red circle beside a quantum cat")
        assert status["ignored_words"] == ["quantum"]
        _stop(process)
    finally:
        if process.poll() is None:
            process.kill()


async def test_old_images_are_pruned_when_the_app_starts(tmp_path: Path, real_safety: SafetyFilter) -> None:
    from datetime import UTC, datetime

    from storage import ImageRetention
    from tests.bot.fakes import FakeClock

    clock = FakeClock(datetime(2026, 1, 1, tzinfo=UTC))
    store = open_store(
        f"sqlite:///{tmp_path / 'a.db'}", clock=clock, image_retention=ImageRetention(max_age_seconds=86400)
    )
    store.enqueue(NewRequest(Platform.WEB, "old", "u", "old picture"), quota=None, queue_cap=None)
    (claim,) = store.claim("w")
    store.complete(claim, image_png=b"\x89PNG old", seconds=0.1)
    assert store.begin_delivery(claim.request_id)
    store.finish_delivery(claim.request_id, "posted")  # an image still owed to its user is kept
    clock.advance(2 * 86400)
    app = BotApp(parse_settings({"web": {"port": 0}}), {}, workers=0, store=store, safety=real_safety)
    await app.start()
    await app.stop()
    assert store.get_image(claim.request_id) is None
    store.close()


def _embedded_model_config(tmp_path: Path) -> str:
    """A fresh clone's config: the embedded model (no generation.model), a playground on a free port."""
    return (
        f"storage:\n  url: sqlite:///{tmp_path / 'bot.db'}\nweb:\n  port: 0\nworker:\n  poll_seconds: 0.1\n"
    )


def _post_and_wait_for_image(base: str, prompt: str) -> dict:
    import http.cookiejar
    import json
    import time
    import urllib.request

    request = urllib.request.Request(
        f"{base}/api/requests",
        data=json.dumps({"prompt": prompt, "seed": 5}).encode(),
        headers={"Content-Type": "application/json"},
    )
    # a request's details are shown to the browser that sent it: keep its cookie, as a browser does
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    with opener.open(request, timeout=30) as response:
        request_id = json.load(response)["request_id"]
    deadline = time.monotonic() + 120
    while True:  # polling the page's status endpoint, as the browser does
        with opener.open(f"{base}/api/requests/{request_id}", timeout=30) as response:
            status = json.load(response)
        if status["image_url"] or status["status"] == "failed" or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert status["status"] == "done" and status["image_url"], status
    with opener.open(base + status["image_url"], timeout=30) as response:
        assert response.read().startswith(b"\x89PNG")
    return status


def _post_rejected(base: str, prompt: str) -> dict:
    import json
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        f"{base}/api/requests",
        data=json.dumps({"prompt": prompt}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 422
    return json.load(refused.value)


def _stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    return out


def test_front_end_process_and_worker_process_share_one_database(tmp_path: Path) -> None:
    """`dallebot run --workers 0` takes the request, a separate `dallebot worker` generates it."""
    config = _embedded_model_config(tmp_path)
    front = _run_cli(tmp_path, config, "--workers", "0")
    worker = None
    try:
        assert front.stdout is not None
        line = front.stdout.readline()  # blocks until the playground listens
        assert line.startswith("dallebot playground: http://127.0.0.1:"), line
        worker = _run_cli(tmp_path, config, command="worker")
        assert worker.stdout is not None
        assert worker.stdout.readline().startswith("worker "), "the worker did not start"
        base = line.split()[2].rstrip("/")
        # The front end never loads the model, yet knows its vocabulary (from the tokenizer files):
        # a prompt with nothing it can draw is refused there, one it partly knows is queued with a note.
        refused = _post_rejected(base, "quantum bureaucracy")
        assert refused["reason"] == "not_understood" and '"quantum", "bureaucracy"' in refused["message"]
        status = _post_and_wait_for_image(base, "a red circle beside a quantum cat")
        assert status["ignored_words"] == ["quantum"] and '"quantum"' in status["note"]
        _stop(worker)
        assert "stopping" in _stop(front)
    finally:
        for process in (front, worker):
            if process is not None and process.poll() is None:
                process.kill()


async def test_a_taken_port_is_a_clear_startup_error(tmp_path: Path, real_safety: SafetyFilter) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        store = open_store(f"sqlite:///{tmp_path / 'a.db'}")
        loads: list[str] = []

        def load_pipeline() -> StandInPipeline:
            loads.append("model")
            return StandInPipeline()

        settings = parse_settings({"web": {"port": port}})
        app = BotApp(settings, {}, workers=1, store=store, safety=real_safety, load_pipeline=load_pipeline)
        with pytest.raises(StartupError, match=r"web: cannot start .*web: section"):
            await app.start()
        assert loads == []  # said before the model loads
        store.close()


@pytest.mark.parametrize(("batching", "kind"), [("static", "Worker"), ("continuous", "ContinuousWorker")])
def test_worker_batching_setting_picks_the_worker(
    tmp_path: Path, real_safety: SafetyFilter, batching: str, kind: str
) -> None:
    from bot.assembly import build_worker, resolve_batching

    settings = parse_settings({"worker": {"batching": batching}, "generation": {"device": "cpu"}})
    store = open_store(f"sqlite:///{tmp_path / 'a.db'}")
    assert type(build_worker(store, settings, real_safety)).__name__ == kind
    store.close()
    assert resolve_batching(parse_settings({"generation": {"device": "cpu"}})) == "static"
    assert resolve_batching(parse_settings({"generation": {"device": "cuda"}})) == "continuous"
