"""Request and response bodies (pydantic): they validate input and document the API in /docs."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Texts = str | list[str]
MAX_ITEMS = 2048  # texts per request, as OpenAI's embeddings endpoint
# OpenAI's ``stop``: a text or up to 4 texts that end the answer where they first appear (not included).
Stop = str | Annotated[list[str], Field(max_length=4)] | None
STOP_DESCRIPTION = "text(s) that end the answer where they first appear, not included (up to 4)"


class _Request(BaseModel):
    # OpenAI clients send fields we do not use (user, logprobs, ...): ignore them, don't refuse.
    model_config = ConfigDict(extra="ignore")


# ---- OpenAI-compatible ----
class ChatMessage(BaseModel):
    role: Literal["system", "user", "assistant"]
    content: str = Field(description="the message text")


class ChatRequest(_Request):
    model: str | None = Field(None, description="a served model name; the first chat model when left out")
    messages: list[ChatMessage] = Field(min_length=1, max_length=256)
    stream: bool = False
    max_tokens: int | None = Field(None, ge=1, le=4096)
    max_completion_tokens: int | None = Field(None, ge=1, le=4096)
    temperature: float = Field(0.0, ge=0, le=2, description="0 = greedy (the default here)")
    top_p: float = Field(0.95, gt=0, le=1)
    seed: int | None = Field(None, ge=0, le=2**32 - 1)
    stop: Stop = Field(None, description=STOP_DESCRIPTION)
    n: int = Field(1, ge=1, le=1, description="only 1 is supported")


class CompletionRequest(_Request):
    model: str | None = None
    prompt: str | list[str] = Field(description="a prompt, or a list of prompts (answered as user turns)")
    max_tokens: int = Field(16, ge=1, le=4096)
    temperature: float = Field(0.0, ge=0, le=2, description="0 = greedy (the default here)")
    top_p: float = Field(0.95, gt=0, le=1)
    seed: int | None = Field(None, ge=0, le=2**32 - 1)
    stop: Stop = Field(None, description=STOP_DESCRIPTION)
    stream: Literal[False] = Field(False, description="streaming is offered by /v1/chat/completions")
    n: int = Field(1, ge=1, le=1)


class EmbeddingRequest(_Request):
    model: str | None = None
    input: str | list[str] = Field(description="a text or a list of texts")
    encoding_format: Literal["float", "base64"] = "float"


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int = 0
    total_tokens: int


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "tamellm"
    tasks: list[str] = Field(default_factory=list)


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class ChatChoice(BaseModel):
    index: int
    message: ChatMessage
    finish_reason: str


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[ChatChoice]
    usage: Usage


class CompletionChoice(BaseModel):
    index: int
    text: str
    finish_reason: str
    logprobs: None = None


class Completion(BaseModel):
    id: str
    object: Literal["text_completion"] = "text_completion"
    created: int
    model: str
    choices: list[CompletionChoice]
    usage: Usage


class EmbeddingItem(BaseModel):
    object: Literal["embedding"] = "embedding"
    index: int
    embedding: list[float] | str


class EmbeddingList(BaseModel):
    object: Literal["list"] = "list"
    data: list[EmbeddingItem]
    model: str
    usage: Usage


# ---- task routes ----
class PredictRequest(_Request):
    model: str | None = None
    task: str | None = Field(None, description="the task to run (default: the model's own task)")
    input: str | list[str]


class PredictResponse(BaseModel):
    object: Literal["list"] = "list"
    model: str
    task: str
    data: list[dict[str, Any]]


class ClassifyRequest(_Request):
    model: str | None = None
    input: str | list[str]
    labels: list[str] | None = Field(
        None, description="candidate labels (zero-shot with an encoder)", max_length=256
    )
    multi_label: bool = False


class ClassifyItem(BaseModel):
    index: int
    label: str
    score: float
    scores: dict[str, float]
    labels: list[str]


class ClassifyResponse(BaseModel):
    object: Literal["list"] = "list"
    model: str
    data: list[ClassifyItem]


class NerRequest(_Request):
    model: str | None = None
    input: str | list[str]


class EntityOut(BaseModel):
    text: str
    label: str
    start: int
    end: int
    score: float | None = None


class NerItem(BaseModel):
    index: int
    entities: list[EntityOut]


class NerResponse(BaseModel):
    object: Literal["list"] = "list"
    model: str
    data: list[NerItem]


class SummarizeRequest(_Request):
    model: str | None = None
    input: str | list[str]
    max_words: int = Field(40, ge=5, le=500)


class SummaryItem(BaseModel):
    index: int
    summary: str


class SummarizeResponse(BaseModel):
    object: Literal["list"] = "list"
    model: str
    data: list[SummaryItem]


class ExplainRequest(_Request):
    model: str | None = None
    input: str = Field(description="the text whose prediction is explained")
    method: str | None = Field(None, description="attribution method; the library's default when left out")
    label: str | None = Field(None, description="the output to explain; the prediction when left out")
    labels: list[str] | None = Field(None, description="candidate labels for a zero-shot classifier")
    all_labels: bool = Field(False, description="also the scores toward every other class / entity (per_label)")


class ExplainResponse(BaseModel):
    model: str
    explanation: dict[str, Any]
