"""Reading Flax's `flax_model.msgpack` with the `msgpack` package and numpy (no jax, no flax).

Flax writes a msgpack map of nested maps. Array leaves are msgpack ext type 1 whose payload is a
msgpack list `(shape, dtype name, raw C-order bytes)`; ext 3 is a numpy scalar in the same
encoding, ext 2 a complex number. An array over 2**30 bytes is a map
`{"__msgpack_chunked_array__": True, "shape": {"0": d0, …}, "chunks": {"0": flat0, …}}`.

The file is read through a streaming `msgpack.Unpacker`, and every floating-point leaf is turned
into a torch tensor of the storage dtype as soon as it is read, so the float32 original of the
whole model is never held at once: peak memory is about the converted size plus one leaf.
"""

from __future__ import annotations

import logging
import struct
from pathlib import Path

import msgpack
import numpy as np
import torch

log = logging.getLogger(__name__)

EXT_NDARRAY, EXT_COMPLEX, EXT_NPSCALAR = 1, 2, 3
CHUNKED = "__msgpack_chunked_array__"
FP16_MAX = 65504.0
MAX_OBJECT_BYTES = 2**31  # Flax's own bound for one msgpack object (it chunks arrays above 2**30)
READ_SIZE = 8 * 2**20
# bin 8/16/32 header byte -> width of its length field
BIN_LENGTH_BYTES = {0xC4: 1, 0xC5: 2, 0xC6: 4}


class ConversionError(Exception):
    """An official checkpoint cannot be converted; the message names the file (and key)."""


def _dtype(name: str, path: Path) -> np.dtype:
    if name == "bfloat16":
        return np.dtype("<u2")  # numpy has no bfloat16: read the bits, widen them below
    try:
        dtype = np.dtype(name)
    except TypeError as exc:
        raise ConversionError(f"{path}: array of unknown dtype {name!r}") from exc
    if dtype.kind not in "fiub":
        raise ConversionError(f"{path}: array of unsupported dtype {name!r}")
    return dtype.newbyteorder("<")  # Flax writes the host's order; every host it runs on is little-endian


def _decode_array(payload: bytes, path: Path) -> tuple[np.ndarray, bool]:
    """An ext payload -> (read-only array viewing `payload`, is-bfloat16) without copying the data."""
    header = msgpack.Unpacker(raw=False, max_buffer_size=4096)
    header.feed(payload[:4096])  # shape, dtype name and the bin header are far shorter than this
    try:
        if header.read_array_header() != 3:
            raise ValueError("not a (shape, dtype, data) triple")
        shape, name = header.unpack(), header.unpack()
        at = header.tell()
        width = BIN_LENGTH_BYTES[payload[at]]
    except (ValueError, KeyError, IndexError, msgpack.UnpackException) as exc:
        raise ConversionError(f"{path}: malformed array record ({exc})") from exc
    if not (isinstance(shape, list) and all(isinstance(d, int) and d >= 0 for d in shape)):
        raise ConversionError(f"{path}: malformed array shape {shape!r}")
    dtype = _dtype(str(name), path)
    length = int.from_bytes(payload[at + 1 : at + 1 + width], "big")
    start = at + 1 + width
    count = int(np.prod(shape, dtype=np.int64))
    if length != count * dtype.itemsize or start + length != len(payload):
        raise ConversionError(
            f"{path}: array record of shape {shape} {name} holds {length} bytes, "
            f"expected {count * dtype.itemsize}: corrupt file"
        )
    array = np.frombuffer(payload, dtype=dtype, count=count, offset=start).reshape(shape)
    return array, name == "bfloat16"


def _to_tensor(array: np.ndarray, bfloat16: bool, store: torch.dtype) -> torch.Tensor:
    """A fresh writable tensor: floats in `store` (float32 kept for values fp16 cannot hold)."""
    if bfloat16:
        array = (array.astype(np.uint32) << 16).view(np.float32)
    if array.dtype.kind != "f":
        return torch.from_numpy(array.copy())
    if store == torch.float16 and array.size and float(np.nanmax(np.abs(array))) > FP16_MAX:
        log.warning("an array of shape %s exceeds float16's range: kept in float32", list(array.shape))
        store = torch.float32
    target = {torch.float16: np.float16, torch.float32: np.float32}[store]
    return torch.from_numpy(np.array(array, dtype=target))  # the copy that lets `payload` go


