"""Finding, checking and loading model files into the three components and the tokenizer.

Two on-disk formats:
- min-dalle's `models_root`: `dalle_bart_mini/` or `dalle_bart_mega/` with `encoder.pt`,
  `decoder.pt`, `vocab.json`, `merges.txt`, plus `vqgan/detoker.pt`; the model hub's flat names
  (`encoder_mini.pt`, `decoder_mini.pt`, `vocab_mini.json`, `merges_mini.txt`, `detoker.pt`) are
  accepted too. The configuration is inferred from tensor shapes (heads = d_model / 64).
- the project's own: `config.json` + `model.safetensors` (keys `encoder.*`, `decoder.*`,
  `vqgan.*`) + `vocab.json` + `merges.txt`.

Pickles are read with `torch.load(weights_only=True)` only, so a file carrying code is refused
before anything in it runs. Every tensor is checked by name and shape against the module; the
only tolerated gap is the LayerNorm scales the published files lack (filled with ones).
"""

from __future__ import annotations

import json
import logging
import math
import pickle
import pickletools
import re
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from generation.config import HEAD_DIM, BartConfig, ModelConfig, VQGANConfig
from generation.decoder import ImageDecoder
from generation.embedded import (  # noqa: F401 (the shipped models' names, looked up here too)
    DEFAULT_EMBEDDED,
    DEFAULT_MODEL_DIR,
    EMBEDDED_NAMES,
    EMBEDDED_SHAPES_DIR,
    EMBEDDED_THINGS_DIR,
)
from generation.encoder import TextEncoder
from generation.hub.registry import RegistryError, choice_hint, locate
from generation.tokenizer import Tokenizer, TokenizerError
from generation.vqgan import VQGANDecoder

log = logging.getLogger(__name__)

CONFIG_FILE, WEIGHTS_FILE = "config.json", "model.safetensors"

# LayerNorms that feed a dense layer were trained without a scale; the published files may omit it.
OPTIONAL_LN_WEIGHT = re.compile(
    r"^(layers\.\d+\.(pre_self_attn_layer_norm|pre_encoder_attn_layer_norm|glu\.ln0|glu\.ln1)|final_ln)\.weight$"
)


class ModelLoadError(Exception):
    """A model directory or file cannot be used; the message names the file (and tensor)."""


@dataclass
class Components:
    """Everything a Pipeline is built from."""

    config: ModelConfig
    tokenizer: Tokenizer
    encoder: TextEncoder
    decoder: ImageDecoder
    vqgan: VQGANDecoder


# --- devices and precisions -------------------------------------------------------------------

DTYPES = {
    "fp32": torch.float32, "float32": torch.float32, "float": torch.float32,
    "bf16": torch.bfloat16, "bfloat16": torch.bfloat16,
    "fp16": torch.float16, "float16": torch.float16, "half": torch.float16,
}  # fmt: skip


