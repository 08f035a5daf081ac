"""Tiny checkpoints in the DALL·E Mini authors' own layout, serialised the way Flax does.

`write_tiny_flax_bart(dir)` writes what the Hub repo `dalle-mini/dalle-mini` holds (config.json,
flax_model.msgpack, vocab.json, merges.txt) and `write_tiny_flax_vqgan(dir)` what
`dalle-mini/vqgan_imagenet_f16_16384` holds (config.json, flax_model.msgpack), at hidden size 32
with the official parameter names. Both return the arrays they wrote, keyed per layer as
`model/<codec>/layers/<i>/…` whatever the layout on disk, so tests can build what a correct
conversion must give on their own. Plain functions (no pytest fixtures): other test modules import them.

The encoder below is written from Flax's documented format, not with flax: a msgpack map of
maps; array leaves as ext type 1 holding msgpack `(shape, dtype name, C-order bytes)`; arrays
over `chunk_bytes` (Flax: 2**30) as `{"__msgpack_chunked_array__": True, "shape": {"0": …},
"chunks": {"0": flat array, …}}`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgpack
import numpy as np

from tests.generation import tiny

FLAX_CHUNK_BYTES = 2**30

TINY_BART_CONFIG: dict[str, Any] = {
    "architectures": ["DalleBart"], "model_type": "dallebart",
    "d_model": 32, "encoder_layers": 2, "decoder_layers": 2,
    "encoder_attention_heads": 2, "decoder_attention_heads": 2,
    "encoder_ffn_dim": 48, "decoder_ffn_dim": 48,
    "encoder_vocab_size": len(tiny.VOCAB), "image_vocab_size": 32, "decoder_start_token_id": 32,
    "image_length": 16, "max_text_length": tiny.BART.text_tokens,
    "ln_type": "layernorm", "ln_positions": "normformer", "use_glu": True, "use_bias": False,
    "force_ln_scale": False, "activation_function": "gelu", "scale_embedding": False,
}  # fmt: skip
TINY_VQGAN_CONFIG: dict[str, Any] = {
    "ch": 32, "ch_mult": [1, 1, 2], "num_res_blocks": 1, "resolution": 16, "z_channels": 8,
    "embed_dim": 8, "n_embed": 32, "attn_resolutions": [4], "out_ch": 3, "in_channels": 3,
    "double_z": False, "resamp_with_conv": True, "give_pre_end": False, "dropout": 0.0,
}  # fmt: skip


# --- Flax's msgpack encoding --------------------------------------------------------------------


def _bfloat16_bits(array: np.ndarray) -> np.ndarray:
    """float32 -> bfloat16 bit patterns (round to nearest even), as uint16."""
    bits = np.ascontiguousarray(array, dtype=np.float32).view(np.uint32)
    return ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)


def _ext(array: np.ndarray, dtype: str) -> msgpack.ExtType:
    if dtype == "bfloat16":
        data = _bfloat16_bits(array).astype("<u2").tobytes()
    else:
        data = np.ascontiguousarray(array, dtype=np.dtype(dtype).newbyteorder("<")).tobytes()
    return msgpack.ExtType(1, msgpack.packb([list(array.shape), dtype, data], use_bin_type=True))


def _encode(node: Any, dtype: str, chunk_bytes: int) -> Any:
    if isinstance(node, dict):
        return {key: _encode(value, dtype, chunk_bytes) for key, value in node.items()}
    array = np.asarray(node)
    itemsize = 2 if dtype == "bfloat16" else np.dtype(dtype).itemsize
    if array.size * itemsize <= chunk_bytes:
        return _ext(array, dtype)
    per_chunk = max(1, chunk_bytes // itemsize)
    flat = array.reshape(-1)
    chunks = [flat[i : i + per_chunk] for i in range(0, flat.size, per_chunk)]
    return {
        "__msgpack_chunked_array__": True,
        "shape": {str(i): d for i, d in enumerate(array.shape)},
        "chunks": {str(i): _ext(c, dtype) for i, c in enumerate(chunks)},
    }


def flax_msgpack(
    flat: dict[str, np.ndarray], *, dtype: str = "float32", chunk_bytes: int = FLAX_CHUNK_BYTES
) -> bytes:
    """{"a/b/c": array} -> bytes of a Flax msgpack checkpoint (nested maps, ext-1 leaves)."""
    tree: dict[str, Any] = {}
    for key, array in flat.items():
        node = tree
        *parents, leaf = key.split("/")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = array
    return msgpack.packb(_encode(tree, dtype, chunk_bytes), use_bin_type=True)


# --- DalleBart ----------------------------------------------------------------------------------


def _bart_layer(rng: np.random.Generator, d: int, ffn: int, decoder: bool) -> dict[str, np.ndarray]:
    def kernel(a: int, b: int) -> np.ndarray:
        return rng.normal(0.0, a**-0.5, (a, b)).astype(np.float32)

    def norm(n: int, scale: bool) -> dict[str, np.ndarray]:
        out = {"bias": rng.normal(0.0, 0.1, n).astype(np.float32)}
        if scale:
            out["scale"] = rng.uniform(0.5, 1.5, n).astype(np.float32)
        return out

    layer: dict[str, np.ndarray] = {}
    # (Flax module, has scale) in call order; LayerNorms feeding a dense layer have no scale
    norms = [("LayerNorm_0", False), ("LayerNorm_1", True)]
    attentions = ["FlaxBartAttention_0"]
    if decoder:
        norms += [("LayerNorm_2", False), ("LayerNorm_3", True)]
        attentions.append("FlaxBartAttention_1")
    for name, scale in norms:
        layer.update({f"{name}/{leaf}": v for leaf, v in norm(d, scale).items()})
    for name in attentions:
        for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
            layer[f"{name}/{proj}/kernel"] = kernel(d, d)
    layer["GLU_0/LayerNorm_0/bias"] = norm(d, False)["bias"]
    layer["GLU_0/Dense_0/kernel"] = kernel(d, ffn)
    layer["GLU_0/Dense_1/kernel"] = kernel(d, ffn)
    layer["GLU_0/LayerNorm_1/bias"] = norm(ffn, False)["bias"]
    layer["GLU_0/Dense_2/kernel"] = kernel(ffn, d)
    return layer


def tiny_flax_bart_arrays(config: dict[str, Any], seed: int = 0) -> dict[str, np.ndarray]:
    """Random DalleBart parameters, keyed `model/<codec>/layers/<i>/…` per layer (not stacked)."""
    rng = np.random.default_rng(seed)
    d, rows = config["d_model"], config["image_vocab_size"] + 1
    arrays: dict[str, np.ndarray] = {}
    for codec, vocab, positions in (("encoder", config["encoder_vocab_size"], config["max_text_length"]),
                                    ("decoder", rows, config["image_length"])):  # fmt: skip
        root = f"model/{codec}"
        arrays[f"{root}/embed_tokens/embedding"] = rng.normal(0.0, 1.0, (vocab, d)).astype(np.float32)
        arrays[f"{root}/embed_positions/embedding"] = rng.normal(0.0, 0.5, (positions, d)).astype(np.float32)
        arrays[f"{root}/layernorm_embedding/scale"] = rng.uniform(0.5, 1.5, d).astype(np.float32)
        arrays[f"{root}/layernorm_embedding/bias"] = rng.normal(0.0, 0.1, d).astype(np.float32)
        arrays[f"{root}/final_ln/bias"] = rng.normal(0.0, 0.1, d).astype(np.float32)
        for i in range(config[f"{codec}_layers"]):
            layer = _bart_layer(rng, d, config[f"{codec}_ffn_dim"], codec == "decoder")
            arrays.update({f"{root}/layers/{i}/{k}": v for k, v in layer.items()})
    arrays["lm_head/kernel"] = rng.normal(0.0, d**-0.5, (d, rows)).astype(np.float32)
    return arrays


def _as_written(
    arrays: dict[str, np.ndarray], config: dict[str, Any], stacked: bool, layer_names: str
) -> dict:
    """Per-layer arrays -> the tree as the checkpoint stores it (scan-stacked or one module per layer)."""
    flat: dict[str, np.ndarray] = {}
    per_leaf: dict[str, list[np.ndarray]] = {}
    for key, array in arrays.items():
        parts = key.split("/")
        if len(parts) < 4 or parts[2] != "layers":
            flat[key] = array
            continue
        codec, index, rest = parts[1], int(parts[3]), "/".join(parts[4:])
        module = f"FlaxBart{codec.title()}Layer"
        if stacked:
            per_leaf.setdefault(f"model/{codec}/layers/{module}s/{rest}", []).append(array)
        else:
            name = f"{module}_{index}" if layer_names == "flax" else str(index)
            flat[f"model/{codec}/layers/{name}/{rest}"] = array
    flat.update({key: np.stack(leaves) for key, leaves in per_leaf.items()})
    return flat


def write_tiny_flax_bart(
    directory: Path,
    *,
    seed: int = 0,
    stacked: bool = True,
    layer_names: str = "flax",
    dtype: str = "float32",
    chunk_bytes: int = FLAX_CHUNK_BYTES,
    config: dict[str, Any] | None = None,
) -> dict[str, np.ndarray]:
    """Write a tiny `dalle-mini/dalle-mini`-like checkpoint; returns its arrays keyed per layer.

    stacked: layers on a leading axis under `FlaxBart<Codec>Layers` (the scan layout), else one
    module per layer named `FlaxBart<Codec>Layer_<i>` (layer_names "flax") or `<i>` ("index").
    dtype: "float32", "float16" or "bfloat16" on disk. chunk_bytes: arrays larger than this are
    written in Flax's chunked form. config: keys overriding TINY_BART_CONFIG (sizes included).
    """
    directory.mkdir(parents=True, exist_ok=True)
    cfg = {**TINY_BART_CONFIG, "use_scan": stacked, **(config or {})}
    arrays = tiny_flax_bart_arrays(cfg, seed)
    written = _as_written(arrays, cfg, stacked, layer_names)
    (directory / "flax_model.msgpack").write_bytes(
        flax_msgpack(written, dtype=dtype, chunk_bytes=chunk_bytes)
    )
    (directory / "config.json").write_text(json.dumps(cfg, indent=2), encoding="utf-8")
    tiny.write_tokenizer_files(directory)
    return arrays


# --- VQGAN --------------------------------------------------------------------------------------


def tiny_flax_vqgan_arrays(config: dict[str, Any], seed: int = 0) -> dict[str, np.ndarray]:
    """Random VQGAN parameters with vqgan-jax's names (encoder half reduced to two leaves)."""
    rng = np.random.default_rng(seed)
    arrays: dict[str, np.ndarray] = {}

    def conv(key: str, c_in: int, c_out: int, size: int) -> None:
        fan_in = c_in * size * size
        arrays[f"{key}/kernel"] = rng.normal(0.0, fan_in**-0.5, (size, size, c_in, c_out)).astype(np.float32)
        arrays[f"{key}/bias"] = rng.normal(0.0, 0.05, c_out).astype(np.float32)

    def norm(key: str, c: int) -> None:
        arrays[f"{key}/scale"] = rng.uniform(0.5, 1.5, c).astype(np.float32)
        arrays[f"{key}/bias"] = rng.normal(0.0, 0.1, c).astype(np.float32)

    def resnet(key: str, c_in: int, c_out: int) -> None:
        norm(f"{key}/norm1", c_in)
        conv(f"{key}/conv1", c_in, c_out, 3)
        norm(f"{key}/norm2", c_out)
        conv(f"{key}/conv2", c_out, c_out, 3)
        if c_in != c_out:
            conv(f"{key}/nin_shortcut", c_in, c_out, 1)

    def attention(key: str, c: int) -> None:
        norm(f"{key}/norm", c)
        for proj in ("q", "k", "v", "proj_out"):
            conv(f"{key}/{proj}", c, c, 1)

    ch, mult, z, levels = config["ch"], config["ch_mult"], config["z_channels"], len(config["ch_mult"])
    top = ch * mult[-1]
    arrays["quantize/embedding/embedding"] = rng.normal(
        0.0, 1.0, (config["n_embed"], config["embed_dim"])
    ).astype(np.float32)
    conv("quant_conv", z, config["embed_dim"], 1)  # encoder side: present in the file, not converted
    conv("encoder/conv_in", config["in_channels"], ch, 3)
    conv("post_quant_conv", config["embed_dim"], z, 1)
    conv("decoder/conv_in", z, top, 3)
    resnet("decoder/mid/block_1", top, top)
    attention("decoder/mid/attn_1", top)
    resnet("decoder/mid/block_2", top, top)
    for i in range(levels):
        c_in, c_out = ch * mult[min(i + 1, levels - 1)], ch * mult[i]
        for j in range(config["num_res_blocks"] + 1):
            resnet(f"decoder/up_{i}/block_{j}", c_in if j == 0 else c_out, c_out)
            if config["resolution"] // 2**i in config["attn_resolutions"]:
                attention(f"decoder/up_{i}/attn_{j}", c_out)
        if i != 0:
            conv(f"decoder/up_{i}/upsample/conv", c_out, c_out, 3)
    norm("decoder/norm_out", ch * mult[0])
    conv("decoder/conv_out", ch * mult[0], config["out_ch"], 3)
    return arrays


def write_tiny_flax_vqgan(
    directory: Path,
    *,
    seed: int = 0,
    dtype: str = "float32",
    chunk_bytes: int = FLAX_CHUNK_BYTES,
    config: dict[str, Any] | None = None,
) -> dict[str, np.ndarray]:
    """Write a tiny `dalle-mini/vqgan_imagenet_f16_16384`-like checkpoint; returns its arrays."""
    directory.mkdir(parents=True, exist_ok=True)
    cfg = {**TINY_VQGAN_CONFIG, **(config or {})}
    arrays = tiny_flax_vqgan_arrays(cfg, seed)
    (directory / "flax_model.msgpack").write_bytes(flax_msgpack(arrays, dtype=dtype, chunk_bytes=chunk_bytes))
    (directory / "config.json").write_text(json.dumps(cfg, indent=2), encoding="utf-8")
    return arrays
