"""`dallebot models download` against the fake Hub: what is fetched, verified, registered, and each fault."""

from __future__ import annotations

import errno
import json

import huggingface_hub
import pytest
from huggingface_hub import constants as hf_constants

from bot.cli import main
from generation.hub import download as download_module
from generation.hub.registry import resolve_model
from generation.loading import load_components
from tests.generation.hub.conftest import min_dalle_files
from tests.generation.hub.fake_hub import TOKEN

MINI = ("encoder_mini.pt", "decoder_mini.pt", "vocab_mini.json", "merges_mini.txt", "detoker.pt")


def _download(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["models", "download", *args])
    out, err = capsys.readouterr()
    return code, out, err


def _blobs(settings, repo="kuprel/min-dalle"):
    folder = settings.cache_dir / f"models--{repo.replace('/', '--')}" / "blobs"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_mini_fetches_only_its_files_verifies_and_registers(hub, hub_env, capsys):
    code, out, err = _download(capsys, "mini")
    assert code == 0, err
    fetched = {q.path.rsplit("/", 1)[-1] for q in hub.requests if q.method == "GET" and "/resolve/" in q.path}
    assert fetched <= set(MINI) and {"vocab_mini.json", "merges_mini.txt"} <= fetched
    assert not hub.file_requests("encoder.pt") and not hub.file_requests("config.json")
    assert all(not q.authorized for q in hub.requests if q.server == "lfs")  # no token sent off the Hub
    assert "ready" in out and "loading the model once" in out
    directory = resolve_model("mini", hub_env)
    manifest = json.loads((directory.parent / "manifest.json").read_text())
    assert (
        manifest["source"] == "kuprel/min-dalle"
        and manifest["commit"] == hub.repos["kuprel/min-dalle"].commit
    )
    assert sorted(f["rfilename"] for f in manifest["files"]) == sorted(MINI)
    assert load_components("mini").config.bart.d_model == 32

    again = len(hub.requests)
    code, out, _ = _download(capsys, "mini")
    assert code == 0 and "up to date" in out
    assert all(q.path.startswith("/api/") for q in hub.requests[again:])  # no file fetched twice


def test_mega_and_a_revision(hub, hub_env, capsys):
    assert _download(capsys, "mega", "--revision", "v1")[0] == 0
    assert not hub.file_requests("encoder_mini.pt")
    manifest = json.loads((resolve_model("mega", hub_env).parent / "manifest.json").read_text())
    assert manifest["revision"] == "v1"
    assert load_components("mega").encoder.layers[0].self_attn.q_proj.weight.shape == (32, 32)


def test_dropped_connection_resumes_with_a_range_request(hub, hub_env, capsys, monkeypatch):
    monkeypatch.setattr(hf_constants, "DOWNLOAD_CHUNK_SIZE", 8192)  # resume points every 8 kB, not 10 MB
    hub.drop("kuprel/min-dalle", "decoder_mini.pt", after=30_000)
    code, _, err = _download(capsys, "mini")
    assert code == 0, err
    ranges = [q.range for q in hub.file_requests("decoder_mini.pt") if q.server == "lfs"]
    assert ranges[0] is None and ranges[1] == "bytes=24576-"  # three whole 8 kB chunks were kept
    load_components("mini")


def test_corrupt_bytes_are_caught_evicted_and_fetched_again(hub, hub_env, capsys):
    hub.damage("kuprel/min-dalle", "encoder_mini.pt", times=1)
    code, out, err = _download(capsys, "mini")
    assert code == 0, err
    assert "encoder_mini.pt: corrupt (sha256" in out and "fetching it again" in out
    assert len([q for q in hub.file_requests("encoder_mini.pt") if q.server == "lfs"]) == 2
    load_components("mini")


def test_corrupt_twice_fails_and_leaves_no_bad_copy(hub, hub_env, capsys):
    hub.damage("kuprel/min-dalle", "encoder_mini.pt", times=2)
    code, _, err = _download(capsys, "mini")
    assert code == 1 and "arrived corrupt twice" in err and "Traceback" not in err
    assert hub.sha256("kuprel/min-dalle", "encoder_mini.pt") not in _blobs(hub_env)
    snapshot = (
        hub_env.cache_dir / "models--kuprel--min-dalle" / "snapshots" / hub.repos["kuprel/min-dalle"].commit
    )
    assert not (snapshot / "encoder_mini.pt").exists()
    assert main(["generate", "a cat", "--model", "mini"]) == 2
    assert "not downloaded" in capsys.readouterr().err
    assert _download(capsys, "mini")[0] == 0  # the Hub heals: the next run succeeds