def read_flax_msgpack(path: Path, store: torch.dtype) -> dict[str, torch.Tensor]:
    """`flax_model.msgpack` -> flat {"a/b/c": tensor}; floating leaves stored as `store`."""
    if not path.is_file():
        raise ConversionError(f"missing checkpoint file: {path}")
    with path.open("rb") as f:
        head = f.read(64)
        if head.startswith(b"version https://git-lfs"):
            raise ConversionError(
                f"{path} is a Git LFS pointer, not the weights: download the file itself (git lfs pull)"
            )
        f.seek(0)

        def ext_hook(code: int, payload: bytes) -> object:
            if code == EXT_COMPLEX:
                return complex(*msgpack.unpackb(payload))
            if code not in (EXT_NDARRAY, EXT_NPSCALAR):
                raise ConversionError(f"{path}: unknown msgpack ext type {code}: not a Flax checkpoint")
            return _to_tensor(*_decode_array(payload, path), store)

        unpacker = msgpack.Unpacker(
            f, read_size=READ_SIZE, max_buffer_size=MAX_OBJECT_BYTES, raw=False, ext_hook=ext_hook
        )
        try:
            tree = unpacker.unpack()
        except msgpack.OutOfData as exc:
            raise ConversionError(
                f"{path}: truncated (the file ends inside the data): download it again"
            ) from exc
        except (msgpack.UnpackException, ValueError, UnicodeDecodeError, TypeError, struct.error) as exc:
            raise ConversionError(f"{path}: not a Flax msgpack checkpoint ({exc})") from exc
        if not isinstance(tree, dict):
            raise ConversionError(
                f"{path}: not a Flax checkpoint (top level is {type(tree).__name__}, not a map)"
            )
        if unpacker.tell() != path.stat().st_size:
            raise ConversionError(f"{path}: unexpected data after the checkpoint: corrupt file")
    flat: dict[str, torch.Tensor] = {}
    _flatten(tree, "", flat, path)
    return flat


def _flatten(node: dict, prefix: str, out: dict[str, torch.Tensor], path: Path) -> None:
    if CHUNKED in node:
        out[prefix.rstrip("/")] = _unchunk(node, prefix.rstrip("/"), path)
        return
    for key, value in node.items():
        if isinstance(value, dict):
            _flatten(value, f"{prefix}{key}/", out, path)
        elif isinstance(value, torch.Tensor):
            out[f"{prefix}{key}"] = value
        else:  # scalars (e.g. a step counter) are not weights
            log.debug("%s: skipping non-array leaf %s%s", path, prefix, key)


def _unchunk(node: dict, key: str, path: Path) -> torch.Tensor:
    """Flax's chunked form -> one tensor of the recorded shape."""
    try:
        shape = [int(node["shape"][str(i)]) for i in range(len(node["shape"]))]
        chunks = [node["chunks"][str(i)] for i in range(len(node["chunks"]))]
    except (KeyError, TypeError, ValueError) as exc:
        raise ConversionError(f"{path}: malformed chunked array '{key}' ({exc})") from exc
    if not chunks or not all(isinstance(c, torch.Tensor) and c.dim() == 1 for c in chunks):
        raise ConversionError(f"{path}: chunked array '{key}' has missing or non-flat chunks")
    dtype = torch.float32 if any(c.dtype == torch.float32 for c in chunks) else chunks[0].dtype
    flat = torch.cat([c.to(dtype) for c in chunks])
    if flat.numel() != int(np.prod(shape, dtype=np.int64)):
        raise ConversionError(
            f"{path}: chunked array '{key}' holds {flat.numel()} values, its shape {shape} needs "
            f"{int(np.prod(shape, dtype=np.int64))}: truncated or corrupt"
        )
    return flat.reshape(shape)
