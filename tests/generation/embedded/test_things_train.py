"""The things-world training command, end to end at toy sizes: stages, resuming, a loadable model."""

import dataclasses
import math

import numpy as np
import pytest
import torch

from generation import load_pipeline
from generation.embedded.eval import evaluate as fidelity
from generation.embedded.eval_embedded import evaluate, model_world
from generation.embedded.things_train import STAGES, ThingsTrainConfig, train_things
from generation.embedded.things_vq import encode_things, fit_thing_codebooks, paint
from generation.embedded.things_world import BACKGROUNDS, ThingWorld, render_things
from generation.embedded.train import main


def test_tiny_training_writes_a_loadable_things_model_and_resumes(tmp_path, emoji_font):
    out = tmp_path / "m"
    report = train_things(ThingsTrainConfig.tiny(), out, torch.device("cpu"), quiet=True)
    assert report["stages_reused"] == [] and set(report["stage_wall_s"]) == set(STAGES)
    assert model_world(out) == "things"
    vqgan = report["vqgan"]  # the "patches" decoder paints the codes themselves: the tokens' ceiling
    assert vqgan["psnr_db"] == vqgan["painted_psnr_db"] and vqgan["detected"] == vqgan["painted_detected"]
    (image,) = load_pipeline(out, device="cpu", dtype="fp32")("a cat on the grass", seed=1)
    assert image.size == (64, 64)
    weights = (out / "model.safetensors").read_bytes()

    again = train_things(ThingsTrainConfig.tiny(), out, torch.device("cpu"), quiet=True)
    assert again["stages_reused"] == list(STAGES)
    assert (out / "model.safetensors").read_bytes() == weights  # resumed from the stages, same model

    (out / "stages" / "transformer.done").unlink()
    redone = train_things(ThingsTrainConfig.tiny(), out, torch.device("cpu"), quiet=True)
    assert redone["stages_reused"] == list(STAGES[:-1]) and set(redone["stage_wall_s"]) == {"transformer"}

    longer = dataclasses.replace(ThingsTrainConfig.tiny(), steps=4)  # only the transformer depends on it
    assert train_things(longer, out, torch.device("cpu"), quiet=True)["stages_reused"] == list(STAGES[:-1])
    more_captions = dataclasses.replace(longer, tokenizer_captions=150)  # the tokenizer, so the data too
    assert train_things(more_captions, out, torch.device("cpu"), quiet=True)["stages_reused"] == [
        "codebooks",
        "vqgan",
    ]

    patches = dataclasses.replace(more_captions, tokens="patches")  # every distinct patch: codebooks on
    assert train_things(patches, out, torch.device("cpu"), quiet=True)["stages_reused"] == ["tokenizer"]
    (image,) = load_pipeline(out, device="cpu", dtype="fp32")("a cat on the grass", seed=1)
    assert image.size == (64, 64)
    with pytest.raises(ValueError, match="tokens"):
        dataclasses.replace(patches, tokens="pixels")

    figures = evaluate(out, captions=3, device="cpu", detector_scenes=0, natural=[], speed_samples=1)
    assert {"object_accuracy", "composition", "s_per_image"} <= set(figures)
    shapes = fidelity(out, captions=2, device="cpu", speed_samples=1)  # the shapes world's captions
    assert 0.0 <= shapes["heldout"] <= 1.0 and math.isnan(shapes["psnr_db"])  # no shapes VQ encoder to judge


def test_the_command_refuses_to_overwrite_the_committed_model():
    with pytest.raises(SystemExit, match="give --out"):
        main(["--world", "things", "--tiny"])


def test_tokens_keep_what_the_codebook_scenes_showed(emoji_font):
    scenes = ThingWorld(8, "train").scenes(30)
    codebooks = fit_thing_codebooks(scenes, 100_000)  # room for every distinct patch: exact
    painted = paint(encode_things(scenes, codebooks), codebooks)
    real = np.stack([render_things(s) for s in scenes])
    assert np.abs(painted.astype(int) - real).max() <= 2  # rounding only
    small = fit_thing_codebooks(scenes, 16)  # k-means: lossy, but every id is in range
    ids = encode_things(scenes, small)
    assert ids.shape == (30, 64) and ids.max() < small.vocab_size


