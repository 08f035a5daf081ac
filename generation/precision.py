"""What a precision name (fp32, bf16, fp16, int8, int8-dynamic) means on a device: the
activations' dtype, the decoder's weight format (generation.weights), the VQGAN's and the encoder's dtypes.

Chosen once, when a pipeline is built: on a CPU the answer also depends on whether the decode step
will be compiled (FBGEMM's packed fp16 product cannot be traced by torch.compile) and whether it has
AMX (Inductor's bf16 GEMMs pay only there).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from generation import kernels
from generation.loading import resolve_dtype
from generation.weights import DENSE, has_amx, has_fbgemm, has_native_bf16, int8_activation_dtype

SMALL_MODEL_WIDTH = 512  # d_model below this: fp32 and one thread on CPU by default (the embedded model)


@dataclass(frozen=True)
class Precision:
    """What a precision name means on a device: activations, the decoder's weight format, VQGAN dtype."""

    name: str  # fp32 | bf16 | fp16 | int8 | int8-dynamic
    compute: torch.dtype  # activations, norms, embeddings, KV cache, the encoder
    weights: str  # the decoder's matrices (generation.weights format)
    vqgan: torch.dtype
    encoder: torch.dtype | None = None  # None: `compute`; its output is used in `compute`


def resolve_precision(
    dtype: str | torch.dtype | None, device: torch.device, d_model: int, *, compiled: bool = False
) -> Precision:
    """None -> bf16 (fp16 on CUDA cards without bf16), fp32 for a small model on a CPU.

    On a CPU, half precision and int8 keep activations, norms and the KV cache in fp32 (except in a
    compiled step on an AMX CPU: bf16, below) and make only the decoder's matrices, read every step,
    smaller: fp16 through FBGEMM's fp16 GEMM (x86 builds; a CPU with native bf16 and no FBGEMM runs
    bf16 throughout), or int8 (in the blocks of dallebot's own kernel where it was built,
    `generation.kernels`; not in a compiled step on an AMX CPU, where Inductor's GEMMs were
    measured). Measured on an AVX512-BF16 EPYC (2 threads, Mini, 1 image): 21.8 ms a step against
    40.3 ms with bf16 activations and PyTorch's bf16 matmul, whose attention over the cache alone
    took 0.63 ms a layer at 256 keys (fp32: 0.09 ms). The VQGAN and the encoder (64 rows:
    compute-bound) run in bf16 where the CPU has native bf16 (VQGAN 0.70 s against 1.68 s an image),
    else fp32."""
    if dtype is None and device.type == "cpu" and d_model < SMALL_MODEL_WIDTH:
        dtype = torch.float32
    named = dtype.lower() if isinstance(dtype, str) else None
    quantised = named if named in ("int8", "int8-dynamic") else None
    if quantised == "int8-dynamic" and (device.type != "cpu" or not has_fbgemm()):
        raise ValueError("int8-dynamic runs on a CPU with FBGEMM (x86); elsewhere use int8 or bf16")
    if quantised:
        name, half = quantised, int8_activation_dtype(device)
    else:
        half = resolve_dtype(dtype, device)
        name = {v: k for k, v in DENSE.items()}[half]
    if name == "fp32":
        return Precision("fp32", torch.float32, "fp32", torch.float32)
    native = has_native_bf16()
    if device.type == "cpu" and compiled and native and has_amx() and quantised != "int8-dynamic":
        # A compiled step (generation.compile) on a CPU with AMX: the matrices stay dense bf16 and
        # Inductor, weights frozen, picks its GEMMs by measurement (its AMX micro-kernels); FBGEMM's
        # fp16 product cannot be traced. Mini, 2-core AMX Xeon, 2026-12-04: 1 image 4.8-5.1 s of
        # tokens against fp16-fbgemm's 6.8-7.4 s eager; a 3×3 grid 10.6 s against 21.0 s. Without AMX
        # (AVX512-BF16 only) Inductor's bf16 GEMMs lose: 2-core EPYC, 1 image 8.05 / 8.04 s compiled
        # against 7.17 / 6.67 s eager fp16-fbgemm, alternating; a grid 3.92 against 3.18 s an image.
        # int8 keeps its matrices and takes bf16 activations and KV cache too: the int8 product
        # multiplies bf16 rows anyway, and the attention over a bf16 cache reads half the bytes (Mini,
        # 1 image, same Xeon, 2026-12-06, alternating in one process, median of 4: 5.08 s against
        # 5.51 s with fp32 activations; attention 131 against 194 µs a call).
        kind = "int8" if quantised else "bf16"
        return Precision(kind, torch.bfloat16, kind, torch.bfloat16)
    if device.type == "cpu" and (has_fbgemm() or not native):
        weights = name if quantised else "fp16-fbgemm" if has_fbgemm() else "fp32"
        if weights == "int8" and kernels.available():
            weights = "int8-blocked"  # the same int8 weights, read by dallebot's kernel at memory speed
        half = torch.bfloat16 if native else torch.float32
        return Precision(name, torch.float32, weights, half, encoder=half)
    weights = "int8" if name == "int8" else name
    return Precision(name, half, weights, torch.float16 if device.type == "cuda" else half)
