"""generation.bench's output contract (run on tiny sizes; the real sizes are for the program)."""

from __future__ import annotations

import json

import torch

from generation import bench
from generation.pipeline import Pipeline
from tests.generation import tiny


def test_bench_prints_figures_and_ends_with_json(monkeypatch, capsys):
    monkeypatch.setattr(bench, "MINI", tiny.BART)
    monkeypatch.setattr(bench, "VQGANConfig", lambda: tiny.VQGAN)
    assert bench.main(["--size", "mini", "--device", "cpu", "--dtype", "fp32", "--images", "1", "2"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    result = json.loads(lines[-1])
    assert result["size"] == "mini" and result["device"] == "cpu" and result["dtype"] == "fp32"
    assert [r["images"] for r in result["runs"]] == [1, 2]
    assert all(r["seconds"] > 0 and r["peak_memory_gb"] > 0 for r in result["runs"])
    assert any("s/image" in line and "images/s" in line for line in lines[:-1])


def test_tensor_peak_counts_weights_and_the_most_held_at_once():
    parts = tiny.components()
    pipe = Pipeline(
        tiny.tokenizer(), parts.encoder, parts.decoder, parts.vqgan, device="cpu", dtype=torch.float32
    )
    weights = sum(
        t.numel() * t.element_size()
        for part in (pipe.encoder, pipe.decoder, pipe.vqgan)
        for t in [*part.parameters(), *part.buffers()]
    )
    mib = 2**20

    def two_then_one() -> None:
        a = torch.empty(4 * mib, dtype=torch.uint8)
        b = torch.empty(4 * mib, dtype=torch.uint8)
        del a, b
        c = torch.empty(6 * mib, dtype=torch.uint8)  # freed space is reused: 8 MiB stays the peak
        del c

    peak = bench.tensor_peak_gb(pipe, two_then_one) * 2**30 - weights
    assert 8 * mib <= peak < 9 * mib


def test_bench_trace_memory_adds_tensor_peak(monkeypatch, capsys):
    monkeypatch.setattr(bench, "MINI", tiny.BART)
    monkeypatch.setattr(bench, "VQGANConfig", lambda: tiny.VQGAN)
    assert bench.main(["--size", "mini", "--device", "cpu", "--dtype", "fp32", "--trace-memory"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["tensor_peak_gb"] > 0
