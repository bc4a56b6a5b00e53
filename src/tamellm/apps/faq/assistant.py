"""The FAQ assistant: answers a customer's question from the FAQ, cites it, or hands off to a person."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from tamellm.apps.faq import store
from tamellm.apps.faq.build import build_index, index_meta
from tamellm.apps.faq.calibration import calibrate
from tamellm.apps.faq.checks import MAX_QUESTION_CHARS, check_question
from tamellm.apps.faq.entries import FaqEntry
from tamellm.apps.faq.index import MODES, FaqIndex, Hit, Mode, embed
from tamellm.apps.faq.rerank import DEPTH as RERANK_DEPTH
from tamellm.apps.faq.rerank import Reranker
from tamellm.errors import InputError

TOP_K = 5
CHAT_MODEL = "smollm2-135m-instruct"
HANDOFF_REPLY = "I'm not sure the FAQ answers that, so I'm passing you to a colleague."
# Words that make a short question lean on the one before it ("and for credit cards?", "how long does it take?").
_FOLLOW_UP = re.compile(r"^(and|or|but|also|what about|how about|same|then)\b|\b(it|its|that|this|those|these|"
                        r"they|them|there|one)\b", re.IGNORECASE)
History = Sequence[str | dict]


@dataclass
class FaqAnswer:
    """One FAQ entry retrieved for a question, with its score (higher is better)."""

    id: str
    question: str
    answer: str
    score: float

    def to_dict(self) -> dict:
        return {"id": self.id, "question": self.question, "answer": self.answer, "score": self.score}


@dataclass
class FaqReply:
    """The assistant's answer: candidates best first, whether to hand off, and the reply to show.

    ``confidence`` (dense similarity of the best entry) is compared with ``threshold``;
    ``query`` is the text that was searched (the question joined to the previous one for a follow-up).
    """

    answers: list[FaqAnswer]
    handoff: bool
    reply: str
    confidence: float = 0.0
    threshold: float = 0.0
    query: str = ""
    follow_up: bool = False
    cited: list[str] = field(default_factory=list)
    intent: dict | None = None  # {"label", "score"} from the intent classifier, when the assistant has one
    source: dict | None = None  # the file the question was read from: {"text", "file", "kind", ...}

    def to_dict(self) -> dict:
        out = {"answers": [a.to_dict() for a in self.answers], "handoff": self.handoff, "reply": self.reply}
        if self.intent is not None:
            out["intent"] = self.intent
        if self.source is not None:
            out["input"] = self.source
        return out

    @property
    def best(self) -> FaqAnswer | None:
        return self.answers[0] if self.answers else None


def previous_questions(history: History | None) -> list[str]:
    """The customer's earlier questions from a history of strings or ``{"role", "content"}`` messages."""
    out = []
    for i, turn in enumerate(history or []):
        if isinstance(turn, str):
            text = turn
        elif isinstance(turn, dict) and isinstance(turn.get("content"), str):
            if turn.get("role", "user") != "user":
                continue
            text = turn["content"]
        else:
            raise InputError(f"history item #{i + 1} is a {type(turn).__name__}",
                             "pass earlier questions as strings or {'role': 'user', 'content': ...} messages")
        if text.strip():
            out.append(text.strip()[:MAX_QUESTION_CHARS])
    return out


def looks_like_follow_up(question: str) -> bool:
    """Short questions that start with 'and', 'what about' ... or point back with 'it', 'that', ..."""
    return len(question.split()) <= 8 and bool(_FOLLOW_UP.search(question))


def read_question(path: str | os.PathLike, speech_model: str | None = None) -> tuple[str, dict]:
    """The question in an image (OCR), a PDF or an audio file (Whisper), through the media layer:
    ``(text, {"text", "file", "kind", ...})``, the second part telling where the text was read."""
    import tamellm.api as api
    from tamellm.media import AUDIO_SUFFIXES, IMAGE_SUFFIXES, PDF_SUFFIXES, is_media

    if not is_media(path):
        accepted = ", ".join(IMAGE_SUFFIXES + PDF_SUFFIXES + AUDIO_SUFFIXES)
        raise InputError(f"{path}: not an image, PDF or audio file", f"pass a file ending in {accepted}, "
                                                                     "or type the question")
    media = api.read_files([path], speech_model=speech_model)[0]
    # one line per question: OCR splits a picture of a question into lines
    text = " ".join(media.text.split())
    return text, {"text": text, **media.provenance()}


