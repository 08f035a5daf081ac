"""Prompt fidelity, speed and reconstruction figures of a model on the shape world.

`evaluate()` draws captions from the world (in-distribution: the training split with another
seed; held-out: every caption uses a combination training never showed), generates one image
per caption through `generation.load_pipeline` at the model's default sampling settings
(config.json's `sampling`), and
asks the classical parser whether every object, colour, shape, size, count, position, relation
and background the caption states is right.
"""

from __future__ import annotations

import json
import logging
import math
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file

from generation.embedded import vqgan_train
from generation.embedded.parser import check, parse
from generation.embedded.world import Scene, World, render
from generation.loading import load_components, model_directory

log = logging.getLogger(__name__)

CODEBOOKS_FILE = "vq_encoder.safetensors"


def fidelity(pipeline, scenes: list[Scene], *, seed: int, options: dict, batch: int = 25,
             failures: list[str] | None = None) -> float:  # fmt: skip
    """Fraction of scenes whose generated image matches every claim of its caption."""
    right = 0
    for start in range(0, len(scenes), batch):
        chunk = scenes[start : start + batch]
        seeds = [seed + start + i for i in range(len(chunk))]
        images = pipeline([s.caption for s in chunk], seed=seeds, **options)
        for scene, image in zip(chunk, images, strict=True):
            errors = check(parse(image), scene.claims)
            right += not errors
            if errors and failures is not None:
                failures.append(f"{scene.caption!r}: {'; '.join(errors)}")
    return right / len(scenes)


def cpu_seconds_per_image(pipeline, captions: list[str], *, seed: int, options: dict,
                          clock: Callable[[], float] = time.perf_counter) -> float:  # fmt: skip
    """Median wall time of one prompt -> one image (VQGAN decode included), after a warm-up."""
    pipeline(captions[0], seed=seed, **options)
    times = []
    for i, caption in enumerate(captions):
        started = clock()
        pipeline(caption, seed=seed + i, **options)
        times.append(clock() - started)
    return statistics.median(times)


def vqgan_psnr(model_dir: Path, images: np.ndarray) -> float:
    """PSNR of encode -> decode through the directory's VQGAN (fp32, CPU) and its codebooks."""
    components = load_components(model_dir)
    codebooks = vqgan_train.Codebooks.from_tensors(load_file(model_dir / CODEBOOKS_FILE))
    return vqgan_train.psnr(components.vqgan.float(), codebooks, images)


def evaluate(
    path: str | Path | None = None,
    *,
    captions: int = 100,
    seed: int = 12345,
    device: str | None = None,
    dtype: str | None = None,
    speed_samples: int = 5,
    failures: list[str] | None = None,
    images: int = 1,
) -> dict[str, float]:
    """The four figures of issue 3: held-out and in-distribution fidelity, CPU s/image, PSNR."""
    from generation import load_pipeline  # the pipeline pulls in the whole engine: import late

    model_dir = model_directory(path)
    pipeline = load_pipeline(path, device=device, dtype=dtype)
    sampling = pipeline.config.sampling  # the model's config.json, as loaded
    options = sampling.options()  # the model's defaults
    heldout = World(seed, "heldout").scenes(captions)
    in_dist = World(seed + 1, "train").scenes(captions)
    figures = {
        "heldout": fidelity(pipeline, heldout, seed=seed, options=options, failures=failures),
        "in_distribution": fidelity(pipeline, in_dist, seed=seed, options=options, failures=failures),
    }
    if images > 1:  # grids: how many different pictures, and their fidelity, at the grid defaults
        # and, as the baseline in the same run, at the single-image defaults (issue 20)
        from generation.embedded.variety import grid_figures

        for label, chosen in (("grid", sampling.options(images)), ("grid_at_single_defaults", options)):
            for split, scenes in (("heldout", heldout), ("in_distribution", in_dist)):
                grid = grid_figures(pipeline, scenes, seed=seed, options=chosen, images=images)
                figures[f"{label}_{split}_fidelity"] = grid["fidelity"]
                figures[f"{label}_{split}_distinct"] = grid["distinct"]
        figures["grid_temperature"] = sampling.options(images)["temperature"]
    cpu = pipeline if pipeline.device.type == "cpu" else load_pipeline(path, device="cpu", dtype=dtype)
    with torch.inference_mode():
        figures["cpu_s_per_image"] = cpu_seconds_per_image(
            cpu, [s.caption for s in in_dist[:speed_samples]], seed=seed, options=options
        )
    figures["psnr_db"] = float("nan")  # a things model has no shapes-world VQ encoder to round-trip through
    if (model_dir / CODEBOOKS_FILE).is_file():
        psnr_images = np.stack([render(s) for s in World(seed + 2, "heldout").scenes(200)])
        figures["psnr_db"] = vqgan_psnr(model_dir, psnr_images)
    return {k: round(v, 4) for k, v in figures.items()}


def figures_json(figures: dict[str, float]) -> str:
    """The figures as one line of strict JSON: a figure that does not apply (NaN) is null, not the
    unquoted NaN json.dumps writes, which jq or JSON.parse refuse."""
    return json.dumps({k: None if math.isnan(v) else v for k, v in figures.items()}, allow_nan=False)


def _psnr_text(psnr: float) -> str:
    if math.isnan(psnr):
        return "n/a (a things model has no VQ encoder to round-trip through)"
    return f"{psnr:.2f} dB (target 30)"


def main(
    path: str | Path | None = None,
    *,
    captions: int = 100,
    device: str | None = None,
    threads: int | None = None,
    dtype: str | None = None,
    images: int = 1,
) -> int:
    """Print the figures, a few failures, and the figures as one JSON object on the last line."""
    if threads:
        # a model this small is faster on one thread when the cores are shared: OpenMP threads
        # spin-wait on each other for every tiny op (measured 1 s vs 8-24 s per image under load)
        torch.set_num_threads(threads)
    failures: list[str] = []
    figures = evaluate(path, captions=captions, device=device, dtype=dtype, failures=failures, images=images)
    for line in failures[:10]:
        print(f"miss: {line}")
    print(f"held-out fidelity {figures['heldout']:.1%} (target 90%), in-distribution "
          f"{figures['in_distribution']:.1%} (target 95%), CPU {figures['cpu_s_per_image']:.3f} s/image "
          f"(target 0.5, {torch.get_num_threads()} thread(s)), "
          f"VQGAN PSNR {_psnr_text(figures['psnr_db'])}")  # fmt: skip
    if images > 1:
        for label, name in (("grid", f"grid defaults (T {figures['grid_temperature']})"),
                            ("grid_at_single_defaults", "single-image defaults")):  # fmt: skip
            held, ind = (f"{label}_heldout_", f"{label}_in_distribution_")
            print(f"{images} images of a prompt at the {name}: different pictures "
                  f"{figures[held + 'distinct']:.2f} / {figures[ind + 'distinct']:.2f}, fidelity "
                  f"{figures[held + 'fidelity']:.1%} / {figures[ind + 'fidelity']:.1%} "
                  "(held-out / in-distribution)")  # fmt: skip
    print(figures_json(figures))
    return 0
