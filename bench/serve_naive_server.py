"""Baseline of bench/serve_throughput.py: a naive FastAPI server, a transformers pipeline call per request.

Run: .venv/bin/python bench/serve_naive_server.py MODEL_FOLDER PORT
"""

from __future__ import annotations

import sys

import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel
from transformers import pipeline


class Body(BaseModel):
    input: str


def build(folder: str) -> FastAPI:
    classifier = pipeline("text-classification", model=folder, device="cpu", top_k=None)
    app = FastAPI()

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
    uvicorn.run(build(sys.argv[1]), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
