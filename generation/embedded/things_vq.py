"""Image tokens of the things world: what each 8×8 patch holds.

The shapes world's tokens factor into mask × colour × background (`vqgan_train`), which suits
flat colours only. An emoji patch is many colours with soft edges. Here a patch with no object
pixel is one of seven background tokens (ids 0..6, the world's BACKGROUNDS in order), and any
other patch is a *content* token: its foreground as premultiplied RGB plus alpha, with no
background in it — the VQGAN decoder composites it over the background it sees in the
neighbouring tokens. Because the world draws on the token grid, a thing at a size always covers
the same patches, so the distinct contents are finite (about 20,000 non-empty patches in 4,000
training scenes, still growing slowly): the codebook keeps every distinct content it saw when
they fit in `k` codes (exact), and k-means otherwise. Encoding looks a patch up exactly first
and searches for the nearest code only when it misses.

Tokens reuse the shapes world's three-part ids with sizes (7 + K, 1, 1): one part, so the
transformer's factored embedding and head and the VQGAN's product codebook work unchanged.
Encoding reads a scene's objects (it renders their foreground layer), not its pixels.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import torch

from generation.embedded.things_world import BACKGROUNDS, IMAGE_SIZE, ThingScene, object_pixels
from generation.embedded.vqgan_train import PATCH, kmeans

_GRID = IMAGE_SIZE // PATCH
_FEATURES = PATCH * PATCH * 4  # premultiplied RGB and alpha of 64 pixels, 0..1
_BACKGROUND_NAMES = tuple(BACKGROUNDS)


@dataclass
class ThingCodebooks:
    """Content codes (K, 256) after the seven background tokens; for object-part tokens
    (`things_tokens`) each code's (class, part) as labels (K, 2)."""

    content: np.ndarray
    labels: np.ndarray | None = None

    @property
    def sizes(self) -> tuple[int, int, int]:
        return len(_BACKGROUND_NAMES) + len(self.content), 1, 1

    @property
    def vocab_size(self) -> int:
        return len(_BACKGROUND_NAMES) + len(self.content)

    def to_tensors(self) -> dict[str, torch.Tensor]:
        tensors = {"content": torch.from_numpy(np.ascontiguousarray(self.content))}
        if self.labels is not None:
            tensors["labels"] = torch.from_numpy(np.ascontiguousarray(self.labels))
        return tensors

    @classmethod
    def from_tensors(cls, tensors: dict[str, torch.Tensor]) -> ThingCodebooks:
        labels = tensors["labels"].numpy() if "labels" in tensors else None
        return cls(content=tensors["content"].numpy(), labels=labels)

    def padded(self, vocab: int) -> ThingCodebooks:
        """The same codes followed by transparent ones up to `vocab` token ids (a factored head's
        product of part sizes); no patch encodes to them, and they paint as the background."""
        spare = vocab - self.vocab_size
        if spare <= 0:
            return self
        if self.labels is not None:
            raise ValueError("object-part codebooks are not padded: their head is factored by label")
        return ThingCodebooks(np.concatenate([self.content, np.zeros((spare, _FEATURES), np.float32)]))

    @cached_property
    def _lookup(self) -> dict[bytes, int]:
        return {_key(row): i for i, row in enumerate(self.content)}

    def nearest(self, rows: np.ndarray, batch: int = 4096) -> np.ndarray:
        """(M, 256) foreground rows -> content code index, exact hits looked up, misses searched."""
        found = np.array([self._lookup.get(_key(r), -1) for r in rows], np.int64)
        misses = np.nonzero(found < 0)[0]
        codes = self.content
        norms = (codes * codes).sum(1)[None]
        for start in range(0, len(misses), batch):
            at = misses[start : start + batch]
            x = rows[at]
            found[at] = ((x * x).sum(1, keepdims=True) - 2 * x @ codes.T + norms).argmin(1)
        return found


def _key(row: np.ndarray) -> bytes:
    return np.round(row, 3).astype(np.float32).tobytes()


def foreground(scene: ThingScene) -> np.ndarray:
    """The scene's objects without background: (64, 64, 4) premultiplied RGB and alpha, 0..1."""
    layer = np.zeros((IMAGE_SIZE, IMAGE_SIZE, 4), np.float32)
    for obj in scene.objects:
        rgb, alpha = object_pixels(obj.thing, obj.colour, obj.r)
        box = layer[obj.y - obj.r : obj.y + obj.r, obj.x - obj.r : obj.x + obj.r]
        a = alpha[..., None]
        box[..., :3] = box[..., :3] * (1 - a) + rgb / 255.0 * a
        box[..., 3:] = box[..., 3:] * (1 - a) + a
    return layer


