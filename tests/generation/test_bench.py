"""generation.bench's output contract (run on tiny sizes; the real sizes are for the program)."""

from __future__ import annotations

import json

import pytest
import torch

from generation import bench
from generation.weights import has_fbgemm
from tests.generation import tiny


def tiny_sizes(monkeypatch) -> None:
    monkeypatch.setattr(bench, "MINI", tiny.BART)
    monkeypatch.setattr(bench, "VQGANConfig", lambda: tiny.VQGAN)


def test_bench_measures_the_floor_and_ends_with_json(monkeypatch, capsys):
    tiny_sizes(monkeypatch)
    argv = [
        "--size",
        "mini",
        "--device",
        "cpu",
        "--dtype",
        "bf16",
        "int8",
        "--images",
        "1",
        "2",
        "--in-process",
    ]
    assert bench.main(argv) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    result = json.loads(lines[-1])
    assert result["size"] == "mini" and result["device"] == "cpu" and result["bandwidth_gbs"] > 0
    assert [(r["dtype"], r["images"]) for r in result["runs"]] == [
        ("bf16", 1),
        ("bf16", 2),
        ("int8", 1),
        ("int8", 2),
    ]
    for run in result["runs"]:
        assert run["s_per_image"] > 0 and run["peak_rss_gb"] > 0 and run["speedup_vs_fp32"] > 0
        floor = 256 * run["step_bytes"] / (result["bandwidth_gbs"] * 1e9) / run["images"]
        assert abs(run["floor_s_per_image"] - round(floor, 3)) < 2e-3
        assert run["ratio_to_floor"] > 0
    int8, bf16 = result["runs"][2], result["runs"][0]
    assert int8["step_bytes"] < bf16["step_bytes"] < result["fp32"]["step_bytes"]  # 1, 2 and 4 bytes a weight
    assert any("ratio_to_floor" in line and "weights read per step" in line for line in lines[:-1])


def test_bench_compares_thread_choices_on_a_busy_machine(monkeypatch, capsys):
    tiny_sizes(monkeypatch)
    monkeypatch.setattr("generation.pipeline.SMALL_MODEL_WIDTH", 0)  # tune as for a published model
    before = torch.get_num_threads()
    argv = ["--size", "mini", "--device", "cpu", "--dtype", "bf16", "--threads", "1", "auto",
            "--busy", "1", "--no-fp32", "--in-process"]  # fmt: skip
    try:
        assert bench.main(argv) == 0
    finally:
        torch.set_num_threads(before)
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["busy_processes"] == 1
    chosen = [(r["threads"], r["thread_switches"] is None) for r in result["runs"]]
    assert chosen == [(1, True), ("auto", False)]
    assert result["runs"][0]["threads_at_end"] == 1


@pytest.mark.parametrize("bad", ["0", "-2", "two"])
def test_bench_refuses_a_bad_thread_count(bad, capsys):
    with pytest.raises(SystemExit):
        bench.main(["--threads", bad])
    assert "thread count of at least 1, or auto" in capsys.readouterr().err


def test_step_bytes_count_every_matrix_a_step_reads(monkeypatch):
    tiny_sizes(monkeypatch)
    pipe = bench.build("mini", torch.device("cpu"), "fp32")
    d, g, layers, v = (
        tiny.BART.d_model,
        tiny.BART.glu_dim,
        tiny.BART.decoder_layers,
        tiny.BART.image_vocab_size,
    )
    per_layer = 3 * d * d + d * d + d * d + d * d + 2 * g * d + g * d  # qkv, out, cross q, cross out, glu
    assert pipe.decoder.step_bytes() == 4 * (layers * per_layer + v * d)


@pytest.mark.parametrize("dtype", ["int8"] + (["int8-dynamic"] if has_fbgemm() else []))
def test_quality_compares_int8_with_bf16_logits(monkeypatch, dtype):
    tiny_sizes(monkeypatch)
    q = bench.quality("mini", "cpu", steps=8, dtype=dtype)
    assert q["steps"] == 8 and 0.9 < q["cosine_mean"] <= 1.0 and q["cosine_min"] <= q["cosine_mean"]
    assert 0 < q["max_abs_error_relative"] < 0.5


def test_the_gpu_session_script_runs_its_whole_flow_on_tiny_sizes(tmp_path):
    # .ci/gpu_bench.py runs only where a GPU is lent, once a session: its flow (arguments, the
    # suites, the files it writes) is checked here on a CPU so it is not found broken there
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    argv = [sys.executable, str(root / ".ci" / "gpu_bench.py"), "--smoke", "--device", "cpu",
            "--mini-images", "1", "4", "--mini-no-fp32", "--mega-images", "1",
            "--variants", "off", "--variant-cases", "mini:1", "mega:2"]  # fmt: skip
    env = {**os.environ, "OUT": str(tmp_path)}
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    mini = json.loads((tmp_path / "mini.json").read_text())
    assert [(r["dtype"], r["images"]) for r in mini["runs"]] == [
        (d, n) for d in ("bf16", "int8") for n in (1, 4)
    ]
    assert "fp32" not in mini  # --mini-no-fp32
    timed = json.loads((tmp_path / "variants.json").read_text())
    assert sorted(timed) == ["mega:2:off", "mini:1:off"] and timed["mega:2:off"]["tokens_s"] > 0
    mega = json.loads((tmp_path / "mega.json").read_text())
    assert {r["images"] for r in mega["runs"]} == {1} and "failed" not in (tmp_path / "log.txt").read_text()
