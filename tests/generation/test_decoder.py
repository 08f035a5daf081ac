"""One decoder: its step path reproduces the recorded reference tokens and its own full pass, in
every weight format, and no second decoder class exists."""

from __future__ import annotations

import copy
import importlib
import inspect
import json
import logging
import pkgutil
from pathlib import Path

import pytest
import torch

import generation
from generation import kernels
from generation.decoder import ImageDecoder
from generation.pipeline import Pipeline
from generation.runner import RunnerOptions
from generation.weights import dense_weight, has_amx, has_fbgemm, has_native_bf16
from tests.generation import tiny

RECORDED = json.loads((Path(__file__).parent / "data" / "reference_tokens.json").read_text())
PROMPTS = RECORDED["prompts"]


def pipeline(dtype: str = "fp32", **kwargs: object) -> Pipeline:
    return Pipeline.from_components(tiny.components(seed=3), device="cpu", dtype=dtype, **kwargs)


def test_only_one_image_token_decoder_class() -> None:
    """A second decoder (a 'fast' copy, a CPU variant) would drift from this one: there is none."""
    classes = set()
    for info in pkgutil.walk_packages(generation.__path__, "generation."):
        if ".embedded." in info.name:
            continue
        module = importlib.import_module(info.name)
        classes |= {c for _, c in inspect.getmembers(module, inspect.isclass) if c.__module__ == info.name}
    outside_vqgan = {c for c in classes if c.__module__ != "generation.vqgan"}  # its own Decoder: pixels
    assert {c.__name__ for c in outside_vqgan if c.__name__.endswith("Decoder")} == {"ImageDecoder"}
    uses = ("lm_head.", "lm_head(", "lm_head =", 'lm_head"')  # reads or holds the logits matrix
    logits = {c.__name__ for c in classes if any(u in inspect.getsource(c) for u in uses)}
    assert logits == {"ImageDecoder"}
    package = Path(generation.__file__).parent
    assert not (package / "fast").exists() and not (package / "cpu.py").exists()


@pytest.mark.parametrize("case", RECORDED["cases"], ids=lambda c: f"k{c['top_k']}-s{c['cond_scale']}")
def test_tokens_equal_the_recorded_reference(case: dict) -> None:
    """Recorded from the pre-unification reference pipeline (fp32): same seeds, same tokens."""
    options = {k: case[k] for k in ("top_k", "temperature", "cond_scale")}
    got = pipeline().generate_tokens(PROMPTS, images_per_prompt=2, seed=RECORDED["seeds"], **options)
    assert got.tolist() == case["tokens"]


def teacher_forced_logits(decoder: ImageDecoder, tokens: torch.Tensor, enc: torch.Tensor, mask: torch.Tensor):
    """Step logits (B, S, V) when each step is fed the given tokens (guidance off: raw logits)."""
    b, s = tokens.shape
    state = decoder.new_state(b, guided=False, keep_logits=True)
    ones = torch.ones(b)
    decoder.admit(state, torch.arange(b), enc, mask, uniforms=torch.zeros(b, s), top_k=ones.long(),
                  temperature=ones, cond_scale=ones, start_token=int(tokens[0, 0]))  # fmt: skip
    out = []
    for i in range(s):
        decoder.step(state)
        out.append(state.logits.clone())
        if i + 1 < s:
            state.previous.copy_(tokens[:, i + 1])
    return torch.stack(out, dim=1)


def inputs(parts):
    text = torch.tensor([[0, 34, 37, 2] + [1] * 8, [0, 35, 2] + [1] * 9])
    enc = parts.encoder(text)
    tokens = torch.randint(0, 32, (2, tiny.BART.image_tokens), generator=torch.Generator().manual_seed(0))
    tokens[:, 0] = tiny.BART.start_token
    return tokens, enc, text != 1