def test_a_corrupt_file_already_in_the_cache_is_replaced(hub, hub_env, capsys):
    assert _download(capsys, "mini")[0] == 0
    blob = (
        hub_env.cache_dir
        / "models--kuprel--min-dalle"
        / "blobs"
        / hub.sha256("kuprel/min-dalle", "detoker.pt")
    )
    data = bytearray(blob.read_bytes())
    data[1000:1010] = b"\0" * 10  # same size, other bytes: huggingface_hub alone would keep it
    blob.write_bytes(bytes(data))
    code, out, err = _download(capsys, "mini", "--force")
    assert code == 0, err
    assert "detoker.pt: corrupt" in out
    load_components("mini")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nobody/nothing"], "no repo nobody/nothing at http://127.0.0.1"),
        (["mini", "--revision", "v9"], "kuprel/min-dalle has no revision 'v9'"),
        (["someone/readme-only"], "holds no model layout dallebot loads (files: README.md)"),
        (["kuprel/min-dalle"], "holds both DALL·E Mini and Mega files: download `mini` or `mega`"),
        (["private/model"], "or it is private and no token is set: set HF_TOKEN"),
        (["gated/model"], "gated/model is gated: accept its conditions"),
        (["./not a name"], "is not a model name"),
    ],
)
def test_hub_errors_are_one_clear_line(hub, hub_env, capsys, args, message):
    code, _, err = _download(capsys, *args)
    assert code in (1, 2) and message in err and "Traceback" not in err
    assert not list(hub_env.models_dir.glob("*/manifest.json"))


def test_entry_missing_from_resolve(hub, hub_env, capsys):
    hub.hidden.add(("kuprel/min-dalle", "merges_mini.txt"))
    code, _, err = _download(capsys, "mini")
    assert code == 1 and "has no file merges_mini.txt" in err


def test_gated_and_private_repos_with_the_token(hub, hub_env, capsys, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    assert _download(capsys, "gated/model")[0] == 0
    assert _download(capsys, "private/model")[0] == 0
    assert any(q.authorized for q in hub.requests if q.server == "hub")
    assert TOKEN not in capsys.readouterr().out
    assert load_components("gated/model").config.name == "tiny"


def test_own_format_repo_by_id(hub, hub_env, capsys):
    assert _download(capsys, "someone/own-model")[0] == 0
    assert resolve_model("someone/own-model", hub_env).name == "model"
    assert load_components("someone/own-model").config.name == "tiny"


def test_server_down_and_offline(hub, hub_env, capsys, monkeypatch):
    hub.stop()
    code, _, err = _download(capsys, "mini")
    assert code == 1 and f"cannot reach the Hub at {hub.url}" in err and "Traceback" not in err
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    code, _, err = _download(capsys, "mini")
    assert code == 1 and "HF_HUB_OFFLINE is set" in err and "not downloaded" in err


def test_not_enough_disk_space_stops_before_fetching(hub, hub_env, capsys, monkeypatch):
    monkeypatch.setattr(download_module, "free_bytes", lambda path: (10 << 20, 1))
    code, _, err = _download(capsys, "mini")
    assert code == 1 and "not enough disk space" in err and "HF_HOME" in err
    assert not [q for q in hub.requests if q.method == "GET" and "/resolve/" in q.path]


def test_disk_full_while_writing(hub, hub_env, capsys, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", full)
    code, _, err = _download(capsys, "mini")
    assert code == 1 and "the disk is full" in err and "Traceback" not in err


def test_interrupted_run_registers_nothing_and_its_leftovers_go(hub, hub_env, capsys, monkeypatch):
    def interrupted(model, say):
        raise KeyboardInterrupt

    load_once = download_module._load_once
    monkeypatch.setattr(download_module, "_load_once", interrupted)
    code, _, err = _download(capsys, "mini")
    assert code == 130 and "nothing new was registered" in err
    assert not (hub_env.models_dir / "mini").exists() and not list(hub_env.models_dir.glob(".staging-*"))
    # a run killed outright leaves its staging folder: never resolved, listed, then removed
    leftover = hub_env.models_dir / ".staging-mini-0123abcd" / "model"
    leftover.mkdir(parents=True)
    (leftover / "encoder_mini.pt").write_bytes(b"half")
    assert main(["generate", "a cat", "--model", "mini"]) == 2
    assert "not downloaded" in capsys.readouterr().err
    assert main(["models", "list"]) == 0
    assert "interrupted download left in" in capsys.readouterr().out
    monkeypatch.setattr(download_module, "_load_once", load_once)
    assert _download(capsys, "mini")[0] == 0
    assert not leftover.exists()


def test_a_min_dalle_folder_with_its_placeholder_config_loads_as_min_dalle(tmp_path):
    files = min_dalle_files()
    for name in ("config.json", *MINI):  # kuprel/min-dalle's folder as huggingface_hub leaves it
        (tmp_path / name).write_bytes(files[name])
    assert load_components(tmp_path).config.name == "min-dalle-format"


def test_a_new_commit_replaces_the_old_and_its_unused_blobs_go(hub, hub_env, capsys):
    assert _download(capsys, "mini")[0] == 0
    old_decoder = hub.sha256("kuprel/min-dalle", "decoder_mini.pt")
    files = dict(min_dalle_files())
    files["decoder_mini.pt"] = min_dalle_files()["decoder.pt"]  # another decoder of the same shape
    commit = hub.add_repo("kuprel/min-dalle", files)
    code, out, err = _download(capsys, "mini")
    assert code == 0 and "up to date" not in out, err
    manifest = json.loads((resolve_model("mini", hub_env).parent / "manifest.json").read_text())
    assert manifest["commit"] == commit
    blobs = _blobs(hub_env)
    assert old_decoder not in blobs and hub.sha256("kuprel/min-dalle", "detoker.pt") in blobs