def verbatim_reply(answer: FaqAnswer) -> str:
    """The best answer as written in the FAQ, with its citation."""
    return f"{answer.answer} [{answer.id}]"


def handoff_reply(answers: list[FaqAnswer]) -> str:
    """What the customer reads on a handoff: a person will take over, and the nearest entries meanwhile."""
    nearest = "; ".join(f"{a.question} [{a.id}]" for a in answers[:3])
    return f"{HANDOFF_REPLY} Meanwhile, these might help: {nearest}" if nearest else HANDOFF_REPLY


def grounded_messages(question: str, answers: list[FaqAnswer]) -> list[dict[str, str]]:
    """A chat prompt that lets the model answer only from the retrieved FAQ answers, citing their ids."""
    sources = "\n".join(f"[{a.id}] Q: {a.question}\nA: {a.answer}" for a in answers)
    system = ("You are a customer-service assistant. Answer the customer's question using only the FAQ "
              "entries below, in one or two sentences, and end with the id of the entry you used in square "
              f"brackets, like [{answers[0].id}].\n\n{sources}")
    return [{"role": "system", "content": system}, {"role": "user", "content": question}]


def cited_ids(text: str, answers: list[FaqAnswer]) -> list[str]:
    """The ids of ``answers`` that ``text`` cites as ``[id]``."""
    return [a.id for a in answers if f"[{a.id}]" in text]


