"""Baseline of bench/serve_throughput.py: a naive FastAPI server, one model call per request.

/v1/classify: a transformers ``pipeline("text-classification")`` call per request;
/v1/embeddings: a sentence-transformers ``encode`` call per request (the MiniLM encoder).

Run: .venv/bin/python bench/serve_naive_server.py MODEL_FOLDER PORT [ENCODER_FOLDER]
"""

from __future__ import annotations

import sys

import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel
from transformers import pipeline


class Body(BaseModel):
    input: str


class EmbedBody(BaseModel):
    input: str
    model: str | None = None


def build(folder: str, encoder: str | None = None) -> FastAPI:
    classifier = pipeline("text-classification", model=folder, device="cpu", top_k=None)
    app = FastAPI()
    if encoder:
        from sentence_transformers import SentenceTransformer

        embedder = SentenceTransformer(encoder, device="cpu")

        @app.post("/v1/embeddings")
        def embed(body: EmbedBody) -> dict:  # one text per call, in FastAPI's thread pool
            vector = embedder.encode(body.input)
            return {"object": "list", "data": [{"object": "embedding", "index": 0, "embedding": vector.tolist()}]}

    @app.post("/v1/classify")
    def classify(body: Body) -> dict:  # a plain def: FastAPI runs it in its thread pool, one text per call
        scores = classifier(body.input)
        scores = scores[0] if scores and isinstance(scores[0], list) else scores
        best = max(scores, key=lambda s: s["score"])
        return {
            "data": [{"index": 0, "label": best["label"], "scores": {s["label"]: s["score"] for s in scores}}]
        }

    @app.get("/readyz")
    def ready() -> dict:
        return {"status": "ready"}

    return app


if __name__ == "__main__":
    uvicorn.run(build(sys.argv[1], sys.argv[3] if len(sys.argv) > 3 else None), host="127.0.0.1",
                port=int(sys.argv[2]), log_level="warning")
