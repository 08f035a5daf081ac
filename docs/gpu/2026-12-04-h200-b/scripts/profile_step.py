"""Where a decode step's time goes on CUDA: torch.profiler over an eager (graph-free) step.

python .gpu_carry/profile_step.py SIZE IMAGES DEVICE   (prints tables; last line JSON)
"""

import json
import sys
import time
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from generation import bench
from generation.runner import RunnerOptions

size, n, device = sys.argv[1], int(sys.argv[2]), sys.argv[3]
dev = torch.device(device)
pipe = bench.build(size, dev, "bf16")
pipe.options = RunnerOptions(cuda_graph=False)
pipe.warm_up()
acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if dev.type == "cuda" else [])


def sync() -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


figures = {}
for part in ("tokens", "pixels"):
    tokens = pipe.generate_tokens(["warm"], images_per_prompt=n, seed=0)
    sync()
    t0 = time.perf_counter()
    with profile(activities=acts) as prof:
        if part == "tokens":
            tokens = pipe.generate_tokens(["a photo of a cat"], images_per_prompt=n, seed=1)
        else:
            pipe.decode_pixels(tokens).cpu()
        sync()
    figures[part + "_s_profiled"] = round(time.perf_counter() - t0, 3)
    key = "self_device_time_total" if dev.type == "cuda" else "self_cpu_time_total"
    table = prof.key_averages().table(sort_by=key, row_limit=25, max_name_column_width=70)
    print(f"==== {size} {n} images, {part} (eager, no graph), sorted by {key}")
    print(table)
print(json.dumps({"size": size, "images": n, **figures}))