class FaqAssistant:
    """Hybrid retrieval over a FAQ index, a calibrated handoff, grounded replies.

        >>> assistant = FaqAssistant.load("faq/")
        >>> reply = assistant.ask("how can I reset my password?")
        >>> reply.to_dict()  # {"answers": [...], "handoff": False, "reply": "... [12]"}
    """

    def __init__(self, index: FaqIndex, folder: str | os.PathLike | None = None, threshold: float | None = None,
                 mode: Mode = "hybrid", top_k: int = TOP_K, chat_model: str = CHAT_MODEL,
                 generate_sources: int = 3, rerank: bool | None = None,
                 intent_model: str | os.PathLike | None = None) -> None:
        if mode not in MODES:
            raise InputError(f"Unknown retrieval mode '{mode}'", f"use one of {', '.join(MODES)}")
        self.index = index
        self.folder = Path(folder) if folder is not None else None
        self.fixed_threshold = threshold
        self.mode = mode
        self.top_k = top_k
        self.chat_model = chat_model
        self.generate_sources = max(1, generate_sources)  # retrieved answers the chat model may read
        self.rerank = rerank  # None: rerank when the index has a reranker that passed its build-time check
        self._reranker = None
        self.intent_model = intent_model  # a classifier folder (e.g. Banking77 intents) for routing
        self._intent = None
        self._lock = threading.Lock()  # one update at a time; readers keep the index they started with

    @classmethod
    def load(cls, folder: str | os.PathLike, **options) -> FaqAssistant:
        """The assistant over the FAQ index in ``folder`` (built by ``tamellm faq build``)."""
        return cls(store.load(folder), folder, **options)

    @classmethod
    def from_entries(cls, entries: Sequence[FaqEntry | dict], encoder: str | None = None,
                     **options) -> FaqAssistant:
        """An in-memory assistant over ``entries`` (dicts with question, answer and optionally id)."""
        return cls(build_index(_as_entries(entries, []), encoder), None, **options)

    def warm_up(self) -> None:
        """Load the encoder (and the reranker, the intent classifier) now (a server calls this before it is ready)."""
        embed(["warm up"], self.index.encoder)
        self.reranker()
        self.intent_classifier()

    def reranker(self) -> Reranker | None:
        """The index's cross-encoder when reranking is on and the index has one (loaded once)."""
        if self.rerank is False:
            return None
        folder = store.reranker_folder(self.folder, self.index.meta)
        if folder is None:
            if self.rerank:
                raise InputError("This FAQ index has no reranker", "build it with `tamellm faq build ... --rerank`")
            return None
        if self.rerank is None and not self.index.meta["rerank"].get("enabled", True):
            return None  # it ranked the build's check questions worse than the retriever: only on request
        if self._reranker is None:
            self._reranker = Reranker.load(folder)
        return self._reranker

    def intent_classifier(self):
        """The intent classifier (loaded once), or None when the assistant has none."""
        if self.intent_model is None:
            return None
        if self._intent is None:
            import tamellm.api as api

            loaded = api.load(self.intent_model)
            if loaded.task != "classify":
                raise InputError(f"The intent model '{self.intent_model}' is a {loaded.task} model, not a classifier",
                                 "pass a classifier folder trained with `tamellm train` (e.g. on Banking77 intents)")
            self._intent = loaded
        return self._intent

    def _reranked(self, query: str, hits: list[Hit], k: int) -> list[Hit]:
        """The retrieved ``hits`` reordered by the cross-encoder, scored by its probability of relevance."""
        reranker = self.reranker()
        if reranker is None:
            return hits[:k]
        logits = reranker.scores(query, [self.index.entries[h.position] for h in hits])
        probability = 1 / (1 + np.exp(-logits.astype(np.float64)))
        order = np.argsort(-logits, kind="stable")[:k]
        return [replace(hits[i], score=float(probability[i])) for i in order]

    @property
    def threshold(self) -> float:
        """The confidence under which the assistant hands off."""
        if self.fixed_threshold is not None:
            return self.fixed_threshold
        return float(self.index.meta.get("threshold", 0.5))

    def __len__(self) -> int:
        return len(self.index)

    def _check(self, question: object) -> str:
        if not len(self.index):
            where = f" in {self.folder}" if self.folder else ""
            raise InputError(f"The FAQ index{where} has no entries",
                             "add entries (POST .../entries) or build it from a FAQ file")
        return check_question(question, self.index.meta.get("scripts"))

    def retrieve(self, question: str, history: History | None = None, top_k: int | None = None,
                 mode: Mode | None = None) -> FaqReply:
        """The best entries and the handoff decision, without writing a reply."""
        text = self._check(question)
        index = self.index
        k = max(top_k or self.top_k, 1)
        mode = mode or self.mode
        depth = max(k, RERANK_DEPTH) if self.reranker() is not None else k  # candidates the reranker reorders
        hits = index.search(text, depth, mode)
        query, follow_up = text, False
        earlier = previous_questions(history)
        if earlier:
            joined = f"{earlier[-1]} {text}"
            joined_hits = index.search(text, depth, mode, context=earlier[-1])
            standalone_weak = hits[0].dense < self.threshold <= joined_hits[0].dense
            if standalone_weak or (looks_like_follow_up(text) and joined_hits[0].dense >= hits[0].dense):
                hits, query, follow_up = joined_hits, joined, True
        hits = self._reranked(query, hits, k)
        answers = [_answer(index, hit) for hit in hits]
        confidence = hits[0].dense
        handoff = confidence < self.threshold
        intent = None
        classifier = self.intent_classifier()
        if classifier is not None:  # the question alone: routing labels the customer's words, not the history
            label = classifier.predict(text)
            intent = {"label": label.label, "score": round(float(label.score), 4)}
        return FaqReply(answers, handoff, "", round(confidence, 4), self.threshold, query, follow_up, intent=intent)

    def ask(self, question: str | os.PathLike | None = None, history: History | None = None,
            top_k: int | None = None, generate: bool = False, mode: Mode | None = None,
            max_new_tokens: int = 120, file: str | os.PathLike | None = None,
            speech_model: str | None = None) -> FaqReply:
        """Answer ``question`` (with ``history``, the earlier questions, for follow-ups).

        The reply is the best answer verbatim with its id in brackets; with ``generate`` the chat
        model rephrases from the retrieved answers only and cites ids. Below the calibrated
        threshold ``handoff`` is true and the reply says a person will take over.
        ``file`` (or a ``Path`` as ``question``): the question is read from an image, a PDF or an
        audio file (``speech_model``: the Whisper model for audio); ``result.source`` holds the text read.
        """
        if isinstance(question, os.PathLike):
            question, file = None, question if file is None else file
        if file is not None and question is not None:
            raise InputError("Give the question either as text or as a file, not both",
                             "drop the text, or drop the file")
        source = None
        if file is not None:
            question, source = read_question(file, speech_model)
        result = self.retrieve(question, history, top_k, mode)
        result.source = source
        if result.handoff:
            result.reply = handoff_reply(result.answers)
        elif generate:
            result.reply, result.cited = self._generate(result, max_new_tokens)
        else:
            result.reply, result.cited = verbatim_reply(result.answers[0]), [result.answers[0].id]
        return result

    def stream(self, question: str, history: History | None = None, top_k: int | None = None,
               mode: Mode | None = None, max_new_tokens: int = 120) -> tuple[FaqReply, Iterator[str]]:
        """The retrieval result at once and the generated reply as an iterator of pieces."""
        import tamellm.api as api

        result = self.retrieve(question, history, top_k, mode)
        if result.handoff:
            result.reply = handoff_reply(result.answers)
            return result, iter([result.reply])
        messages = grounded_messages(result.query, result.answers[: self.generate_sources])
        return result, api.chat(messages, model=self.chat_model, stream=True, max_new_tokens=max_new_tokens)

    def _generate(self, result: FaqReply, max_new_tokens: int = 120) -> tuple[str, list[str]]:
        import tamellm.api as api

        sources = result.answers[: self.generate_sources]
        text = api.chat(grounded_messages(result.query, sources), model=self.chat_model,
                            max_new_tokens=max_new_tokens).text.strip()
        cited = cited_ids(text, sources)
        if not cited:  # the small model often forgets the citation: cite the entry the reply is grounded in
            text, cited = f"{text} [{sources[0].id}]", [sources[0].id]
        return text, cited

    # Updates: a new index is built beside the current one, saved atomically, then swapped in.

    def add(self, entries: Sequence[FaqEntry | dict]) -> list[str]:
        """Add entries (dicts with question, answer and optionally id); returns their ids."""
        with self._lock:
            new = _as_entries(entries, self.index.ids())
            self._replace(self.index.with_entries(new, set()))
            return [e.id for e in new]

    def remove(self, ids: Sequence[str]) -> list[str]:
        """Remove entries by id; an unknown id raises InputError (nothing is removed then)."""
        with self._lock:
            known = set(self.index.ids())
            missing = [str(i) for i in ids if str(i) not in known]
            if missing:
                raise InputError(f"No FAQ entry with id {', '.join(map(repr, missing[:5]))}",
                                 f"the index holds {len(known)} entries; list them with GET .../entries")
            self._replace(self.index.with_entries([], {str(i) for i in ids}))
            return [str(i) for i in ids]

    def _replace(self, index: FaqIndex) -> None:
        calibration = calibrate(index) if len(index) else {"threshold": self.index.meta.get("threshold", 0.5)}
        if self.index.meta.get("calibration", {}).get("method") == "given":
            calibration = {**calibration, "threshold": self.index.meta["threshold"], "method": "given"}
        index.meta = index_meta(index, calibration) if len(index) else {**index.meta, **calibration}
        if self.folder is not None:
            store.save(index, self.folder)
        self.index = index


