"""Weight formats: int8 quantise/dequantise round trip, and every format multiplies like its weights."""

from __future__ import annotations

import pytest
import torch

from generation import kernels
from generation.weights import (
    FEW_ROWS,
    dense_weight,
    dequantize_int8,
    has_fbgemm,
    int8_widened_matmul,
    matmul,
    pack,
    quantize_int8,
)


def test_int8_round_trip_is_within_half_a_step_per_channel():
    gen = torch.Generator().manual_seed(0)
    w = (
        torch.randn(64, 40, generator=gen) * torch.logspace(-3, 1, 64)[:, None]
    )  # channels of very different size
    w[3] = 0.0  # an all-zero channel must not divide by zero
    q, scale = quantize_int8(w)
    assert q.dtype == torch.int8 and scale.shape == (64,) and scale.dtype == torch.bfloat16
    assert int(q.abs().max()) <= 127 and (q.abs().amax(dim=1)[torch.arange(64) != 3] >= 126).all()
    back = dequantize_int8(q, scale)
    step = scale.float()[:, None]
    assert ((back - w).abs() <= step / 2 + 1e-7 * w.abs()).all()  # rounding to the nearest level
    assert torch.equal(back[3], torch.zeros(40))
    # quantising what int8 holds gives it back exactly (the scale is the stored one)
    q2, scale2 = quantize_int8(back)
    assert torch.equal(q2, q) and torch.equal(scale2, scale)


FBGEMM = ["fp16-fbgemm", "int8-dynamic"] if has_fbgemm() else []
KERNEL = ["int8-blocked"] if kernels.available() else []  # built in CI: test_kernels.py


@pytest.mark.parametrize("k", [64, 45])  # 45: not a multiple of 8 (DALL·E Mini's GLU width is 2730)
@pytest.mark.parametrize("fmt", ["fp32", "bf16", "int8", *FBGEMM, *KERNEL])
def test_matmul_equals_the_product_with_the_held_weights(fmt, k):
    gen = torch.Generator().manual_seed(1)
    w = torch.randn(48, k, generator=gen) * 0.05
    x = torch.randn(3, 2, k, generator=gen)
    packed = pack(w, fmt)
    y = matmul(x if fmt != "bf16" else x.bfloat16(), packed)
    assert y.shape == (3, 2, 48)
    want = x @ dense_weight(packed).T  # what the format holds, multiplied in fp32
    # int8: bf16 activations; int8-dynamic: 8-bit activations (|x| <= 4.5 here: a step of ~0.035)
    tol = {"fp32": 1e-6, "fp16-fbgemm": 1e-5, "int8": 2e-2, "bf16": 2e-2, "int8-dynamic": 5e-2,
           "int8-blocked": 1e-5}[fmt]  # fmt: skip
    torch.testing.assert_close(y.float(), want, rtol=tol, atol=tol)
    stored_k = k + packed.pad
    per_weight = {"fp32": 4, "bf16": 2, "fp16-fbgemm": 2}.get(fmt, 1)  # the int8 formats: 1
    scales = {"int8": 48 * 2, "int8-dynamic": 48 * 4, "int8-blocked": 48 * 4}.get(fmt, 0)
    assert packed.nbytes == per_weight * 48 * stored_k + scales


@pytest.mark.parametrize("rows", [1, 2, FEW_ROWS, FEW_ROWS + 1])
def test_a_cpu_fp32_product_of_few_rows_equals_f_linear(rows):
    """Few rows (<= FEW_ROWS) are multiplied as W·xᵀ on a CPU: the same product, contiguous (the
    attention kernel reads q as rows), in x's dtype; more rows go through F.linear as before."""
    gen = torch.Generator().manual_seed(rows)
    w = torch.randn(300, 128, generator=gen) * 0.05
    x = torch.randn(rows, 128, generator=gen)
    y = matmul(x, pack(w, "fp32"))
    assert y.shape == (rows, 300) and y.is_contiguous() and y.dtype == torch.float32
    torch.testing.assert_close(y, torch.nn.functional.linear(x, w), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("k", [64, 45])
def test_the_cuda_route_for_int8_multiplies_like_the_int8_kernel(k):
    # CUDA widens q and uses the dense GEMM (its int8 kernel is slow there); the arithmetic is
    # checked here on the CPU, padded columns included, against the int8 kernel's product
    gen = torch.Generator().manual_seed(2)
    packed = pack(torch.randn(40, k, generator=gen) * 0.05, "int8")
    rows = torch.nn.functional.pad(torch.randn(5, k, generator=gen), (0, packed.pad)).bfloat16()
    kernel = torch.ops.aten._weight_int8pack_mm(rows, packed.data, packed.scale)
    widened = int8_widened_matmul(rows, packed)
    assert widened.shape == kernel.shape == (5, 40) and widened.dtype == torch.bfloat16
    torch.testing.assert_close(widened.float(), kernel.float(), rtol=2e-2, atol=2e-2)
    want = rows.float()[:, :k] @ dense_weight(packed).T
    torch.testing.assert_close(widened.float(), want, rtol=2e-2, atol=2e-2)


@pytest.mark.skipif(not has_fbgemm(), reason="FBGEMM is in x86 builds of PyTorch only")
def test_int8_dynamic_holds_the_int8_weights_and_rounds_activations_to_8_bits():
    gen = torch.Generator().manual_seed(2)
    w = torch.randn(32, 64, generator=gen) * 0.05
    packed = pack(w, "int8-dynamic")
    q, scale = quantize_int8(w, torch.float32)  # per output channel, as int8 weight-only
    torch.testing.assert_close(dense_weight(packed), dequantize_int8(q, scale), rtol=0, atol=1e-7)
    # activations are quantised per call: the product is not exactly x @ W.T, but within 8 bits
    x = torch.randn(2, 64, generator=gen)
    exact = x @ dense_weight(packed).T
    error = (matmul(x, packed) - exact).abs().max()
    assert 0 < error < 0.02 * exact.abs().max()


def test_unknown_format_and_fp16_overflow_are_refused():
    with pytest.raises(ValueError, match="unknown weight format"):
        pack(torch.zeros(2, 2), "int4")
    if has_fbgemm():
        with pytest.raises(ValueError, match="does not fit fp16"):
            pack(torch.full((2, 2), 1e6), "fp16-fbgemm")
