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


@pytest.mark.skipif(
    os.environ.get("DALLEBOT_TEST_CPU_KERNEL") != "1",
    reason="builds a C++ extension (30-100 s the first time); set DALLEBOT_TEST_CPU_KERNEL=1",
)
@torch.no_grad()
def test_compiled_decode_step_ops_match_torch():
    assert cpu.gemv_kernel() is not None, "kernel did not build (see the log warning)"
    torch.manual_seed(0)
    norm = torch.nn.LayerNorm(1003)  # not a multiple of 8: the scalar tails run
    norm.weight.normal_()
    norm.bias.normal_()
    x = torch.randn(2, 1, 1003) * 3 + 1
    want = norm(x)
    norm.__class__ = cpu.SmallLayerNorm
    torch.testing.assert_close(norm(x), want, rtol=1e-5, atol=1e-5)
    many = torch.randn(40, 1003)  # many rows: nn.LayerNorm's own path
    assert torch.equal(norm(many), torch.nn.functional.layer_norm(many, (1003,), norm.weight, norm.bias))

    a = torch.randn(2, 1, 2731) * 3
    a.view(-1)[:5] = torch.tensor([0.0, 20.0, -20.0, 1e-8, 90.0])
    b = torch.randn(2, 1, 2731)
    want = torch.nn.functional.gelu(a) * b
    torch.testing.assert_close(cpu.small_gelu_mul(a, b), want, rtol=1e-5, atol=2e-6)


@pytest.mark.skipif(
    os.environ.get("DALLEBOT_TEST_CPU_KERNEL") != "1",
    reason="builds a C++ extension (30-100 s the first time); set DALLEBOT_TEST_CPU_KERNEL=1",
)
@torch.no_grad()
def test_prepared_decoder_steps_match_its_full_forward():
    parts = tiny.components()
    decoder = cpu.prepare_for_cpu(parts.decoder).eval()
    encoder_out, text_mask = torch.randn(2, 6, decoder.config.d_model), torch.ones(2, 6, dtype=torch.bool)
    text_mask[0, 4:] = False
    tokens = torch.randint(0, decoder.config.image_vocab_size, (2, 5))
    want = decoder(tokens, encoder_out, text_mask)  # many rows at once: no compiled small-op path
    cache = decoder.new_cache(encoder_out, text_mask)
    got = torch.stack([decoder.step(tokens[:, i : i + 1], cache, i) for i in range(5)], dim=1)
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4)
