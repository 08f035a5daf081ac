"""bf16 on CPUs without native bf16: Bf16Linear and prepare_for_cpu."""

from __future__ import annotations

import os

import pytest
import torch

from generation import cpu
from tests.generation import tiny


def _reference(x, linear):
    return torch.nn.functional.linear(x.float(), linear.weight.detach().bfloat16().float())


def test_bf16_linear_fallback_equals_fp32_maths_on_bf16_weights():
    linear = torch.nn.Linear(40, 24, bias=False)
    wrapped = cpu.Bf16Linear(linear)
    assert wrapped.weight.dtype == torch.bfloat16
    x = torch.randn(3, 5, 40)
    out = wrapped(x)
    assert out.shape == (3, 5, 24) and out.dtype == torch.float32
    torch.testing.assert_close(out, _reference(x, linear).view(3, 5, 24))
    with pytest.raises(ValueError):
        cpu.Bf16Linear(torch.nn.Linear(4, 4))


@pytest.mark.skipif(
    os.environ.get("DALLEBOT_TEST_CPU_KERNEL") != "1",
    reason="builds a C++ extension (30-100 s the first time); set DALLEBOT_TEST_CPU_KERNEL=1",
)
def test_compiled_kernel_matches_reference():
    kernel = cpu.gemv_kernel()
    assert kernel is not None, "kernel did not build (see the log warning)"
    linear = torch.nn.Linear(1003, 77, bias=False)  # K not a multiple of 8: the scalar tail runs
    wrapped = cpu.Bf16Linear(linear)
    for rows in (1, 2, 3, 4, 5, 8, 16):
        x = torch.randn(rows, 1003)
        torch.testing.assert_close(wrapped(x), _reference(x, linear), rtol=1e-5, atol=1e-5)


@torch.no_grad()
def test_prepare_for_cpu_keeps_names_and_results():
    parts = tiny.components()
    text = torch.tensor([[0, 34, 37, 2, 1, 1]])
    want = parts.encoder(text)
    keys = list(parts.encoder.state_dict())
    prepared = cpu.prepare_for_cpu(parts.encoder)
    assert list(prepared.state_dict()) == keys  # still loads/saves as min-dalle names
    assert prepared.layers[0].self_attn.q_proj.weight.dtype == torch.bfloat16
    assert prepared.final_ln.weight.dtype == torch.float32
    torch.testing.assert_close(prepared(text), want, rtol=0.05, atol=0.05)
