"""The official checkpoints' configurations and parameter names, mapped onto this engine's modules.

Facts from the authors' sources (borisdayma/dalle-mini `src/dalle_mini/model/{configuration,
modeling}.py`, patil-suraj/vqgan-jax `vqgan_jax/{configuration,modeling_flax}_vqgan.py`):

- DalleBart: `model/{encoder,decoder}/{embed_tokens,embed_positions}/embedding`,
  `…/{layernorm_embedding,final_ln}/{scale,bias}`, top-level `lm_head/kernel`. The layers sit
  under `model/<codec>/layers/` either stacked on a leading axis (`nn.scan`, module
  `FlaxBart<Codec>Layers`) or one module per layer (`FlaxBart<Codec>Layer_<i>` as the authors'
  `unscan` writes it, or a bare `<i>`). Inside a layer, compact modules are numbered in call
  order: `LayerNorm_0` pre-self-attention, `FlaxBartAttention_0`, `LayerNorm_1`; the decoder adds
  `LayerNorm_2`, `FlaxBartAttention_1`, `LayerNorm_3` for cross-attention; then `GLU_0` with
  `LayerNorm_0`, `Dense_0` (gelu branch), `Dense_1` (gate), `LayerNorm_1`, `Dense_2`. LayerNorms
  that feed a dense layer have no `scale` (`force_ln_scale` false): the scale is one.
- VQGAN: `quantize/embedding/embedding` is the codebook; list modules are named `<name>_<i>`
  (`decoder/up_3/block_0/nin_shortcut`); convolution kernels are `[H, W, in, out]`; GroupNorm
  eps is 1e-6 (PyTorch's default, which min-dalle uses, is 1e-5).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from generation.config import BartConfig, VQGANConfig
from generation.flax_convert.reader import ConversionError

# What this engine runs (NormFormer BART with GLU, no biases); every key's default in
# DalleBartConfig is this value, so a config.json that omits it means the same.
BART_VARIANT: dict[str, Any] = {
    "ln_type": "layernorm", "ln_positions": "normformer", "use_glu": True, "use_bias": False,
    "activation_function": "gelu", "scale_embedding": False, "use_head_scale": False,
    "use_cosine_attention": False, "use_absolute_position_embeddings": True,
    "use_swin_position_embeddings": False, "use_deepnet_scaling": False, "use_alibi": False,
    "sinkhorn_iters": 1, "use_final_ln_encoder": True, "use_final_ln_decoder": True,
}  # fmt: skip
# DalleBartConfig's defaults for the sizes (used when config.json omits a key)
BART_SIZES = {
    "encoder_vocab_size": 50264, "image_vocab_size": 16384, "image_length": 256, "max_text_length": 64,
    "encoder_layers": 12, "decoder_layers": 12, "encoder_ffn_dim": 4096, "decoder_ffn_dim": 4096,
    "encoder_attention_heads": 16, "decoder_attention_heads": 16, "d_model": 1024,
}  # fmt: skip
# vqgan-jax VQGANConfig's defaults
VQGAN_SIZES: dict[str, Any] = {
    "ch": 128, "out_ch": 3, "num_res_blocks": 2, "resolution": 256, "z_channels": 256,
    "ch_mult": [1, 1, 2, 2, 4], "attn_resolutions": [16], "n_embed": 1024, "embed_dim": 256,
}  # fmt: skip
FLAX_GROUP_NORM_EPS = 1e-6

# module path segment in this engine -> Flax module name inside one layer
LAYER_PARTS = {
    "pre_self_attn_layer_norm": "LayerNorm_0", "self_attn": "FlaxBartAttention_0",
    "self_attn_layer_norm": "LayerNorm_1", "pre_encoder_attn_layer_norm": "LayerNorm_2",
    "encoder_attn": "FlaxBartAttention_1", "encoder_attn_layer_norm": "LayerNorm_3",
    "glu": "GLU_0", "ln0": "LayerNorm_0", "ln1": "LayerNorm_1",
    "fc0": "Dense_0", "fc1": "Dense_1", "fc2": "Dense_2",
}  # fmt: skip


def _int(data: dict[str, Any], key: str, default: int, path: Path) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConversionError(f"{path}: '{key}' must be a positive integer, got {value!r}")
    return value


def bart_config(data: dict[str, Any], path: Path, codebook_size: int) -> BartConfig:
    """DalleBartConfig (config.json) -> BartConfig; variants this engine does not run are refused."""
    for key, value in BART_VARIANT.items():
        if data.get(key, value) != value:
            raise ConversionError(
                f"{path}: '{key}' is {data[key]!r}; this engine runs only {key}={value!r} "
                "(the published DALL·E Mini and Mega): unknown model variant"
            )
    size = {key: _int(data, key, default, path) for key, default in BART_SIZES.items()}
    for a, b in (
        ("encoder_ffn_dim", "decoder_ffn_dim"),
        ("encoder_attention_heads", "decoder_attention_heads"),
    ):
        if size[a] != size[b]:
            raise ConversionError(f"{path}: '{a}' {size[a]} differs from '{b}' {size[b]}: unsupported")
    heads, d_model = size["encoder_attention_heads"], size["d_model"]
    if d_model % heads:
        raise ConversionError(f"{path}: d_model {d_model} is not divisible by {heads} heads")
    rows = size["image_vocab_size"] + 1  # the authors add one row for the start token
    start = data.get("decoder_start_token_id", size["image_vocab_size"])
    if not isinstance(start, int) or not 0 <= start < rows:
        raise ConversionError(
            f"{path}: 'decoder_start_token_id' {start!r} is outside the decoder's {rows} rows"
        )
    if codebook_size > size["image_vocab_size"]:
        raise ConversionError(
            f"{path}: image_vocab_size {size['image_vocab_size']} is smaller than the VQGAN's "
            f"{codebook_size} codes: wrong VQGAN for this model?"
        )
    return BartConfig(
        text_vocab_size=size["encoder_vocab_size"],
        decoder_vocab_size=rows,
        image_vocab_size=codebook_size,  # padded rows beyond the codebook are never sampled
        d_model=d_model,
        encoder_layers=size["encoder_layers"],
        decoder_layers=size["decoder_layers"],
        heads=heads,
        glu_dim=size["encoder_ffn_dim"],
        text_tokens=size["max_text_length"],
        image_tokens=size["image_length"],
        start_token=start,
    )


def vqgan_config(data: dict[str, Any], path: Path) -> VQGANConfig:
    """vqgan-jax VQGANConfig (config.json) -> VQGANConfig of the decoder half."""
    if data.get("resamp_with_conv", True) is not True or data.get("give_pre_end", False) is not False:
        raise ConversionError(
            f"{path}: resamp_with_conv false or give_pre_end true: unsupported VQGAN variant"
        )
    size = {k: _int(data, k, v, path) for k, v in VQGAN_SIZES.items() if isinstance(v, int)}
    mult, attn = (
        data.get("ch_mult", VQGAN_SIZES["ch_mult"]),
        data.get("attn_resolutions", VQGAN_SIZES["attn_resolutions"]),
    )
    if not (isinstance(mult, list) and mult and all(isinstance(m, int) and m > 0 for m in mult)):
        raise ConversionError(f"{path}: 'ch_mult' must be a list of positive integers, got {mult!r}")
    if not (isinstance(attn, list) and all(isinstance(r, int) for r in attn)):
        raise ConversionError(f"{path}: 'attn_resolutions' must be a list of integers, got {attn!r}")
    if size["z_channels"] != size["embed_dim"]:
        raise ConversionError(
            f"{path}: z_channels {size['z_channels']} != embed_dim {size['embed_dim']}: unsupported variant"
        )
    grid, rest = divmod(size["resolution"], 2 ** (len(mult) - 1))
    if rest or grid < 1:
        raise ConversionError(f"{path}: resolution {size['resolution']} does not halve {len(mult) - 1} times")
    return VQGANConfig(
        codebook_size=size["n_embed"],
        embed_dim=size["embed_dim"],
        channels=tuple(size["ch"] * m for m in mult),
        res_blocks=size["num_res_blocks"] + 1,  # the decoder has one more per level than the encoder
        attn_levels=tuple(i for i in range(len(mult)) if size["resolution"] // 2**i in attn),
        grid=grid,
        out_channels=size["out_ch"],
        group_norm_eps=FLAX_GROUP_NORM_EPS,
    )


# --- parameter names ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """Where one of this engine's tensors comes from in the Flax tree."""

    key: str  # "model/encoder/layers/…/kernel"
    index: int | None  # layer index into a stacked leaf, None when not stacked
    kind: str  # "linear" (kernel [in, out]), "conv" (kernel [H, W, in, out]) or "plain"


