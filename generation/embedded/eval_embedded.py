"""`dallebot eval embedded`: what the embedded model draws, judged by eyes that see (issue 21).

Figures (the last printed line is one JSON object with these keys, among others):
- object_accuracy: the share of objects that held-out captions claim which the image shows
  (right thing or shape, right colour);
- composition: the share of held-out captions whose image matches every claim (objects, colours,
  counts, sizes, positions, relations, background);
- natural_phrasing: the share of the hand-written natural-phrasing set (`claims.NATURAL_SET`) whose
  image, drawn from the prompt as written (as the bot would: the pipeline itself reads an
  embedded model's prompt into its world's wording, `shapes_text.rewrite` for a shapes model when
  the prompt has words it lacks, `things_text.rewrite` for a things model always), matches every claim; a
  prompt naming something the model's world cannot draw (a thing, to a shapes model) counts as a
  miss without being drawn;
- natural_phrasing_read: the same, with the prompt first read (`prompt.read`) and rewritten in the
  world's own grammar — what the reader buys a model that knows only its own wording;
- reader_natural: the share of the set the reader alone gets right (claims and ignored words);
- natural_phrasing_2, natural_phrasing_read_2, reader_natural_2 …: the same on the second set
  (`claims.NATURAL_SET_2`, written without the reader's lexicon in view), when it is there;
- natural_phrasing_3, natural_phrasing_read_3, reader_natural_3 …: the same on the third set
  (`claims.NATURAL_SET_3`, prompts written before the world's thing names were read), when it is there;
- detector_accuracy: the things detector on rendered scenes (every object, size, place and the
  background exactly right);
- s_per_image: median CPU seconds per image, one prompt at a time, after a warm-up.

A model's world is the one its `training.json` names (`config.world`); the `shapes` model, made
before the things world, is a shapes model: its images are seen by `parser.py`, a things model's
(`things`, the default) by `detector.py`.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch

from generation.embedded import detector, parser
from generation.embedded.claims import (
    NATURAL_SET_2,
    NATURAL_SET_3,
    NaturalPrompt,
    PromptClaims,
    load_natural_set,
)
from generation.embedded.eval import cpu_seconds_per_image, figures_json
from generation.embedded.prompt import read, reads_right
from generation.embedded.shapes_text import shapes_caption, shapes_claims
from generation.embedded.things_text import things_caption
from generation.embedded.things_world import ThingWorld, render_things
from generation.embedded.world import Claims, World
from generation.loading import model_directory

log = logging.getLogger(__name__)

def model_world(model_dir: Path) -> str:
    """ "things" or "shapes": what the model was trained on, from its training.json."""
    report = model_dir / "training.json"
    config = json.loads(report.read_text(encoding="utf-8")).get("config", {}) if report.is_file() else {}
    return str(config.get("world", "shapes"))


def detector_accuracy(scenes: int = 1000, seed: int = 2121, noise: float = 0.0) -> float:
    """Share of rendered things scenes the detector reads exactly (objects, sizes, places, background)."""
    see = detector.Detector()
    rng = np.random.default_rng(seed)
    right = 0
    for scene in ThingWorld(seed, "any").scenes(scenes):
        image = render_things(scene)
        if noise:
            image = np.clip(image + rng.normal(0, noise, image.shape), 0, 255).astype(np.uint8)
        seen = see(image)
        truth = sorted((o.thing, o.colour or "", o.r, o.x, o.y) for o in scene.objects)
        got = sorted((o.thing, o.colour or "", o.r, o.x, o.y) for o in seen.objects)
        right += truth == got and seen.background == scene.background
    return right / scenes


class _Judge:
    """Generates images and judges them against claims in the model's world."""

    def __init__(self, pipeline: Any, options: dict[str, Any], world: str, seed: int) -> None:
        self.pipeline, self.options, self.world, self.seed = pipeline, options, world, seed
        self.see = detector.Detector() if world == "things" else None

    def draw(self, prompts: list[str]) -> list[Any]:
        images: list[Any] = []
        for start in range(0, len(prompts), 25):
            chunk = prompts[start : start + 25]
            images += self.pipeline(
                chunk, seed=[self.seed + start + i for i in range(len(chunk))], **self.options
            )
        return images

    def score(self, image: Any, claims: PromptClaims | Claims) -> tuple[bool, int, int]:
        """(every claim right, objects found, objects claimed)."""
        if isinstance(claims, Claims):  # a shapes-world caption's own claims, judged as `eval fidelity` does
            parsed = parser.parse(image)
            return not parser.check(parsed, claims), parser.object_hits(parsed, claims), len(claims.objects)
        if self.see is not None:
            seen = self.see(image)
            found, wanted = detector.object_accuracy(seen, claims)
            return not detector.check(seen, claims), found, wanted
        shapes = shapes_claims(claims)
        if shapes is None:
            return False, 0, claims.count()
        parsed = parser.parse(image)
        return not parser.check(parsed, shapes), parser.object_hits(parsed, shapes), len(shapes.objects)

    def drawable(self, claims: PromptClaims) -> bool:
        return self.world == "things" or shapes_claims(claims) is not None


