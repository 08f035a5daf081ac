"""dallebot's CPU kernels (generation/csrc, built at install time): built in CI; the int8 product
exact against float64 for every row count and both instruction sets, the blocked layout's round
trip, the int8-blocked weight format around it (same weights as int8); attention equal to SDPA over
views of a cache, masks, refusals; both callable from a compiled step."""

from __future__ import annotations

import os
import platform
import shutil
import sys

import pytest
import torch

from generation import kernels
from generation.precision import resolve_precision
from generation.weights import dense_weight, matmul, pack
from tests.generation import tiny

X86 = platform.machine().lower() in ("x86_64", "amd64")
# where setup.py builds the kernels (x86-64 with a C++ compiler) and the CPU runs them (AVX2): CI's
BUILT_HERE = (
    X86
    and sys.platform != "win32"
    and any(shutil.which(c) for c in ("c++", "g++", "clang++"))
    and torch.backends.cpu.get_cpu_capability() in ("AVX2", "AVX512")
)


def test_the_kernels_are_built_wherever_the_install_could_build_them() -> None:
    """`pip install -e .` builds them on x86-64 with a compiler: there (and in CI) they must load."""
    if not (BUILT_HERE or os.environ.get("CI")):
        pytest.skip("not x86-64 with a C++ compiler and AVX2: setup.py builds nothing that runs here")
    assert kernels.available(), "generation._kernels was not built by the install (setup.py)"


needs_kernel = pytest.mark.skipif(
    not kernels.available() and not BUILT_HERE and not os.environ.get("CI"),
    reason="dallebot's kernels not built here (setup.py builds them on x86-64 with a C++ compiler)",
)


