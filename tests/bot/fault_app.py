"""`dallebot run` in a process of its own, with stand-ins only at the model and classifier boundary.

    python -m tests.bot.fault_app --config config.yaml

The real CLI (`bot.cli.main(["run", …])`: startup checks, signals, composition root, web server,
service, storage, worker threads, delivery loop) with the embedded model replaced by a stand-in
that takes `FAULT_APP_SECONDS` (default 0.05) per call and the classifiers by `StandInSafety`,
so the storage-fault tests start in a second and generate at once.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from tests.bot.fakes import StandInPipeline, StandInSafety


class SlowStandIn(StandInPipeline):
    """A pipeline call takes a moment, so requests are in flight when a fault hits."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        time.sleep(float(os.environ.get("FAULT_APP_SECONDS", "0.05")))
        return super().__call__(*args, **kwargs)


def main(argv: list[str]) -> int:
    import bot.app
    import bot.assembly
    from bot.cli import main as cli

    pipeline = SlowStandIn()
    bot.assembly.embedded_pipeline_loader = lambda settings, fast=False: lambda: pipeline  # type: ignore[assignment]
    bot.app.BotApp._build_safety = lambda self: StandInSafety()  # type: ignore[assignment,method-assign,return-value]
    return cli(["run", *argv])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