@torch.no_grad()
def test_step_logits_equal_the_full_pass_in_fp32() -> None:
    parts = tiny.components(seed=5)
    tokens, enc, mask = inputs(parts)
    full = parts.decoder(tokens, enc, mask)[..., : tiny.BART.image_vocab_size]
    parts.decoder.prepare("fp32")
    torch.testing.assert_close(
        teacher_forced_logits(parts.decoder, tokens, enc, mask), full, rtol=1e-5, atol=1e-5
    )
    torch.testing.assert_close(parts.decoder(tokens, enc, mask)[..., :32], full)  # still whole after prepare


FORMATS = ["bf16-emulated", "int8"] + (["fp16-fbgemm", "int8-dynamic"] if has_fbgemm() else [])
FORMATS += ["int8-blocked"] if kernels.available() else []  # built in CI: test_kernels.py


@pytest.mark.parametrize("fmt", FORMATS)
@torch.no_grad()
def test_each_weight_format_computes_the_full_pass_of_its_own_weights(fmt: str) -> None:
    """The step in a format == the fp32 full pass of the matrices that format holds (dequantised),
    up to the rounding of the product's activations (bf16 for int8)."""
    parts = tiny.components(seed=5)
    tokens, enc, mask = inputs(parts)
    packed = parts.decoder
    if fmt == "bf16-emulated":  # bf16 everywhere: what CUDA runs (and a CPU with native bf16 but no FBGEMM)
        packed = copy.deepcopy(parts.decoder).to(torch.bfloat16)
        packed.prepare("bf16")
        got = teacher_forced_logits(packed, tokens, enc.bfloat16(), mask)
        reference = copy.deepcopy(parts.decoder)
        for name, p in reference.named_parameters():
            p.copy_(dict(packed.named_parameters())[name].float())
        tol = 0.1
    else:
        reference = copy.deepcopy(parts.decoder)
        packed.prepare(fmt)
        weights = packed._step_weights
        for i, layer in enumerate(reference.layers):
            rows = {"qkv": [layer.self_attn.q_proj, layer.self_attn.k_proj, layer.self_attn.v_proj],
                    "self_out": [layer.self_attn.out_proj], "cross_q": [layer.encoder_attn.q_proj],
                    "cross_out": [layer.encoder_attn.out_proj],
                    "cross_kv": [layer.encoder_attn.k_proj, layer.encoder_attn.v_proj],
                    "glu01": [layer.glu.fc0, layer.glu.fc1], "fc2": [layer.glu.fc2]}  # fmt: skip
            for name, linears in rows.items():
                dense = dense_weight(weights["layers"][i][name])
                for lin, part in zip(
                    linears, dense.split([lin.out_features for lin in linears]), strict=True
                ):
                    lin.weight.copy_(part)
        reference.lm_head.weight[:32] = dense_weight(weights["lm_head"])
        got = teacher_forced_logits(packed, tokens, enc, mask)
        tol = {"int8": 0.05, "int8-dynamic": 0.1}.get(fmt, 1e-4)  # rounded activations
    want = reference(tokens, enc.float(), mask)[..., :32]
    torch.testing.assert_close(got.float(), want, rtol=tol, atol=tol)


@pytest.mark.parametrize("name", ["int8"] + (["int8-dynamic"] if has_fbgemm() else []))
def test_int8_pipeline_end_to_end_on_tiny_weights(tmp_path, name) -> None:
    ref = pipeline()
    int8 = pipeline(name)
    fmt = "int8-blocked" if name == "int8" and kernels.available() else name  # a CPU: our kernel
    assert int8.precision.weights == fmt and int8.decoder.weight_format == fmt
    qkv = int8.decoder._step_weights["layers"][0]["qkv"]
    assert qkv.scale is not None and qkv.scale.shape == (3 * tiny.BART.d_model,)
    assert qkv.data.dtype == torch.int8 and qkv.nbytes < 2 * qkv.data.numel()
    assert int8.decoder.layers[0].self_attn.q_proj.weight.is_meta  # the float matrix is gone
    tokens = int8.generate_tokens(PROMPTS, images_per_prompt=2, seed=[11, 12, 13], top_k=1)
    expected = ref.generate_tokens(PROMPTS, images_per_prompt=2, seed=[11, 12, 13], top_k=1)
    assert tokens.shape == expected.shape and ((tokens >= 0) & (tokens < 32)).all()
    assert (tokens == expected).float().mean() > 0.5  # int8 rounding flips a few greedy choices at most
    images = int8.decode_tokens(tokens[:2])
    assert [im.size for im in images] == [(16, 16)] * 2
    with pytest.raises(ValueError, match="float weights"):
        int8.decoder(tokens[:, :3], *int8.encode(["a cat"] * 6)[:1], torch.ones(6, 12, dtype=torch.bool))
    with pytest.raises(ValueError, match="packed weights"):
        int8.save_pretrained(tmp_path)


