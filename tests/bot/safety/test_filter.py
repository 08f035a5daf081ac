"""SafetyFilter: verdicts, thresholds, fail-closed image gate, actions, and config switches."""

from __future__ import annotations

import logging

import pytest
import yaml
from PIL import Image
from pydantic import ValidationError

from bot.safety import SafetyFilter, SafetySettings, SafetyUnavailable, Verdict
from bot.safety.filter import IMAGE_BLOCKED, PROMPT_REFUSED
from bot.safety.policy import Category
from tests.bot.safety.conftest import FixedScore, make_filter


def test_word_list_refusal_carries_gate_score_threshold_and_entry(safety: SafetyFilter) -> None:
    verdict = safety.check_prompt("a n.u.d.e woman")
    assert verdict.gate == "prompt" and not verdict.allowed
    assert (verdict.score, verdict.threshold, verdict.reason) == (1.0, 0.7, PROMPT_REFUSED)
    assert verdict.category is Category.SEXUAL
    assert verdict.detail is not None and "sexual:" in verdict.detail and "nude" in verdict.detail


def test_a_number_in_a_prompt_is_not_leetspeak(safety: SafetyFilter) -> None:
    """A false positive seen in use: "1011" read as leet spelled a deny-listed word."""
    assert safety.check_prompt("a watercolour fox number 1011").allowed
    assert not safety.check_prompt("a watercolour fox number l0l1").allowed


def test_ordinary_prompt_passes_with_the_classifier_score(safety: SafetyFilter) -> None:
    verdict = safety.check_prompt("an astronaut riding a horse on the moon")
    assert verdict.allowed and verdict.gate == "prompt" and verdict.reason == ""
    assert 0.0 <= verdict.score < verdict.threshold == 0.7
    assert verdict.detail == f"languages en; classifier {verdict.score:.3f}" and verdict.category is None


def test_classifier_refuses_above_its_threshold() -> None:
    # No listed word here: the classifier decides, and a threshold of 0.01 makes it refuse.
    verdict = make_filter(prompt={"threshold": 0.01}).check_prompt("a woman on a bed")
    assert not verdict.allowed and verdict.threshold == 0.01 and verdict.score >= 0.01
    assert verdict.detail is not None and verdict.detail.endswith(f"sexual: classifier {verdict.score:.3f}")


def test_operator_lists_come_from_settings() -> None:
    safety = make_filter(prompt={"deny": ["clown*"], "allow": ["naked flamingo"]})
    assert not safety.check_prompt("a clowning act").allowed
    assert (safety.check_prompt("a clowning act").detail or "").endswith("sexual: config deny list: 'clown*'")
    allowed = safety.check_prompt("a naked flamingo")
    assert allowed.allowed and "allow list: 'naked flamingo'" in (allowed.detail or "")


def test_image_below_threshold_is_posted(image: Image.Image) -> None:
    safety = make_filter(image_score=0.1)
    verdict = safety.check_image(image)
    assert verdict == Verdict("image", True, 0.1, 0.8, "", "fixed 0.100")
    assert safety.image_action(verdict, platform="discord", nsfw_channel=False) == "post"


def test_high_score_is_flagged_and_blocked(image: Image.Image) -> None:
    verdict = make_filter(image_score=0.93).check_image(image)
    assert verdict.flagged and verdict.score == 0.93 and verdict.threshold == 0.8
    assert verdict.reason == IMAGE_BLOCKED


def test_threshold_is_inclusive_and_configurable(image: Image.Image) -> None:
    assert make_filter(image_score=0.8).check_image(image).flagged
    assert not make_filter(image_score=0.8, image={"threshold": 0.85}).check_image(image).flagged


@pytest.mark.parametrize(
    ("platform", "nsfw_channel", "spoiler_platforms", "action"),
    [
        ("discord", True, ["discord"], "spoiler"),  # the one place a spoiler is allowed
        ("discord", False, ["discord"], "block"),  # not an NSFW channel
        ("discord", True, [], "block"),  # the operator did not allow spoilers
        ("x", True, ["discord"], "block"),
        ("web", False, ["discord"], "block"),
    ],
)
def test_flagged_image_action(
    image: Image.Image, platform: str, nsfw_channel: bool, spoiler_platforms: list[str], action: str
) -> None:
    safety = make_filter(image_score=0.95, image={"spoiler_in_nsfw_channels": spoiler_platforms})
    verdict = safety.check_image(image)
    assert safety.image_action(verdict, platform=platform, nsfw_channel=nsfw_channel) == action


def test_image_action_needs_an_image_verdict(safety: SafetyFilter) -> None:
    with pytest.raises(ValueError, match="image verdict"):
        safety.image_action(safety.check_prompt("a cat"), platform="web", nsfw_channel=False)


