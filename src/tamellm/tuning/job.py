"""Building a job's TamellmConfig from a YAML file or dict, a data file and flat overrides."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tamellm.config import DataConfig, TamellmConfig, TrainConfig, TuneConfig, config_from_dict, load_config
from tamellm.errors import ConfigError, did_you_mean

SECTIONS = {"data": DataConfig, "train": TrainConfig, "tune": TuneConfig}


def job_config(
    data: str | os.PathLike | None = None,
    config: str | os.PathLike | dict | TamellmConfig | None = None,
    **overrides: Any,
) -> TamellmConfig:
    """The config of a training or tuning job.

    ``config`` is a YAML path, a dict or a TamellmConfig; ``data`` sets ``data.train``;
    ``overrides`` are flat keys (``learning_rate=1e-4``, ``budget="5m"``, ``model=...``)
    set in the section that has them (None values are ignored). An unknown key is a
    ConfigError naming it and the nearest valid key. A TamellmConfig with nothing to
    change is already validated and comes back as it is.
    """
    if isinstance(config, TamellmConfig) and data is None and all(v is None for v in overrides.values()):
        return config
    if isinstance(config, TamellmConfig):
        base = config.model_dump(exclude_unset=True)
    elif isinstance(config, dict):
        base = dict(config)
    elif config is not None:
        base = load_config(Path(config)).model_dump(exclude_unset=True)
    else:
        base = {}
    if data is not None:
        overrides["train"] = data  # data.train
        if overrides.get("task") is None and "task" not in base and data_task(data):
            overrides["task"] = data_task(data)
    for key, value in overrides.items():
        if value is None:
            continue
        if key in TamellmConfig.model_fields and key not in SECTIONS:
            base[key] = value
            continue
        section = next((name for name, cls in SECTIONS.items() if key in cls.model_fields), None)
        if section is None:
            known = [k for k in TamellmConfig.model_fields if k not in (*SECTIONS, "serve")]
            known += [k for cls in SECTIONS.values() for k in cls.model_fields]
            raise ConfigError(f"unknown setting '{key}'.{did_you_mean(key, known)}",
                              "accepted: " + ", ".join(known))
        base.setdefault(section, {})[key] = value
    return config_from_dict(base, "the job settings")


def data_task(data: str | os.PathLike) -> str | None:
    """The task a training folder implies: a folder with a sub-folder of images per class is image
    classification (tables name no task: text classification stays the default); None otherwise."""
    from tamellm.media import IMAGE_SUFFIXES

    folder = Path(data)
    if not folder.is_dir():
        return None
    for sub in folder.iterdir():
        if sub.is_dir() and any(p.suffix.lower() in IMAGE_SUFFIXES for p in sub.iterdir()):
            return "image-classify"
    return None