def _answer(index: FaqIndex, hit: Hit) -> FaqAnswer:
    entry = index.entries[hit.position]
    return FaqAnswer(entry.id, entry.question, entry.answer, round(hit.score, 6))


def _as_entries(items: Sequence[FaqEntry | dict], taken: list[str]) -> list[FaqEntry]:
    """Checked entries with ids: given ids must be new; missing ids are the next free numbers."""
    used = set(taken)
    numbers = [int(i) for i in taken if i.isdigit()]
    next_id = max(numbers, default=-1) + 1
    out = []
    for n, item in enumerate(items):
        if isinstance(item, FaqEntry):
            item = item.to_dict()
        if not isinstance(item, dict):
            raise InputError(f"Entry #{n + 1} is a {type(item).__name__}", "pass {'question': ..., 'answer': ...}")
        question, answer = str(item.get("question") or "").strip(), str(item.get("answer") or "").strip()
        if not question or not answer:
            missing = "question" if not question else "answer"
            raise InputError(f"Entry #{n + 1} has no {missing}", "every entry needs a question and an answer")
        entry_id = str(item["id"]).strip() if item.get("id") not in (None, "") else None
        if entry_id is None:
            while str(next_id) in used:
                next_id += 1
            entry_id = str(next_id)
        if entry_id in used:
            raise InputError(f"Entry id '{entry_id}' is already in the FAQ", "remove it first, or give a new id")
        used.add(entry_id)
        out.append(FaqEntry(entry_id, question, answer))
    if not out:
        raise InputError("No entries given", "pass at least one {'question': ..., 'answer': ...}")
    return out