def reference(x: torch.Tensor, q: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    return x.double() @ (q.double() * scale.double()[:, None]).T


@needs_kernel
@pytest.mark.parametrize("wide", [True, False], ids=["avx512-where-present", "avx2"])
@pytest.mark.parametrize("m", [1, 2, 3, 4, 5, 18])
@pytest.mark.parametrize(("n", "k"), [(1, 16), (5, 64), (1027, 48), (12, 2736)])
def test_the_product_is_exact_in_fp32(wide: bool, m: int, n: int, k: int) -> None:
    gen = torch.Generator().manual_seed(m * 1000 + n + k)
    q = torch.randint(-127, 128, (n, k), generator=gen, dtype=torch.int8)
    scale = torch.rand(n, generator=gen) * 0.01
    x = torch.randn(m, k, generator=gen)
    y = kernels.gemv(x, kernels.block(q), scale, wide=wide)
    want = reference(x, q, scale)
    assert y.shape == (m, n) and y.dtype == torch.float32
    # fp32 sums of k products, in another order than float64's
    torch.testing.assert_close(y.double(), want, rtol=1e-5, atol=1e-5 * float(want.abs().max()))


@needs_kernel
def test_bf16_rows_come_back_in_bf16() -> None:
    gen = torch.Generator().manual_seed(2)
    q = torch.randint(-127, 128, (40, 32), generator=gen, dtype=torch.int8)
    scale = torch.rand(40, generator=gen)
    x = torch.randn(2, 32, generator=gen).bfloat16()
    y = kernels.gemv(x, kernels.block(q), scale)
    assert y.dtype == torch.bfloat16
    torch.testing.assert_close(y.double(), reference(x.float(), q, scale), rtol=1e-2, atol=1e-2)


def test_blocks_round_trip_and_pad_rows_with_zeros() -> None:
    q = torch.arange(7 * 32, dtype=torch.int32).remainder(255).sub(127).to(torch.int8).view(7, 32)
    blocked = kernels.block(q)
    assert blocked.shape == (2, 2, 4, 16)
    assert torch.equal(blocked[0, 1, 2], q[2, 16:])  # block 0, columns 16-31, its third row
    assert torch.equal(blocked[1, :, 3], torch.zeros(2, 16, dtype=torch.int8))  # row 8 is padding
    assert torch.equal(kernels.unblock(blocked, 7), q)
    with pytest.raises(ValueError, match="multiple of 16"):
        kernels.block(torch.zeros(4, 40, dtype=torch.int8))


@needs_kernel
def test_mismatched_shapes_are_refused_with_a_message() -> None:
    blocked = kernels.block(torch.zeros(8, 32, dtype=torch.int8))
    with pytest.raises(RuntimeError, match="x has 16 columns, the weight 32"):
        kernels.gemv(torch.zeros(2, 16), blocked, torch.ones(8))
    with pytest.raises(RuntimeError, match="2 blocks for 12 rows"):
        kernels.gemv(torch.zeros(2, 32), blocked, torch.ones(12))


@needs_kernel
@pytest.mark.parametrize("k", [64, 45])
def test_int8_blocked_holds_the_int8_weights(k: int) -> None:
    """The same q and scale as int8 (whichever kernel runs, the same weights); fp32 activations."""
    gen = torch.Generator().manual_seed(3)
    w = torch.randn(50, k, generator=gen) * 0.05
    x = torch.randn(3, 2, k, generator=gen)
    blocked, rows = pack(w, "int8-blocked"), pack(w, "int8")
    assert torch.equal(dense_weight(blocked), dense_weight(rows))
    assert blocked.out_features == 50 and blocked.nbytes == 52 * (k + blocked.pad) + 50 * 4
    y = matmul(x, blocked)
    assert y.shape == (3, 2, 50) and y.dtype == torch.float32
    torch.testing.assert_close(y, x @ dense_weight(blocked).T, rtol=1e-5, atol=1e-5)


@needs_kernel
def test_a_compiled_function_calls_the_kernel() -> None:
    gen = torch.Generator().manual_seed(4)
    packed = pack(torch.randn(24, 64, generator=gen), "int8-blocked")
    x = torch.randn(2, 64, generator=gen)
    compiled = torch.compile(lambda x: torch.relu(matmul(x, packed)), fullgraph=True, dynamic=False)
    torch.testing.assert_close(compiled(x), torch.relu(matmul(x, packed)))


def test_a_cpu_int8_precision_uses_the_kernel_where_it_was_built(monkeypatch) -> None:
    """Eager or compiled, except a compiled step on an AMX CPU (Inductor's GEMMs, measured there)."""
    from generation import precision

    cpu = torch.device("cpu")
    monkeypatch.setattr(precision, "has_fbgemm", lambda: True)
    monkeypatch.setattr(precision, "has_native_bf16", lambda: True)
    monkeypatch.setattr(precision, "has_amx", lambda: False)
    monkeypatch.setattr(precision.kernels, "available", lambda: True)
    assert resolve_precision("int8", cpu, 1024).weights == "int8-blocked"
    p = resolve_precision("int8", cpu, 1024, compiled=True)
    assert (p.name, p.weights, p.compute) == ("int8", "int8-blocked", torch.float32)
    monkeypatch.setattr(precision, "has_amx", lambda: True)
    assert resolve_precision("int8", cpu, 1024).weights == "int8-blocked"
    assert resolve_precision("int8", cpu, 1024, compiled=True).weights == "int8"
    monkeypatch.setattr(precision.kernels, "available", lambda: False)
    assert resolve_precision("int8", cpu, 1024).weights == "int8"


def sdpa_reference(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.scaled_dot_product_attention(
        q.unsqueeze(2).double(), k.double(), v.double(), attn_mask=bias.double()
    ).squeeze(2)


@needs_kernel
@pytest.mark.parametrize("wide", [True, False], ids=["avx512-where-present", "avx2"])
@pytest.mark.parametrize(("rows", "heads", "keys", "head_dim"), [(2, 16, 1, 64), (2, 16, 37, 64),
                         (3, 2, 256, 16), (18, 4, 64, 64), (1, 1, 5, 128)])  # fmt: skip
def test_attention_equals_sdpa_over_a_view_of_the_cache(wide, rows, heads, keys, head_dim) -> None:
    gen = torch.Generator().manual_seed(rows * heads + keys)
    q = torch.randn(rows, heads, head_dim, generator=gen)
    cache = torch.randn(2, rows, heads, 300, head_dim, generator=gen) * 2
    k, v = cache[0, :, :, :keys], cache[1, :, :, :keys]  # strided views, as the decoder passes
    bias = torch.zeros(rows, 1, 1, keys)
    bias[0, ..., keys // 2 + 1 :] = float("-inf")  # a row that sees only its first keys
    got = kernels.decode_attention(q, k, v, bias, wide=wide)
    assert got.shape == (rows, heads, head_dim) and got.dtype == torch.float32
    torch.testing.assert_close(got.double(), sdpa_reference(q, k, v, bias), rtol=1e-5, atol=1e-5)


@needs_kernel
def test_masked_keys_weigh_nothing_and_a_fully_masked_row_gets_zeros() -> None:
    gen = torch.Generator().manual_seed(7)
    q, k = torch.randn(2, 1, 16, generator=gen), torch.randn(2, 1, 4, 16, generator=gen)
    v = torch.randn(2, 1, 4, 16, generator=gen)
    v[:, :, 3] = 1e30  # huge values behind a masked key change nothing
    bias = torch.tensor([0.0, 0.0, 0.0, float("-inf")]).repeat(2, 1).view(2, 1, 1, 4)
    bias[1] = float("-inf")
    got = kernels.decode_attention(q, k, v, bias)
    torch.testing.assert_close(got[0].double(), sdpa_reference(q[:1, :, :], k[:1, :, :3], v[:1, :, :3],
                                                               bias[:1, ..., :3])[0])  # fmt: skip
    assert torch.equal(got[1], torch.zeros(1, 16))


@needs_kernel
def test_attention_refuses_what_it_cannot_read() -> None:
    q, kv, bias = torch.zeros(2, 4, 64), torch.zeros(2, 4, 8, 64), torch.zeros(2, 1, 1, 8)
    with pytest.raises(RuntimeError, match="float32 tensors only"):
        kernels.decode_attention(q.double(), kv.double(), kv.double(), bias.double())
    with pytest.raises(RuntimeError, match="bias must be"):
        kernels.decode_attention(q, kv, kv, torch.zeros(2, 1, 1, 9))
    with pytest.raises(RuntimeError, match="must be a multiple of"):
        odd = torch.zeros(2, 4, 8, 20)  # head_dim 20
        kernels.decode_attention(torch.zeros(2, 4, 20), odd, odd, bias)


def test_the_step_attends_with_the_kernel_only_where_it_applies(monkeypatch) -> None:
    cpu = torch.device("cpu")
    monkeypatch.setattr(kernels, "available", lambda: True)
    assert kernels.attention_for(torch.float32, cpu, 64) is kernels.decode_attention
    assert kernels.attention_for(torch.bfloat16, cpu, 64) is kernels.sdpa_attention  # fp32 only
    assert kernels.attention_for(torch.float32, cpu, 20) is kernels.sdpa_attention
    assert kernels.attention_for(torch.float32, torch.device("meta"), 64) is kernels.sdpa_attention
    monkeypatch.setattr(kernels, "available", lambda: False)
    assert kernels.attention_for(torch.float32, cpu, 64) is kernels.sdpa_attention


@needs_kernel
def test_a_compiled_step_calls_the_attention_kernel() -> None:
    gen = torch.Generator().manual_seed(8)
    q = torch.randn(2, 4, 32, generator=gen)
    k, v = torch.randn(2, 2, 4, 9, 32, generator=gen).unbind(0)
    bias = torch.zeros(2, 1, 1, 9)
    compiled = torch.compile(lambda q: kernels.decode_attention(q * 2, k, v, bias) + 1, fullgraph=True)
    torch.testing.assert_close(compiled(q), kernels.decode_attention(q * 2, k, v, bias) + 1)


@needs_kernel
def test_a_cpu_fp32_step_attends_with_the_kernel_and_keeps_the_recorded_tokens() -> None:
    """The tiny model's head_dim is 32: its fp32 CPU step runs the kernel, whose tokens
    test_decoder.py checks against the recorded reference."""
    decoder = tiny.components(seed=3).decoder
    decoder.prepare("fp32")
    assert decoder.new_state(2).fns["attend"] is kernels.decode_attention


@needs_kernel
@pytest.mark.parametrize("wide", [True, False], ids=["avx512-where-present", "avx2"])
def test_each_row_reads_only_its_own_keys(wide) -> None:
    """lengths: rows at different steps of one static cache; the keys past a row's length weigh
    nothing even where the bias does not mask them (garbage left by an earlier image)."""
    gen = torch.Generator().manual_seed(9)
    q, k, v = torch.randn(3, 4, 64, generator=gen), *torch.randn(2, 3, 4, 40, 64, generator=gen).unbind(0)
    lengths = torch.tensor([1, 17, 40])
    got = kernels.decode_attention(q, k, v, torch.zeros(3, 1, 1, 40), lengths, wide=wide)
    for r, n in enumerate(lengths.tolist()):
        want = sdpa_reference(q[r : r + 1], k[r : r + 1, :, :n], v[r : r + 1, :, :n], torch.zeros(1, 1, 1, n))
        torch.testing.assert_close(got[r : r + 1].double(), want, rtol=1e-5, atol=1e-5)
    with pytest.raises(RuntimeError, match="lengths must be"):
        kernels.decode_attention(q, k, v, torch.zeros(3, 1, 1, 40), torch.tensor([1, 2]))
