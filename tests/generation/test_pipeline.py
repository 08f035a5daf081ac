"""Pipeline behaviour on tiny random components: batching, seeds, determinism, caching, images."""

from __future__ import annotations

import pytest
import torch

from generation.images import GUTTER, make_grid, split_grid, to_post_size
from generation.pipeline import Pipeline
from generation.weights import has_fbgemm, has_native_bf16
from tests.generation import tiny


@pytest.fixture(scope="module")
def pipe() -> Pipeline:
    return Pipeline.from_components(tiny.components(), device="cpu", dtype="fp32")


def test_prompt_in_a_batch_gets_the_tokens_it_gets_alone(pipe):
    batched = pipe.generate_tokens(["a cat", "dogs sat", "🐱"], images_per_prompt=2, seed=[7, 8, 9])
    assert batched.shape == (6, tiny.BART.image_tokens)
    alone = pipe.generate_tokens(["dogs sat"], images_per_prompt=2, seed=8)
    assert torch.equal(batched[2:4], alone)
    first_only = pipe.generate_tokens(["dogs sat"], images_per_prompt=1, seed=8)
    assert torch.equal(first_only[0], alone[0])
    assert not torch.equal(alone[0], alone[1])  # images of one prompt differ


def test_same_seed_same_tokens_and_different_seed_different(pipe):
    a = pipe.generate_tokens("a cat", seed=1, top_k=20, temperature=1.0)
    assert torch.equal(a, pipe.generate_tokens("a cat", seed=1, top_k=20, temperature=1.0))
    assert not torch.equal(a, pipe.generate_tokens("a cat", seed=2, top_k=20, temperature=1.0))


def test_top_k_1_is_deterministic_greedy(pipe):
    a = pipe.generate_tokens("a cat", seed=1, top_k=1)
    b = pipe.generate_tokens("a cat", seed=12345, top_k=1)
    assert torch.equal(a, b)
    # greedy = argmax of the guided logits, step by step through the reference (uncached) forward
    enc, mask = pipe.encode(["a cat"])
    seq = torch.full((2, 1), tiny.BART.start_token)
    with torch.no_grad():
        for _ in range(tiny.BART.image_tokens):
            logits = pipe.decoder(seq, enc, mask)[:, -1, :32]
            nxt = (logits[0] * (1 - 10.0) + logits[1] * 10.0).argmax()
            seq = torch.cat([seq, nxt.repeat(2, 1)], dim=1)
    assert torch.equal(a[0], seq[0, 1:])


def test_start_token_is_configurable(pipe):
    a = pipe.generate_tokens("a cat", seed=3, top_k=1, start_token=31)
    assert not torch.equal(a, pipe.generate_tokens("a cat", seed=3, top_k=1))
    with pytest.raises(ValueError, match="start_token"):
        pipe.generate_tokens("a cat", start_token=33)


def test_guidance_off_runs_only_conditional_rows(pipe):
    tokens = pipe.generate_tokens(["a cat", "dogs"], seed=0, cond_scale=1.0)
    assert tokens.shape == (2, 16)
    assert tokens.max() < 32


def test_encoder_runs_once_per_new_prompt(pipe):
    calls = []
    hook = pipe.encoder.register_forward_hook(lambda _m, args, _out: calls.append(args[0].shape[0]))
    try:
        pipe._encoded.clear()
        pipe.generate_tokens(["dogs", "dogs"], seed=0)
        pipe.generate_tokens(["dogs", "a cat"], seed=0)
    finally:
        hook.remove()
    assert calls == [2, 1]  # unconditional row + "dogs"; then only "a cat"


def test_on_step_sees_growing_tokens(pipe):
    seen = []

    def on_step(n, t):
        seen.append((n, tuple(t.shape)))

    tokens = pipe.generate_tokens(["a cat", "dogs"], seed=0, on_step=on_step)
    assert seen == [(n, (2, n)) for n in range(1, 17)]
    preview = pipe.decode_tokens(tokens[:, :8])  # partial tokens decode (rest filled)
    assert len(preview) == 2 and preview[0].size == (16, 16)


def test_call_returns_images_prompt_major(pipe):
    images = pipe(["a cat", "dogs"], images_per_prompt=2, seed=[1, 2])
    assert [im.size for im in images] == [(16, 16)] * 4
    assert all(im.mode == "RGB" for im in images)
    tokens = pipe.generate_tokens(["a cat", "dogs"], images_per_prompt=2, seed=[1, 2])
    assert pipe.decode_tokens(tokens)[3].tobytes() == images[3].tobytes()


