"""The three model modules: min-dalle's tensor names/sizes, encoder padding, VQGAN shapes
(step decoding == full pass: test_decoder.py)."""

from __future__ import annotations

import pytest
import torch

from generation.config import MEGA, MINI, VQGANConfig
from generation.decoder import ImageDecoder
from generation.encoder import TextEncoder
from generation.vqgan import VQGANDecoder
from tests.generation import tiny


def _summary(module: torch.nn.Module) -> tuple[int, int]:
    sd = module.state_dict()
    return len(sd), sum(t.numel() for t in sd.values())


@pytest.mark.parametrize(
    ("build", "tensors", "params"),
    [
        (lambda: TextEncoder(MINI), 186, 202_649_584),
        (lambda: ImageDecoder(MINI), 283, 235_313_136),
        (lambda: TextEncoder(MEGA), 366, 1_110_220_800),
        (lambda: ImageDecoder(MEGA), 559, 1_477_746_688),
        (lambda: VQGANDecoder(VQGANConfig()), 197, 46_709_891),
    ],
)
def test_published_sizes_match_min_dalle_files(build, tensors, params):
    # counts from the published files' key lists (shared/reference/min-dalle-state-dict-keys.txt)
    with torch.device("meta"):
        assert _summary(build()) == (tensors, params)


def test_tensor_names_and_shapes_match_min_dalle():
    with torch.device("meta"):
        enc, dec, vq = TextEncoder(MINI), ImageDecoder(MINI), VQGANDecoder(VQGANConfig())
    shapes = {n: list(t.shape) for m in (enc, dec) for n, t in m.state_dict().items()}
    assert shapes["layers.0.glu.ln1.weight"] == [2730]
    assert shapes["layers.11.encoder_attn.q_proj.weight"] == [1024, 1024]
    assert shapes["lm_head.weight"] == [16385, 1024]
    vq_shapes = {n: list(t.shape) for n, t in vq.state_dict().items()}
    assert vq_shapes["decoder.up.3.block.0.nin_shortcut.weight"] == [256, 512, 1, 1]
    assert vq_shapes["decoder.up.4.attn.2.proj_out.bias"] == [512]
    assert vq_shapes["decoder.up.4.upsample.conv.weight"] == [512, 512, 3, 3]
    assert vq_shapes["decoder.mid.attn_1.q.weight"] == [512, 512, 1, 1]
    assert "decoder.up.0.upsample.conv.weight" not in vq_shapes
    assert not any(n.startswith("decoder.up.3.attn") for n in vq_shapes)


def _encoded(parts):
    text = torch.tensor([[0, 34, 37, 2, 1, 1], [0, 2, 1, 1, 1, 1]])
    mask = text != 1
    return parts.encoder(text), mask


@torch.no_grad()
def test_padding_does_not_change_encoder_output_at_real_tokens():
    parts = tiny.components()
    short = parts.encoder(torch.tensor([[0, 34, 2]]))
    padded = parts.encoder(torch.tensor([[0, 34, 2, 1, 1, 1]]))
    torch.testing.assert_close(padded[:, :3], short, rtol=1e-5, atol=1e-5)


@torch.no_grad()
def test_vqgan_maps_codes_to_pixels():
    parts = tiny.components()
    pixels = parts.vqgan(torch.randint(0, 32, (2, 16)))
    assert pixels.shape == (2, 16, 16, 3)  # grid 4 * 2**(3 levels - 1)
    assert pixels.min() >= 0 and pixels.max() <= 255
    assert tiny.VQGAN.image_size == 16
