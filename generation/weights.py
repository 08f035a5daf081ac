"""How the decoder's matrices are stored and multiplied: the weight format, chosen once at load.

The format is a property of the weights, not of the modules: `pack(weight, format)` returns a
`PackedWeight`, and `matmul(x, packed)` is the one place that multiplies by it.

- "fp32", "bf16", "fp16": the weight itself in that dtype, multiplied by PyTorch (x @ W.T; in fp32
  on a CPU, FEW_ROWS rows or fewer as W @ x.T, which MKL does faster).
- "fp16-fbgemm": the 16-bit format of every x86 CPU. PyTorch's bf16 matmul converts the weight
  again for every call: on an AVX2-only CPU slower than fp32 at 2 rows; with native bf16
  (AVX512-BF16 EPYC, 2 threads, 36 matrices of 5460×1024 read from memory) 0.62 ms a product at
  2 rows. Held as fp16 and packed for FBGEMM's fp16 GEMM (shipped with PyTorch:
  `quantized.linear_dynamic_fp16`), which widens them in registers and multiplies fp32
  activations: 0.35 ms there, 32 GB/s, the memory's speed. (At 18 rows, a 3×3 grid, it is
  compute-bound: 1.44 ms against bf16's 1.19 ms.) Every bf16 value inside fp16's normal range is
  exactly an fp16 value; below 6.1e-5 the absolute error is < 6e-8. The published checkpoints
  are fp16 already.
- "int8": weight-only, per output channel, symmetric: W ≈ q * scale[:, None], q in [-127, 127],
  multiplied by PyTorch's `aten._weight_int8pack_mm` with activations in bf16 (or fp16 where CUDA
  has no bf16); on CUDA q is widened and multiplied by cuBLAS instead (CUDA_INT8_PACK_MAX_ROWS);
  the result comes back in the caller's dtype.
- "int8-blocked" (CPU, x86-64 with AVX2): the same int8 weights (q and its bf16-rounded scale), q
  stored in blocks for dallebot's own kernel (generation/kernels.py, built at install time),
  which reads them at the memory's speed: a DALL·E Mini step's matrices at 2 rows in 6.5-6.8 ms
  against 13.9 ms for `aten._weight_int8pack_mm` (2-core EPYC, Zen 4). Activations fp32 or bf16.
- "int8-dynamic" (CPU, FBGEMM): the same int8 weights, multiplied by FBGEMM's int8 GEMM
  (`quantized.linear_dynamic`), which also rounds the *activations* to 8 bits, one scale per
  product (7 bits on CPUs without VNNI, where FBGEMM's int16 sums would otherwise saturate). Not
  weight-only, so named apart: it trades accuracy for speed (measured on an AVX512-BF16 EPYC,
  Mini, 2 threads: 14.7 ms a step against 28 ms for fp16-fbgemm at 1 image, 47 ms against 84 ms at
  a 3×3 grid; logits against bf16 on random weights: cosine 0.9993 against int8's 0.9997, same
  top-1 token 89% against 94%; `python -m generation.bench --quality`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from generation import kernels

DENSE = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
FORMATS = (*DENSE, "fp16-fbgemm", "int8", "int8-blocked", "int8-dynamic")
PACKED = ("fp16-fbgemm", "int8-dynamic")  # FBGEMM's packed matrices: torch.compile cannot trace them
FP16_MAX = 65504.0
# _weight_int8pack_mm's CPU kernel (the generic one, on AVX2) reads past the end of a row whose
# length is not a multiple of 8 (measured: K = 2730, DALL·E Mini's GLU width, crashes the process)
INT8_K_MULTIPLE = 16
# An fp32 product on a CPU with this many rows or fewer is computed as W·xᵀ: PyTorch's F.linear
# (x·Wᵀ through MKL) is 2.1-3.8x slower at 2 rows on a 2-core Zen 4 EPYC (Mini's 73 matrices, 2
# threads: 105.6 against 28.0 ms; the embedded model's, 1 thread: 2.54 against 1.19 ms), equal at 1,
# 1.26-1.75x slower at 4 (0.94x for Mini's on 1 thread). The embedded model's decode step is fp32
# with 2 rows: `eval fidelity` 0.31 -> 0.14 s a prompt there. Same sums, another order: the
# recorded reference tokens still match. Not measured on the Xeon.
FEW_ROWS = 4
# On CUDA, products with more rows than this widen q to the activation dtype (exact: |q| <= 127)
# and multiply with cuBLAS, scaling the result; _weight_int8pack_mm's CUDA kernel is a slow path
# there (H200, torch 2.11, Mini: 1.38 s an image against bf16's 0.38; 0.21 s an image at 256
# images against 0.008). A module constant so the GPU session can time both routes.
CUDA_INT8_PACK_MAX_ROWS = 0


def has_native_bf16() -> bool:
    """True when oneDNN can do bf16 maths natively on this CPU (AVX512-BF16, AMX)."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def has_amx() -> bool:
    """True when the CPU has AMX tiles (Xeon since Sapphire Rapids): Inductor's bf16 GEMMs use them."""
    try:
        return bool(torch.cpu._is_amx_tile_supported())
    except (AttributeError, RuntimeError):
        return False