def patch_features(scenes: list[ThingScene]) -> np.ndarray:
    """(B, 64 patches in raster order, 256) foreground features."""
    layers = np.stack([foreground(s) for s in scenes])  # (B, H, W, 4)
    b = len(scenes)
    grid = layers.reshape(b, _GRID, PATCH, _GRID, PATCH, 4).swapaxes(2, 3)  # (B, gy, gx, 8, 8, 4)
    return grid.reshape(b, _GRID * _GRID, _FEATURES)


def fit_thing_codebooks(scenes: list[ThingScene], k: int) -> ThingCodebooks:
    """Up to k content codes: every distinct non-empty patch of the scenes, or k-means of them."""
    rows = patch_features(scenes).reshape(-1, _FEATURES)
    rows = np.unique(np.round(rows[rows[:, 3::4].max(1) > 0], 3), axis=0)
    codes = rows if len(rows) <= k else kmeans(rows, k, iterations=5)
    return ThingCodebooks(codes.astype(np.float32))


def encode_things(scenes: list[ThingScene], codebooks: ThingCodebooks, batch: int = 256) -> np.ndarray:
    """Scenes -> token ids (B, 64) int64: the background's id, or 7 + the content code."""
    out = []
    for start in range(0, len(scenes), batch):
        chunk = scenes[start : start + batch]
        rows = patch_features(chunk)  # (B, 64, 256)
        ids = np.array([_BACKGROUND_NAMES.index(s.background) for s in chunk])[:, None].repeat(
            rows.shape[1], 1
        )
        filled = rows[..., 3::4].max(-1) > 0  # (B, 64)
        ids[filled] = len(_BACKGROUND_NAMES) + codebooks.nearest(rows[filled])
        out.append(ids)
    return np.concatenate(out).astype(np.int64)


def paint(ids: np.ndarray, codebooks: ThingCodebooks) -> np.ndarray:
    """Token ids (B, 64) -> uint8 images straight from the codes (no decoder): the tokens' ceiling.
    The background is the image's commonest background token (plain when it has none)."""
    kb = len(_BACKGROUND_NAMES)
    palette = np.array([BACKGROUNDS[n] for n in _BACKGROUND_NAMES], np.float32) / 255.0
    images = []
    for row in ids:
        bare = row[row < kb]
        background = palette[np.bincount(bare, minlength=kb).argmax() if len(bare) else 0]
        content = np.zeros((len(row), _FEATURES), np.float32)
        content[row >= kb] = codebooks.content[row[row >= kb] - kb]
        patches = content.reshape(_GRID, _GRID, PATCH, PATCH, 4)
        pixels = patches[..., :3] + background * (1 - patches[..., 3:])
        images.append(pixels.swapaxes(1, 2).reshape(IMAGE_SIZE, IMAGE_SIZE, 3))
    return np.clip(np.rint(np.stack(images) * 255), 0, 255).astype(np.uint8)


def token_patches(codebooks: ThingCodebooks) -> np.ndarray:
    """(vocab, 256) every token's patch as premultiplied RGBA, 0..1: a background token's is its
    colour, opaque; a content token's is its code. The "patches" image decoder's weights."""
    palette = np.array([BACKGROUNDS[n] for n in _BACKGROUND_NAMES], np.float32) / 255.0
    solid = np.concatenate([np.tile(palette, PATCH * PATCH).reshape(len(palette), PATCH * PATCH, 3),
                            np.ones((len(palette), PATCH * PATCH, 1), np.float32)], axis=-1)  # fmt: skip
    return np.concatenate([solid.reshape(len(palette), -1), codebooks.content]).astype(np.float32)


def principal_codes(codebooks: ThingCodebooks, dims: int) -> np.ndarray:
    """(vocab, dims) starting embeddings: every token's patch (a background token's is that colour,
    opaque) projected on the patches' first `dims` principal components, unit variance overall.
    A decoder that starts from what each code looks like need not learn 26,000 codes from scratch."""
    rows = token_patches(codebooks)
    centred = rows - rows.mean(0)
    _, _, components = np.linalg.svd(centred[:: max(1, len(rows) // 8000)], full_matrices=False)
    projected = centred @ components[:dims].T  # (vocab, dims)
    return (projected / projected.std()).astype(np.float32)
