"""Typed configuration: YAML round trip, schema, errors that name the key."""

from __future__ import annotations

import pytest
import yaml

from tamellm.config import TamellmConfig, config_from_dict, dump_config, load_config, parse_budget, starter_config
from tamellm.errors import ConfigError


def test_starter_config_is_valid_and_commented():
    text = starter_config()
    assert text.count("#") > 20
    assert config_from_dict(yaml.safe_load(text)) == TamellmConfig()


def test_yaml_round_trip(tmp_path):
    config = config_from_dict({"task": "ner", "seed": 7, "train": {"strategy": "lora", "lora": {"r": 4}}})
    path = tmp_path / "c.yaml"
    path.write_text(dump_config(config))
    assert load_config(path) == config


@pytest.mark.parametrize(
    ("data", "fragments"),
    [
        ({"modle": "x"}, ["unknown key 'modle'", "Did you mean 'model'"]),
        ({"train": {"lora": {"rank": 4}}}, ["train.lora.rank", "Valid keys here: r, alpha, dropout"]),
        ({"train": {"strategy": "lorra"}}, ["train.strategy", "'lora'", "lorra"]),
        ({"serve": {"port": 70000}}, ["serve.port", "65535"]),
        ({"tune": {"budget": "ten minutes"}}, ["tune.budget", "10m"]),
    ],
)
def test_errors_name_the_key_and_what_is_accepted(data, fragments):
    with pytest.raises(ConfigError) as info:
        config_from_dict(data, "my.yaml")
    message = str(info.value)
    assert "my.yaml" in message
    for fragment in fragments:
        assert fragment in message


def test_bad_yaml_and_missing_file(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("train: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(path)
    with pytest.raises(ConfigError, match="tamellm init"):
        load_config(tmp_path / "absent.yaml")
    path.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_config(path)


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("10m", 600), ("1.5h", 5400), ("45", 45), (None, None)])
def test_parse_budget(text, seconds):
    assert parse_budget(text) == seconds