def test_stages_of_the_first_marker_format_are_still_reused(tmp_path):
    import json

    from generation.embedded.things_train import _Stages

    cfg = ThingsTrainConfig.tiny()
    stages_dir = tmp_path / "stages"
    stages_dir.mkdir()
    (stages_dir / "config.json").write_text(json.dumps(dataclasses.asdict(cfg)))
    (stages_dir / "tokenizer.done").write_text("12.5")  # wall seconds alone
    assert _Stages(tmp_path, cfg).done("tokenizer")
    assert not _Stages(tmp_path, dataclasses.replace(cfg, tokenizer_captions=7)).done("tokenizer")
    assert not _Stages(tmp_path, cfg).done("codebooks")


def test_principal_codes_start_the_vqgan_from_what_each_token_looks_like(emoji_font):
    from generation.embedded.things_vq import principal_codes

    codebooks = fit_thing_codebooks(ThingWorld(2, "train").scenes(20), 100_000)
    codes = principal_codes(codebooks, 8)
    assert codes.shape == (codebooks.vocab_size, 8) and abs(float(codes.std()) - 1.0) < 1e-3
    assert np.linalg.norm(codes[0] - codes[1]) > 0.1  # two backgrounds (plain, sky) are told apart
    with pytest.raises(ValueError, match="code_init"):
        dataclasses.replace(ThingsTrainConfig.tiny(), code_init="zeros")


def test_a_trained_vqgan_decoder_is_still_an_option(tmp_path, emoji_font):
    cfg = dataclasses.replace(ThingsTrainConfig.tiny(), image_decoder="vqgan")
    vqgan = train_things(cfg, tmp_path / "m", torch.device("cpu"), quiet=True)["vqgan"]
    assert 0.0 <= vqgan["detected"] <= vqgan["painted_detected"] <= 1.0
    assert vqgan["painted_psnr_db"] > vqgan["psnr_db"]  # three steps of training: blobs
    with pytest.raises(ValueError, match="image_decoder"):
        dataclasses.replace(cfg, image_decoder="gan")


def test_the_patches_decoder_paints_every_token_as_its_code(emoji_font):
    from generation.config import VQGANConfig
    from generation.embedded.things_vq import token_patches
    from generation.vqgan import VQGANDecoder

    scenes = ThingWorld(5, "train").scenes(12)
    codebooks = fit_thing_codebooks(scenes, 100_000)
    config = VQGANConfig(codebook_size=codebooks.vocab_size, embed_dim=256, channels=(), grid=8,
                         kind="patches", background_tokens=len(BACKGROUNDS))  # fmt: skip
    assert config.image_size == 64
    decoder = VQGANDecoder(config)
    with torch.no_grad():
        decoder.embedding.weight.copy_(torch.from_numpy(token_patches(codebooks)))
    ids = encode_things(scenes, codebooks)
    images = decoder(torch.from_numpy(ids)).round().byte().numpy()
    assert images.shape == (12, 64, 64, 3)
    assert np.abs(images.astype(int) - paint(ids, codebooks)).max() <= 1  # float rounding only
    preview = decoder(torch.from_numpy(ids[:, :24])).round().byte().numpy()  # the first three rows
    assert preview.shape == (12, 24, 64, 3) and (preview == images[:, :24]).all()
    with pytest.raises(ValueError, match="kind"):
        VQGANConfig(kind="pixels")


def test_the_contact_sheet_draws_held_out_prompts_and_says_what_it_sees(tmp_path, emoji_font):
    from PIL import Image

    from generation.embedded.eval_embedded import contact_sheet

    out = tmp_path / "m"
    train_things(ThingsTrainConfig.tiny(), out, torch.device("cpu"), quiet=True)
    rows = contact_sheet(out, tmp_path / "sheet.png", count=3, columns=2, scale=2, device="cpu")
    assert [r[0] for r in rows] == [s.caption for s in ThingWorld(12345, "heldout").scenes(3)]
    assert all(seen[-1].startswith("on ") for _, seen, _ in rows)  # the background it reads, always
    assert Image.open(tmp_path / "sheet.png").size == (2 * 128, 2 * 128)
