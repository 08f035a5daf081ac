"""One prepared GPU session: correctness on CUDA, then the benchmarks, within a budget.

    OUT=/tmp/out python .ci/gpu_bench.py --budget 380

Not CI (CI has no GPU). Steps, each guarded so one failure does not lose the rest, each result
written to $OUT as soon as it exists:
1. check.json    versions and card; on CUDA in fp32 the step path (CUDA graph, and compiled parts)
                 gives the full causal pass's greedy tokens (top_k=1) and the eager step's tokens
                 (top_k=50, same uniforms), small config; int8 decodes; int8 vs bf16 logits on
                 Mini-size random weights (`bench.quality`);
   routes.json   int8 products by rows: the int8 kernel vs widening then cuBLAS vs bf16;
2. variants.json bf16 (mini, 1 image unless --variant-cases says): CUDA graph over eager ops vs
                 compiled parts vs compiled step;
3. mini.json     `generation.bench` runs: bf16 and int8 at 1, 3×3, 16 and 256 images, fp32 beside;
4. mega.json     the same for mega at 1 and 3×3 (bf16, int8), memory bandwidth measured first.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import shutil
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generation import bench
from generation.config import BartConfig, ModelConfig, VQGANConfig
from generation.pipeline import Pipeline
from generation.runner import RunnerOptions

OUT = Path(os.environ.get("OUT") or "gpu_bench_out")  # $OUT on the device machine
START = time.perf_counter()
log = logging.getLogger("gpu_bench")


def elapsed() -> float:
    return time.perf_counter() - START


def write(name: str, data: Any) -> None:
    (OUT / name).write_text(json.dumps(data, indent=1, default=str))
    log.info("== %s (%.0f s): %s", name, elapsed(), json.dumps(data, default=str)[:3000])


def guarded(name: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except Exception as exc:
        log.error("%s failed: %s\n%s", name, exc, traceback.format_exc())  # log.txt: $OUT holds 8 files
        return None


def small_pipeline(device: torch.device, dtype: str = "fp32", **kwargs: Any) -> Pipeline:
    """Real structure, small widths: 4 heads of 64, 2+2 layers, full 256 image tokens."""
    from generation.decoder import ImageDecoder
    from generation.encoder import TextEncoder
    from generation.vqgan import VQGANDecoder

    bart = BartConfig(d_model=256, heads=4, encoder_layers=2, decoder_layers=2, glu_dim=512)
    with torch.device("meta"):
        parts = TextEncoder(bart), ImageDecoder(bart), VQGANDecoder(VQGANConfig())
    enc, dec, vqgan = (bench.random_module(m, device, torch.float32, i) for i, m in enumerate(parts))
    gen = torch.Generator(device=device).manual_seed(7)  # every pipeline here holds the same weights
    with torch.no_grad():  # larger weights than the timing runs use: logits that really differ
        for p in dec.parameters():
            if p.dim() > 1:
                p.normal_(0.0, 0.2, generator=gen)
    config = ModelConfig(bart=bart, name="small")
    tokenizer = bench.tiny_tokenizer(bart.text_tokens)
    return Pipeline(tokenizer, enc, dec, vqgan, config=config, device=device, dtype=dtype, **kwargs)


def check(device: torch.device) -> dict[str, Any]:
    prompts = ["a cat", "a dog in the snow", "an avocado armchair"]
    result: dict[str, Any] = {}
    eager = small_pipeline(device, options=RunnerOptions(cuda_graph=False))
    enc, mask = eager.encode(prompts[:1])
    seq = torch.full((2, 1), eager.config.bart.start_token, device=device)
    with torch.no_grad():  # greedy through the full causal pass, guidance 10
        for _ in range(eager.config.bart.image_tokens):
            logits = eager.decoder(seq, enc, mask)[:, -1, : eager.config.bart.image_vocab_size].float()
            nxt = (logits[0] * (1 - 10.0) + logits[1] * 10.0).argmax()
            seq = torch.cat([seq, nxt.repeat(2, 1)], dim=1)
    for label, options in (("graph", RunnerOptions()), ("compiled-parts", RunnerOptions(compile="parts"))):
        pipe = small_pipeline(device, options=options)
        greedy = pipe.generate_tokens(prompts[:1], top_k=1, seed=0)[0].cpu()
        sampled = pipe.generate_tokens(prompts, images_per_prompt=3, top_k=50, seed=[1, 2, 3]).cpu()
        expected = eager.generate_tokens(prompts, images_per_prompt=3, top_k=50, seed=[1, 2, 3]).cpu()
        share = round((sampled == expected).float().mean().item(), 4)
        result[label] = {"mode": pipe.runner(1, 1)[1].mode, "top_k_50_share_equal_to_eager": share,
                         "greedy_equals_full_pass": bool(torch.equal(greedy, seq[0, 1:].cpu()))}  # fmt: skip
    int8 = small_pipeline(device, "int8")
    tokens = int8.generate_tokens(prompts[:1], top_k=1, seed=0)[0].cpu()
    result["int8_greedy_share_equal"] = round((tokens == seq[0, 1:].cpu()).float().mean().item(), 4)
    result["int8_vs_bf16_mini_logits"] = bench.quality("mini", str(device))  # same weights, same tokens
    return result


def routes(device: torch.device) -> dict[str, Any]:
    """int8 products on CUDA, by rows: the int8 kernel vs widen-then-cuBLAS vs bf16 (µs, graph replay)."""
    from generation import weights

    shapes = {"mini": [(3072, 1024), (1024, 1024), (5460, 1024), (1024, 2730)],
              "mega": [(6144, 2048), (2048, 2048), (8192, 2048), (2048, 4096)]}  # fmt: skip
    out: dict[str, Any] = {}
    for size, mats in shapes.items():
        dense = [torch.randn(n, k, device=device) * 0.02 for n, k in mats]
        int8 = [weights.pack(w, "int8") for w in dense]
        bf16 = [weights.pack(w, "bf16") for w in dense]
        for rows in (2, 18, 32, 128, 512, 2048):
            xs = [torch.randn(rows, k, device=device, dtype=torch.bfloat16) for _, k in mats]
            timing = {}
            for label, limit, packed in (
                ("int8_kernel", 1 << 30, int8),
                ("int8_widen", 0, int8),
                ("bf16", 0, bf16),
            ):
                weights.CUDA_INT8_PACK_MAX_ROWS = limit
                timing[label] = round(_graph_us(xs, packed) / len(mats), 1)  # µs a product
            out[f"{size}_rows{rows}"] = timing
    weights.CUDA_INT8_PACK_MAX_ROWS = 0
    return out


def _graph_us(xs: list[torch.Tensor], packed: list[Any]) -> float:
    """µs for one pass of products, captured ten times in a CUDA graph, replayed ten times."""
    from generation import weights

    def calls() -> None:
        for x, w in zip(xs, packed, strict=True):
            weights.matmul(x, w)

    calls()
    torch.cuda.synchronize()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        for _ in range(10):
            calls()
    graph.replay()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(10):
        graph.replay()
    end.record()
    torch.cuda.synchronize()
    return float(start.elapsed_time(end)) * 1e3 / 100


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def variants(device: torch.device, modes: list[str], cases: list[str]) -> dict[str, Any]:
    """Tokens' time per compile mode (CUDA graph on): cases are SIZE:IMAGES, e.g. mini:1 mega:9."""
    out: dict[str, Any] = {}
    for case in cases:
        size, images = case.split(":")
        prompts = ["a cat"] * int(images)
        for mode in modes:
            pipe = bench.build(size, device, "bf16", mode)  # type: ignore[arg-type]
            start = time.perf_counter()
            tokens = pipe.generate_tokens(prompts, seed=0)
            sync(device)
            warm = time.perf_counter() - start
            times = []
            for _ in range(5):
                start = time.perf_counter()
                pipe.generate_tokens(prompts, seed=0)
                sync(device)
                times.append(time.perf_counter() - start)
            gen = sorted(times)[2]
            key = f"{case}:{mode}"
            out[key] = {"runner": pipe.runner(len(prompts), 50)[1].mode, "warmup_s": round(warm, 2),
                        "tokens_s": round(gen, 4), "ms_per_step": round(gen / 256 * 1e3, 3),
                        "tokens": tokens.shape[1]}  # fmt: skip
            log.info("variant %s %s", key, out[key])
            del pipe
            gc.collect()
    return out


