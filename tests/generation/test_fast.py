"""The fast path computes what the reference path computes: same tokens, same pixels, on the CPU."""

from __future__ import annotations

import logging

import numpy
import pytest
import torch

from generation.fast import FastPipeline, RunnerOptions, accelerate
from generation.fast.decoder import FastDecoder
from generation.fast.generator import FastGenerator, bucket
from generation.fast.runner import StepRunner
from generation.pipeline import Pipeline
from tests.generation import tiny

PROMPTS = ["a cat", "the dog sat", "cat dog cat dog cat"]


def pipeline(dtype: str = "fp32", **kwargs: object) -> Pipeline:
    return Pipeline.from_components(tiny.components(seed=3), device="cpu", dtype=dtype, **kwargs)


def test_top_k_1_fp32_tokens_identical_to_reference() -> None:
    ref = pipeline()
    expected = ref.generate_tokens(PROMPTS, images_per_prompt=2, top_k=1, seed=1)
    fast = FastPipeline(pipeline())
    got = fast.generate_tokens(PROMPTS, images_per_prompt=2, top_k=1, seed=1)
    assert got.shape == (6, tiny.BART.image_tokens)
    assert torch.equal(got, expected)


@pytest.mark.parametrize(
    ("top_k", "temperature", "cond_scale"), [(5, 0.7, 10.0), (40, 1.3, 3.0), (8, 1.0, 1.0)]
)
def test_sampled_tokens_identical_to_reference_for_the_same_seed(
    top_k: int, temperature: float, cond_scale: float
) -> None:
    """Same uniforms, same inverse CDF over the same kept ids: same tokens, not just same law."""
    options = dict(images_per_prompt=3, seed=[11, 12, 13], top_k=top_k, temperature=temperature,
                   cond_scale=cond_scale)  # fmt: skip
    expected = pipeline().generate_tokens(PROMPTS, **options)
    got = FastPipeline(pipeline()).generate_tokens(PROMPTS, **options)
    assert torch.equal(got, expected)
    assert len(set(got[:3].flatten().tolist())) > 3  # really sampled, not greedy


def test_weights_are_shared_and_reference_still_works() -> None:
    ref = pipeline()
    before = ref.generate_tokens(PROMPTS[:1], top_k=1, seed=0)
    params = sum(p.numel() for p in ref.decoder.parameters())
    fast = FastPipeline(ref)
    fast.generate_tokens(PROMPTS[:1], top_k=1, seed=0)
    decoder = fast.generator.runner(1, 1)[0]
    q = ref.decoder.layers[0].self_attn.q_proj.weight
    assert q.data_ptr() == decoder.qkv[0].data_ptr()  # a view of the fused weight, not a copy
    assert sum(p.numel() for p in ref.decoder.parameters()) == params
    assert torch.equal(ref.generate_tokens(PROMPTS[:1], top_k=1, seed=0), before)
    other = fast.generator.runner(3, 20)[0]  # another capacity: the same fused weights, not a copy
    assert other.qkv[0] is decoder.qkv[0] and other.cross_kv_weight[1] is decoder.cross_kv_weight[1]


def test_image_does_not_depend_on_its_batch() -> None:
    fast = FastPipeline(pipeline())
    alone = fast.generate_tokens(["the dog sat"], images_per_prompt=2, seed=12, top_k=8)
    batched = fast.generate_tokens(PROMPTS, images_per_prompt=2, seed=[11, 12, 13], top_k=8)
    assert torch.equal(batched[2:4], alone)


def test_bf16_runs_and_mostly_agrees_with_reference() -> None:
    ref = pipeline("bf16", cpu_kernels=False)  # plain bf16 modules, as on CUDA
    expected = ref.generate_tokens(PROMPTS, top_k=1, seed=0)
    got = FastPipeline(pipeline("bf16", cpu_kernels=False)).generate_tokens(PROMPTS, top_k=1, seed=0)
    assert got.dtype == torch.long and got.shape == expected.shape
    assert ((got >= 0) & (got < tiny.BART.image_vocab_size)).all()
    # rounding differs (fused products, SDPA over the whole static cache): most tokens still agree
    assert (got == expected).float().mean() > 0.5


def test_on_step_reports_progress_in_intervals() -> None:
    fast = FastPipeline(pipeline(), step_interval=5)
    seen: list[tuple[int, tuple[int, ...]]] = []
    tokens = fast.generate_tokens(
        PROMPTS[:1], top_k=1, seed=0, on_step=lambda n, t: seen.append((n, tuple(t.shape)))
    )
    assert seen == [(5, (1, 5)), (10, (1, 10)), (15, (1, 15)), (16, (1, 16))]
    assert tokens.shape == (1, 16)


def test_decode_pixels_equal_reference() -> None:
    ref = pipeline()
    generator = torch.Generator().manual_seed(0)
    tokens = torch.randint(0, tiny.VQGAN.codebook_size, (3, tiny.VQGAN.grid**2), generator=generator)
    expected = [torch.from_numpy(numpy.asarray(im)) for im in ref.decode_tokens(tokens)]
    got = [torch.from_numpy(numpy.asarray(im)) for im in FastPipeline(ref).decode_tokens(tokens)]
    assert all(torch.equal(a, b) for a, b in zip(got, expected, strict=True))


def test_input_checks_match_reference() -> None:
    fast = FastPipeline(pipeline())
    with pytest.raises(ValueError, match="no prompts"):
        fast.generate_tokens([])
    with pytest.raises(ValueError, match="temperature"):
        fast.generate_tokens(PROMPTS[:1], temperature=0)
    with pytest.raises(ValueError, match="start_token"):
        fast.generate_tokens(PROMPTS[:1], start_token=10_000)
    with pytest.raises(ValueError, match="seeds"):
        fast.generate_tokens(PROMPTS, seed=[1, 2])


