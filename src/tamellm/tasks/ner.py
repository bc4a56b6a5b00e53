"""Named entities: spaCy for the packaged default, transformers for fine-tuned folders."""

from __future__ import annotations

from tamellm.inputs import as_text_list
from tamellm.results import Entity, EntityResult
from tamellm.tasks.base import TaskModel
from tamellm.tasks.spec import TaskSpec, register_task


class SpacyEntityRecognizer(TaskModel):
    """spaCy's statistical NER, run in batches through ``nlp.pipe``."""

    explain_target = "spacy-ner"

    def predict(self, inputs: str | list[str], batch_size: int = 64) -> EntityResult | list[EntityResult]:
        """Find the entities of one text or a list of texts."""
        texts, single = as_text_list(inputs)
        docs = self.model.pipe(texts, batch_size=batch_size)
        results = [
            EntityResult(t, [Entity(e.text, e.label_, e.start_char, e.end_char) for e in doc.ents])
            for t, doc in zip(texts, docs, strict=True)
        ]
        return results[0] if single else results


class TokenClassifierRecognizer(TaskModel):
    """A fine-tuned token-classification model; word pieces are merged into entities."""

    explain_target = "ner"

    def __init__(self, loaded) -> None:
        super().__init__(loaded)
        from transformers import pipeline

        # The pipeline's "simple" aggregation merges B-/I- pieces into spans with offsets.
        self._pipe = pipeline("token-classification", model=self.model, tokenizer=self.tokenizer,
                              aggregation_strategy="simple", device=-1)

    def predict(self, inputs: str | list[str], batch_size: int = 32) -> EntityResult | list[EntityResult]:
        """Find the entities of one text or a list of texts."""
        texts, single = as_text_list(inputs)
        outputs = self._pipe(texts, batch_size=batch_size)
        results = [
            EntityResult(t, [Entity(t[e["start"]:e["end"]], e["entity_group"], int(e["start"]), int(e["end"]),
                                    round(float(e["score"]), 6)) for e in ents])
            for t, ents in zip(texts, outputs, strict=True)
        ]
        return results[0] if single else results


register_task(TaskSpec(
    name="ner", description="text -> named entities (people, organisations, places, ...) with their spans",
    models={"spacy": SpacyEntityRecognizer, "transformers": TokenClassifierRecognizer,
            "compressed": TokenClassifierRecognizer},
    data_schema="tokens-tags", evaluator="ner", adapter="ner", primary_metric=("f1", "max"),
    auto_strategies=("lora", "full", "head-only"), default_strategy="full",
    also_serves=("embed", "zero-shot-classification"),
))
