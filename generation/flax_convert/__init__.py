"""Converting the DALL·E Mini authors' own Flax checkpoints into the project's own format.

`convert_flax_checkpoint(bart_dir, vqgan_dir, out_dir)` reads `flax_model.msgpack`, `config.json`,
`vocab.json` and `merges.txt` of a DalleBart checkpoint (the Hub's `dalle-mini/dalle-mini` or
`dalle-mini/dalle-mega`) and `flax_model.msgpack` + `config.json` of the VQGAN
(`dalle-mini/vqgan_imagenet_f16_16384`), and writes `config.json`, `model.safetensors`,
`vocab.json` and `merges.txt` into out_dir, the format `generation.loading.load_own_format` reads.
Neither jax nor flax is needed: the msgpack is read with the `msgpack` package and numpy.
Every failure is a `ConversionError` naming the file (and the parameter).

Modules: `reader` (Flax's msgpack encoding), `layout` (configurations and parameter names),
`convert` (assembly, checks and the atomic write).
"""

from __future__ import annotations

from generation.flax_convert.convert import convert_flax_checkpoint
from generation.flax_convert.reader import ConversionError

__all__ = ["ConversionError", "convert_flax_checkpoint"]
