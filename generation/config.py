"""Configurations for the three separately loaded components of a DALL·E-style model.

The defaults are DALL·E Mini's; DALL·E Mega and the project's own embedded model are other
values of the same dataclasses. Nothing here imports torch.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

HEAD_DIM = 64  # both published models use 64-wide heads: heads = d_model / 64


# The engine's precision names (`--dtype`, `generation.Pipeline(dtype=...)`); what each means on a
# device is `generation.precision.resolve_precision`'s. Here so the CLI can list them without torch.
PRECISIONS = ("fp32", "bf16", "fp16", "int8", "int8-dynamic")

@dataclass(frozen=True)
class BartConfig:
    """Text encoder + image-token decoder (NormFormer-style BART, no biases but in LayerNorms)."""

    text_vocab_size: int = 50264  # encoder embedding rows
    decoder_vocab_size: int = 16385  # decoder embedding / lm_head rows (codebook + start token, padded)
    image_vocab_size: int = 16384  # ids that may be sampled: 0 .. image_vocab_size - 1
    d_model: int = 1024
    encoder_layers: int = 12
    decoder_layers: int = 12
    heads: int = 16
    glu_dim: int = 2730
    text_tokens: int = 64  # encoder positions
    image_tokens: int = 256  # decoder positions = tokens written per image
    start_token: int = 16384  # decoder_start_token_id (min-dalle 0.4.11 uses 16383)
    bos_token: int = 0
    pad_token: int = 1
    eos_token: int = 2
    layer_norm_eps: float = 1e-5

    @property
    def head_dim(self) -> int:
        return self.d_model // self.heads


@dataclass(frozen=True)
class VQGANConfig:
    """VQGAN decoder ("detokenizer"): codes -> pixels.

    `channels[i]` is the width of up-level i; the decoder runs from the last level (widest, at the
    token grid's resolution) down to level 0, upsampling x2 at the end of every level but 0.
    """

    codebook_size: int = 16384
    embed_dim: int = 256  # codebook vector width (= post_quant_conv width)
    channels: tuple[int, ...] = (128, 128, 256, 256, 512)
    res_blocks: int = 3  # ResBlocks per up-level
    attn_levels: tuple[int, ...] = (4,)  # levels whose ResBlocks are each followed by attention
    grid: int = 16  # token grid side: grid * grid tokens per image
    out_channels: int = 3
    norm_groups: int = 32
    group_norm_eps: float = 1e-5  # min-dalle uses PyTorch's default; the Flax original 1e-6
    # "patches": no network; each token's embedding is its patch's premultiplied RGBA, composited
    # over the image's commonest background token (ids below `background_tokens`, opaque colours)
    kind: str = "vqgan"
    background_tokens: int = 0

    def __post_init__(self) -> None:
        if self.kind not in ("vqgan", "patches"):
            raise ValueError(f"vqgan.kind must be vqgan or patches, not {self.kind!r}")

    @property
    def patch_side(self) -> int:
        """Pixels per token side for kind "patches" (embed_dim = side * side * 4)."""
        return round((self.embed_dim // 4) ** 0.5)

    @property
    def image_size(self) -> int:
        if self.kind == "patches":
            return self.grid * self.patch_side
        return self.grid * 2 ** (len(self.channels) - 1)


@dataclass(frozen=True)
class SamplingConfig:
    """A model's own default sampling settings (DALL·E Mini's write-ups: top-k 50, T 0.7, s 10)."""

    top_k: int = 50
    temperature: float = 0.7
    cond_scale: float = 10.0
    # for the images of a grid (several of one prompt), where variety matters; None: `temperature`
    grid_temperature: float | None = None

    def for_images(self, images: int) -> SamplingConfig:
        """The defaults for `images` pictures of one prompt: a grid samples at `grid_temperature`."""
        if images > 1 and self.grid_temperature is not None:
            return dataclasses.replace(self, temperature=self.grid_temperature)
        return self

    def options(self, images: int = 1) -> dict[str, Any]:
        """top_k / temperature / cond_scale for `images` pictures of a prompt, as pipeline keywords."""
        chosen = self.for_images(images)
        return {"top_k": chosen.top_k, "temperature": chosen.temperature, "cond_scale": chosen.cond_scale}

    def resolve(
        self, top_k: int | None, temperature: float | None, cond_scale: float | None
    ) -> tuple[int, float, float]:
        """The caller's values, with None meaning this model's default."""
        return (
            self.top_k if top_k is None else top_k,
            self.temperature if temperature is None else temperature,
            self.cond_scale if cond_scale is None else cond_scale,
        )


@dataclass(frozen=True)
class ModelConfig:
    """Everything `config.json` of the project's own model format holds."""

    bart: BartConfig = field(default_factory=BartConfig)
    vqgan: VQGANConfig = field(default_factory=VQGANConfig)
    name: str = "dalle-mini"
    sampling: SamplingConfig = field(default_factory=SamplingConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        """Build from a parsed config.json; unknown keys are an error naming the key."""
        bart = _build(BartConfig, data.get("bart", {}), "bart")
        vq = dict(data.get("vqgan", {}))
        for key in ("channels", "attn_levels"):
            if key in vq:
                vq[key] = tuple(vq[key])
        vqgan = _build(VQGANConfig, vq, "vqgan")
        sampling = _build(SamplingConfig, data.get("sampling", {}), "sampling")
        extra = set(data) - {"bart", "vqgan", "name", "sampling"}
        if extra:
            raise ValueError(f"config.json: unknown key(s) {sorted(extra)}")
        return cls(bart=bart, vqgan=vqgan, name=str(data.get("name", "model")), sampling=sampling)


MINI = BartConfig()
MEGA = BartConfig(
    text_vocab_size=50272,
    decoder_vocab_size=16416,
    d_model=2048,
    encoder_layers=24,
    decoder_layers=24,
    heads=32,
    glu_dim=4096,
)


def _build(kind: type, values: dict[str, Any], section: str) -> Any:
    names = {f.name for f in dataclasses.fields(kind)}
    unknown = set(values) - names
    if unknown:
        raise ValueError(f"config.json: unknown key(s) in '{section}': {sorted(unknown)}")
    return kind(**values)
