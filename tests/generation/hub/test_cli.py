"""The README's "Real weights" commands end to end against the fake Hub: download, list, generate, remove;
names in config.yaml; offline use in a fresh process with the Hub gone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml
from PIL import Image

from bot.cli import main
from generation.hub.registry import resolve_model

ROOT = Path(__file__).resolve().parents[3]


def test_download_list_generate_remove(hub, hub_env, tmp_path, capsys):
    assert main(["models", "download", "mini"]) == 0
    assert main(["models", "download", "someone/own-model"]) == 0
    capsys.readouterr()
    assert main(["models", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["NAME", "SOURCE", "REVISION", "SIZE", "PATH"]
    mini = next(line for line in lines if line.startswith("mini "))
    commit = hub.repos["kuprel/min-dalle"].commit
    assert "kuprel/min-dalle" in mini and f"main ({commit[:12]})" in mini and str(hub_env.models_dir) in mini
    assert any(line.startswith("someone/own-model ") for line in lines)

    out = tmp_path / "cat.png"
    args = ["generate", "a cat", "--model", "mini", "--seed", "1", "--device", "cpu", "-o", str(out)]
    assert main(args) == 0
    assert Image.open(out).size == (256, 256)

    blobs = hub_env.cache_dir / "models--kuprel--min-dalle" / "blobs"
    assert len(list(blobs.iterdir())) == 5
    assert main(["models", "remove", "mini"]) == 0
    assert "removed mini" in capsys.readouterr().out
    assert not list(blobs.iterdir())  # the cache copies went too
    assert main(["generate", "a cat", "--model", "mini", "-o", str(out)]) == 2
    assert "run `dallebot models download mini` first" in capsys.readouterr().err
    assert main(["models", "remove", "mini"]) == 1
    assert "not downloaded" in capsys.readouterr().err


def test_a_damaged_entry_is_reported_and_repaired(hub, hub_env, capsys):
    assert main(["models", "download", "mini"]) == 0
    (resolve_model("mini", hub_env) / "decoder_mini.pt").resolve().unlink()  # the cache blob vanishes
    assert main(["generate", "a cat", "--model", "mini"]) == 2
    assert "model 'mini' is damaged (model/decoder_mini.pt is missing)" in capsys.readouterr().err
    assert main(["models", "list"]) == 0
    assert "DAMAGED" in capsys.readouterr().out
    assert main(["models", "download", "mini"]) == 0  # not "up to date": fetched again
    assert "decoder_mini.pt" in capsys.readouterr().out
    resolve_model("mini", hub_env)


def _config(tmp_path: Path, model: str) -> Path:
    path = tmp_path / "config.yaml"
    data = {"generation": {"model": model}, "storage": {"url": f"sqlite:///{tmp_path / 'bot.db'}"}}
    path.write_text(yaml.safe_dump(data))
    return path


def test_run_refuses_a_name_not_downloaded_before_opening_anything(hub_env, tmp_path, capsys):
    config = _config(tmp_path, "mega")
    assert main(["run", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "generation.model: model 'mega' is not downloaded" in err
    assert "dallebot models download mega" in err
    assert not (tmp_path / "bot.db").exists()  # the database was never opened
    assert main(["worker", "--config", str(config)]) == 2
    capsys.readouterr()
    assert main(["check-config", "--config", str(config)]) == 1
    assert "dallebot models download mega" in capsys.readouterr().err


def test_offline_in_a_fresh_process_with_the_hub_gone(hub, hub_env, tmp_path, capsys):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DALLEBOT_CPU_KERNEL": "0"}
    dallebot = [sys.executable, "-m", "bot"]
    done = subprocess.run([*dallebot, "models", "download", "mini"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "ready" in done.stdout
    hub.stop()
    config = _config(tmp_path, "mini")
    assert main(["check-config", "--config", str(config)]) in (0, 1)
    assert "generation.model" not in capsys.readouterr().err
    out = tmp_path / "offline.png"
    offline = {**env, "HF_HUB_OFFLINE": "1"}
    args = ["generate", "a dog", "--model", "mini", "--device", "cpu", "-o", str(out)]
    done = subprocess.run([*dallebot, *args], env=offline, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert Image.open(out).size == (256, 256)
