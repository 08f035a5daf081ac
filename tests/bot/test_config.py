"""config.yaml validation: unknown keys and bad values fail naming the file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, Settings, load_settings, parse_settings
from bot.domain import Platform, QuotaPolicy

REPO = Path(__file__).resolve().parents[2]


def test_shipped_config_yaml_is_valid_and_matches_the_defaults() -> None:
    assert load_settings(REPO / "config.yaml") == Settings()


def test_unknown_key_is_named(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("worker:\n  batch_sise: 4\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert f"{path}: worker.batch_sise: unknown key" in str(caught.value)


def test_unknown_key_in_a_nested_section_owned_elsewhere_is_named() -> None:
    with pytest.raises(ConfigError, match=r"safety\.image\.treshold: unknown key"):
        parse_settings({"safety": {"image": {"treshold": 0.5}}})


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"worker": {"batch_size": 0}}, "worker.batch_size"),
        ({"web": {"port": "eighty"}}, "web.port"),
        ({"generation": {"dtype": "float8"}}, "generation.dtype"),
        ({"generation": {"device": "gpu"}}, "generation.device"),
        ({"generation": {"compile": False}}, "generation.compile"),  # YAML's unquoted off
        ({"quotas": {"per_platform": {"myspace": {"max_in_flight": 1}}}}, "quotas.per_platform.myspace"),
        ({"worker": {"heartbeat_seconds": 60, "lease_seconds": 30}}, "worker"),
    ],
)
def test_bad_value_is_named(data: dict, key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(data)
    assert f"config.yaml: {key}" in str(caught.value)


def test_yaml_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("- storage\n")
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        load_settings(path)


def test_missing_explicit_file_is_an_error_but_missing_default_means_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_settings(tmp_path / "absent.yaml")
    monkeypatch.chdir(tmp_path)
    assert load_settings() == Settings()


def test_per_platform_quota_overrides_only_what_it_names() -> None:
    settings = parse_settings(
        {"quotas": {"images_per_window": 5, "per_platform": {"x": {"max_in_flight": 1}}}}
    )
    assert settings.quotas.policy_for(Platform.X) == QuotaPolicy(5, 3600, 1)
    assert settings.quotas.policy_for(Platform.WEB) == QuotaPolicy(5, 3600, 2)


def test_database_url_env_overrides_config() -> None:
    settings = Settings()
    assert settings.database_url({}) == "sqlite:///var/dallebot.db"
    assert settings.database_url({"DALLEBOT_DATABASE_URL": "postgresql+psycopg://u:p@h/db"}).endswith("/db")
