"""Reading Flax's `flax_model.msgpack` with the `msgpack` package and numpy (no jax, no flax).

Flax writes a msgpack map of nested maps. Array leaves are msgpack ext type 1 whose payload is a
msgpack list `(shape, dtype name, raw C-order bytes)`; ext 3 is a numpy scalar in the same
encoding, ext 2 a complex number. An array over 2**30 bytes is a map
`{"__msgpack_chunked_array__": True, "shape": {"0": d0, …}, "chunks": {"0": flat0, …}}`.

The file is streamed: its maps are walked here and each array payload is read straight into one
reused buffer, viewed as a tensor without a copy, and handed to a `prepare` function that makes
the final tensors from it (cast, transposed, split) in one copy each. So neither the float32
original of the model nor a second copy of it is ever held: peak memory is about the converted
size plus the largest leaf. Keys, flags and each array's `(shape, dtype)` header are decoded by
the `msgpack` package.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from io import BufferedIOBase
from pathlib import Path

import msgpack
import numpy as np
import torch

log = logging.getLogger(__name__)

EXT_NDARRAY, EXT_COMPLEX, EXT_NPSCALAR = 1, 2, 3
CHUNKED = "__msgpack_chunked_array__"
FP16_MAX = 65504.0
BIN_LENGTH_BYTES = {0xC4: 1, 0xC5: 2, 0xC6: 4}  # bin 8/16/32 header -> width of its length field
# ext headers: first byte -> (width of the length field, fixed length)
EXT_HEADERS = {0xD4: (0, 1), 0xD5: (0, 2), 0xD6: (0, 4), 0xD7: (0, 8), 0xD8: (0, 16),
               0xC7: (1, 0), 0xC8: (2, 0), 0xC9: (4, 0)}  # fmt: skip
SMALL = 4096  # longest value outside an array record (a key, a flag, a dimension) read at once
DTYPES = {
    "float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16,
    "float64": torch.float64, "int8": torch.int8, "int16": torch.int16, "int32": torch.int32,
    "int64": torch.int64, "uint8": torch.uint8, "bool": torch.bool,
}  # fmt: skip
TRUNCATED = "truncated (the file ends inside the data): download it again"

Prepare = Callable[[str, torch.Tensor], dict[str, torch.Tensor]]


class ConversionError(Exception):
    """An official checkpoint cannot be converted; the message names the file (and key)."""


@dataclass
class FlaxLeaves:
    """What a checkpoint held: the prepared tensors, and every array leaf's shape in the file."""

    tensors: dict[str, torch.Tensor] = field(default_factory=dict)
    shapes: dict[str, list[int]] = field(default_factory=dict)  # "a/b/kernel" -> shape as stored
    dtypes: dict[str, torch.dtype] = field(default_factory=dict)  # "a/b/kernel" -> dtype as stored


def cast(tensor: torch.Tensor, store: torch.dtype) -> torch.Tensor:
    """A contiguous copy in `store` (floats only; float32 kept for values float16 cannot hold)."""
    if tensor.is_floating_point():
        if store == torch.float16 and tensor.dtype != torch.float16 and tensor.numel():
            low, high = torch.aminmax(tensor)
            if max(float(high), -float(low)) > FP16_MAX:
                log.warning(
                    "an array of shape %s exceeds float16's range: kept in float32", list(tensor.shape)
                )
                store = torch.float32
        return tensor.to(dtype=store, memory_format=torch.contiguous_format, copy=True)
    return tensor.clone(memory_format=torch.contiguous_format)


def _decode_array(payload: memoryview, path: Path) -> torch.Tensor:
    """An ext payload -> a tensor viewing `payload` (no copy) of the recorded shape and dtype."""
    header = msgpack.Unpacker(raw=False, max_buffer_size=SMALL)
    header.feed(payload[:SMALL])  # shape, dtype name and the bin header are far shorter than this
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
    if name not in DTYPES:
        raise ConversionError(f"{path}: array of unsupported dtype {name!r}")
    dtype = DTYPES[name]
    length = int.from_bytes(payload[at + 1 : at + 1 + width], "big")
    start, count = at + 1 + width, int(np.prod(shape, dtype=np.int64))
    if length != count * dtype.itemsize or start + length != len(payload):
        raise ConversionError(
            f"{path}: array record of shape {shape} {name} holds {length} bytes, "
            f"expected {count * dtype.itemsize}: corrupt file"
        )
    if not count:
        return torch.empty(shape, dtype=dtype)
    # Flax writes the host's byte order, little-endian on every machine it runs on
    return torch.frombuffer(payload, dtype=dtype, count=count, offset=start).view(shape)


