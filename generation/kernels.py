"""dallebot's CPU kernels, built at install time (generation/csrc, setup.py): loading them, the
blocked layout of int8 weights the product reads, and attention for one new query per row.

Decoding one image on a CPU is bound by reading memory: every matrix once a step for two rows (the
prompt and the empty prompt), and the key/value caches 24 times. PyTorch 2.13's kernels read both at
about half the memory's speed there: its weight-only int8 products walk q row by row, and its SDPA
tiles for long queries.

- int8: q stored in blocks of 4 rows whose columns are interleaved 16 at a time ((ceil(N/4), K/16,
  4, 16)), one contiguous stream per thread. The 73 matrices of a DALL·E Mini step (193 MB) read
  from memory on a 2-core AMD EPYC (Zen 4): 2 rows 6.5-6.8 ms against 13.9 ms for
  aten._weight_int8pack_mm (29 against 14 GB/s); 1 row 6.0-6.3 against 12.0-13.8 ms; 18 rows (a 3×3
  grid) 36 against 59 ms. On a 2-core AVX2-only EPYC (their AVX2 code; 46 matrices of 4096×1024, the
  same 193 MB): 2 rows 8.1 ms against 241 ms
  (PyTorch's reads 0.8 GB/s there), 1 row 7.0 against 99 ms; at 2 rows the AVX2 code is compute-bound
  (24 GB/s from cache as from memory), 18 rows 59 ms.
- attention: one task per (row, head), fp32, exact up to the order of the sums.

Where the extension was not built (no compiler, not x86-64) or the CPU lacks AVX2 and FMA,
`available()` is False and the step uses PyTorch's kernels.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from functools import cache

import torch
import torch.nn.functional as F

log = logging.getLogger(__name__)

BLOCK_ROWS = 4  # rows of q in a block
BLOCK_COLUMNS = 16  # columns of a row read together; K must be a multiple of it
ATTENTION_HEAD_DIMS = range(16, 129, 16)  # head sizes the attention kernel takes on any AVX2 CPU

# q (R, H, hd), keys, values (R, H, n, hd), bias (R, 1, 1, n), lengths (R,) or None -> (R, H, hd)
Tensor = torch.Tensor
Attention = Callable[[Tensor, Tensor, Tensor, Tensor, Tensor | None], Tensor]


@cache
def available() -> bool:
    """True when the kernels were built and this CPU runs them (x86-64 with AVX2 and FMA)."""
    try:
        importlib.import_module("generation._kernels")  # registers torch.ops.dallebot.*
    except ImportError as exc:
        log.info("dallebot's CPU kernels not built (%s): the step uses PyTorch's", exc)
        return False
    cpu = torch.backends.cpu.get_cpu_capability()
    if cpu not in ("AVX2", "AVX512"):
        log.info("dallebot's CPU kernels need AVX2 (this CPU: %s): the step uses PyTorch's", cpu)
        return False
    _register_fakes()
    return True


def _register_fakes() -> None:
    """Shapes for torch.compile: each op is one opaque call in a compiled step."""

    @torch.library.register_fake("dallebot::int8_gemv")
    def _(x: torch.Tensor, blocked: torch.Tensor, scale: torch.Tensor, wide: bool = True) -> torch.Tensor:
        return x.new_empty(x.shape[0], scale.shape[0])

    @torch.library.register_fake("dallebot::decode_attention")
    def _(
        q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, bias: torch.Tensor,
        lengths: torch.Tensor | None = None, wide: bool = True,
    ) -> torch.Tensor:  # fmt: skip
        return q.new_empty(q.shape)


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


def decode_attention(
    q: Tensor, k: Tensor, v: Tensor, bias: Tensor, lengths: Tensor | None = None, *, wide: bool = True
) -> Tensor:
    """q (R, H, hd), k/v (R, H, n, hd) (views of a longer cache will do), bias (R, 1, 1, n) added to
    the scores -> (R, H, hd): softmax(q·kᵀ/√hd + bias)·v, all fp32; a row whose keys are all masked
    gets zeros. lengths (R,) int64: row r reads only its first lengths[r] keys, the rest weigh
    nothing (a static cache whose rows are at different steps, at a fixed shape for a compiled
    step). wide=False: the AVX2 code (tests)."""
    return torch.ops.dallebot.decode_attention(q, k, v, bias, lengths, wide)


def sdpa_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, bias: torch.Tensor, lengths: torch.Tensor | None = None
) -> torch.Tensor:
    """The same through PyTorch's SDPA (any device and dtype; lengths must agree with the bias,
    which alone masks here): q (R, H, hd) -> (R, H, hd)."""
    return F.scaled_dot_product_attention(q.unsqueeze(2), k, v, attn_mask=bias).squeeze(2)


def attention_for(dtype: torch.dtype, device: torch.device, head_dim: int) -> Attention:
    """The attention a decode step on `device` uses: the kernel for fp32 on a CPU that runs it."""
    if device.type == "cpu" and dtype == torch.float32 and head_dim in ATTENTION_HEAD_DIMS and available():
        return decode_attention
    return sdpa_attention