def test_image_does_not_depend_on_its_batch() -> None:
    pipe = pipeline()
    alone = pipe.generate_tokens(["the dog sat"], images_per_prompt=2, seed=12, top_k=8)
    batched = pipe.generate_tokens(PROMPTS, images_per_prompt=2, seed=[11, 12, 13], top_k=8)
    assert torch.equal(batched[2:4], alone)


def test_on_step_reports_progress_in_intervals() -> None:
    pipe = pipeline(step_interval=5)
    seen: list[tuple[int, tuple[int, ...]]] = []
    tokens = pipe.generate_tokens(
        PROMPTS[:1], top_k=1, seed=0, on_step=lambda n, t: seen.append((n, tuple(t.shape)))
    )
    assert seen == [(5, (1, 5)), (10, (1, 10)), (15, (1, 15)), (16, (1, 16))]
    assert tokens.shape == (1, 16)


def test_batches_beyond_max_batch_are_split() -> None:
    expected = pipeline().generate_tokens(PROMPTS, images_per_prompt=2, top_k=3, seed=[1, 2, 3])
    got = pipeline(max_batch=4).generate_tokens(PROMPTS, images_per_prompt=2, top_k=3, seed=[1, 2, 3])
    assert torch.equal(got, expected)


def test_padded_capacity_slots_are_inert(monkeypatch: pytest.MonkeyPatch) -> None:
    """On CUDA a batch runs in the next bucket's capacity: the idle slots must not change anything."""
    expected = pipeline().generate_tokens(PROMPTS, images_per_prompt=2, top_k=4, seed=[1, 2, 3])
    monkeypatch.setattr("generation.pipeline.bucket", lambda n, device: {3: 4, 6: 8}.get(n, n))
    pipe = pipeline()
    assert torch.equal(pipe.generate_tokens(PROMPTS, images_per_prompt=2, top_k=4, seed=[1, 2, 3]), expected)
    assert pipe.runner(6, 4)[0].capacity == 8


def test_step_updates_its_buffers_in_place() -> None:
    """What a CUDA graph replays must write where it was captured: no state tensor is replaced."""
    pipe = pipeline()
    pipe.generate_tokens(PROMPTS, top_k=2, seed=0)
    state = pipe.runner(3, 2)[0]
    buffers = [state.position, state.previous, state.tokens, *state.k_cache, *state.v_cache]
    pointers = [t.data_ptr() for t in buffers]
    before = state.tokens.clone()
    pipe.generate_tokens(PROMPTS, top_k=2, seed=1)
    assert [t.data_ptr() for t in buffers] == pointers
    assert not torch.equal(state.tokens, before)


def test_guidance_off_decodes_conditional_rows_only() -> None:
    pipe = pipeline()
    pipe.generate_tokens(PROMPTS, top_k=4, seed=1, cond_scale=1.0)
    state = pipe.runner(3, 4, guided=False)[0]
    assert state.pairs == 1 and state.k_cache[0].shape[0] == 3