def suite(size: str, device: torch.device, dtypes: list[str], images: list[int], fp32: bool) -> Any:
    """What `python -m generation.bench` prints, in process (one device, one run at a time)."""
    argv = ["--size", size, "--device", str(device), "--dtype", *dtypes, "--images", *map(str, images),
            "--repeats", "3", "--in-process", *([] if fp32 else ["--no-fp32"])]  # fmt: skip
    captured = OUT / f"{size}.log"
    with captured.open("w") as sink:
        stdout, sys.stdout = sys.stdout, sink
        try:
            bench.main(argv)
        finally:
            sys.stdout = stdout
    return json.loads(captured.read_text().strip().splitlines()[-1])


def env() -> dict[str, Any]:
    info = {"torch": torch.__version__, "cuda": torch.version.cuda, "device": torch.cuda.get_device_name(),
            "capability": torch.cuda.get_device_capability()}  # fmt: skip
    smi = shutil.which("nvidia-smi")
    if smi:
        query = [smi, "--query-gpu=name,memory.total,clocks.sm,driver_version", "--format=csv,noheader"]
        run = subprocess.run(query, capture_output=True, text=True, check=False)  # noqa: S603  fixed argv
        info["nvidia_smi"] = run.stdout.strip()
    return info


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget", type=float, default=380.0, help="seconds; optional steps skip past it")
    parser.add_argument("--skip", nargs="*", default=[], help="check routes variants mini mega")
    parser.add_argument("--device", default="cuda", help="cpu only to smoke-test this script")
    parser.add_argument("--variants", nargs="+", default=["off", "parts", "step"], help="compile modes")
    parser.add_argument("--variant-cases", nargs="+", default=["mini:1"], help="SIZE:IMAGES to time them on")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: check this script's flow on a CPU")
    parser.add_argument("--mini-dtypes", nargs="+", default=["bf16", "int8"])
    parser.add_argument("--mini-images", type=int, nargs="+", default=[1, 9, 16, 256])
    parser.add_argument("--mini-no-fp32", action="store_true", help="leave out the fp32 baseline")
    parser.add_argument("--mega-images", type=int, nargs="+", default=[1, 9])
    args = parser.parse_args()
    if args.smoke:  # the test suite's tiny configs stand in for mini and mega
        from tests.generation import tiny

        bench.MINI = bench.MEGA = tiny.BART
        bench.VQGANConfig = lambda: tiny.VQGAN
    OUT.mkdir(parents=True, exist_ok=True)
    handlers = [logging.StreamHandler(sys.stdout), logging.FileHandler(OUT / "log.txt")]
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", handlers=handlers)
    device = torch.device(args.device)
    results: dict[str, Any] = {"env": guarded("env", env) if device.type == "cuda" else None}
    if "check" not in args.skip and not args.smoke:
        results["check"] = guarded("check", check, device)
    write("check.json", results)
    if "routes" not in args.skip and device.type == "cuda":
        write("routes.json", guarded("routes", routes, device))
    if "variants" not in args.skip and (device.type == "cuda" or args.smoke):
        write("variants.json", guarded("variants", variants, device, args.variants, args.variant_cases))
    if "mini" not in args.skip:
        mini = ("mini", device, args.mini_dtypes, args.mini_images, not args.mini_no_fp32)
        write("mini.json", guarded("mini", suite, *mini))
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()
    if "mega" not in args.skip and elapsed() < args.budget * 0.6:
        write("mega.json", guarded("mega", suite, "mega", device, ["bf16", "int8"], args.mega_images, False))
    log.info("done in %.0f s", elapsed())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
