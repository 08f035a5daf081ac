"""`python -m bot.bench` runs end to end and ends with its one JSON line (figures are not asserted)."""

from __future__ import annotations

import json

import pytest

from bot.bench import main


def test_bench_prints_its_figures_as_the_last_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--submits", "10", "--requests", "3"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    figures = json.loads(last)
    assert set(figures) == {"median_overhead_ms", "submit_per_s"}
    assert figures["median_overhead_ms"] > 0 and figures["submit_per_s"] > 0