@cache
def has_vnni() -> bool:
    """True when the CPU has AVX512-VNNI or AVX-VNNI (Linux: /proc/cpuinfo; elsewhere assume not)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_vnni" in flags or "avx_vnni" in flags


def has_fbgemm() -> bool:
    """True when PyTorch was built with FBGEMM (x86 builds)."""
    return "fbgemm" in torch.backends.quantized.supported_engines


@dataclass(frozen=True)
class PackedWeight:
    """One (N, K) matrix in a weight format; `matmul` multiplies by its transpose."""

    format: str
    data: torch.Tensor  # dense: the weight (N, K); int8: q (N, K) int8; int8-blocked: q in the
    # kernel's blocks (kernels.block); packed formats: shape only (meta)
    scale: torch.Tensor | None = None  # int8: (N,) in the activation dtype of the product; int8-blocked: fp32
    packed: Any = None  # fp16-fbgemm, int8-dynamic: the packed matrix (a ScriptObject)
    nbytes: int = 0  # bytes read per product (what bounds a decode step)
    pad: int = 0  # int8 formats: zero columns appended so K is a multiple of INT8_K_MULTIPLE

    @property
    def out_features(self) -> int:
        return self.data.shape[0] if self.scale is None else self.scale.shape[0]


def quantize_int8(
    weight: torch.Tensor, scale_dtype: torch.dtype = torch.bfloat16
) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, K) float -> q (N, K) int8, scale (N,) in scale_dtype; q is rounded against the scale as
    stored, so `dequantize_int8` gives back q * scale exactly."""
    w = weight.detach().float()
    amax = w.abs().amax(dim=1).clamp(min=1e-12)
    scale = (amax / 127.0).to(scale_dtype)
    q = torch.round(w / scale.float()[:, None]).clamp_(-127, 127).to(torch.int8)
    return q, scale


