"""The int8 CPU kernel built at install time (generation/csrc/int8_gemv.cpp): loading it, and the
blocked layout of q it reads.

A weight-only int8 product at few rows is bound by reading q; PyTorch 2.13's kernels read it at
about half the memory's speed on a CPU. The kernel reads q stored in blocks of 4 rows whose
columns are interleaved 16 at a time ((ceil(N/4), K/16, 4, 16)), one contiguous stream per
thread. Measured on a 2-core AMD EPYC with AVX512 (Zen 4), the 73 matrices of a DALL·E Mini step
(193 MB) read from memory, 2 rows (one image with guidance): 6.5-6.8 ms against 13.9 ms for
aten._weight_int8pack_mm (29 against 14 GB/s); 1 row 6.0-6.3 against 12.0-13.8 ms; 18 rows (a 3×3
grid) 36 against 59 ms (/work tools, 2026-12-06). Where the extension was not built (no compiler,
not x86-64) or the CPU lacks AVX2 and FMA, `available()` is False and int8 products stay PyTorch's.
"""

from __future__ import annotations

import importlib
import logging
from functools import cache

import torch
import torch.nn.functional as F

log = logging.getLogger(__name__)

BLOCK_ROWS = 4  # rows of q in a block
BLOCK_COLUMNS = 16  # columns of a row read together; K must be a multiple of it


@cache
def available() -> bool:
    """True when the kernel was built and this CPU runs it (x86-64 with AVX2 and FMA)."""
    try:
        importlib.import_module("generation._int8_gemv")  # registers torch.ops.dallebot.int8_gemv
    except ImportError as exc:
        log.info("int8 kernel not built (%s): int8 products use PyTorch's kernel", exc)
        return False
    cpu = torch.backends.cpu.get_cpu_capability()
    if cpu not in ("AVX2", "AVX512"):
        log.info("int8 kernel needs AVX2 (this CPU: %s): int8 products use PyTorch's kernel", cpu)
        return False
    _register_fake()
    return True


def _register_fake() -> None:
    """Shapes for torch.compile: the op is one opaque call in a compiled step."""

    @torch.library.register_fake("dallebot::int8_gemv")
    def _(x: torch.Tensor, blocked: torch.Tensor, scale: torch.Tensor, wide: bool = True) -> torch.Tensor:
        return x.new_empty(x.shape[0], scale.shape[0])


def block(q: torch.Tensor) -> torch.Tensor:
    """q (N, K) int8, K a multiple of 16 -> (ceil(N/4), K/16, 4, 16): rows padded with zeros to a
    multiple of 4, each block's 4 rows interleaved 16 columns at a time."""
    n, k = q.shape
    if k % BLOCK_COLUMNS:
        raise ValueError(f"int8 kernel: K = {k} is not a multiple of {BLOCK_COLUMNS}")
    blocks = -(-n // BLOCK_ROWS)
    q = F.pad(q, (0, 0, 0, blocks * BLOCK_ROWS - n))
    return q.view(blocks, BLOCK_ROWS, k // BLOCK_COLUMNS, BLOCK_COLUMNS).transpose(1, 2).contiguous()


def unblock(blocked: torch.Tensor, n: int) -> torch.Tensor:
    """The inverse of `block`: (ceil(N/4), K/16, 4, 16) -> q (N, K)."""
    blocks, chunks, rows, columns = blocked.shape
    return blocked.transpose(1, 2).reshape(blocks * rows, chunks * columns)[:n]


def gemv(x: torch.Tensor, blocked: torch.Tensor, scale: torch.Tensor, *, wide: bool = True) -> torch.Tensor:
    """x (M, K) fp32/bf16 @ (q * scale).T -> (M, N) in x's dtype; scale (N,) fp32. wide=False runs
    the AVX2 code on an AVX512 CPU too (tests)."""
    return torch.ops.dallebot.int8_gemv(x, blocked, scale, wide)
