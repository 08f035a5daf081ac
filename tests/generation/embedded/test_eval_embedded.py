import json

import pytest
import torch

from generation.embedded.claims import load_natural_set
from generation.embedded.eval_embedded import detector_accuracy, evaluate, model_world
from generation.embedded.prompt import read
from generation.embedded.shapes_text import shapes_caption, shapes_claims
from generation.loading import EMBEDDED_SHAPES_DIR

KEYS = {"object_accuracy", "composition", "natural_phrasing", "detector_accuracy", "s_per_image"}


def test_shapes_claims_and_caption():
    claims = read("2 crimson circles beside a navy square on grey").claims
    shapes = shapes_claims(claims)
    assert shapes is not None and len(shapes.objects) == 3 and shapes.background == "gray"
    assert shapes.relations == ((0, "beside", 2),)
    assert shapes_caption(claims) == "two red circles next to a blue square on a gray background"
    assert shapes_caption(read("a big amber star at the top").claims) == "a large orange star at the top"
    assert shapes_claims(read("a cat").claims) is None  # a shapes model cannot draw a thing
    assert shapes_claims(read("a red circle at night").claims) is None


def test_each_committed_model_is_judged_in_its_own_world(tmp_path):
    assert model_world(EMBEDDED_SHAPES_DIR) == "shapes"
    (tmp_path / "training.json").write_text(json.dumps({"config": {"world": "things"}}))
    assert model_world(tmp_path) == "things"


def test_detector_accuracy_on_rendered_scenes(emoji_font):
    assert detector_accuracy(20) == 1.0
    assert 0.0 <= detector_accuracy(6, noise=30.0) <= 1.0


def test_evaluate_reports_every_figure(emoji_font):
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        natural = [p for p in load_natural_set() if shapes_claims(p.claims) is not None][:6]
        natural += [p for p in load_natural_set() if p.prompt == "a fox next to a tree"]
        figures = evaluate(
            "shapes", captions=6, device="cpu", detector_scenes=5, natural=natural, second=natural[:2],
            speed_samples=2,
        )
    finally:
        torch.set_num_threads(before)
    assert set(figures) >= KEYS
    assert all(0.0 <= figures[k] <= 1.0 for k in KEYS - {"s_per_image"}) and figures["s_per_image"] > 0
    assert figures["natural_drawable"] == pytest.approx(6 / 7, abs=1e-3)  # the fox is not drawable
    assert figures["reader_natural"] == 1.0
    assert figures["reader_natural_2"] == 1.0 and 0.0 <= figures["natural_phrasing_2"] <= 1.0


def test_eval_fidelity_last_line_is_strict_json_when_psnr_does_not_apply(monkeypatch, capsys):
    """A things model has no PSNR (NaN inside); the JSON line says null, which every parser reads."""
    from generation.embedded import eval as fidelity

    figures = {"heldout": 0.95, "in_distribution": 0.96, "cpu_s_per_image": 0.1, "psnr_db": float("nan")}
    monkeypatch.setattr(fidelity, "evaluate", lambda *args, **kwargs: dict(figures))
    fidelity.main(captions=1)
    lines = capsys.readouterr().out.strip().splitlines()
    assert "VQGAN PSNR n/a" in lines[-2]

    def refuse(constant: str) -> None:
        raise ValueError(f"not strict JSON: {constant}")

    assert json.loads(lines[-1], parse_constant=refuse)["psnr_db"] is None


def test_eval_embedded_last_line_is_strict_json_without_detector_scenes(emoji_font, monkeypatch, capsys):
    from generation.embedded import eval_embedded

    real = eval_embedded.evaluate
    natural = [p for p in load_natural_set() if shapes_claims(p.claims) is not None][:2]

    def small(*args, **kwargs):
        kwargs.update(captions=2, natural=natural, second=natural, third=natural, speed_samples=1)
        return real(*args, **kwargs)

    monkeypatch.setattr(eval_embedded, "evaluate", small)
    eval_embedded.main("shapes", device="cpu", detector_scenes=0)
    last = capsys.readouterr().out.strip().splitlines()[-1]

    def refuse(constant: str) -> None:
        raise ValueError(f"not strict JSON: {constant}")

    figures = json.loads(last, parse_constant=refuse)
    assert figures["detector_accuracy"] is None and figures["detector_scenes"] == 0