@dataclass(frozen=True)
class Layers:
    """How one codec's layers are stored under `<root>/layers/`."""

    stacked: bool
    names: dict[int, str]  # layer index -> module name (unstacked) ; {} when stacked


def find_layers(flat_keys: list[str], root: str, codec: str, path: Path) -> Layers:
    """Tell the scan ("stacked") layout from the per-layer one; anything else is an error."""
    prefix = f"{root}/layers/"
    names = {k[len(prefix) :].split("/", 1)[0] for k in flat_keys if k.startswith(prefix)}
    if not names:
        raise ConversionError(f"{path}: no '{prefix}…' parameters: not a DalleBart checkpoint")
    if names == {f"FlaxBart{codec}Layers"}:
        return Layers(stacked=True, names={})
    for pattern in (rf"FlaxBart{codec}Layer_(\d+)", r"(\d+)"):
        found = {int(m.group(1)): n for n in names if (m := re.fullmatch(pattern, n))}
        if len(found) == len(names):
            return Layers(stacked=False, names=found)
    raise ConversionError(
        f"{path}: unknown layer layout under '{prefix}': {sorted(names)[:6]} (expected "
        f"FlaxBart{codec}Layers stacked, or FlaxBart{codec}Layer_<i> / <i> per layer)"
    )