def _judge_for(path: str | Path | None, seed: int, device: str | None, dtype: str | None) -> _Judge:
    """The model at `path` (default: the default embedded model) loaded and judged in its own world."""
    from generation import load_pipeline  # the whole engine: import late

    model_dir = model_directory(path)
    pipeline = load_pipeline(path, device=device, dtype=dtype)
    options = pipeline.config.sampling.options()  # the model's config.json, as loaded
    return _Judge(pipeline, options, model_world(model_dir), seed)


def _heldout(world: str, seed: int, n: int) -> list[tuple[str, PromptClaims | Claims]]:
    if world == "things":
        return [(s.caption, s.claims) for s in ThingWorld(seed, "heldout").scenes(n)]
    return [(s.caption, s.claims) for s in World(seed, "heldout").scenes(n)]


def natural_figures(judge: _Judge, prompts: list[NaturalPrompt]) -> dict[str, float]:
    """natural_phrasing (as written), natural_phrasing_read (read, then rewritten), reader_natural."""
    readings = [read(p.prompt) for p in prompts]
    reader_right = sum(reads_right(r, p) for r, p in zip(readings, prompts, strict=True))
    drawable = [p for p in prompts if judge.drawable(p.claims)]
    written = judge.draw([p.prompt for p in drawable])
    texts = [_rewrite(judge.world, r.claims, p.prompt) for r, p in zip(readings, prompts, strict=True)
             if judge.drawable(p.claims)]  # fmt: skip
    # a things model's pipeline reads every prompt itself: when the model is given the same text
    # either way, the same seeds draw the same images, so they are drawn once
    given = [judge.pipeline.model_prompt(p.prompt) for p in drawable]
    rewritten = written if [judge.pipeline.model_prompt(t) for t in texts] == given else judge.draw(texts)
    as_written = sum(judge.score(i, p.claims)[0] for i, p in zip(written, drawable, strict=True))
    as_read = sum(judge.score(i, p.claims)[0] for i, p in zip(rewritten, drawable, strict=True))
    total = max(len(prompts), 1)  # an empty set (a quick run) scores 0, not a division by zero
    return {
        "natural_phrasing": as_written / total,
        "natural_phrasing_read": as_read / total,
        "natural_drawable": len(drawable) / total,
        "natural_phrasing_of_drawable": as_written / max(len(drawable), 1),
        "reader_natural": reader_right / total,
    }


def _rewrite(world: str, claims: PromptClaims, prompt: str) -> str:
    if not claims.objects:
        return prompt
    return things_caption(claims) if world == "things" else shapes_caption(claims)


def evaluate(
    path: str | Path | None = None,
    *,
    captions: int = 100,
    seed: int = 12345,
    device: str | None = None,
    dtype: str | None = None,
    detector_scenes: int = 1000,
    natural: list[NaturalPrompt] | None = None,
    second: list[NaturalPrompt] | None = None,
    third: list[NaturalPrompt] | None = None,
    speed_samples: int = 5,
) -> dict[str, float]:
    """Every figure of the module docstring for the model at `path` (default: the default embedded model)."""
    from generation import load_pipeline  # the whole engine: import late

    judge = _judge_for(path, seed, device, dtype)
    world, pipeline = judge.world, judge.pipeline
    with torch.inference_mode():
        heldout = _heldout(world, seed, captions)
        scores = [
            judge.score(i, c) for i, (_, c) in zip(judge.draw([t for t, _ in heldout]), heldout, strict=True)
        ]
        figures: dict[str, float] = {
            "object_accuracy": sum(s[1] for s in scores) / max(sum(s[2] for s in scores), 1),
            "composition": sum(s[0] for s in scores) / len(scores),
        }
        figures.update(natural_figures(judge, natural if natural is not None else load_natural_set()))
        if second is None and NATURAL_SET_2.is_file():
            second = load_natural_set(NATURAL_SET_2)
        if second:
            figures.update({f"{k}_2": v for k, v in natural_figures(judge, second).items()})
        if third is None and NATURAL_SET_3.is_file():
            third = load_natural_set(NATURAL_SET_3)
        if third:
            figures.update({f"{k}_3": v for k, v in natural_figures(judge, third).items()})
        cpu = pipeline if pipeline.device.type == "cpu" else load_pipeline(path, device="cpu", dtype=dtype)
        figures["s_per_image"] = cpu_seconds_per_image(
            cpu, [t for t, _ in heldout[:speed_samples]], seed=seed, options=judge.options
        )
    figures["detector_accuracy"] = detector_accuracy(detector_scenes) if detector_scenes else float("nan")
    figures["detector_scenes"] = detector_scenes
    return {k: round(v, 4) for k, v in figures.items()}


