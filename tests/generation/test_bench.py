"""generation.bench's output contract (run on tiny sizes; the real sizes are for the program)."""

from __future__ import annotations

import json

from generation import bench
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
