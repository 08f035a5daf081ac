"""What live progress and previews cost a request, against the same request without them, in one run.

    python -m bot.preview_bench --size embedded --images 1 4 --repeats 5
    python -m bot.preview_bench --size mini --images 1 --repeats 2 --threads 2

For each image count it runs one prompt through the pipeline in four ways, interleaved and
repeated (the median of each is reported), as the worker calls it:

- `none`: no on_step at all (the baseline);
- `steps`: progress only (on_step records the step on a `ProgressBoard`; previews off);
- `previews`: the worker's defaults — a preview every `--every` of the steps, within
  `--max-share` of the call — decoded and passed through the real image gate (Open-NSFW);
- `unbounded`: a preview at every mark whatever it costs (what a preview costs on its own).

`--size mini` builds DALL·E Mini-size random weights (`generation.bench.build`: weight values do not
change the work), `embedded` loads the default embedded model. The last line is one JSON object:
{"size", "images", "threads", "load", "runs": [{"images", "mode", "seconds", "overhead",
"previews", ...}], "worst_default_overhead"}; `overhead` is seconds / none's seconds − 1.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from datetime import UTC, datetime
from typing import Any

PROMPT = "a red circle above a blue square"  # words every model here knows


def _claim(request_id: int) -> Any:
    """A claim as storage would hand it to the worker (the gate reads its platform and reply_to)."""
    from storage import Claim
    from storage.domain import Options, Platform, Request, Status

    now = datetime.now(UTC)
    request = Request(request_id, Platform.WEB, f"bench-{request_id}", "bench", "", PROMPT, Options(),
                      {}, Status.RUNNING, 1, now, now)  # fmt: skip
    return Claim(request, 1, now)


def _load(size: str, threads: int | None) -> Any:
    import torch

    from generation import load_pipeline
    from generation.bench import build

    if threads:
        torch.set_num_threads(threads)
    if size == "embedded":
        return load_pipeline(None, device="cpu")
    return build(size, torch.device("cpu"), "bf16")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", choices=["embedded", "mini"], default="embedded")
    parser.add_argument("--images", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--every", type=float, default=0.25)
    parser.add_argument("--max-share", type=float, default=0.10)
    args = parser.parse_args(argv)

    from bot.batches import BatchKey
    from bot.config import WorkerSettings
    from bot.previews import Previews
    from bot.progress import ProgressBoard
    from bot.safety.filter import SafetyFilter
    from bot.safety.settings import SafetySettings

    pipeline = _load(args.size, args.threads)
    safety = SafetyFilter.from_settings(SafetySettings())  # the real image gate, as the worker runs it
    sampling = pipeline.config.sampling
    modes = {
        "steps": WorkerSettings(preview_every=0),
        "previews": WorkerSettings(preview_every=args.every, preview_max_share=args.max_share),
        "unbounded": WorkerSettings(preview_every=args.every, preview_max_share=1.0),
    }
    helpers = {mode: Previews(ProgressBoard(), safety, settings) for mode, settings in modes.items()}
    for helper in helpers.values():
        helper.calibrate(pipeline)
    pipeline([PROMPT], seed=0)  # warm up: one-time setup (the gate's model included) is not timed
    safety.check_image(pipeline([PROMPT], seed=0)[0])

    runs = []
    for images in args.images:
        options = sampling.options(images)
        key = BatchKey(images, options["top_k"], options["temperature"], options["cond_scale"])
        times: dict[str, list[float]] = {"none": [], **{mode: [] for mode in modes}}
        made: dict[str, list[int]] = {mode: [] for mode in modes}
        for repeat in range(args.repeats):
            for mode in times:  # interleaved: a change in the machine's load hits every mode alike
                tracker = None
                if mode != "none":
                    tracker = helpers[mode].tracker(pipeline, key, [_claim(repeat)])
                started = time.perf_counter()
                pipeline([PROMPT], images_per_prompt=images, seed=repeat, on_step=tracker, **options)
                times[mode].append(time.perf_counter() - started)
                if tracker is not None:
                    made[mode].append(len(tracker.made))
                    tracker.close()
        base = statistics.median(times["none"])
        for mode, seconds in times.items():
            median = statistics.median(seconds)
            row = {"images": images, "mode": mode, "seconds": round(median, 4),
                   "overhead": round(median / base - 1, 4), "previews": made.get(mode, [0])[-1],
                   "all_seconds": [round(s, 4) for s in seconds]}  # fmt: skip
            runs.append(row)
            print(f"{images} image(s), {mode:9s}: {median:8.3f} s  ({row['overhead']:+.1%} vs none; "
                  f"{row['previews']} preview(s) in the last run)")  # fmt: skip
    worst = max(r["overhead"] for r in runs if r["mode"] == "previews")
    print(f"worst overhead at the defaults (every {args.every}, max share {args.max_share}): {worst:+.1%}")
    print(json.dumps({"size": args.size, "threads": args.threads, "load": os.getloadavg()[0],
                      "every": args.every, "max_share": args.max_share, "runs": runs,
                      "worst_default_overhead": worst}))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