def test_grid():
    images = [_solid(i) for i in range(5)]
    grid = make_grid(images)
    assert grid.size == (3 * 16 + 2 * GUTTER, 2 * 16 + GUTTER)
    assert grid.getpixel((16 + GUTTER, 0)) == (1, 1, 1)  # second image, first row
    assert grid.getpixel((16, 0)) == (255, 255, 255)  # the gutter between them
    assert grid.getpixel((0, 16 + GUTTER)) == (3, 3, 3)  # fourth image starts the second row
    assert make_grid(images, columns=5, gutter=0).size == (80, 16)
    assert make_grid(images[:1]) is images[0]


def test_split_grid_gives_back_each_tile():
    images = [_solid(i) for i in range(9)]
    tiles = split_grid(make_grid(images), 9)
    assert [tile.size for tile in tiles] == [(16, 16)] * 9
    assert [tile.getpixel((0, 0)) for tile in tiles] == [(i, i, i) for i in range(9)]
    assert {tile.getpixel((15, 15)) for tile in tiles[:3]} == {(0, 0, 0), (1, 1, 1), (2, 2, 2)}  # no gutter
    assert split_grid(images[0], 1) == [images[0]]


def test_small_images_are_posted_at_256():
    assert to_post_size(_solid(7)).size == (256, 256)
    assert to_post_size(_solid(7)).getpixel((100, 100)) == (7, 7, 7)
    big = _solid(0).resize((512, 512))
    assert to_post_size(big) is big


def _solid(value: int):
    from PIL import Image

    return Image.new("RGB", (16, 16), (value, value, value))


def test_default_precision_on_cpu_is_fp32_for_a_small_model():
    # below SMALL_MODEL_WIDTH half-precision weights save nothing worth their conversions
    p = Pipeline.from_components(tiny.components(), device="cpu")
    assert p.dtype == torch.float32
    assert p.decoder.lm_head.weight.dtype == torch.float32


def test_bf16_on_cpu_keeps_decoder_matrices_in_16_bits():
    p = Pipeline.from_components(tiny.components(), device="cpu", dtype="bf16")
    assert p.precision.name == "bf16"
    head = p.decoder._step_weights["lm_head"]
    if has_fbgemm():  # 16-bit matrices through FBGEMM; activations, KV cache and encoder fp32
        assert p.dtype == torch.float32 and head.format == "fp16-fbgemm" and head.nbytes == 32 * 32 * 2
        assert p.decoder.new_state(1).k_cache[0].dtype == torch.float32
        # convolutions and the encoder in bf16 only where the CPU computes bf16 natively
        half = torch.bfloat16 if has_native_bf16() else torch.float32
        assert p.precision.vqgan == half and p.encoder.layers[0].glu.fc0.weight.dtype == half
        assert p.encode(["a cat"])[0].dtype == torch.float32  # what the decoder reads
    elif has_native_bf16():  # no FBGEMM (not an x86 build): bf16 everywhere
        assert p.dtype == torch.bfloat16 and head.data.dtype == torch.bfloat16
    tokens = p.generate_tokens("a cat", seed=0)
    assert tokens.shape == (1, 16) and tokens.max() < 32
    assert p.decode_tokens(tokens)[0].size == (16, 16)


def test_sampling_defaults_come_from_the_model_config(tmp_path):
    import dataclasses

    from generation import load_pipeline
    from generation.config import SamplingConfig

    own = SamplingConfig(top_k=3, temperature=1.5, cond_scale=2.0)
    config = dataclasses.replace(tiny.CONFIG, sampling=own)
    parts = tiny.components()
    parts.config = config
    p = Pipeline.from_components(parts, device="cpu", dtype="fp32")
    explicit = p.generate_tokens("a cat", seed=4, top_k=3, temperature=1.5, cond_scale=2.0)
    assert torch.equal(p.generate_tokens("a cat", seed=4), explicit)
    assert not torch.equal(p.generate_tokens("a cat", seed=4, cond_scale=10.0), explicit)
    p.save_pretrained(tmp_path)
    assert load_pipeline(tmp_path, device="cpu", dtype="fp32").config.sampling == config.sampling


