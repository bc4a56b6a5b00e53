"""Building a FAQ index folder from a FAQ file: read, embed, index, calibrate, write atomically."""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from tamellm.apps.faq import store
from tamellm.apps.faq.calibration import calibrate, calibrate_fusion
from tamellm.apps.faq.checks import main_scripts, script_counts
from tamellm.apps.faq.entries import FaqEntry, FaqFileReport, read_faq
from tamellm.apps.faq.index import FaqIndex


@dataclass
class BuildResult:
    """What ``build_faq`` wrote: the folder, the entries kept, the file report and the calibration."""

    folder: Path
    entries: int
    report: FaqFileReport
    calibration: dict
    seconds: float
    fusion: dict = field(default_factory=dict)
    models: dict = field(default_factory=dict)  # "tune" / "rerank": what training did, and the model's folder
    encoder: dict = field(default_factory=dict)  # {"name", "why"}: the encoder used and why it was picked

    def to_dict(self) -> dict:
        return {"folder": str(self.folder), "entries": self.entries, "report": self.report.to_dict(),
                "encoder": self.encoder, "calibration": self.calibration, "fusion": self.fusion,
                "models": self.models, "seconds": round(self.seconds, 2)}


def default_encoder(texts: list[str]) -> tuple[str, str]:
    """The catalog encoder for a FAQ written in ``texts``' language, and why (the task layer's choice:
    ``minilm-l6`` for English, the multilingual default for Chinese, Russian, ...)."""
    from tamellm.languages import detect_language
    from tamellm.models.catalog import CATALOG
    from tamellm.tasks.loading import default_model_name

    name = default_model_name("embed", texts)
    language = detect_language(texts)
    languages = CATALOG[name].languages if name in CATALOG else ()
    covers = "many languages" if "*" in languages else ", ".join(languages) or "?"
    where = f"the FAQ is written in '{language}'" if language else "the FAQ's language could not be told"
    return name, f"default encoder for embeddings: {where}; {name} covers {covers}"


def resolve_encoder(encoder: str | os.PathLike | None, texts: list[str] | None = None) -> str:
    """A catalog name as given, a folder as an absolute path (the index may be used from elsewhere);
    ``None``: the default encoder for the language of ``texts``."""
    if encoder is None:
        return default_encoder(texts or [])[0]
    path = Path(encoder)
    return str(path.resolve()) if path.exists() else str(encoder)


def encoder_choice(encoder: str | os.PathLike | None, entries: list[FaqEntry]) -> dict:
    """``{"name", "why"}`` of the encoder a build uses: the one given, or the default for the FAQ's language."""
    if encoder is not None:
        return {"name": resolve_encoder(encoder), "why": "given"}
    name, why = default_encoder([e.question for e in entries] + [e.answer for e in entries])
    return {"name": name, "why": why}


def index_meta(index: FaqIndex, calibration: dict) -> dict:
    """Metadata stored beside the index: calibration and the scripts its text is written in."""
    texts = [e.question for e in index.entries] + [e.answer for e in index.entries]
    return {**index.meta, "calibration": calibration, "threshold": calibration["threshold"],
            "scripts": main_scripts(script_counts(texts))}


def build_index(entries: list[FaqEntry], encoder: str | os.PathLike | None = None,
                threshold: float | None = None, fusion: dict | None = None) -> FaqIndex:
    """An index of ``entries`` with its handoff threshold and fusion weight calibrated on the FAQ itself
    (or ``threshold`` / ``fusion`` when given)."""
    index = FaqIndex.build(entries, resolve_encoder(encoder, [e.question for e in entries]))
    calibration = calibrate(index)
    if threshold is not None:
        calibration = {**calibration, "calibrated_threshold": calibration["threshold"], "threshold": threshold,
                       "method": "given"}
    index.meta = {**index_meta(index, calibration), "fusion": fusion or calibrate_fusion(index)}
    return index


# Catalog encoders tried beside the language default when a FAQ is large enough to tell them apart on
# questions made from itself. On BankFAQs (1,436 entries) multilingual-e5-small ranked those questions
# better than minilm-l6 (fusion MRR 0.944 against 0.935) and, on the held-out questions, tied BM25's
# recall@1 where minilm-l6 fell 2 questions short; it is ~2x slower per question. all-mpnet-base-v2 is
# not compared: on BankFAQs it ranked those questions worse (0.934) and the held-out ones too (fused
# recall@1 0.814 against e5's 0.838), and indexing 1,436 entries with it took 5-6x minilm-l6's time on
# the shared 2 cores (32 s against 6 s, 141 s against 28 s under more load); --model all-mpnet-base-v2
# still uses it.
COMPARED_ENCODERS = ("multilingual-e5-small",)
MIN_ENTRIES_TO_COMPARE = 200  # below this, 400 simulated questions are mostly the same few entries