def contact_sheet(
    path: str | Path | None, out: Path, *, count: int = 24, seed: int = 12345, columns: int = 6,
    scale: int = 4, device: str | None = None, dtype: str | None = None,
) -> list[tuple[str, list[str], list[str]]]:
    """Draw the first `count` held-out captions as `evaluate` does (same prompts and seeds), save
    them as one PNG grid (each image upsampled `scale`x), and return (prompt, what the judge sees,
    what it gets wrong) per image."""
    from PIL import Image  # Pillow: import late

    judge = _judge_for(path, seed, device, dtype)
    heldout = _heldout(judge.world, seed, count)
    with torch.inference_mode():
        images = judge.draw([t for t, _ in heldout])
    rows = []
    for image, (prompt, claims) in zip(images, heldout, strict=True):
        if judge.see is not None and isinstance(claims, PromptClaims):
            seen = judge.see(image)
            names = [f"{o.colour + ' ' if o.colour else ''}{o.thing}" for o in seen.objects]
            rows.append((prompt, [*names, f"on {seen.background}"], detector.check(seen, claims)))
        else:
            right = judge.score(image, claims)[0]
            rows.append((prompt, [], [] if right else ["not every claim"]))
    side = images[0].size[0] * scale
    sheet = Image.new("RGB", (columns * side, -(-len(images) // columns) * side), "white")
    for i, image in enumerate(images):
        tile = image.resize((side, side), Image.Resampling.NEAREST)
        sheet.paste(tile, ((i % columns) * side, (i // columns) * side))
    sheet.save(out)
    return rows


def main(
    path: str | Path | None = None,
    *,
    captions: int = 100,
    device: str | None = None,
    threads: int | None = None,
    dtype: str | None = None,
    detector_scenes: int = 1000,
    sheet: Path | None = None,
) -> int:
    """Print the figures in words, then as one JSON object on the last line (or, with `sheet`,
    write the contact sheet there and print what the judge read in each image)."""
    if threads:
        torch.set_num_threads(threads)  # one thread: this model is tiny and the cores are shared
    if sheet is not None:
        rows = contact_sheet(path, sheet, device=device, dtype=dtype)
        for i, (prompt, seen, wrong) in enumerate(rows, 1):
            print(f"{i:2d}. {prompt!r}: sees {', '.join(seen) or '-'}; {'; '.join(wrong) or 'right'}")
        print(json.dumps({"sheet": str(sheet), "right": sum(not w for _, _, w in rows), "images": len(rows)}))
        return 0
    model_dir = model_directory(path)
    figures = evaluate(path, captions=captions, device=device, dtype=dtype, detector_scenes=detector_scenes)
    print(f"model {model_dir} ({model_world(model_dir)} world), {torch.get_num_threads()} thread(s)")
    print(
        f"held-out compositions ({captions}): object accuracy {figures['object_accuracy']:.1%} "
        "(target 90%), "
        f"full composition {figures['composition']:.1%} (target 85%)"
    )
    print(
        f"natural phrasing: {figures['natural_phrasing']:.1%} as written (target 85%), "
        f"{figures['natural_phrasing_read']:.1%} read first; the world draws "
        f"{figures['natural_drawable']:.1%} of the set; "
        f"the reader alone {figures['reader_natural']:.1%}"
    )
    if "natural_phrasing_2" in figures:
        print(
            f"second natural-phrasing set: {figures['natural_phrasing_2']:.1%} as written (target 85%), "
            f"{figures['natural_phrasing_read_2']:.1%} read first; "
            f"the reader alone {figures['reader_natural_2']:.1%}"
        )
    if "natural_phrasing_3" in figures:
        print(
            f"third natural-phrasing set: {figures['natural_phrasing_3']:.1%} as written (target 85%), "
            f"{figures['natural_phrasing_read_3']:.1%} read first; "
            f"the reader alone {figures['reader_natural_3']:.1%}"
        )
    print(
        f"detector on {detector_scenes} rendered scenes {figures['detector_accuracy']:.1%} (target 99%); "
        f"CPU {figures['s_per_image']:.3f} s/image (target 0.3)"
    )
    print(figures_json(figures))  # detector_accuracy null when no detector scenes were asked for
    return 0
