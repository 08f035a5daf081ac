"""Fast path and reference path timed side by side, on the same random weights, in one run.

    python -m generation.fast.bench --size mini --device cuda [--reference] [--compile parts]

Cases (issue 9): 1 image, a 3×3 grid (one prompt, 9 images), 16 images (16 prompts), and
throughput at the best of several batch sizes. Each timing is end to end: prompts -> encoder ->
256 decode steps -> VQGAN -> uint8 pixels on the host; the fast path's first call for a batch
bucket (graph capture, compilation) is a warm-up, reported apart as `warmup_seconds`. Peak memory
is `torch.cuda.max_memory_allocated` over the timed call (weights included). The last line is one
JSON object: {"size", "device", "dtype", "runs": [...], "reference_runs": [...]}, each run
{"case", "images", "seconds", "images_per_second", "peak_memory_gb"} (fast runs add "mode" and
"warmup_seconds"; reference runs add "tokens_equal_to_fast": the share of tokens equal to the
fast path's for the same seeds).
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from generation.bench import PROMPTS, build, peak_memory_gb
from generation.fast.generator import CAPACITIES
from generation.fast.pipeline import FastPipeline
from generation.fast.runner import RunnerOptions
from generation.loading import resolve_device, resolve_dtype
from generation.pipeline import Pipeline

log = logging.getLogger(__name__)

CASES = (("1", 1, 1), ("3x3", 1, 9), ("16", 16, 1))  # (case, prompts, images per prompt)
THROUGHPUT_BATCHES = (64, 128, 256)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_call(fn: Callable[[], Any], device: torch.device, repeats: int) -> tuple[float, float, Any]:
    """Median seconds over `repeats` calls, peak memory (GB) over them, the last result."""
    times, result = [], None
    _sync(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        _sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times), peak_memory_gb(device), result


def end_to_end(pipe: Pipeline | FastPipeline, prompts: int, images: int, seed: int = 0) -> Callable[[], Any]:
    """A call that generates and decodes to host uint8 pixels (what the worker needs)."""
    texts = [PROMPTS[i % len(PROMPTS)] + f" {i}" for i in range(prompts)]
    seeds = [seed + i for i in range(prompts)]

    def call() -> tuple[torch.Tensor, torch.Tensor]:
        tokens = pipe.generate_tokens(texts, images_per_prompt=images, seed=seeds)
        if isinstance(pipe, FastPipeline):
            pixels = pipe.decode_pixels(tokens).cpu()
        else:
            pixels = torch.stack([torch.from_numpy(np.array(im)) for im in pipe.decode_tokens(tokens)])
        return tokens, pixels

    return call


def run_case(
    pipe: Pipeline | FastPipeline, case: str, prompts: int, images: int, *, repeats: int
) -> dict[str, Any]:
    device = pipe.device
    call = end_to_end(pipe, prompts, images)
    warm = 0.0
    if isinstance(pipe, FastPipeline):  # first call of a bucket: capture (and compile)
        start = time.perf_counter()
        call()
        _sync(device)
        warm = time.perf_counter() - start
    seconds, peak, (tokens, _) = time_call(call, device, repeats)
    n = prompts * images
    run = {"case": case, "images": n, "seconds": round(seconds, 4),
           "images_per_second": round(n / seconds, 2), "peak_memory_gb": round(peak, 3)}  # fmt: skip
    if isinstance(pipe, FastPipeline):
        run["warmup_seconds"] = round(warm, 2)
        run["mode"] = pipe.generator.runner(n, 50)[1].mode  # the decoder just used, cached
    log.info("%s %s: %s", type(pipe).__name__, case, run)
    run["_tokens"] = tokens
    return run


def throughput(pipe: Pipeline | FastPipeline, batches: tuple[int, ...], *, repeats: int) -> dict[str, Any]:
    """The batch size with the most images per second, with every size tried listed."""
    tried = [run_case(pipe, f"batch-{b}", b, 1, repeats=repeats) for b in batches]
    best = max(tried, key=lambda r: r["images_per_second"])
    return {**best, "case": "best-batch", "tried": {r["images"]: r["images_per_second"] for r in tried}}


def suite(
    pipe: Pipeline,
    *,
    reference: bool,
    options: RunnerOptions,
    cases: tuple[tuple[str, int, int], ...] = CASES,
    batches: tuple[int, ...] = THROUGHPUT_BATCHES,
    reference_cases: tuple[str, ...] | None = None,
    reference_batches: tuple[int, ...] = (64,),
    repeats: int = 3,
) -> dict[str, Any]:
    """Fast runs (and reference runs, side by side) -> the JSON object's run lists."""
    fast = FastPipeline(pipe, options=options)
    runs = [run_case(fast, *case, repeats=repeats) for case in cases]
    if batches:
        runs.append(throughput(fast, batches, repeats=repeats))
    result: dict[str, Any] = {"runs": runs}
    if reference:
        ref_runs = []
        for case in cases:
            if reference_cases is None or case[0] in reference_cases:
                ref_runs.append(run_case(pipe, *case, repeats=1))
        if reference_batches:
            ref_runs.append(throughput(pipe, reference_batches, repeats=1))
        for ref in ref_runs:  # same seeds: how many tokens the two paths share
            twin = next((r for r in runs if r["case"] == ref["case"]), None)
            if twin is not None and twin["_tokens"].shape == ref["_tokens"].shape:
                same = (twin["_tokens"].cpu() == ref["_tokens"].cpu()).float().mean().item()
                ref["tokens_equal_to_fast"] = round(same, 4)
        result["reference_runs"] = ref_runs
    for run in [*result["runs"], *result.get("reference_runs", [])]:
        run.pop("_tokens", None)
    return result