def test_a_grid_samples_at_the_models_grid_temperature(tmp_path):
    import dataclasses

    from generation import load_pipeline
    from generation.config import SamplingConfig

    own = SamplingConfig(top_k=3, temperature=0.2, cond_scale=2.0, grid_temperature=1.5)
    assert own.for_images(1).temperature == 0.2 and own.for_images(4).temperature == 1.5
    assert own.options(9) == {"top_k": 3, "temperature": 1.5, "cond_scale": 2.0}
    parts = tiny.components()
    parts.config = dataclasses.replace(tiny.CONFIG, sampling=own)
    p = Pipeline.from_components(parts, device="cpu", dtype="fp32")
    grid = p.generate_tokens("a cat", images_per_prompt=3, seed=4)
    assert torch.equal(grid, p.generate_tokens("a cat", images_per_prompt=3, seed=4, temperature=1.5))
    single = p.generate_tokens("a cat", seed=4)
    assert torch.equal(single, p.generate_tokens("a cat", seed=4, temperature=0.2))
    p.save_pretrained(tmp_path)  # config.json keeps it
    assert load_pipeline(tmp_path, device="cpu", dtype="fp32").config.sampling.grid_temperature == 1.5


def test_a_preview_decodes_only_the_rows_done_and_greys_the_rest(pipe):
    tokens = pipe.generate_tokens(["a cat"], images_per_prompt=2, seed=[3])
    full = pipe.decode_tokens(tokens)
    assert [p.tobytes() for p in pipe.decode_preview(tokens)] == [
        f.tobytes() for f in full
    ]  # all rows: the final
    g, size = pipe.config.vqgan.grid, pipe.config.vqgan.image_size
    patch = size // g
    half = pipe.decode_preview(tokens[:, : (g // 2) * g + 1])  # half the rows and one token more
    assert [p.size for p in half] == [(size, size)] * 2
    assert half[0].getpixel((0, size - 1)) == (128, 128, 128)  # not drawn yet
    assert half[0].crop((0, 0, size, (g // 2) * patch)).getcolors() != [
        ((g // 2) * patch * size, (128, 128, 128))
    ]
    assert pipe.decode_preview(tokens[:, :1])[0].size == (size, size)  # not even a row: still a picture


def test_int8_dynamic_is_a_cpu_precision_and_says_so_elsewhere():
    from generation.precision import resolve_precision

    with pytest.raises(ValueError, match="int8-dynamic runs on a CPU with FBGEMM"):
        resolve_precision("int8-dynamic", torch.device("cuda"), 1024)
    if has_fbgemm():
        p = resolve_precision("int8-dynamic", torch.device("cpu"), 1024)
        assert (p.name, p.weights, p.compute) == ("int8-dynamic", "int8-dynamic", torch.float32)


def test_a_compiled_cpu_step_keeps_bf16_matrices_dense_where_the_cpu_has_amx(monkeypatch):
    """FBGEMM's packed fp16 product cannot be traced by torch.compile: with a compiled step on a CPU
    with AMX the matrices stay bf16 (Inductor picks the GEMM); int8 and fp32 keep theirs, int8 with bf16
    activations there. With native
    bf16 but no AMX (AVX512-BF16 alone) Inductor's bf16 GEMMs were slower than FBGEMM's eager product,
    so the format stays FBGEMM's there, as on an AVX2-only CPU."""
    from generation import precision as precision_module
    from generation.precision import resolve_precision

    cpu = torch.device("cpu")
    monkeypatch.setattr(precision_module, "has_native_bf16", lambda: True)
    monkeypatch.setattr(precision_module, "has_amx", lambda: False)
    assert resolve_precision("bf16", cpu, 1024, compiled=True).weights != "bf16"
    monkeypatch.setattr(precision_module.kernels, "available", lambda: False)
    assert resolve_precision("int8", cpu, 1024, compiled=True).weights == "int8"
    monkeypatch.setattr(precision_module, "has_amx", lambda: True)
    p = resolve_precision("bf16", cpu, 1024, compiled=True)
    assert (p.weights, p.compute, p.vqgan) == ("bf16", torch.bfloat16, torch.bfloat16)
    assert resolve_precision(None, cpu, 1024, compiled=True).weights == "bf16"
    p = resolve_precision("int8", cpu, 1024, compiled=True)  # bf16 rows into the int8 product
    assert (p.name, p.weights, p.compute, p.vqgan) == ("int8", "int8", torch.bfloat16, torch.bfloat16)
    assert resolve_precision("int8", cpu, 1024).compute == torch.float32  # eager: as before
    assert resolve_precision("fp16", cpu, 1024, compiled=True).name == "bf16"  # what runs, named
    assert resolve_precision("fp32", cpu, 1024, compiled=True).weights == "fp32"
    assert resolve_precision(None, cpu, 256, compiled=True).weights == "fp32"  # the embedded model
    if has_fbgemm():
        assert resolve_precision("bf16", cpu, 1024).weights == "fp16-fbgemm"
    monkeypatch.setattr(precision_module, "has_native_bf16", lambda: False)  # AVX2 only: no bf16 GEMM
    assert resolve_precision("bf16", cpu, 1024, compiled=True).weights != "bf16"
