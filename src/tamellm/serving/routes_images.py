"""``POST /v1/images/classify``: an image classifier served like the text classifiers (images as base64)."""

from __future__ import annotations

import base64
import binascii
import os
import tempfile

from fastapi import APIRouter, Depends, FastAPI
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from tamellm.serving.deps import authorize, get_state
from tamellm.serving.errors import APIError
from tamellm.serving.state import ServerState

router = APIRouter(prefix="/v1/images", dependencies=[Depends(authorize)], tags=["images"])
MAX_IMAGES = 64


class ImageClassifyRequest(BaseModel):
    images: list[str] = Field(..., min_length=1, max_length=MAX_IMAGES,
                              description="Images (PNG, JPEG, WebP, ...) as base64 strings (a data: URL prefix is "
                                          "accepted).")
    model: str | None = Field(None, description="A served image classifier (default: the first one).")
    explain: bool = Field(False, description="Also return which regions decided (occlusion heat map, slower).")


class ImageClassification(BaseModel):
    index: int
    label: str
    score: float
    scores: dict[str, float]
    explanation: dict | None = None


class ImageClassifyResponse(BaseModel):
    model: str
    data: list[ImageClassification]


def _decode(index: int, value: str) -> bytes:
    payload = value.split(",", 1)[1] if value.startswith("data:") else value
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise APIError(422, f"'images[{index}]' is not valid base64", "invalid_value", param="images") from None
    if not data:
        raise APIError(422, f"'images[{index}]' is empty", "invalid_value", param="images")
    return data


@router.post("/classify", response_model=ImageClassifyResponse,
             summary="Classify images with a served image classifier (EfficientNet-Lite0 fine-tuned by tamellm)")
async def classify_images(body: ImageClassifyRequest, state: ServerState = Depends(get_state)) -> ImageClassifyResponse:
    served, model = state.pool.get(("image-classify",), body.model, "image classification")
    blobs = [_decode(i, value) for i, value in enumerate(body.images)]

    def run() -> list[ImageClassification]:
        with tempfile.TemporaryDirectory(prefix="tamellm-images-") as folder:
            paths = []
            for i, blob in enumerate(blobs):
                path = os.path.join(folder, f"image-{i}")  # the format is read from the bytes, not a suffix
                with open(path, "wb") as handle:
                    handle.write(blob)
                paths.append(path)
            results = model.predict(paths)
            explained = model.explain(paths) if body.explain else [None] * len(paths)
            return [ImageClassification(index=i, label=r.label, score=r.score, scores=r.scores,
                                        explanation=None if e is None else {k: v for k, v in e.to_dict().items()
                                                                            if k != "image"})
                    for i, (r, e) in enumerate(zip(results, explained, strict=True))]

    data = await state.within_timeout(run_in_threadpool(run), "The image classification")
    return ImageClassifyResponse(model=served.name, data=data)


def install(app: FastAPI) -> None:
    """Mount the image routes."""
    app.include_router(router)