def resolve_device(device: str | torch.device | None) -> torch.device:
    """None -> cuda when available, else cpu; unknown or unavailable devices are an error."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"unknown device {device!r}: use cpu, cuda or cuda:N") from exc
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"unsupported device {device!r}: use cpu, cuda or cuda:N")
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {device!r} requested but CUDA is not available here; use --device cpu")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(f"device {device!r}: only {torch.cuda.device_count()} CUDA device(s) present")
    return dev


def resolve_dtype(dtype: str | torch.dtype | None, device: torch.device) -> torch.dtype:
    """None -> half precision: bf16 on CPU and on CUDA cards that support it, else fp16."""
    if dtype is None:
        if device.type == "cuda" and not torch.cuda.is_bf16_supported():
            return torch.float16
        return torch.bfloat16
    if isinstance(dtype, torch.dtype):
        if dtype not in DTYPES.values():
            raise ValueError(f"unsupported dtype {dtype}: use fp32, bf16 or fp16")
        return dtype
    if dtype.lower() not in DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}: use fp32, bf16 or fp16")
    return DTYPES[dtype.lower()]


# --- reading tensors ----------------------------------------------------------------------------


def read_torch_file(path: Path) -> dict[str, torch.Tensor]:
    """A flat `torch.save` dict name -> tensor, read with weights_only=True (no code runs)."""
    if not path.is_file():
        raise ModelLoadError(f"missing model file: {path}")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "GLOBAL" not in str(exc) and not _imports_something(path):  # random or damaged bytes
            raise _corrupt(path, exc) from exc
        raise ModelLoadError(
            f"{path}: refused: the file holds pickled objects other than tensors (possibly code); "
            "only plain tensor checkpoints are loaded. Get the file from a trusted source."
        ) from exc
    except Exception as exc:  # random bytes reach the unpickler's internals: IndexError, KeyError, …
        raise _corrupt(path, exc) from exc
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in data.items()
    ):
        raise ModelLoadError(f"{path}: expected a flat dict of tensor name -> tensor")
    return data


def _imports_something(path: Path) -> bool:
    """Whether the file is a well-formed raw pickle that imports or calls something (read with
    pickletools, which runs nothing). Random bytes stop parsing long before a STOP opcode."""
    try:
        with path.open("rb") as file:
            names = {opcode.name for opcode, _, _ in pickletools.genops(file)}
    except Exception:
        return False
    return bool(names & {"GLOBAL", "STACK_GLOBAL", "INST", "OBJ", "REDUCE"})


def _corrupt(path: Path, exc: BaseException) -> ModelLoadError:
    first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
    return ModelLoadError(
        f"{path}: corrupt: truncated, damaged or not a PyTorch checkpoint ({first_line}); "
        "download or copy the file again"
    )


def read_safetensors_file(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise ModelLoadError(f"missing model file: {path}")
    try:
        return load_file(path, device="cpu")
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelLoadError(f"{path}: corrupt: truncated, damaged or not safetensors ({exc})") from exc


def load_into(module: nn.Module, tensors: dict[str, torch.Tensor], source: str, *, tolerate_ln: bool) -> None:
    """Check names and shapes against `module` (built on the meta device) and assign the tensors.

    Missing LayerNorm scales matching OPTIONAL_LN_WEIGHT are filled with ones when tolerate_ln.
    """
    expected = module.state_dict()
    tensors = dict(tensors)
    missing = [n for n in expected if n not in tensors]
    filled = [n for n in missing if tolerate_ln and OPTIONAL_LN_WEIGHT.match(n)]
    for name in filled:
        tensors[name] = torch.ones(expected[name].shape)
    missing = [n for n in missing if n not in filled]
    unexpected = [n for n in tensors if n not in expected]
    if missing:
        raise ModelLoadError(f"{source}: missing tensor(s) {_names(missing)}")
    if unexpected:
        raise ModelLoadError(f"{source}: unexpected tensor(s) {_names(unexpected)}")
    for name, tensor in tensors.items():
        if tensor.shape != expected[name].shape:
            raise ModelLoadError(
                f"{source}: tensor '{name}' has shape {list(tensor.shape)}, "
                f"expected {list(expected[name].shape)}"
            )
    if filled:
        log.debug("%s: filled %d LayerNorm scale(s) with ones", source, len(filled))
    module.load_state_dict(tensors, strict=True, assign=True)


def _names(names: list[str]) -> str:
    shown = ", ".join(f"'{n}'" for n in names[:5])
    return shown + (f" and {len(names) - 5} more" if len(names) > 5 else "")


# --- configuration from shapes ------------------------------------------------------------------


def _layer_count(tensors: dict[str, torch.Tensor]) -> int:
    indices = {int(m.group(1)) for n in tensors if (m := re.match(r"layers\.(\d+)\.", n))}
    return max(indices) + 1 if indices else 0


def _shape(tensors: dict[str, torch.Tensor], name: str, source: str) -> tuple[int, ...]:
    if name not in tensors:
        raise ModelLoadError(f"{source}: missing tensor '{name}'")
    return tuple(tensors[name].shape)


def infer_config(
    encoder: dict[str, torch.Tensor],
    decoder: dict[str, torch.Tensor],
    detoker: dict[str, torch.Tensor],
    sources: tuple[str, str, str],
) -> ModelConfig:
    """Sizes of a min-dalle checkpoint from its tensor shapes (heads = d_model / 64)."""
    enc_src, dec_src, vq_src = sources
    text_vocab, d_model = _shape(encoder, "embed_tokens.weight", enc_src)
    text_tokens = _shape(encoder, "embed_positions.weight", enc_src)[0]
    glu_dim = _shape(encoder, "layers.0.glu.fc0.weight", enc_src)[0]
    dec_vocab, dec_d = _shape(decoder, "embed_tokens.weight", dec_src)
    image_tokens = _shape(decoder, "embed_positions.weight", dec_src)[0]
    if dec_d != d_model:
        raise ModelLoadError(f"{dec_src}: d_model {dec_d} does not match the encoder's {d_model}")
    codebook, embed_dim = _shape(detoker, "embedding.weight", vq_src)
    up = [int(m.group(1)) for n in detoker if (m := re.match(r"decoder\.up\.(\d+)\.", n))]
    levels = 1 + max(up, default=0)
    channels = tuple(
        _shape(detoker, f"decoder.up.{i}.block.0.conv1.weight", vq_src)[0] for i in range(levels)
    )
    res_blocks = len({n.split(".")[4] for n in detoker if n.startswith("decoder.up.0.block.")})
    attn_levels = tuple(i for i in range(levels) if f"decoder.up.{i}.attn.0.q.weight" in detoker)
    grid = math.isqrt(image_tokens)
    if grid * grid != image_tokens:
        raise ModelLoadError(f"{dec_src}: {image_tokens} image positions is not a square grid")
    bart = BartConfig(
        text_vocab_size=text_vocab,
        decoder_vocab_size=dec_vocab,
        image_vocab_size=codebook,
        d_model=d_model,
        encoder_layers=_layer_count(encoder),
        decoder_layers=_layer_count(decoder),
        heads=max(1, d_model // HEAD_DIM),
        glu_dim=glu_dim,
        text_tokens=text_tokens,
        image_tokens=image_tokens,
        start_token=codebook,
    )
    vqgan = VQGANConfig(
        codebook_size=codebook,
        embed_dim=embed_dim,
        channels=channels,
        res_blocks=res_blocks,
        attn_levels=attn_levels,
        grid=grid,
        out_channels=_shape(detoker, "decoder.conv_out.weight", vq_src)[0],
    )
    name = "dalle-mega" if d_model == 2048 else "dalle-mini" if d_model == 1024 else "min-dalle-format"
    return ModelConfig(bart=bart, vqgan=vqgan, name=name)


# --- directory layouts --------------------------------------------------------------------------

MEGA_NAMES = ("encoder.pt", "decoder.pt", "vocab.json", "merges.txt")
MINI_NAMES = ("encoder_mini.pt", "decoder_mini.pt", "vocab_mini.json", "merges_mini.txt")


def find_min_dalle_files(root: Path) -> dict[str, Path]:
    """Paths of encoder, decoder, vocab, merges and detoker under a min-dalle models_root (or
    one of its `dalle_bart_*` folders, or a flat folder with the hub's names)."""
    subdirs = [root / d for d in ("dalle_bart_mega", "dalle_bart_mini") if (root / d).is_dir()]
    if len(subdirs) == 2:
        raise ModelLoadError(
            f"{root} holds both dalle_bart_mega/ and dalle_bart_mini/: pass {subdirs[0]} or {subdirs[1]}"
        )
    bart_dir = subdirs[0] if subdirs else root
    sets = [names for names in (MEGA_NAMES, MINI_NAMES) if (bart_dir / names[0]).is_file()]
    if len(sets) == 2:
        raise ModelLoadError(
            f"{bart_dir} holds both DALL·E Mega files (encoder.pt, …) and Mini files (encoder_mini.pt, …): "
            "put one set in a folder of its own"
        )
    names = sets[0] if sets else MEGA_NAMES
    files = dict(zip(("encoder", "decoder", "vocab", "merges"), (bart_dir / n for n in names), strict=True))
    detokers = [bart_dir / "detoker.pt", bart_dir / "vqgan" / "detoker.pt"]
    detokers.append(bart_dir.parent / "vqgan" / "detoker.pt")
    files["detoker"] = next((p for p in detokers if p.is_file()), root / "vqgan" / "detoker.pt")
    for kind, path in files.items():
        if not path.is_file():
            raise ModelLoadError(
                f"missing model file: {path} ({kind}). Expected a min-dalle models_root "
                "(dalle_bart_mini/ or dalle_bart_mega/ + vqgan/detoker.pt) or the project's format "
                f"({CONFIG_FILE} + {WEIGHTS_FILE} + vocab.json + merges.txt)"
            )
    return files


def _build(config: ModelConfig) -> tuple[TextEncoder, ImageDecoder, VQGANDecoder]:
    with torch.device("meta"):  # no random init: every parameter is assigned from the file
        return TextEncoder(config.bart), ImageDecoder(config.bart), VQGANDecoder(config.vqgan)


def load_tokenizer(vocab: Path, merges: Path, config: BartConfig) -> Tokenizer:
    """The BPE tokenizer from its two files, checked against the model's vocabulary size."""
    try:
        tokenizer = Tokenizer.from_files(vocab, merges, max_tokens=config.text_tokens)
    except TokenizerError as exc:
        raise ModelLoadError(str(exc)) from exc
    top = max(i for piece, i in tokenizer.vocab.items() if piece != "<mask>")
    if top >= config.text_vocab_size or len(tokenizer) < config.text_vocab_size // 2:
        raise ModelLoadError(
            f"{vocab}: {len(tokenizer)} tokens (largest id {top}) do not fit the encoder's "
            f"{config.text_vocab_size} embedding rows: wrong tokenizer files for this model?"
        )
    return tokenizer


def load_min_dalle(root: Path) -> Components:
    """Load a min-dalle models_root (see module docstring); components on CPU, file dtypes."""
    files = find_min_dalle_files(root)
    enc, dec, vq = (read_torch_file(files[k]) for k in ("encoder", "decoder", "detoker"))
    config = infer_config(enc, dec, vq, (str(files["encoder"]), str(files["decoder"]), str(files["detoker"])))
    tokenizer = load_tokenizer(files["vocab"], files["merges"], config.bart)
    encoder, decoder, vqgan = _build(config)
    load_into(encoder, enc, str(files["encoder"]), tolerate_ln=True)
    load_into(decoder, dec, str(files["decoder"]), tolerate_ln=True)
    load_into(vqgan, vq, str(files["detoker"]), tolerate_ln=False)
    return Components(config, tokenizer, encoder, decoder, vqgan)


def load_own_format(directory: Path) -> Components:
    """Load config.json + model.safetensors + vocab.json + merges.txt."""
    config_path, weights_path = directory / CONFIG_FILE, directory / WEIGHTS_FILE
    try:
        config = ModelConfig.from_dict(json.loads(config_path.read_text(encoding="utf-8")))
    except (json.JSONDecodeError, ValueError, TypeError) as exc:
        raise ModelLoadError(f"{config_path}: {exc}") from exc
    tokenizer = load_tokenizer(directory / "vocab.json", directory / "merges.txt", config.bart)
    tensors = read_safetensors_file(weights_path)
    encoder, decoder, vqgan = _build(config)
    for prefix, module in (("encoder.", encoder), ("decoder.", decoder), ("vqgan.", vqgan)):
        part = {n[len(prefix) :]: t for n, t in tensors.items() if n.startswith(prefix)}
        load_into(module, part, f"{weights_path} [{prefix}*]", tolerate_ln=False)
    stray = [n for n in tensors if not n.startswith(("encoder.", "decoder.", "vqgan."))]
    if stray:
        raise ModelLoadError(f"{weights_path}: unexpected tensor(s) {_names(stray)}")
    return Components(config, tokenizer, encoder, decoder, vqgan)


def model_directory(path: str | Path | None) -> Path:
    """The directory a model setting names: a downloaded model's name (`mini`, `owner/name`), an
    embedded one's (`things`, `shapes`) or a directory (None = the default embedded model,
    DEFAULT_EMBEDDED); an error if it is missing."""
    if path is None:
        if not (DEFAULT_MODEL_DIR / CONFIG_FILE).is_file():
            raise ModelLoadError(
                f"the embedded model is not available: {DEFAULT_MODEL_DIR} has no {CONFIG_FILE} yet. "
                "Pass a model directory (a min-dalle models_root or the project's format) instead"
            )
        path = DEFAULT_MODEL_DIR
    if isinstance(path, str) and path in EMBEDDED_NAMES:
        path = EMBEDDED_NAMES[path]
    try:  # a str may name a downloaded model (`mini`, `owner/name`); a Path is a directory
        directory = locate(path) if isinstance(path, str) else Path(path)
    except RegistryError as exc:
        raise ModelLoadError(f"{exc}{choice_hint(path, EMBEDDED_NAMES)}") from exc
    if not directory.is_dir():
        raise ModelLoadError(f"model directory not found: {directory}{choice_hint(path, EMBEDDED_NAMES)}")
    return directory


def load_components(path: str | Path | None) -> Components:
    """Load a downloaded or embedded model by name or a model directory in either format; None = the
    default embedded model."""
    directory = model_directory(path)
    # told apart by the weights present: min-dalle's hub folder has a placeholder config.json too
    if (directory / WEIGHTS_FILE).is_file() or (
        (directory / CONFIG_FILE).is_file() and not any(directory.glob("encoder*.pt"))
    ):
        return load_own_format(directory)
    return load_min_dalle(directory)


def save_components(components: Components, directory: str | Path) -> None:
    """Write the project's own format (config.json, model.safetensors, vocab.json, merges.txt)."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    tensors = {}
    for prefix, module in (("encoder.", components.encoder), ("decoder.", components.decoder),
                           ("vqgan.", components.vqgan)):  # fmt: skip
        tensors.update({prefix + n: t.detach().cpu().contiguous() for n, t in module.state_dict().items()})
    save_file(tensors, out / WEIGHTS_FILE)
    (out / CONFIG_FILE).write_text(json.dumps(components.config.to_dict(), indent=2) + "\n", encoding="utf-8")
    components.tokenizer.save(out)