def test_batches_beyond_max_batch_are_split() -> None:
    ref = pipeline()
    expected = ref.generate_tokens(PROMPTS, images_per_prompt=2, top_k=3, seed=[1, 2, 3])
    fast = FastPipeline(pipeline(), max_batch=4)
    got = fast.generate_tokens(PROMPTS, images_per_prompt=2, top_k=3, seed=[1, 2, 3])
    assert torch.equal(got, expected)


# --- fallbacks ----------------------------------------------------------------------------------


def test_accelerate_keeps_the_reference_pipeline_on_a_cpu() -> None:
    ref = pipeline()
    assert accelerate(ref) is ref


def test_mixed_dtype_decoder_is_refused_with_a_clear_error() -> None:
    ref = pipeline("bf16", cpu_kernels=True)  # the engine's CPU layout: bf16 matmuls, fp32 norms
    with pytest.raises(ValueError, match="one dtype"):
        FastPipeline(ref).generate_tokens(PROMPTS[:1], seed=0)


def test_cpu_has_no_graph_and_exact_capacity() -> None:
    decoder, runner = FastPipeline(pipeline()).generator.runner(3, 50)
    assert runner.mode == "eager"
    assert decoder.capacity == 3 == bucket(3, torch.device("cpu"))
    assert bucket(3, torch.device("cuda")) == 4
    assert bucket(9, torch.device("cuda")) == 16


def test_compile_failure_falls_back_to_eager(caplog: pytest.LogCaptureFixture) -> None:
    ref = pipeline()
    expected = ref.generate_tokens(PROMPTS, top_k=1, seed=0)
    options = RunnerOptions(compile="parts", compile_backend="no-such-backend")
    fast = FastPipeline(pipeline(), options=options)
    with caplog.at_level(logging.WARNING):
        got = fast.generate_tokens(PROMPTS, top_k=1, seed=0)
    assert fast.generator.runner(3, 1)[1].mode == "eager"
    assert "torch.compile unavailable" in caplog.text
    assert torch.equal(got, expected)


@pytest.mark.parametrize("granularity", ["parts", "step"])
def test_compiled_step_traces_whole_and_matches(granularity: str) -> None:
    """fullgraph=True through aot_eager: no graph breaks (a CUDA graph needs none), same tokens."""
    ref = pipeline()
    expected = ref.generate_tokens(PROMPTS, top_k=4, seed=5)
    fast = FastPipeline(pipeline(), options=RunnerOptions(compile=granularity, compile_backend="aot_eager"))
    got = fast.generate_tokens(PROMPTS, top_k=4, seed=5)
    assert fast.generator.runner(3, 4)[1].mode == f"compiled-{granularity}"
    assert torch.equal(got, expected)


def test_vqgan_compile_failure_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    ref = pipeline()
    fast = FastPipeline(ref, vqgan_compile=True)

    def broken(_: torch.Tensor) -> torch.Tensor:
        raise RuntimeError("no backend here")

    monkeypatch.setattr(fast.vqgan, "_compiled", broken)
    tokens = torch.zeros(1, tiny.VQGAN.grid**2, dtype=torch.long)
    assert fast.decode_pixels(tokens).shape == (1, tiny.VQGAN.image_size, tiny.VQGAN.image_size, 3)
    assert fast.vqgan._compiled is None


def test_runner_without_cuda_graph_request_on_cpu() -> None:
    ref = pipeline()
    generator = FastGenerator(ref.config.bart, ref.decoder, options=RunnerOptions(cuda_graph=True))
    decoder, runner = generator.runner(2, 1)
    assert isinstance(decoder, FastDecoder) and isinstance(runner, StepRunner)
    assert runner.mode == "eager"


def test_padded_capacity_slots_are_inert(monkeypatch: pytest.MonkeyPatch) -> None:
    """On CUDA a batch runs in the next bucket's capacity: the idle slots must not change anything."""
    monkeypatch.setattr("generation.fast.generator.bucket", lambda n, device: {3: 4, 6: 8}.get(n, n))
    expected = pipeline().generate_tokens(PROMPTS, images_per_prompt=2, top_k=4, seed=[1, 2, 3])
    fast = FastPipeline(pipeline())
    assert torch.equal(fast.generate_tokens(PROMPTS, images_per_prompt=2, top_k=4, seed=[1, 2, 3]), expected)
    assert fast.generator.runner(6, 4)[0].capacity == 8


def test_step_updates_its_buffers_in_place() -> None:
    """What a CUDA graph replays must write where it was captured: no state tensor is replaced."""
    fast = FastPipeline(pipeline())
    fast.generate_tokens(PROMPTS, top_k=2, seed=0)
    decoder = fast.generator.runner(3, 2)[0]
    state = [decoder.position, decoder.previous, decoder.tokens, *decoder.k_cache, *decoder.v_cache]
    pointers = [t.data_ptr() for t in state]
    before = decoder.tokens.clone()
    fast.generate_tokens(PROMPTS, top_k=2, seed=1)
    assert [t.data_ptr() for t in state] == pointers
    assert not torch.equal(decoder.tokens, before)  # and they were written


def test_guidance_off_decodes_conditional_rows_only() -> None:
    fast = FastPipeline(pipeline())
    fast.generate_tokens(PROMPTS, top_k=4, seed=1, cond_scale=1.0)
    decoder = fast.generator.runner(3, 4, guided=False)[0]
    assert decoder.pairs == 1 and decoder.k_cache[0].shape[0] == 3  # rows = images, not 2 × images