def dequantize_int8(q: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """q (N, K) int8, scale (N,) -> (N, K) float32."""
    return q.float() * scale.float()[:, None]


def int8_activation_dtype(device: torch.device) -> torch.dtype:
    """bf16, or fp16 on CUDA cards without bf16 (the int8 product's input and scale dtype)."""
    if device.type == "cuda" and not torch.cuda.is_bf16_supported():
        return torch.float16
    return torch.bfloat16


def pack(weight: torch.Tensor, fmt: str) -> PackedWeight:
    """Store `weight` (N, K) in format `fmt` (one of FORMATS), on the weight's device."""
    w = weight.detach()
    n, k = w.shape
    if fmt in DENSE:
        dense = w.to(DENSE[fmt]).contiguous()
        return PackedWeight(fmt, dense, nbytes=dense.numel() * dense.element_size())
    if fmt == "int8":
        _check_int8_kernel(w.device)
        q, scale, pad = _int8_padded(w, int8_activation_dtype(w.device))
        nbytes = q.numel() + scale.numel() * scale.element_size()
        return PackedWeight(fmt, q, scale=scale, nbytes=nbytes, pad=pad)
    if fmt == "int8-blocked":
        if w.device.type != "cpu" or not kernels.available():
            raise ValueError("the int8-blocked weight format needs dallebot's int8 kernel on an x86-64 CPU")
        # the scale rounded to bf16 as "int8" stores it: the same weights, whichever kernel runs
        q, scale, pad = _int8_padded(w, torch.bfloat16)
        blocked = kernels.block(q)
        return PackedWeight(fmt, blocked, scale=scale.float(), nbytes=blocked.numel() + n * 4, pad=pad)
    if fmt == "fp16-fbgemm":
        if w.device.type != "cpu" or not has_fbgemm():
            raise ValueError("the fp16-fbgemm weight format needs a CPU build of PyTorch with FBGEMM")
        top = float(w.abs().max()) if w.numel() else 0.0
        if top > FP16_MAX:
            raise ValueError(f"a weight of magnitude {top:g} does not fit fp16; use --dtype fp32 or int8")
        packed = torch.ops.quantized.linear_prepack_fp16(w.float().contiguous(), None)
        shape_only = torch.empty(n, k, device="meta", dtype=torch.float16)
        return PackedWeight(fmt, shape_only, packed=packed, nbytes=n * k * 2)
    if fmt == "int8-dynamic":
        if w.device.type != "cpu" or not has_fbgemm():
            raise ValueError("int8-dynamic needs a CPU build of PyTorch with FBGEMM; use --dtype int8")
        q, scale = quantize_int8(w, torch.float32)
        zero = torch.zeros(n, dtype=torch.long)
        with warnings.catch_warnings():  # 2.13 warns that quantized tensors will go; still the API
            warnings.simplefilter("ignore")
            qw = torch._make_per_channel_quantized_tensor(q, scale.double(), zero, 0)
            packed = torch.ops.quantized.linear_prepack(qw, None)
        shape_only = torch.empty(n, k, device="meta", dtype=torch.int8)
        return PackedWeight(fmt, shape_only, scale=scale, packed=packed, nbytes=n * k + n * 4)
    raise ValueError(f"unknown weight format {fmt!r}: use one of {', '.join(FORMATS)}")


def _int8_padded(w: torch.Tensor, scale_dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor, int]:
    """quantize_int8, q's columns padded with zeros to a multiple of INT8_K_MULTIPLE -> q, scale, pad
    (zero weights: the padded activations add nothing)."""
    q, scale = quantize_int8(w, scale_dtype)
    pad = -q.shape[1] % INT8_K_MULTIPLE
    return (F.pad(q, (0, pad)) if pad else q), scale, pad


_INT8_CHECKED: set[str] = set()


def _check_int8_kernel(device: torch.device) -> None:
    """Refuse int8 with a clear message where this PyTorch build has no int8 weight-only kernel."""
    if str(device) in _INT8_CHECKED:
        return
    act = int8_activation_dtype(device)
    try:
        x = torch.ones(1, 32, device=device, dtype=act)
        torch.ops.aten._weight_int8pack_mm(x, torch.ones(8, 32, device=device, dtype=torch.int8),
                                           torch.ones(8, device=device, dtype=act))  # fmt: skip
    except (RuntimeError, NotImplementedError) as exc:
        raise ValueError(
            f"int8 weights need aten._weight_int8pack_mm on {device}, which this PyTorch build lacks "
            f"({exc}); use --dtype bf16"
        ) from exc
    _INT8_CHECKED.add(str(device))


def matmul(x: torch.Tensor, w: PackedWeight) -> torch.Tensor:
    """x (..., K) @ W.T -> (..., N) in x's dtype."""
    if w.format in DENSE:
        if x.device.type == "cpu" and w.data.dtype == torch.float32 and x.dim() == 2 and len(x) <= FEW_ROWS:
            return (w.data @ x.float().T).T.contiguous().to(x.dtype)  # W·xᵀ: see FEW_ROWS
        return F.linear(x.to(w.data.dtype), w.data).to(x.dtype)
    rows = x.reshape(-1, x.shape[-1])
    if w.format == "int8":
        assert w.scale is not None
        rows = rows.to(w.scale.dtype)
        if w.pad:
            rows = F.pad(rows, (0, w.pad))
        if rows.is_cuda and rows.shape[0] > CUDA_INT8_PACK_MAX_ROWS:
            y = int8_widened_matmul(rows, w)
        else:
            y = torch.ops.aten._weight_int8pack_mm(rows.contiguous(), w.data, w.scale)
    elif w.format == "int8-blocked":
        assert w.scale is not None
        if w.pad:
            rows = F.pad(rows, (0, w.pad))
        y = kernels.gemv(rows, w.data, w.scale)
    elif w.format == "int8-dynamic":  # activations quantised to 8 bits per call, one scale per call
        y = torch.ops.quantized.linear_dynamic(rows.float().contiguous(), w.packed, not has_vnni())
    else:  # fp16-fbgemm: fp32 in, fp32 out
        y = torch.ops.quantized.linear_dynamic_fp16(rows.float().contiguous(), w.packed)
    return y.to(x.dtype).view(*x.shape[:-1], w.out_features)


def int8_widened_matmul(rows: torch.Tensor, w: PackedWeight) -> torch.Tensor:
    """rows (M, K') @ (q * scale).T for int8 weights: q widened to rows' dtype (exact, |q| <= 127),
    multiplied by the dense GEMM, the product scaled per output channel (the CUDA route)."""
    assert w.scale is not None
    return F.linear(rows, w.data.to(rows.dtype)) * w.scale


def dense_weight(w: PackedWeight) -> torch.Tensor:
    """The matrix a PackedWeight multiplies by, as float32 (N, K) (tests, quality checks)."""
    if w.format in DENSE:
        return w.data.float()
    if w.format in ("int8", "int8-blocked"):
        assert w.scale is not None
        q = w.data if w.format == "int8" else kernels.unblock(w.data, w.out_features)
        return dequantize_int8(q[:, : q.shape[1] - w.pad], w.scale)
    if w.format == "int8-dynamic":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return torch.ops.quantized.linear_unpack(w.packed)[0].dequantize()
    eye = torch.eye(w.data.shape[1])
    return torch.ops.quantized.linear_dynamic_fp16(eye, w.packed).T.contiguous()
