"""`dallebot eval …`: every operator error is one clear line and exit code 2, never a traceback."""

from __future__ import annotations

import pytest

from bot.cli import main


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["eval", "embedded", "--model", "/no/such/dir"], "eval embedded: error: model directory not found"),
        (["eval", "fidelity", "--model", "/no/such/dir"], "eval fidelity: error: model directory not found"),
        (["eval", "embedded", "--device", "tpu", "--captions", "1"], "unknown device 'tpu'"),
        (["eval", "fidelity", "--device", "tpu", "--captions", "1"], "unknown device 'tpu'"),
        (["eval", "embedded", "--captions", "-1"], "--captions: -1 is out of range: use a whole"),
        (["eval", "fidelity", "--captions", "0"], "--captions: 0 is out of range"),
        (["eval", "embedded", "--threads", "0"], "--threads: 0 is out of range"),
        (["eval", "embedded", "--detector-scenes", "many"], "'many' is not a whole number"),
        (["eval", "fidelity", "--images", "0"], "--images: 0 is out of range"),
        (["eval", "embedded", "--sheet", "/no/such/dir/sheet.png"], "folder /no/such/dir does not exist"),
        (["eval", "safety", "--images", "/no/such/dir"], "not a folder of PNG files"),
        (["eval", "safety", "--config", "/no/such/config.yaml"], "--config /no/such/config.yaml: no such"),
    ],
)  # fmt: skip
def test_operator_errors_exit_2(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
