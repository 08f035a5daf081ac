"""Decode attention on CUDA: fused SDPA vs two batched products, by rows; tokens-only timings.

The record of what ran on the H200 (2026-12-04 17:50 UTC) against commit 6870d56, whose
`generation.decoder.matmul_attention` was reverted after it: this script does not run on main.

    python .gpu_carry/attn_bench.py DEVICE   (writes $OUT/attn.jsonl as it goes)
"""

import importlib.util
import json
import os
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from generation import bench, decoder  # noqa: E402

dev = torch.device(sys.argv[1])
out = Path(os.environ.get("OUT", ".")) / "attn.jsonl"
cases = sys.argv[2:] or ["mini:1", "mini:9", "mini:256", "mega:1", "mega:9"]


def emit(record):
    line = json.dumps(record)
    print(line, flush=True)
    with out.open("a") as f:
        f.write(line + "\n")


def sync():
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


# 1. numerics: bf16 matmul attention (fp32 scores where available) vs SDPA, both against fp32
gen = torch.Generator(device=dev).manual_seed(0)
q, k, v = (torch.randn(64, 16, n, 64, device=dev, generator=gen) * 2 for n in (1, 256, 256))
bias = torch.zeros(64, 1, 1, 256, device=dev).masked_fill(torch.arange(256, device=dev) > 100, -torch.inf)
ref = decoder.sdpa_attention(q, k, v, bias)
attend = decoder.attention_for(dev, torch.bfloat16, 64)
half = [t.bfloat16() for t in (q, k, v, bias)]
emit(
    {
        "numerics": {
            "attend": str(attend),
            "matmul_bf16_max_err": (attend(*half).float() - ref).abs().max().item(),
            "sdpa_bf16_max_err": (decoder.sdpa_attention(*half).float() - ref).abs().max().item(),
        }
    }
)

# 2. the prepared correctness check (graph and compiled parts vs eager and the full pass), default threshold
spec = importlib.util.spec_from_file_location("gpu_bench", ROOT / ".ci" / "gpu_bench.py")
gb = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gb)
t0 = time.perf_counter()
try:
    emit({"check": gb.check(dev), "check_s": round(time.perf_counter() - t0, 1)})
except Exception as exc:  # keep the timings
    emit({"check_error": repr(exc)})

# 3. tokens-only timings, graph on, per threshold
for case in cases:
    size, images = case.split(":")
    prompts = ["a cat"] * int(images)
    for label, rows in (("sdpa", 1 << 30), ("matmul", 0)):
        decoder.MATMUL_ATTENTION_MIN_ROWS = rows
        pipe = bench.build(size, dev, "bf16")
        first = pipe.generate_tokens(prompts, seed=0)
        times = []
        for _ in range(3):
            sync()
            t = time.perf_counter()
            tokens = pipe.generate_tokens(prompts, seed=0)
            sync()
            times.append(time.perf_counter() - t)
        t = time.perf_counter()
        pipe.decode_pixels(tokens[:256]).cpu()
        pixels = time.perf_counter() - t
        emit(
            {
                "case": case,
                "attention": label,
                "tokens_s": round(sorted(times)[1], 4),
                "all": [round(x, 4) for x in times],
                "pixels_s": round(pixels, 3),
                "mode": pipe.runner(len(prompts), 50)[1].mode,
                "same_tokens_as_first": bool(torch.equal(first, tokens)),
            }
        )
        del pipe
        torch.cuda.empty_cache() if dev.type == "cuda" else None