def fast_runs(
    pipe: Pipeline, *, images: list[int] | None, reference: bool, options: RunnerOptions | None = None
) -> dict[str, Any]:
    """What `python -m generation.bench` reports on CUDA: the fast path's "runs" and, with
    `reference`, "reference_runs" of the same cases. images None: the issue-9 suite (1, 3×3, 16,
    best batch); else one case per entry (n prompts, one image each)."""
    options = options or RunnerOptions()
    if images is None:
        return suite(pipe, reference=reference, options=options)
    cases = tuple((str(n), n, 1) for n in images)
    return suite(pipe, reference=reference, options=options, cases=cases, batches=(), reference_batches=())


def arrivals(
    fast: FastPipeline, *, rate: float, duration: float, capacity: int = 64, join_every: int = 16,
    seed: int = 0,
) -> dict[str, Any]:
    """Static batching vs continuous batching under the same seeded Poisson arrivals (1 image each).

    Static: take every waiting request (up to `capacity`), decode that batch to the end, repeat.
    Continuous: `ContinuousBatcher`, requests join every `join_every` steps. Timed to tokens on
    the host (the VQGAN pass is the same work in both). -> per scheme: requests per second over the
    makespan, mean / median / p95 latency from arrival to tokens.
    """
    from generation.fast.batching import ContinuousBatcher

    rng = np.random.default_rng(seed)
    times = np.cumsum(rng.exponential(1.0 / rate, size=int(rate * duration * 1.5) + 1))
    times = [float(t) for t in times if t < duration]
    prompts = [PROMPTS[i % len(PROMPTS)] + f" {i}" for i in range(len(times))]
    # one decoder per batch bucket, all kept and captured before the clock starts
    fast = FastPipeline(fast.pipeline, options=fast.generator.options, keep_decoders=len(CAPACITIES))
    for size in (c for c in CAPACITIES if c <= capacity):
        fast.generate_tokens(prompts[:size], seed=list(range(size)))
    batcher = ContinuousBatcher(fast, capacity=capacity, join_every=join_every)
    result = {}
    for scheme in ("static", "continuous"):
        latency: dict[int, float] = {}
        start = time.perf_counter()
        nxt = 0  # next request not yet handed over
        while len(latency) < len(times):
            now = time.perf_counter() - start
            if scheme == "static":
                ready = [i for i in range(nxt, len(times)) if times[i] <= now][:capacity]
                if ready:
                    fast.generate_tokens([prompts[i] for i in ready], seed=ready).cpu()
                    done_at = time.perf_counter() - start
                    latency.update({i: done_at - times[i] for i in ready})
                    nxt = ready[-1] + 1
                    continue
            else:
                while nxt < len(times) and times[nxt] <= now:
                    batcher.submit(nxt, prompts[nxt], seed=nxt)
                    nxt += 1
                if batcher.busy:
                    for done in batcher.step():
                        latency[done.key] = time.perf_counter() - start - times[done.key]  # type: ignore[index]
                    continue
            if nxt < len(times):
                time.sleep(max(0.0, times[nxt] - (time.perf_counter() - start)))
        makespan = time.perf_counter() - start
        values = sorted(latency.values())
        result[scheme] = {"requests": len(values), "requests_per_second": round(len(values) / makespan, 1),
                          "mean_latency_s": round(statistics.mean(values), 4),
                          "median_latency_s": round(statistics.median(values), 4),
                          "p95_latency_s": round(values[int(0.95 * (len(values) - 1))], 4)}  # fmt: skip
    return {"rate": rate, "duration": duration, "capacity": capacity, "join_every": join_every, **result}


def main(argv: list[str] | None = None) -> int:
    summary = __doc__.splitlines()[0]
    parser = argparse.ArgumentParser(prog="python -m generation.fast.bench", description=summary)
    parser.add_argument("--size", choices=["mini", "mega"], default="mini")
    parser.add_argument("--device", default=None)
    parser.add_argument("--dtype", default=None, choices=["fp32", "bf16", "fp16"])
    parser.add_argument("--reference", action="store_true", help="time the reference path side by side")
    parser.add_argument("--compile", default="off", choices=["off", "parts", "step"])
    parser.add_argument("--batches", type=int, nargs="*", default=list(THROUGHPUT_BATCHES))
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
    device = resolve_device(args.device)
    dtype = resolve_dtype(args.dtype, device)
    pipe = build(args.size, device, dtype)
    result = suite(pipe, reference=args.reference, options=RunnerOptions(compile=args.compile),
                   batches=tuple(args.batches), repeats=args.repeats)  # fmt: skip
    name = {torch.float32: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}[dtype]
    print(json.dumps({"size": args.size, "device": str(device), "dtype": name, **result}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