def test_classifier_failure_fails_closed_and_logs(
    image: Image.Image, caplog: pytest.LogCaptureFixture
) -> None:
    safety = make_filter(image_score=RuntimeError("onnxruntime session crashed"))
    with caplog.at_level(logging.ERROR, logger="bot.safety.filter"), pytest.raises(SafetyUnavailable) as err:
        safety.check_image(image)
    assert "onnxruntime session crashed" in str(err.value) and "nothing was posted" in str(err.value)
    assert "image will not be posted" in caplog.text


@pytest.mark.parametrize("bad", [float("nan"), -0.1, 1.5])
def test_invalid_score_fails_closed(image: Image.Image, bad: float) -> None:
    with pytest.raises(SafetyUnavailable, match="invalid score"):
        make_filter(image_score=bad).check_image(image)


def test_verdict_record_matches_store_record_safety(image: Image.Image) -> None:
    verdict = make_filter(image_score=0.9).check_image(image)
    assert verdict.record("block") == {
        "gate": "image",
        "score": 0.9,
        "threshold": 0.8,
        "flagged": True,
        "action": "block",
    }


# -- config switches ----------------------------------------------------------------------------


def test_gates_are_on_by_default() -> None:
    settings = SafetySettings()
    assert settings.prompt.enabled and settings.image.enabled
    assert settings.image.spoiler_in_nsfw_channels == []


def test_disabled_prompt_gate_allows_everything_and_warns(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.safety.filter"):
        safety = make_filter(prompt={"enabled": False})
    assert "safety.prompt.enabled is false" in caplog.text
    verdict = safety.check_prompt("a nude woman")
    assert verdict.allowed and verdict.detail == "disabled"
    assert safety.lexicon is None and safety.prompt_model is None


def test_disabled_image_gate_never_calls_a_classifier(
    image: Image.Image, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.safety.filter"):
        safety = SafetyFilter.from_settings(SafetySettings(image={"enabled": False}))
    assert "safety.image.enabled is false" in caplog.text
    assert safety.image_classifier is None  # nothing loaded
    verdict = safety.check_image(image)
    assert verdict.allowed and verdict.detail == "disabled"


def test_no_warning_when_both_gates_are_on(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.safety.filter"):
        make_filter()
    assert caplog.text == ""


def test_enabled_gate_without_its_component_is_an_error() -> None:
    with pytest.raises(ValueError, match="prompt gate is enabled"):
        SafetyFilter(SafetySettings(), lexicon=None, prompt_model=None, image_classifier=FixedScore(0.0))
    with pytest.raises(ValueError, match="image gate is enabled"):
        SafetyFilter(
            SafetySettings(prompt={"enabled": False}), lexicon=None, prompt_model=None, image_classifier=None
        )


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"prompt": {"treshold": 0.5}}, "prompt.treshold"),
        ({"image": {"threshold": 1.5}}, "image.threshold"),
        ({"image": {"spoiler_in_nsfw_channels": ["myspace"]}}, "image.spoiler_in_nsfw_channels.0"),
        ({"prompt": {"deny": ["  "]}}, "prompt.deny"),
        ({"gates": {}}, "gates"),
    ],
)
def test_bad_settings_name_the_key(data: dict[str, object], key: str) -> None:
    with pytest.raises(ValidationError) as err:
        SafetySettings.model_validate(data)
    assert key in str(err.value)


def test_config_yaml_safety_section_is_valid() -> None:
    with open("config.yaml", encoding="utf-8") as f:
        section = yaml.safe_load(f)["safety"]
    settings = SafetySettings.model_validate(section)
    assert settings == SafetySettings()  # the file documents the defaults


@pytest.mark.parametrize(
    "prompt",
    ["bailarinas planas color nude para la boda", "sapatilhas bailarinas cor nude, foto de catálogo"],
)
def test_the_english_deny_list_does_not_refuse_a_word_inside_an_allow_entry(
    safety: SafetyFilter, prompt: str
) -> None:
    """"color nude" is an allow entry of the terms (every language); the built-in English deny list
    matched its "nude" and handed it to the rules beside the dancers, refusing ballet flats."""
    verdict = safety.check_prompt(prompt)
    assert verdict.allowed, verdict.detail


@pytest.mark.parametrize(
    "prompt", ["bailarinas desnudas, color nude", "nude dancers on a stage, nude color lighting"]
)
def test_the_same_word_outside_the_allow_entry_still_counts(safety: SafetyFilter, prompt: str) -> None:
    verdict = safety.check_prompt(prompt)
    assert not verdict.allowed and verdict.category is Category.SEXUAL
