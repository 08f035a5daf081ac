"""Benchmark against this machine's own limit: random DALL·E Mini/Mega-size weights, end to end.

    python -m generation.bench --size mini --dtype bf16 int8 --images 1 9 --repeats 3

Decoding one token reads every decoder matrix once, so a step cannot be faster than the bytes of
weights it reads divided by the memory bandwidth. The bench measures that bandwidth (a large
read, best of several, before and after the runs: the higher figure sets the floor), then for
each dtype and for fp32 (what min-dalle runs on a CPU: the baseline) builds the pipeline in a
child process (so each peak RSS is its own), times `--images n` (one prompt, n images: 9 is the
3×3 grid) end to end (prompt -> pixels), median of `--repeats`, and prints per run the weight
bytes per step, the floor they imply (256 steps × bytes / bandwidth, per image),
`ratio_to_floor`, `speedup_vs_fp32` and peak memory. Weight values do not change the work, so
nothing is read from disk. `--quality` adds int8-vs-bf16 logits on the same weights.
The last line is one JSON object: {"size", "device", "bandwidth_gbs", "runs": [{"dtype",
"images", "s_per_image", "ratio_to_floor", "speedup_vs_fp32", "peak_rss_gb", ...}], ...}.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any, TypeVar

import torch
from torch import nn

from generation.config import MEGA, MINI, PRECISIONS, ModelConfig, VQGANConfig
from generation.decoder import ImageDecoder
from generation.encoder import TextEncoder
from generation.loading import resolve_device
from generation.machine import bandwidth_gbs, busy_processes, peak_memory_gb, sync
from generation.pipeline import Pipeline
from generation.runner import Compile, RunnerOptions
from generation.tokenizer import Tokenizer
from generation.vqgan import VQGANDecoder
from generation.weights import has_fbgemm

PROMPTS = ["an armchair in the shape of an avocado", "a cat wearing sunglasses", "sunset over the sea"]


M = TypeVar("M", bound=nn.Module)


def random_module(module: M, device: torch.device, dtype: torch.dtype, seed: int = 0) -> M:
    """Allocate a meta-built module on `device` in `dtype`, fill it with small seeded random weights."""
    module = module.to(dtype=dtype).to_empty(device=device)
    gen = torch.Generator(device=device).manual_seed(seed)
    with torch.no_grad():
        for name, p in module.named_parameters():
            if p.dim() == 1:
                p.fill_(1.0 if name.endswith("weight") else 0.0)
            else:
                p.normal_(0.0, 0.02, generator=gen)
    return module


def tiny_tokenizer(max_tokens: int) -> Tokenizer:
    """Letters-only BPE vocabulary: tokenization cost is negligible next to the model."""
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "Ġ": 4}
    vocab.update({c: 5 + i for i, c in enumerate("abcdefghijklmnopqrstuvwxyz")})
    return Tokenizer(vocab, [("Ġ", "a")], max_tokens=max_tokens)


def build(size: str, device: torch.device, dtype: str, compile: Compile = "off") -> Pipeline:
    """A pipeline of `size` with seeded random weights (built in bf16, or fp32 for fp32), its step
    compiled as generation.compile asks (on a CPU that also decides the weight format)."""
    bart = {"mini": MINI, "mega": MEGA}[size]
    with torch.device("meta"):
        meta_encoder, meta_decoder = TextEncoder(bart), ImageDecoder(bart)
        meta_vqgan = VQGANDecoder(VQGANConfig())
    made = torch.float32 if dtype == "fp32" else torch.bfloat16
    encoder = random_module(meta_encoder, device, made, 0)
    decoder = random_module(meta_decoder, device, made, 1)
    vqgan = random_module(meta_vqgan, device, made, 2)
    config = ModelConfig(bart=bart, name=size)
    return Pipeline(
        tiny_tokenizer(bart.text_tokens), encoder, decoder, vqgan, config=config, device=device, dtype=dtype,
        options=RunnerOptions(compile=compile),
    )  # fmt: skip


def run_config(
    size: str,
    device: str,
    dtype: str,
    images: list[int],
    repeats: int,
    cond_scale: float,
    threads: int | str | None,
    compile: Compile = "off",
) -> dict[str, Any]:
    """Build one pipeline, time each batch size (median of repeats) -> {"step_bytes", "runs"}.
    threads: a count, "auto" (chosen while decoding, as the bot does) or None (torch's default);
    compile: generation.compile (off, parts, step; compiled during the untimed warm-up)."""
    dev = resolve_device(device)
    if dev.type == "cuda":  # in one process: each configuration's own peak, not the run's so far
        torch.cuda.reset_peak_memory_stats(dev)
    start = time.perf_counter()
    pipe = build(size, dev, dtype, compile)
    if threads is not None:
        pipe.use_cpu_threads(None if threads == "auto" else int(threads))
    for n in images if compile != "off" else [1]:  # a compiled step: each batch size compiles once
        pipe.warm_up(n)
    built = time.perf_counter() - start
    runs = []
    for n in images:
        times, tokens_s = [], []
        for r in range(repeats):
            sync(dev)
            t0 = time.perf_counter()
            tokens = pipe.generate_tokens(
                [PROMPTS[r % len(PROMPTS)]], images_per_prompt=n, seed=r, cond_scale=cond_scale
            )
            sync(dev)
            t1 = time.perf_counter()
            pipe.decode_pixels(tokens).cpu()
            times.append(time.perf_counter() - t0)
            tokens_s.append(t1 - t0)
        runs.append(
            {
                "images": n,
                "seconds": round(statistics.median(times), 3),
                "all_seconds": [round(t, 3) for t in times],
                "tokens_seconds": round(statistics.median(tokens_s), 3),
            }
        )
    return {
        "dtype": dtype,
        "threads_asked": threads,
        "thread_switches": pipe.thread_switches(),
        "step_modes": pipe.step_modes(),
        "weights": pipe.precision.weights,
        "step_bytes": pipe.decoder.step_bytes(),
        "build_seconds": round(built, 1),
        "threads": torch.get_num_threads(),
        "runs": runs,
        "peak_rss_gb": round(peak_memory_gb(dev), 3),
    }


def quality(
    size: str, device: str, steps: int = 64, dtype: str = "int8", compile: Compile = "off"
) -> dict[str, Any]:
    """`dtype` (int8, int8-dynamic) vs bf16 logits on the same random weights, both fed the bf16
    path's tokens (teacher forcing) for `steps` steps, guidance 10: cosine (mean, min over rows and
    steps), max |error| relative to the largest |bf16 logit|, share of steps with the same top token.
    compile: the precisions a compiled step would use (bf16 activations on an AMX CPU); the steps
    themselves run eagerly."""
    dev = resolve_device(device)
    pipes = {d: build(size, dev, d, compile) for d in ("bf16", dtype)}
    logits: dict[str, list[torch.Tensor]] = {"bf16": [], dtype: []}
    with torch.no_grad():
        enc, mask = pipes["bf16"].encode([PROMPTS[0]])
        uniforms = torch.rand(
            1, pipes["bf16"].config.bart.image_tokens, generator=torch.Generator().manual_seed(0)
        )
        feed: list[torch.Tensor] = []
        for name, pipe in pipes.items():
            dec = pipe.decoder
            k = min(50, pipe.config.bart.image_vocab_size)
            state = dec.new_state(1, max_candidates=k, keep_logits=True)
            rows = torch.tensor([0, 1], device=dev)
            dec.admit(
                state,
                torch.tensor([0], device=dev),
                enc[rows].to(pipe.dtype),
                mask[rows],
                uniforms=uniforms,
                top_k=torch.tensor([k]),
                temperature=torch.tensor([0.7]),
                cond_scale=torch.tensor([10.0]),
                start_token=pipe.config.bart.start_token,
            )
            for i in range(steps):
                dec.step(state)
                assert state.logits is not None  # keep_logits=True
                logits[name].append(state.logits[0].float().clone())
                if name == "bf16":
                    feed.append(state.previous.clone())
                else:
                    state.previous.copy_(feed[i])
    a, b = torch.stack(logits["bf16"]), torch.stack(logits[dtype])
    cos = torch.nn.functional.cosine_similarity(a, b, dim=-1)
    return {
        "steps": steps,
        "cosine_mean": round(cos.mean().item(), 5),
        "cosine_min": round(cos.min().item(), 5),
        "max_abs_error_relative": round(((a - b).abs().max() / a.abs().max()).item(), 4),
        "top1_agreement": round((a.argmax(-1) == b.argmax(-1)).float().mean().item(), 3),
    }


def _in_child(fn: Any, *args: Any) -> Any:
    """Run fn(*args) in a fresh interpreter (its own peak RSS); a crash there is an error here."""
    call = json.dumps({"fn": fn.__name__, "args": args})
    done = subprocess.run(  # noqa: S603  fixed argv: this interpreter, this module
        [sys.executable, "-m", "generation.bench", "--child", call],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"{fn.__name__}{args} failed in its process (exit {done.returncode}): {done.stderr[-2000:]}"
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _child(call: str) -> int:
    request = json.loads(call)
    fns: dict[str, Callable[..., Any]] = {"run_config": run_config, "quality": quality}
    fn = fns[request["fn"]]
    print(json.dumps(fn(*request["args"])))
    return 0


def _threads_arg(text: str) -> int | str:
    if text == "auto":
        return text
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give a thread count of at least 1, or auto")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m generation.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=["mini", "mega"], default="mini")
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:N (default: cuda when available)")
    parser.add_argument(  # fp32 is the baseline every run measures
        "--dtype", nargs="+", default=["bf16"], choices=[p for p in PRECISIONS if p != "fp32"]
    )
    parser.add_argument("--images", type=int, nargs="+", default=[1], help="images per run (9 = a 3×3 grid)")
    parser.add_argument("--repeats", type=int, default=1, help="timed runs per batch size (median reported)")
    parser.add_argument(
        "--no-fp32", action="store_true", help="skip the fp32 baseline (speedup_vs_fp32 null)"
    )
    parser.add_argument("--fp32-repeats", type=int, default=1, help="timed runs of the fp32 baseline")
    parser.add_argument(
        "--quality", action="store_true", help="also compare int8 (and int8-dynamic) logits with bf16"
    )
    parser.add_argument(
        "--threads", nargs="+", type=_threads_arg, default=[None],
        help="torch CPU threads: counts and/or 'auto' (chosen while decoding, as the bot does), "
        "each a run of its own (default: torch's)",
    )  # fmt: skip
    parser.add_argument(
        "--busy", type=int, default=0,
        help="start this many CPU-bound processes for the runs (a shared machine: the bot's web "
        "server under load, another worker)",
    )  # fmt: skip
    parser.add_argument(
        "--compile", choices=["off", "parts", "step"], default="off",
        help="generation.compile for the measured runs (the fp32 baseline stays eager, as min-dalle)",
    )  # fmt: skip
    parser.add_argument("--cond-scale", type=float, default=10.0, help="1 = guidance off")
    parser.add_argument("--in-process", action="store_true", help="no child processes (peak RSS cumulative)")
    parser.add_argument("--child", help=argparse.SUPPRESS)  # one configuration, in a child process
    args = parser.parse_args(argv)
    if args.child:
        return _child(args.child)
    device = resolve_device(args.device)
    call = (lambda fn, *a: fn(*a)) if args.in_process else _in_child
    bandwidth = bandwidth_gbs(device)
    load = os.getloadavg()
    print(
        f"{args.size} on {device}, {torch.get_num_threads()} cores' threads by default, "
        f"{torch.backends.cpu.get_cpu_capability()}; "
        f"memory read bandwidth {bandwidth:.1f} GB/s; load {load[0]:.2f}; {args.busy} busy processes",
        flush=True,
    )
    # (dtype, threads) configurations; the fp32 baseline runs at the first thread setting
    configs = [(d, t) for d in args.dtype for t in args.threads]
    if not args.no_fp32:
        configs.append(("fp32", args.threads[0]))
    results = {}
    with busy_processes(args.busy):
        for dtype, threads in configs:
            repeats = args.fp32_repeats if dtype == "fp32" else args.repeats
            compiled = "off" if dtype == "fp32" else args.compile
            results[dtype, threads] = call(
                run_config, args.size, str(device), dtype, args.images, repeats, args.cond_scale, threads,
                compiled,
            )  # fmt: skip
    after = bandwidth_gbs(device)  # the load may have changed: the higher figure is the stricter floor
    print(f"memory read bandwidth after the runs {after:.1f} GB/s", flush=True)
    bandwidth = max(bandwidth, after)
    runs = []
    baseline = None if args.no_fp32 else results["fp32", args.threads[0]]
    for dtype, threads in configs:
        if dtype == "fp32":
            continue
        res = results[dtype, threads]
        for run in res["runs"]:
            n, sec = run["images"], run["seconds"]
            floor = 256 * res["step_bytes"] / (bandwidth * 1e9) / n  # s per image
            base = None if baseline is None else next(r for r in baseline["runs"] if r["images"] == n)
            speedup = None if base is None else round(base["seconds"] / sec, 2)
            runs.append(
                {
                    "dtype": dtype,
                    "threads": "default" if threads is None else threads,
                    "threads_at_end": res["threads"],
                    "thread_switches": res["thread_switches"],
                    "weights": res["weights"],
                    "compile": args.compile,
                    "step_modes": res["step_modes"],
                    "images": n,
                    "s_per_image": round(sec / n, 3),
                    "seconds": sec,
                    "all_seconds": run["all_seconds"],
                    "tokens_seconds": run["tokens_seconds"],
                    "step_bytes": res["step_bytes"],
                    "floor_s_per_image": round(floor, 3),
                    "ratio_to_floor": round(sec / n / floor, 2),
                    "speedup_vs_fp32": speedup,
                    "fp32_s_per_image": None if base is None else round(base["seconds"] / n, 3),
                    "peak_rss_gb": res["peak_rss_gb"],
                }
            )
            print(
                f"{dtype} ({res['weights']} weights, step {'/'.join(res['step_modes'])}), "
                f"threads {threads or 'default'}, {n} image(s): "
                f"{sec:.2f} s, {sec / n:.3f} s/image "
                f"(tokens {run['tokens_seconds']:.2f} s); "
                f"weights read per step {res['step_bytes'] / 1e9:.3f} GB "
                f"-> floor {floor:.3f} s/image, ratio_to_floor {sec / n / floor:.2f}; "
                f"speedup_vs_fp32 {speedup}; peak memory {res['peak_rss_gb']:.2f} GB",
                flush=True,
            )
    out: dict[str, Any] = {
        "size": args.size,
        "device": str(device),
        "cores": torch.get_num_threads(),
        "busy_processes": args.busy,
        "bandwidth_gbs": round(bandwidth, 2),
        "load": round(load[0], 2),
        "runs": runs,
    }
    if baseline is not None:
        out["fp32"] = baseline
    if args.quality:
        out["quality_int8_vs_bf16"] = call(quality, args.size, str(device), 64, "int8", args.compile)
        print(f"int8 vs bf16 logits: {out['quality_int8_vs_bf16']}", flush=True)
        if device.type == "cpu" and has_fbgemm():
            out["quality_int8_dynamic_vs_bf16"] = call(quality, args.size, str(device), 64, "int8-dynamic")
            print(f"int8-dynamic vs bf16 logits: {out['quality_int8_dynamic_vs_bf16']}", flush=True)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