def _installed(name: str) -> bool:
    from tamellm.models.catalog import CATALOG

    return name in CATALOG and CATALOG[name].locate(assemble=False) is not None


def _best_mrr(index: FaqIndex) -> float:
    return max(index.meta["fusion"].get("mrr_by_dense_weight", {"-": 0.0}).values())


def index_with_best_encoder(entries: list[FaqEntry], choice: dict, threshold: float | None = None,
                            compare: bool = True) -> tuple[FaqIndex, dict]:
    """The index with the encoder of ``choice``, or with one of ``COMPARED_ENCODERS`` when that one ranks the
    FAQ's own simulated questions clearly better (fused MRR at its calibrated best weight, by more than
    one question's reciprocal rank). No labelled question is used: the held-out evaluation stays honest.
    """
    index = build_index(entries, choice["name"], threshold)
    if not compare or len(entries) < MIN_ENTRIES_TO_COMPARE or "mrr_by_dense_weight" not in index.meta["fusion"]:
        return index, choice
    scores = {choice["name"]: _best_mrr(index)}
    margin = 1 / max(int(index.meta["fusion"].get("simulated_queries", 1)), 1)
    winner = index
    for name in COMPARED_ENCODERS:
        if name in scores or not _installed(name):
            continue
        other = build_index(entries, name, threshold)
        scores[name] = _best_mrr(other)
        if scores[name] > _best_mrr(winner) + margin:
            winner = other
    compared = {name: round(score, 4) for name, score in scores.items()}
    if winner is index:
        return index, {**choice, "compared": compared}
    questions = index.meta["fusion"].get("simulated_queries")
    why = (f"{winner.encoder} ranked {questions} questions made from the FAQ better than {choice['name']} "
           f"(fused MRR {compared[winner.encoder]} against {compared[choice['name']]}); "
           f"{choice['name']} was the first choice ({choice['why']})")
    return winner, {"name": winner.encoder, "why": why, "compared": compared}


def build_faq(data: str | os.PathLike, output: str | os.PathLike, encoder: str | os.PathLike | None = None,
              question_column: str | None = None, answer_column: str | None = None, id_column: str | None = None,
              threshold: float | None = None, tune: bool = False, rerank: bool = False,
              tune_loss: str = "in-batch") -> BuildResult:
    """Read the FAQ file ``data``, index it with ``encoder`` and write it to ``output``.

    Without ``encoder``, the catalog's default encoder for the FAQ's language (``minilm-l6`` for
    English, ``multilingual-e5-small`` for Chinese and other languages); on a FAQ of
    ``MIN_ENTRIES_TO_COMPARE`` entries or more (and without ``tune``) ``COMPARED_ENCODERS`` are tried too
    and kept when they rank questions made from the FAQ clearly better. ``BuildResult.encoder`` says
    which encoder and why.

    ``tune`` first adapts the encoder to this FAQ (contrastively, on its own question/answer pairs);
    ``rerank`` trains a cross-encoder from the encoder's body that reorders the best candidates.
    Both models are written inside ``output`` and travel with it.
    """
    start = time.perf_counter()
    folder = store.check_target(output)  # before the slow part
    entries, report = read_faq(data, question_column, answer_column, id_column)
    models: dict[str, dict] = {}
    choice = encoder_choice(encoder, entries)
    base = choice["name"]
    staged: list[tuple[Path, Path]] = []  # (staging, final): models are trained under a hidden name first

    def stage(prefix: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        name = store.new_model_name(prefix)
        staged.append((folder / f".staging-{name}", folder / name))
        return staged[-1][0]

    try:
        if tune:
            from tamellm.apps.faq.tune import tune_encoder

            models["tune"] = tune_encoder(entries, stage("encoder"), base, loss=tune_loss)
            index = build_index(entries, staged[0][0].resolve(), threshold)
        else:
            index, choice = index_with_best_encoder(entries, choice, threshold, compare=encoder is None)
            base = choice["name"]
        if rerank:
            from tamellm.apps.faq.rerank import train_reranker

            models["rerank"] = train_reranker(index, stage("reranker"), base)
        for (_, final), info in zip(staged, models.values(), strict=True):
            info["folder"] = final.name
        index.meta.update(models)
        for staging, final in staged:
            os.replace(staging, final)
        if tune:
            index.encoder = str(staged[0][1].resolve())
    except BaseException:
        for staging, _ in staged:
            shutil.rmtree(staging, ignore_errors=True)
        raise
    index.meta["source"] = report.to_dict()
    index.meta["encoder_choice"] = choice
    folder = store.save(index, output)
    return BuildResult(folder, len(entries), report, index.meta["calibration"], time.perf_counter() - start,
                       index.meta["fusion"], models, choice)