def test_dense_weights_are_shared_not_copied() -> None:
    pipe = pipeline()
    q = pipe.decoder.layers[0].self_attn.q_proj.weight
    assert q.data_ptr() == pipe.decoder._step_weights["layers"][0]["qkv"].data.data_ptr()


def test_cpu_runs_eagerly_and_compile_failure_falls_back(caplog: pytest.LogCaptureFixture) -> None:
    expected = pipeline().generate_tokens(PROMPTS, top_k=1, seed=0)
    pipe = pipeline(options=RunnerOptions(compile="parts", compile_backend="no-such-backend"))
    with caplog.at_level(logging.WARNING):
        got = pipe.generate_tokens(PROMPTS, top_k=1, seed=0)
    assert pipe.runner(3, 1)[1].mode == "eager"
    assert "torch.compile unavailable" in caplog.text
    assert torch.equal(got, expected)


@pytest.mark.parametrize("granularity", ["parts", "step"])
def test_compiled_step_traces_whole_and_matches(granularity: str) -> None:
    """fullgraph=True through aot_eager: no graph breaks (a CUDA graph needs none), same tokens."""
    expected = pipeline().generate_tokens(PROMPTS, top_k=4, seed=5)
    pipe = pipeline(options=RunnerOptions(compile=granularity, compile_backend="aot_eager"))
    got = pipe.generate_tokens(PROMPTS, top_k=4, seed=5)
    assert pipe.runner(3, 4)[1].mode == f"compiled-{granularity}"
    assert torch.equal(got, expected)


def test_packed_weights_say_they_run_eager_instead_of_failing_to_compile(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """FBGEMM's packed products cannot be traced: asked to compile, the pipeline says so once, in
    words, and decodes eagerly (not a failed trace and its stack in the log at the first request)."""
    if not has_fbgemm():  # int8-dynamic is FBGEMM's (x86 builds of PyTorch); elsewhere it is refused
        with pytest.raises(ValueError, match="int8-dynamic runs on a CPU with FBGEMM"):
            pipeline("int8-dynamic", options=RunnerOptions(compile="step"))
        return
    with caplog.at_level(logging.WARNING):
        pipe = pipeline("int8-dynamic", options=RunnerOptions(compile="step"))
        pipe.generate_tokens(PROMPTS, top_k=4, seed=2)
    assert pipe.options.compile == "off" and pipe.step_modes() == ["eager"]
    assert "torch.compile cannot trace" in caplog.text and "torch.compile unavailable" not in caplog.text


def test_a_cpu_compile_goes_through_inductor_with_frozen_autotuned_weights(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The real CPU route (Inductor, C++ codegen: CI has a compiler): int8 compiles whole, frozen and
    autotuned; its sampling still depends on the seed alone. bf16 compiles with dense matrices where
    the CPU has AMX; elsewhere FBGEMM's fp16 product, which cannot be traced: the eager step, logged."""
    pipe = pipeline("int8", options=RunnerOptions(compile="step"))
    first = pipe.generate_tokens(PROMPTS, top_k=4, seed=2)
    assert pipe.step_modes() == ["compiled-step"]
    assert torch.equal(pipe.generate_tokens(PROMPTS, top_k=4, seed=2), first)
    assert first.shape == (len(PROMPTS), pipe.config.bart.image_tokens)
    assert int(first.min()) >= 0 and int(first.max()) < pipe.config.bart.image_vocab_size
    half = pipeline("bf16", options=RunnerOptions(compile="step"))
    with caplog.at_level(logging.WARNING):
        half.generate_tokens(PROMPTS, top_k=4, seed=2)
    if has_native_bf16() and has_amx():  # dense bf16 matrices, compiled whole
        assert half.precision.weights == "bf16" and half.step_modes() == ["compiled-step"]
    elif has_fbgemm():  # an x86 CPU without AMX: FBGEMM's fp16 product, which cannot be traced
        assert half.precision.weights == "fp16-fbgemm" and half.step_modes() == ["eager"]
        assert "torch.compile cannot trace" in caplog.text and half.options.compile == "off"
