"""Benchmark: random weights of DALL·E Mini or Mega size, timed end to end (tokens + pixels).

    python -m generation.bench --size mini --device cpu --dtype bf16 --images 1

Weight values do not change the work, so nothing is read from or written to disk. Prints seconds
per image, images per second and peak memory per run; the last line is one JSON object:
{"size", "device", "dtype", "runs": [{"images", "seconds", "peak_memory_gb"}, ...]}.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import time
from collections.abc import Callable

import torch
from torch import nn

from generation.config import MEGA, MINI, ModelConfig, VQGANConfig
from generation.decoder import ImageDecoder
from generation.encoder import TextEncoder
from generation.loading import resolve_device, resolve_dtype
from generation.pipeline import Pipeline
from generation.tokenizer import Tokenizer
from generation.vqgan import VQGANDecoder

PROMPTS = ["an armchair in the shape of an avocado", "a cat wearing sunglasses", "sunset over the sea"]


class _Stop(Exception):
    pass


def random_module(module: nn.Module, device: torch.device, dtype: torch.dtype) -> nn.Module:
    """Allocate a meta-built module on `device` in `dtype` and fill it with small random weights."""
    module = module.to(dtype=dtype).to_empty(device=device)
    with torch.no_grad():
        for name, p in module.named_parameters():
            if p.dim() == 1:
                p.fill_(1.0 if name.endswith("weight") else 0.0)
            else:
                p.normal_(0.0, 0.02)
    return module


def tiny_tokenizer(max_tokens: int) -> Tokenizer:
    """Letters-only BPE vocabulary: tokenization cost is negligible next to the model."""
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "Ġ": 4}
    vocab.update({c: 5 + i for i, c in enumerate("abcdefghijklmnopqrstuvwxyz")})
    return Tokenizer(vocab, [("Ġ", "a")], max_tokens=max_tokens)


def build(size: str, device: torch.device, dtype: torch.dtype) -> Pipeline:
    bart = {"mini": MINI, "mega": MEGA}[size]
    with torch.device("meta"):
        parts = TextEncoder(bart), ImageDecoder(bart), VQGANDecoder(VQGANConfig())
    encoder, decoder, vqgan = (random_module(m, device, dtype) for m in parts)
    tokenizer = tiny_tokenizer(bart.text_tokens)
    config = ModelConfig(bart=bart, name=size)
    return Pipeline(tokenizer, encoder, decoder, vqgan, config=config, device=device, dtype=dtype)


def peak_memory_gb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**30
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux; process peak


def tensor_peak_gb(pipe: Pipeline, run: Callable[[], object]) -> float:
    """Most tensor memory held at once during `run()`: the weights plus the profiler's allocation
    trace. On the CPU this is the figure a GPU's allocator would report as max_memory_allocated for
    the same code path and dtype (no CUDA context, no cuBLAS workspace), so it predicts the CUDA peak
    where no GPU is at hand; it is not a measurement of one."""
    from torch._C._profiler import _EventType
    from torch.profiler import ProfilerActivity, profile

    weights = sum(
        t.numel() * t.element_size()
        for part in (pipe.encoder, pipe.decoder, pipe.vqgan)
        for t in [*part.parameters(), *part.buffers()]
    )
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        run()
    nodes, allocations = list(prof.profiler.kineto_results.experimental_event_tree()), []
    while nodes:
        node = nodes.pop()
        nodes.extend(node.children)
        if node.tag == _EventType.Allocation:
            allocations.append((node.start_time_ns, node.extra_fields.alloc_size))  # frees are negative
    held = peak = 0
    for _, size in sorted(allocations):
        held += size
        peak = max(peak, held)
    return (weights + peak) / 2**30


def warm_up(pipe: Pipeline) -> None:
    """A few decode steps and one VQGAN pass, so one-time setup is not timed."""

    def stop(step: int, _tokens: torch.Tensor) -> None:
        if step >= 4:
            raise _Stop

    with contextlib.suppress(_Stop):
        pipe.generate_tokens(["warm up"], seed=0, on_step=stop)  # not a timed prompt: no cache hit
    pipe.decode_tokens(torch.zeros(1, pipe.config.bart.image_tokens, dtype=torch.long))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m generation.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=["mini", "mega"], default="mini")
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:N (default: cuda when available)")
    parser.add_argument("--dtype", default=None, choices=["fp32", "bf16", "fp16"], help="default: half")
    parser.add_argument(
        "--images",
        type=int,
        nargs="+",
        default=None,
        help="batch sizes to time; default 1 (CUDA: 1, 3x3, 16 and the best batch)",
    )
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--cond-scale", type=float, default=10.0, help="1 = guidance off")
    parser.add_argument(
        "--trace-memory",
        action="store_true",
        help="CPU: after the timed runs, trace one untimed 1-image run's tensor allocations and report "
        "weights + peak activations (tensor_peak_gb), the figure a GPU allocator would count",
    )
    parser.add_argument("--plain", action="store_true", help="CUDA: time this Pipeline, not generation.fast")
    parser.add_argument(
        "--reference", action="store_true", help="CUDA: also time this Pipeline beside the fast path"
    )
    args = parser.parse_args(argv)

    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    dtype = resolve_dtype(args.dtype, device)
    dtype_name = {torch.float32: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}[dtype]
    t0 = time.perf_counter()
    pipe = build(args.size, device, dtype)
    warm_up(pipe)
    print(f"{args.size} on {device} ({dtype_name}, {torch.get_num_threads()} CPU threads): "
          f"built and warmed up in {time.perf_counter() - t0:.1f} s", flush=True)  # fmt: skip

    if device.type == "cuda" and not args.plain:  # the GPU path of issue 9, same cases, same JSON shape
        from generation.fast.bench import fast_runs

        result = fast_runs(pipe, images=args.images, reference=args.reference)
        for run in [*result["runs"], *result.get("reference_runs", [])]:
            n, sec = run["images"], run["seconds"]
            print(f"{n} image(s): {sec:.3f} s, {sec / n:.3f} s/image, {n / sec:.2f} images/s, "
                  f"peak memory {run['peak_memory_gb']:.2f} GB")  # fmt: skip
        print(json.dumps({"size": args.size, "device": str(device), "dtype": dtype_name, **result}))
        return 0

    runs = []
    for n in args.images or [1]:
        prompts = [PROMPTS[i % len(PROMPTS)] for i in range(n)]
        if device.type == "cuda":
            torch.cuda.synchronize(device)
            torch.cuda.reset_peak_memory_stats(device)
        start, cpu_start = time.perf_counter(), time.process_time()
        tokens = pipe.generate_tokens(prompts, seed=list(range(n)), cond_scale=args.cond_scale)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        decoded = time.perf_counter()
        pipe.decode_tokens(tokens)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        seconds = time.perf_counter() - start
        cpu_seconds = time.process_time() - cpu_start
        peak = peak_memory_gb(device)
        runs.append({"images": n, "seconds": round(seconds, 3), "peak_memory_gb": round(peak, 3)})
        # CPU time well below wall time x threads means the cores were busy with other work
        pixels = seconds - (decoded - start)
        print(f"{n} image(s): {seconds:.2f} s (tokens {decoded - start:.2f} s, pixels {pixels:.2f} s), "
              f"{seconds / n:.2f} s/image, {n / seconds:.3f} images/s, peak memory {peak:.2f} GB, "
              f"process CPU time {cpu_seconds:.1f} s", flush=True)  # fmt: skip
    result: dict[str, object] = {"size": args.size, "device": str(device), "dtype": dtype_name, "runs": runs}
    if args.trace_memory:

        def one_image() -> None:
            pipe.decode_tokens(pipe.generate_tokens(["a traced prompt"], seed=0, cond_scale=args.cond_scale))

        result["tensor_peak_gb"] = round(tensor_peak_gb(pipe, one_image), 3)
        print(f"1 image, traced: weights + peak activations {result['tensor_peak_gb']:.3f} GB of tensors")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
