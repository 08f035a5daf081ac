"""What this machine can do, measured in the same run as the bench: memory read bandwidth (the
floor of a decode step that reads every weight once), peak memory, and CPU-bound processes that
stand in for a shared machine.
"""

from __future__ import annotations

import contextlib
import resource
import subprocess
import sys
import time
from collections.abc import Iterator

import torch


def bandwidth_gbs(device: torch.device, gib: float = 0.5, repeats: int = 5) -> float:
    """Memory read bandwidth (GB/s): best of `repeats` sums over `gib` GiB (far past every cache)."""
    data = torch.ones(int(gib * 2**30) // 4, device=device)
    best = float("inf")
    for _ in range(repeats):
        sync(device)
        start = time.perf_counter()
        data.sum()
        sync(device)
        best = min(best, time.perf_counter() - start)
    return data.numel() * 4 / best / 1e9


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def peak_memory_gb(device: torch.device) -> float:
    """CUDA: most memory allocated since run_config began; CPU: this process's peak resident set."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**30
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux


@contextlib.contextmanager
def busy_processes(n: int) -> Iterator[None]:
    """n CPU-bound child processes (`while True: pass`) for the duration, then killed."""
    children = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"])  # fixed argv
        for _ in range(n)
    ]
    try:
        yield
    finally:
        for child in children:
            child.kill()
            child.wait()