class _Walker:
    """Walks the maps itself; array payloads go into one reused buffer, other values to msgpack.

    (msgpack's own ext_hook would receive every payload as a new bytes object: one float32 copy
    per leaf, which the allocator kept as heap fragments, doubling peak memory in a measurement.)
    """

    def __init__(self, f: BufferedIOBase, path: Path, store: torch.dtype, prepare: Prepare) -> None:
        self.f, self.path, self.store, self.prepare = f, path, store, prepare
        self.buffer = bytearray()
        self.leaves = FlaxLeaves()

    def _read(self, n: int) -> bytes:
        data = self.f.read(n)
        if len(data) != n:
            raise ConversionError(f"{self.path}: {TRUNCATED}")
        return data

    def value(self, keys: tuple[str, ...]) -> object:
        """The msgpack value at the file position; array leaves are prepared and left out of the tree."""
        at = self.f.tell()
        first = self._read(1)[0]
        if 0x80 <= first <= 0x8F or first in (0xDE, 0xDF):
            count = (
                first & 0x0F
                if first <= 0x8F
                else int.from_bytes(self._read(2 if first == 0xDE else 4), "big")
            )
            tree = {}
            for _ in range(count):
                key = self.value(keys)
                if not isinstance(key, str):
                    raise ConversionError(
                        f"{self.path}: map key {key!r} is not a string: not a Flax checkpoint"
                    )
                tree[key] = self.value((*keys, key))
            return tree
        if first in EXT_HEADERS:
            width, length = EXT_HEADERS[first]
            if width:
                length = int.from_bytes(self._read(width), "big")
            return self._ext(int.from_bytes(self._read(1), "big", signed=True), length, keys)
        return self._small(at)

    def _small(self, at: int) -> object:
        self.f.seek(at)
        chunk = self.f.read(SMALL)

        def no_arrays(code: int, data: bytes) -> object:
            raise ConversionError(f"{self.path}: an array inside a list at byte {at}: not a Flax checkpoint")

        unpacker = msgpack.Unpacker(raw=False, max_buffer_size=SMALL, ext_hook=no_arrays)
        unpacker.feed(chunk)
        try:
            value = unpacker.unpack()
        except msgpack.OutOfData as exc:
            if len(chunk) < SMALL:
                raise ConversionError(f"{self.path}: {TRUNCATED}") from exc
            raise ConversionError(
                f"{self.path}: a value of over {SMALL} bytes at byte {at}: not Flax's"
            ) from exc
        except (msgpack.UnpackException, ValueError, UnicodeDecodeError, TypeError, struct.error) as exc:
            raise ConversionError(f"{self.path}: not a Flax msgpack checkpoint ({exc})") from exc
        self.f.seek(at + unpacker.tell())
        return value

    def _ext(self, code: int, length: int, keys: tuple[str, ...]) -> object:
        if code == EXT_COMPLEX:
            return complex(*msgpack.unpackb(self._read(length)))
        if code not in (EXT_NDARRAY, EXT_NPSCALAR):
            raise ConversionError(f"{self.path}: unknown msgpack ext type {code}: not a Flax checkpoint")
        if len(self.buffer) < length:
            self.buffer = bytearray(length)  # grows to the largest leaf, then is reused
        payload = memoryview(self.buffer)[:length]
        if self.f.readinto(payload) != length:
            raise ConversionError(f"{self.path}: {TRUNCATED}")
        raw = _decode_array(payload, self.path)
        if len(keys) >= 2 and keys[-2] == "chunks":
            return cast(raw, self.store)  # a piece of a chunked array, assembled after the walk
        self._add("/".join(keys), raw)
        return None

    def _add(self, key: str, raw: torch.Tensor) -> None:
        key = key.removeprefix("params/")  # a tree saved with its collection name on top
        self.leaves.shapes[key], self.leaves.dtypes[key] = list(raw.shape), raw.dtype
        self.leaves.tensors.update(self.prepare(key, raw))

    def assemble_chunked(self, node: dict, keys: tuple[str, ...]) -> None:
        """Chunked arrays left in the tree -> prepared tensors."""
        if CHUNKED in node:
            key = "/".join(keys)
            self._add(key, _unchunk(node, key, self.path))
            return
        for name, value in node.items():
            if isinstance(value, dict):
                self.assemble_chunked(value, (*keys, name))


def read_flax_msgpack(path: Path, store: torch.dtype, prepare: Prepare | None = None) -> FlaxLeaves:
    """Read `flax_model.msgpack`; `prepare(key, raw)` makes the tensors kept for each array leaf
    (default: {key: the leaf cast to `store`}); raw views a reused buffer and must be copied."""
    if not path.is_file():
        raise ConversionError(f"missing checkpoint file: {path}")
    walker = _Walker(path.open("rb"), path, store, prepare or (lambda key, raw: {key: cast(raw, store)}))
    with walker.f as f:
        if f.read(64).startswith(b"version https://git-lfs"):
            raise ConversionError(
                f"{path} is a Git LFS pointer, not the weights: download the file itself (git lfs pull)"
            )
        f.seek(0)
        tree = walker.value(())
        if not isinstance(tree, dict):
            raise ConversionError(
                f"{path}: not a Flax checkpoint (top level is {type(tree).__name__}, not a map)"
            )
        if f.tell() != path.stat().st_size:
            raise ConversionError(f"{path}: unexpected data after the checkpoint: corrupt file")
    walker.buffer = bytearray()
    walker.assemble_chunked(tree, ())
    return walker.leaves


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
