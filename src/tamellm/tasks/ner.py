"""Named entities: spaCy for the packaged default, transformers for fine-tuned folders."""

from __future__ import annotations

from tamellm.inputs import as_text_list
from tamellm.results import Entity, EntityResult
from tamellm.tasks.base import TaskModel, register


@register("ner", kinds=("spacy",))
class SpacyEntityRecognizer(TaskModel):
    """spaCy's statistical NER, run in batches through ``nlp.pipe``."""

    def predict(self, inputs: str | list[str], batch_size: int = 64) -> EntityResult | list[EntityResult]:
        """Find the entities of one text or a list of texts."""
        texts, single = as_text_list(inputs)
        docs = self.model.pipe(texts, batch_size=batch_size)
        results = [
            EntityResult(t, [Entity(e.text, e.label_, e.start_char, e.end_char) for e in doc.ents])
            for t, doc in zip(texts, docs, strict=True)
        ]
        return results[0] if single else results


@register("ner", kinds=("transformers",))
class TokenClassifierRecognizer(TaskModel):
    """A fine-tuned token-classification model; word pieces are merged into entities."""

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