def _leaf(module: nn.Module, leaf: str) -> tuple[str, str]:
    """(Flax leaf name, kind) of `leaf` of a module of this engine."""
    if leaf == "bias":
        return "bias", "plain"
    if isinstance(module, nn.Linear):
        return "kernel", "linear"
    if isinstance(module, nn.Conv2d):
        return "kernel", "conv"
    if isinstance(module, nn.Embedding):
        return "embedding", "plain"
    if isinstance(module, nn.LayerNorm | nn.GroupNorm):
        return "scale", "plain"
    raise ConversionError(f"no Flax name for {type(module).__name__}.{leaf}")  # a module this file misses


def bart_source(model: nn.Module, name: str, root: str, codec: str, layers: Layers) -> Source:
    """Flax source of `name` in the encoder (codec "Encoder") or decoder ("Decoder")."""
    owner, leaf = name.rsplit(".", 1)
    flax_leaf, kind = _leaf(model.get_submodule(owner), leaf)
    if owner == "lm_head":
        return Source(f"lm_head/{flax_leaf}", None, kind)
    parts = owner.split(".")
    if parts[0] != "layers":
        return Source("/".join([root, *parts, flax_leaf]), None, kind)
    index, inner = int(parts[1]), [LAYER_PARTS.get(p, p) for p in parts[2:]]
    if layers.stacked:
        return Source("/".join([root, "layers", f"FlaxBart{codec}Layers", *inner, flax_leaf]), index, kind)
    layer = layers.names.get(index, f"FlaxBart{codec}Layer_{index}")
    return Source("/".join([root, "layers", layer, *inner, flax_leaf]), None, kind)


def vqgan_source(model: nn.Module, name: str) -> Source:
    """Flax source of `name` in the VQGAN decoder: list indices join their list's name with '_'."""
    owner, leaf = name.rsplit(".", 1)
    flax_leaf, kind = _leaf(model.get_submodule(owner), leaf)
    if owner == "embedding":
        return Source("quantize/embedding/embedding", None, kind)
    segments: list[str] = []
    for part in owner.split("."):
        if part.isdigit() and segments:
            segments[-1] = f"{segments[-1]}_{part}"
        else:
            segments.append(part)
    return Source("/".join([*segments, flax_leaf]), None, kind)
