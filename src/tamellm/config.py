"""Typed configuration (pydantic): YAML in and out, JSON schema, helpful errors.

One ``TamellmConfig`` holds every knob; sections match the layers (data, train, tune,
serve). Unknown keys are errors that suggest the nearest valid key.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tamellm.errors import ConfigError, did_you_mean
from tamellm.tasks import trainable_tasks

TASK_NAMES = tuple(trainable_tasks())  # from the task registry: every task with a training adapter
STRATEGIES = ("auto", "full", "lora", "prompt-tuning", "prefix-tuning", "head-only", "few-shot")
_BUDGET = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*$")


def parse_budget(text: str | int | float | None) -> float | None:
    """Seconds from '90s', '10m', '1.5h' or a number of seconds; None stays None."""
    if text is None or isinstance(text, int | float):
        return None if text is None else float(text)
    match = _BUDGET.match(str(text))
    if not match:
        raise ConfigError(f"Budget '{text}' is not a duration", "use a number with s, m or h, e.g. 90s, 10m, 1h")
    return float(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[match.group(2)]


class Section(BaseModel):
    """A config section: unknown keys are refused, values are checked on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class DataConfig(Section):
    """Where the data is and which columns to use (inferred when left out)."""

    train: Path | None = Field(None, description="training data file (csv, tsv, jsonl, parquet, conll)")
    validation: Path | None = Field(None, description="validation file; split from train when left out")
    test: Path | None = Field(None, description="test file; split from train when left out")
    text_column: str | None = Field(None, description="column holding the text; inferred when left out")
    label_column: str | None = Field(None, description="column holding the label; inferred when left out")
    val_size: float = Field(0.1, gt=0, lt=0.5, description="share of train held out for validation")
    test_size: float = Field(0.1, ge=0, lt=0.5, description="share of train held out for testing")


class LoraConfig(Section):
    """LoRA adapters (peft)."""

    r: int = Field(8, ge=1, le=256, description="adapter rank")
    alpha: int = Field(16, ge=1, description="scaling numerator (alpha / r)")
    dropout: float = Field(0.1, ge=0, lt=1, description="dropout on the adapter input")


class TrainConfig(Section):
    """Fine-tuning; every value left out is chosen by the tuner or a sensible default."""

    strategy: Literal[STRATEGIES] = Field("auto", description="auto | full | lora | prompt-tuning | "
                                                               "prefix-tuning | head-only | few-shot")
    learning_rate: float | None = Field(None, gt=0, lt=1, description="peak learning rate")
    epochs: float | None = Field(None, gt=0, description="passes over the training data")
    batch_size: int | None = Field(None, ge=1, le=4096, description="examples per optimizer step")
    gradient_accumulation: int = Field(1, ge=1, description="batches accumulated per step")
    max_length: int | None = Field(None, ge=8, le=8192, description="tokens per example; from the data")
    warmup_ratio: float = Field(0.06, ge=0, lt=1, description="share of steps spent warming up")
    scheduler: Literal["linear", "cosine", "constant"] = Field("linear", description="learning-rate decay")
    weight_decay: float = Field(0.01, ge=0, lt=1, description="AdamW weight decay")
    max_grad_norm: float = Field(1.0, gt=0, description="gradient clipping")
    early_stopping_patience: int = Field(3, ge=0, description="evaluations without improvement before stopping")
    class_weights: Literal["auto", "none", "balanced"] = Field("auto", description="imbalance handling")
    lora: LoraConfig = Field(default_factory=LoraConfig)


class TuneConfig(Section):
    """Hyperparameter search (Optuna locally, Ray Tune on a cluster)."""

    trials: int | None = Field(None, ge=1, description="number of trials; or use budget")
    budget: str | None = Field("10m", description="wall-clock budget, e.g. 90s, 10m, 1h")
    backend: Literal["optuna", "ray"] = Field("optuna", description="where trials run")
    ray_address: str | None = Field(None, description="Ray cluster address (implies backend: ray)")
    storage: str | None = Field(None, description="Optuna storage URL; default: sqlite in the tune folder")
    refit: bool = Field(True, description="train a head-only winner again on train + validation (seconds)")

    @field_validator("budget")
    @classmethod
    def _budget_is_duration(cls, value: str | None) -> str | None:
        try:
            parse_budget(value)
        except ConfigError as exc:  # pydantic reports ValueErrors with the key's location
            raise ValueError(str(exc)) from None
        return value


