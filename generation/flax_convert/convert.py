"""The official Flax checkpoints -> the project's own format, checked tensor by tensor, written atomically.

Storage dtypes: the text encoder and image-token decoder in float16 (half the disk and RAM of the
float32 original; more mantissa than bfloat16, and the pipeline casts to its run dtype on load;
min-dalle publishes the same weights in float16), the VQGAN in float32 (it is 46.7 M parameters,
about 6 % of Mini, and min-dalle publishes it in float32 too). Any array whose values float16
cannot hold stays float32.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file
from torch import nn

from generation.config import BartConfig, ModelConfig
from generation.decoder import ImageDecoder
from generation.encoder import TextEncoder
from generation.flax_convert.layout import (
    Layers,
    Source,
    bart_config,
    bart_source,
    find_layers,
    vqgan_config,
    vqgan_source,
)
from generation.flax_convert.reader import ConversionError, FlaxLeaves, cast, read_flax_msgpack
from generation.loading import CONFIG_FILE, OPTIONAL_LN_WEIGHT, WEIGHTS_FILE, ModelLoadError, load_tokenizer
from generation.vqgan import VQGANDecoder

log = logging.getLogger(__name__)

MSGPACK = "flax_model.msgpack"
TOKENIZER_FILES = ("vocab.json", "merges.txt")
BART_DTYPE, VQGAN_DTYPE = torch.float16, torch.float32
VQGAN_UNUSED = ("encoder/", "quant_conv/")  # the VQGAN's encoder half: not needed to draw
PARTIAL = ".partial-"  # temp sibling: .<out name>.partial-<pid>-<random>


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConversionError(f"missing file: {path}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConversionError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise ConversionError(f"{path}: expected a JSON object")
    return data


def _expected_flax_shape(shape: torch.Size, source: Source, layer_count: int) -> list[int]:
    dims = list(shape)
    if source.kind == "linear":
        dims = dims[::-1]  # torch [out, in] <- Flax [in, out]
    elif source.kind == "conv":
        dims = [dims[2], dims[3], dims[1], dims[0]]  # torch [out, in, H, W] <- Flax [H, W, in, out]
    return [layer_count, *dims] if source.index is not None else dims


def _stacked(key: str) -> bool:
    return "/layers/FlaxBartEncoderLayers/" in key or "/layers/FlaxBartDecoderLayers/" in key


def _prepare_bart(key: str, raw: torch.Tensor) -> dict[str, torch.Tensor]:
    """One Flax leaf -> its tensors in this engine's layout: Dense kernels [in, out] -> [out, in],
    stacked leaves split per layer (`key@i`); one copy each, cast to float16."""
    parts = dict(enumerate(raw.unbind(0))) if _stacked(key) and raw.dim() else {None: raw}
    out = {}
    for index, tensor in parts.items():
        if key.endswith("/kernel") and tensor.dim() == 2:
            tensor = tensor.T
        out[key if index is None else f"{key}@{index}"] = cast(tensor, BART_DTYPE)
    return out


def _prepare_vqgan(key: str, raw: torch.Tensor) -> dict[str, torch.Tensor]:
    """Conv kernels [H, W, in, out] -> [out, in, H, W], cast to float32; the encoder half is dropped."""
    if key.startswith(VQGAN_UNUSED):
        return {}
    if key.endswith("/kernel") and raw.dim() == 4:
        raw = raw.permute(3, 2, 0, 1)
    return {key: cast(raw, VQGAN_DTYPE)}


def _gather(
    module: nn.Module,
    prefix: str,
    sources: Callable[[str], Source],
    leaves: FlaxLeaves,
    path: Path,
    layer_count: int,
    store: torch.dtype,
) -> tuple[dict[str, torch.Tensor], set[str]]:
    """This module's tensors (`prefix` + state-dict name), checked against the shapes in the file.

    The prepared tensors are moved out of `leaves` (no copy). Returns them and the keys used.
    """
    out: dict[str, torch.Tensor] = {}
    used: set[str] = set()
    for name, expected in module.state_dict().items():
        source = sources(name)
        if source.key not in leaves.shapes:
            if OPTIONAL_LN_WEIGHT.match(name):  # trained without a scale: the scale is one
                out[prefix + name] = torch.ones(expected.shape, dtype=store)
                continue
            raise ConversionError(f"{path}: missing tensor '{source.key}' (for {prefix}{name})")
        have, dtype = leaves.shapes[source.key], leaves.dtypes[source.key]
        want = _expected_flax_shape(expected.shape, source, layer_count)
        if have != want or not dtype.is_floating_point:
            raise ConversionError(
                f"{path}: tensor '{source.key}' is {dtype} {have}, expected a float tensor of shape "
                f"{want} (for {prefix}{name}): wrong config.json or corrupt checkpoint"
            )
        key = source.key if source.index is None else f"{source.key}@{source.index}"
        out[prefix + name] = leaves.tensors.pop(key)
        used.add(source.key)
    return out, used


def _bart_tensors(path: Path, config: BartConfig) -> dict[str, torch.Tensor]:
    leaves = read_flax_msgpack(path, BART_DTYPE, _prepare_bart)
    with torch.device("meta"):
        encoder, decoder = TextEncoder(config), ImageDecoder(config)
    tensors: dict[str, torch.Tensor] = {}
    used: set[str] = set()
    parts = (
        ("encoder.", encoder, "Encoder", config.encoder_layers),
        ("decoder.", decoder, "Decoder", config.decoder_layers),
    )
    for prefix, module, codec, count in parts:
        root = f"model/{prefix[:-1]}"
        layers = find_layers(list(leaves.shapes), root, codec, path)
        _check_layer_count(layers, count, root, path)

        def source(name: str, module: nn.Module = module, root: str = root, codec: str = codec,
                   layers: Layers = layers) -> Source:  # fmt: skip
            return bart_source(module, name, root, codec, layers)

        gathered, keys = _gather(module, prefix, source, leaves, path, count, BART_DTYPE)
        tensors.update(gathered)
        used |= keys
    extra = sorted(set(leaves.shapes) - used)
    if extra:
        raise ConversionError(
            f"{path}: unexpected parameter(s) {extra[:5]}: a model variant the converter does not know"
        )
    return tensors


def _check_layer_count(layers: Layers, count: int, root: str, path: Path) -> None:
    if not layers.stacked and sorted(layers.names) != list(range(count)):
        raise ConversionError(
            f"{path}: '{root}/layers' holds layers {sorted(layers.names)}, config.json says {count}"
        )


def _vqgan_tensors(path: Path, model: VQGANDecoder) -> dict[str, torch.Tensor]:
    leaves = read_flax_msgpack(path, VQGAN_DTYPE, _prepare_vqgan)
    tensors, used = _gather(model, "vqgan.", lambda n: vqgan_source(model, n), leaves, path, 0, VQGAN_DTYPE)
    extra = sorted(k for k in set(leaves.shapes) - used if not k.startswith(VQGAN_UNUSED))
    if extra:
        raise ConversionError(f"{path}: unexpected parameter(s) {extra[:5]}: an unknown VQGAN variant")
    return tensors


def _model_name(config: BartConfig) -> str:
    return {1024: "dalle-mini", 2048: "dalle-mega"}.get(config.d_model, "dalle-flax")


def convert_flax_checkpoint(
    bart_dir: Path, vqgan_dir: Path, out_dir: Path, *, name: str | None = None
) -> None:
    """Convert the authors' DalleBart + VQGAN Flax checkpoints into the project's format in out_dir."""
    bart_dir, vqgan_dir, out_dir = Path(bart_dir), Path(vqgan_dir), Path(out_dir)
    # 1. configurations and tokenizer, checked before gigabytes are read
    vq_config = vqgan_config(_read_json(vqgan_dir / CONFIG_FILE), vqgan_dir / CONFIG_FILE)
    bart = bart_config(_read_json(bart_dir / CONFIG_FILE), bart_dir / CONFIG_FILE, vq_config.codebook_size)
    config = ModelConfig(bart=bart, vqgan=vq_config, name=name or _model_name(bart))
    try:
        load_tokenizer(bart_dir / "vocab.json", bart_dir / "merges.txt", bart)
    except ModelLoadError as exc:
        raise ConversionError(str(exc)) from exc
    # 2. tensors, renamed, transposed and shape-checked against this engine's modules
    tensors = _bart_tensors(bart_dir / MSGPACK, bart)
    with torch.device("meta"):
        vqgan = VQGANDecoder(vq_config)
    tensors.update(_vqgan_tensors(vqgan_dir / MSGPACK, vqgan))
    # 3. written next to out_dir, then renamed into place
    write_atomically(out_dir, config, tensors, [bart_dir / n for n in TOKENIZER_FILES])
    log.info("converted %s + %s into %s (%d tensors)", bart_dir, vqgan_dir, out_dir, len(tensors))


# --- atomic output --------------------------------------------------------------------------------


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_stale_partials(out_dir: Path) -> None:
    """Temp dirs of conversions whose process is gone (killed mid-write) are deleted."""
    for stale in out_dir.parent.glob(f".{out_dir.name}{PARTIAL}*"):
        pid = stale.name.removeprefix(f".{out_dir.name}{PARTIAL}").split("-", 1)[0]
        try:
            os.kill(int(pid), 0)
        except (ValueError, ProcessLookupError):
            if stale.name.endswith("-old") and not out_dir.exists():  # killed between the two renames
                log.info("restoring %s from %s", out_dir, stale)
                os.replace(stale, out_dir)
                continue
            log.info("removing %s, left by an interrupted conversion", stale)
            shutil.rmtree(stale, ignore_errors=True)
        except PermissionError:
            pass  # that process is alive (another user's)


def write_atomically(
    out_dir: Path, config: ModelConfig, tensors: dict[str, torch.Tensor], files: list[Path]
) -> None:
    """Write config.json, model.safetensors and `files` into a temp sibling, fsync, rename to out_dir.

    An existing out_dir is replaced only once the new one is complete; an interrupted write leaves
    out_dir as it was (or, killed between the two renames, absent) and never half-written.
    """
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_partials(out_dir)
    tmp = out_dir.parent / f".{out_dir.name}{PARTIAL}{os.getpid()}-{secrets.token_hex(4)}"
    tmp.mkdir()  # permissions from the umask, like any directory the user makes (mkdtemp's are 0700)
    old = out_dir.parent / f".{out_dir.name}{PARTIAL}{os.getpid()}-old"
    try:
        save_file(tensors, tmp / WEIGHTS_FILE, metadata={"format": "pt", "converted_from": "flax"})
        (tmp / CONFIG_FILE).write_text(json.dumps(config.to_dict(), indent=2) + "\n", encoding="utf-8")
        for file in files:
            shutil.copyfile(file, tmp / file.name)
        # safetensors writes its file 0600; give it the umask's mode like the others
        os.chmod(tmp / WEIGHTS_FILE, (tmp / CONFIG_FILE).stat().st_mode & 0o777)
        for file in tmp.iterdir():
            _fsync(file)
        _fsync(tmp)
        if out_dir.exists():
            os.replace(out_dir, old)
        os.replace(tmp, out_dir)
        _fsync(out_dir.parent)
    except BaseException:
        if old.exists() and not out_dir.exists():
            os.replace(old, out_dir)  # put the previous conversion back
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)