class ServeConfig(Section):
    """The HTTP service."""

    host: str = Field("127.0.0.1", description="address to bind")
    port: int = Field(8000, ge=1, le=65535, description="port to bind")
    api_key_file: Path | None = Field(None, description="file with one API key per line")
    max_batch_size: int = Field(32, ge=1, le=1024, description="micro-batch size for classify/embed/ner")
    max_wait_ms: float = Field(5.0, ge=0, le=1000, description="how long a micro-batch waits to fill")
    max_queue: int = Field(256, ge=1, description="queued requests before 429")
    max_input_chars: int = Field(20000, ge=1, description="largest accepted input (413 above)")
    max_body_bytes: int = Field(1_048_576, ge=1024, description="largest accepted request body (413 above)")
    request_timeout_s: float = Field(60.0, gt=0, description="per-request time limit (504 above)")
    rate_limit_per_minute: int | None = Field(None, ge=1, description="requests per minute per API key")
    redact_inputs: bool = Field(False, description="redact personal data from inputs before the model")
    workers: int = Field(1, ge=1, le=64, description="server processes (models load in each)")
    threads: int | None = Field(None, ge=1, le=256, description="threads per server process, shared by the "
                                "inference threads (each call gets threads / inference_threads); default: cores / "
                                "workers")
    inference_threads: int | None = Field(
        None, ge=1, le=256, description="batched model calls (classify, embed, ner) that run at once, each on "
        "threads / inference_threads cores; default: one per thread (single-threaded calls side by side: no "
        "waiting at the kernels' thread barriers, which costs most on a busy machine); 1 = one call at a time on "
        "every thread")
    backend: Literal["auto", "transformers", "onnxruntime", "onnxruntime-int8", "onnxruntime-genai", "ctranslate2",
                     "llama.cpp"] = Field(
        "auto", description="runtime for the models it applies to: onnxruntime runs fine-tuned classifiers "
        "and embedding encoders (same weights, exported once); onnxruntime-int8 the same in dynamic int8 "
        "(opt-in: ~2.3x cheaper, answers differ slightly); onnxruntime-genai, ctranslate2 and llama.cpp "
        "run Llama/Qwen/Mistral chat models (llama.cpp: GGUF); the others stay on transformers; auto = "
        "onnxruntime for classifiers and encoders, onnxruntime-genai for chat models, falling back to "
        "transformers if their export fails")
    faq: list[str] = Field(default_factory=list,
                           description="FAQ index folders to answer from at /v1/faq/NAME/ask (DIR or NAME=DIR)")
    recommender: list[str] = Field(default_factory=list, description="recommender folders to answer from at "
                                   "/v1/recommend/NAME (DIR or NAME=DIR)")


class TamellmConfig(Section):
    """A whole tamellm job: what to train or serve, on which data, with which knobs."""

    task: Literal[TASK_NAMES] = Field("classify", description=" | ".join(TASK_NAMES))
    model: str = Field("minilm-l6", description="catalog name or model folder to start from")
    seed: int = Field(0, ge=0, description="seed for every random choice")
    output: Path = Field(Path("runs"), description="folder where runs are written")
    data: DataConfig = Field(default_factory=DataConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    tune: TuneConfig = Field(default_factory=TuneConfig)
    serve: ServeConfig = Field(default_factory=ServeConfig)


def _section_at(loc: tuple) -> type[BaseModel]:
    model: type[BaseModel] = TamellmConfig
    for part in loc:
        field = model.model_fields.get(str(part))
        annotation = getattr(field, "annotation", None)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model = annotation
    return model


def _explain(error: ValidationError, source: str) -> ConfigError:
    """Turn pydantic's errors into one message naming each key and what is accepted."""
    lines = []
    for item in error.errors():
        loc = tuple(item["loc"])
        key = ".".join(str(p) for p in loc)
        if item["type"] == "extra_forbidden":
            section = _section_at(loc[:-1])
            valid = list(section.model_fields)
            lines.append(f"unknown key '{key}'.{did_you_mean(str(loc[-1]), valid)} Valid keys here: "
                         + ", ".join(valid))
        else:
            got = item.get("input")
            lines.append(f"'{key}': {item['msg']} (got {got!r})")
    return ConfigError(f"Invalid configuration in {source}: " + "; ".join(lines))


def config_from_dict(data: dict[str, Any], source: str = "config") -> TamellmConfig:
    """Validate a dict into a config, with errors that name the key."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source} must be a mapping of keys to values, got {type(data).__name__}")
    try:
        return TamellmConfig.model_validate(data)
    except ValidationError as exc:
        raise _explain(exc, source) from None


def load_config(path: str | Path) -> TamellmConfig:
    """Read and validate a YAML config file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"Config file {path} not found", "create one with `tamellm init`")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Config file {path} is not valid YAML: {exc}".splitlines()[0]) from None
    return config_from_dict(data, str(path))


def dump_config(config: TamellmConfig) -> str:
    """The config as YAML text (paths as strings)."""
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)


def json_schema() -> dict:
    """The JSON schema of the config file."""
    return TamellmConfig.model_json_schema()


def starter_config() -> str:
    """A commented YAML starter config: every key with its default and description."""

    def render(model: BaseModel, indent: int) -> list[str]:
        out = []
        pad = "  " * indent
        for name, field in type(model).model_fields.items():
            value = getattr(model, name)
            if isinstance(value, BaseModel):
                doc = (type(value).__doc__ or "").strip().splitlines()[0]
                out += [f"{pad}# {doc}", f"{pad}{name}:"] + render(value, indent + 1)
                continue
            dumped = yaml.safe_dump(value if not isinstance(value, Path) else str(value),
                                    default_flow_style=True).strip().removesuffix("\n...").removesuffix("...")
            out.append(f"{pad}{name}: {dumped.strip()}  # {field.description}")
        return out

    header = ["# tamellm configuration. Every key is optional; delete what you don't need.",
              "# Validate with: tamellm config validate FILE   Schema: tamellm config schema"]
    return "\n".join(header + render(TamellmConfig(), 0)) + "\n"
