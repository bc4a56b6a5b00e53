"""The web page (``/``, its static files) and the JSON endpoints only the page needs (``/ui/api``).

The page itself reaches the models through the ordinary API routes (/v1/classify,
/v1/chat/completions, ...); the endpoints here add what those do not have: the run
folders, uploads with a data preview, training jobs and the explainer list. Every
``/ui/api`` route checks the API key like the ``/v1`` routes.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from tamellm.errors import TamellmError
from tamellm.paths import cache_dir
from tamellm.serving.deps import authorize, get_state
from tamellm.serving.errors import APIError
from tamellm.serving.jobs import FINISHED, JobQueue
from tamellm.serving.pool import ModelPool, ServedModel
from tamellm.serving.state import ServerState
from tamellm.ui import STATIC_DIR, views
from tamellm.ui.page import SECURITY_HEADERS, render_index

RUNS_ENV = "TAMELLM_RUNS_DIR"
UPLOAD_SUFFIXES = (".csv", ".tsv", ".jsonl", ".json", ".parquet", ".conll")
EVENT_INTERVAL_S = 0.5
KEEPALIVE_S = 15.0

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/ui/api", dependencies=[Depends(authorize)], tags=["web page"])


@dataclass
class UIState:
    """What the page's endpoints share: the runs folder, the uploads folder and the job queue."""

    runs_root: Path
    uploads: Path
    jobs: JobQueue


def runs_root() -> Path:
    """The runs folder the page lists and trains into: $TAMELLM_RUNS_DIR, else ./runs."""
    return Path(os.environ.get(RUNS_ENV) or "runs").resolve()


def install(app: FastAPI) -> None:
    """Mount the page, its static files and its endpoints on ``app``."""
    root = runs_root()
    app.state.tamellm_ui = UIState(root, cache_dir("uploads"), JobQueue(root))
    app.mount("/ui/static", StaticFiles(directory=STATIC_DIR), name="ui-static")
    app.include_router(pages)
    app.include_router(api)


def _ui(request: Request) -> UIState:
    return request.app.state.tamellm_ui


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("tamellm")
    except metadata.PackageNotFoundError:
        return "0"


@pages.get("/", response_class=HTMLResponse)
async def index() -> HTMLResponse:
    """The page; what it shows comes from the API with the user's key."""
    return HTMLResponse(render_index(_version()), headers=SECURITY_HEADERS)


def _bad_input(exc: TamellmError) -> APIError:
    hint = f" ({exc.hint})" if getattr(exc, "hint", None) else ""
    return APIError(400, f"{exc.message}{hint}", "invalid_input")


def _served(state: ServerState) -> list[dict[str, Any]]:
    return [{"name": m.name, "source": m.source, "tasks": list(m.tasks)} for m in state.pool.models.values()]


def _monitor_names() -> list[str]:
    from tamellm.apps.monitor.http import ENV_VAR, load_config

    path = os.environ.get(ENV_VAR)
    try:
        return sorted(load_config(path)) if path else []
    except TamellmError:  # the monitor routes report a broken file themselves
        return []


@api.get("/info", summary="What the page needs to start: served models, explainers, runs folder, limits, apps")
async def info(request: Request, state: ServerState = Depends(get_state)) -> dict[str, Any]:
    ui = _ui(request)
    return {
        "version": _version(),
        "models": _served(state),
        "explainers": views.explainer_names(),
        "runs_dir": str(ui.runs_root),
        "max_upload_bytes": state.settings.max_body_bytes,
        "max_input_chars": state.settings.max_input_chars,
        "workers": state.settings.workers,
        "apps": {
            # What routes_faq / routes_recommend loaded at start (app.state), and the monitors' file.
            "faq": sorted(getattr(request.app.state, "tamellm_faqs", {}) or {}),
            "monitor": await asyncio.to_thread(_monitor_names),
            "recommend": sorted(getattr(request.app.state, "tamellm_recommenders", {}) or {}),
        },
    }


@api.get("/models", summary="The model catalog and the models this server has loaded")
async def models(state: ServerState = Depends(get_state)) -> dict[str, Any]:
    def describe(m) -> dict[str, Any]:
        try:  # where a catalog name resolved to; a runtime without that information keeps its source
            folder = m.tasks[m.main_task].info().get("path") or m.source
        except Exception:  # noqa: BLE001 - size and table are extras: never fail the listing for them
            folder = m.source
        return {"name": m.name, "source": m.source, "tasks": list(m.tasks),
                "backend": type(m.tasks[m.main_task]).__name__, "size_bytes": views.model_size(folder),
                "compression": views.compression_table(folder)}

    loaded = await asyncio.to_thread(lambda: [describe(m) for m in state.pool.models.values()])
    return {"catalog": await asyncio.to_thread(views.catalog), "loaded": loaded}


@api.get("/runs", summary="Run and tune folders under the server's runs folder, newest first")
async def runs(request: Request) -> dict[str, Any]:
    ui = _ui(request)
    items = await asyncio.to_thread(views.run_list, ui.runs_root)
    for item in items:
        item["name"] = str(Path(item["path"]).resolve().relative_to(ui.runs_root))
    return {"runs_dir": str(ui.runs_root), "data": items}


@api.get("/runs/{name:path}", summary="One run: metrics, learning curves, confusion matrix, params, HPO trials")
async def run_detail(name: str, request: Request) -> dict[str, Any]:
    try:
        return await asyncio.to_thread(views.run_detail, _ui(request).runs_root, name)
    except TamellmError as exc:
        raise APIError(404, exc.message, "run_not_found", param="name") from None


class RunPredictRequest(BaseModel):
    input: str = Field(min_length=1, max_length=20000, description="a text for the run's model")


@api.post("/runs/{name:path}/predict", summary="Predict with a run's model (loaded once, then cached)")
async def run_predict(name: str, body: RunPredictRequest, request: Request,
                      state: ServerState = Depends(get_state)) -> dict[str, Any]:
    from tamellm.api import load

    try:
        folder = views.run_folder(_ui(request).runs_root, name)
    except TamellmError as exc:
        raise APIError(404, exc.message, "run_not_found", param="name") from None
    loop = asyncio.get_running_loop()

    def run() -> dict:
        return load(folder).predict(body.input).to_dict()

    result = await state.within_timeout(loop.run_in_executor(state.inference, run), "The prediction")
    return {"run": name, "result": result}


def _run(request: Request, name: str) -> Path:
    try:
        return views.run_folder(_ui(request).runs_root, name)
    except TamellmError as exc:
        raise APIError(404, exc.message, "run_not_found", param="name") from None


@api.post("/runs/{name:path}/load", summary="Load a run's model into this server's pool (the playground's lists)")
async def load_run(name: str, request: Request, state: ServerState = Depends(get_state)) -> dict[str, Any]:
    folder = _run(request, name) / "model"
    if not folder.is_dir():
        raise APIError(409, f"Run '{name}' has no model folder (it did not finish)", "no_model", param="name")
    served_name = name.replace("/", "-")
    if served_name not in state.pool.models:
        def load() -> ServedModel:
            # A one-model pool loads it exactly as `tamellm serve` would (backend, the tasks it also serves).
            (served,) = ModelPool([str(folder)], state.settings.backend).models.values()
            return ServedModel(served_name, str(folder), served.tasks)

        try:
            served = await asyncio.to_thread(load)
        except TamellmError as exc:
            raise _bad_input(exc) from None
        state.pool.models[served_name] = served
        state.pool.aliases[str(folder)] = served_name
    return {"loaded": served_name, "models": _served(state)}


class CompressRequest(BaseModel):
    max_drop: float = Field(0.01, ge=0, le=1, description="accuracy the model may lose (0.01 = 1 point)")
    methods: str | None = Field("dynamic-int8,onnx-int8", pattern=r"^[a-z0-9,+-]{1,300}$",
                                description="comma-separated methods ('a+b' chains); empty: all")
    upload_id: str | None = Field(None, pattern=r"^[0-9a-f]{12}-[A-Za-z0-9_-]{1,40}$",
                                  description="labelled data to measure on; default: the run's own data file")


@api.post("/runs/{name:path}/compress", summary="Auto-compress a run's model as a job (candidates table at the end)")
async def compress_run(name: str, body: CompressRequest, request: Request,
                       state: ServerState = Depends(get_state)) -> dict[str, Any]:
    ui = _ui(request)
    _single_process(state)
    folder = _run(request, name)
    if not (folder / "model").is_dir():
        raise APIError(409, f"Run '{name}' has no model folder to compress", "no_model", param="name")
    data = _upload_path(ui, body.upload_id) if body.upload_id else views.run_data_file(folder)
    if data is None:
        raise APIError(409, f"Run '{name}' names no data file that still exists; upload labelled data on the "
                            "Train page and pass its upload_id", "no_data", param="upload_id")
    options = body.model_dump(exclude={"upload_id"}, exclude_none=True)
    return _job_view(ui, ui.jobs.submit_compress(folder, folder / "model", data, options))


class FaithfulnessRequest(BaseModel):
    model: str = Field(min_length=1, max_length=500, description="a served model's name")
    input: str = Field(min_length=1, max_length=20000)
    method: str = Field(pattern=r"^[a-z_-]{1,40}$", description="the method whose explanation is measured")
    labels: list[str] | None = Field(None, max_length=50, description="candidate labels (zero-shot)")


@api.post("/faithfulness", summary="ERASER comprehensiveness / sufficiency of a method on one text, with the "
                                   "random baseline")
async def faithfulness(body: FaithfulnessRequest, state: ServerState = Depends(get_state)) -> dict[str, Any]:
    served, _ = state.pool.get(("classify", "zero-shot-classification"), body.model, "faithfulness")
    loop = asyncio.get_running_loop()

    def run() -> list[dict]:
        return views.faithfulness(served.source, body.input, body.method, body.labels)

    try:
        rows = await state.within_timeout(loop.run_in_executor(state.inference, run), "The faithfulness")
    except TamellmError as exc:
        raise _bad_input(exc) from None
    return {"model": served.name, "data": rows}


def _safe_name(filename: str) -> tuple[str, str]:
    suffix = Path(filename).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise APIError(415, f"'{filename}': send a {', '.join(UPLOAD_SUFFIXES)} file", "unsupported_media_type",
                       param="file")
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", Path(filename).stem)[:40] or "data"
    return stem, suffix


@api.post("/uploads", summary="Upload a data file (raw body, X-Filename header); answer its preview")
async def upload(request: Request, task: str = "classify") -> dict[str, Any]:
    ui = _ui(request)
    stem, suffix = _safe_name(request.headers.get("x-filename", "data.csv"))
    body = await request.body()
    if not body:
        raise APIError(422, "The uploaded file is empty", "invalid_value", param="file")
    upload_id = f"{uuid.uuid4().hex[:12]}-{stem}"
    path = ui.uploads / f"{upload_id}{suffix}"
    path.write_bytes(body)
    try:
        preview = await asyncio.to_thread(views.data_preview, path, task)
    except TamellmError as exc:
        path.unlink(missing_ok=True)
        raise _bad_input(exc) from None
    return {"upload_id": upload_id, "filename": f"{stem}{suffix}", "bytes": len(body), "preview": preview}


class JobRequest(BaseModel):
    upload_id: str = Field(pattern=r"^[0-9a-f]{12}-[A-Za-z0-9_-]{1,40}$")
    task: str = Field("classify", pattern=r"^[a-z-]{1,40}$")
    model: str | None = Field(None, max_length=500, description="base model: catalog name or folder")
    budget: str | None = Field(None, pattern=r"^[0-9.]+[smh]?$")
    strategy: str | None = Field(None, pattern=r"^[a-z-]{1,40}$", description="empty: AutoTune picks one")
    epochs: float | None = Field(None, gt=0, le=100)
    trials: int | None = Field(None, ge=1, le=1000)
    max_length: int | None = Field(None, ge=4, le=8192)
    text_column: str | None = Field(None, max_length=200)
    label_column: str | None = Field(None, max_length=200)


def _job(request: Request, job_id: str):
    job = _ui(request).jobs.jobs.get(job_id)
    if job is None:
        raise APIError(404, f"No job '{job_id}' on this server", "job_not_found", param="job_id")
    return job


def _job_view(ui: UIState, job) -> dict[str, Any]:
    return {**job.to_dict(), "queue_position": ui.jobs.position(job)}


def _single_process(state: ServerState) -> None:
    """Jobs live in one process; with several workers each would keep its own queue and state."""
    if state.settings.workers > 1:
        raise APIError(409, f"This server runs {state.settings.workers} worker processes; jobs from the page need "
                            "one (tamellm serve --workers 1)", "jobs_need_one_worker")


def _upload_path(ui: UIState, upload_id: str) -> Path:
    found = sorted(ui.uploads.glob(f"{upload_id}.*"))
    if not found:
        raise APIError(404, f"Upload '{upload_id}' not found; upload the file again", "upload_not_found",
                       param="upload_id")
    return found[0]


@api.post("/jobs", summary="Start a training job on an uploaded file (queued behind the running one)")
async def start_job(body: JobRequest, request: Request, state: ServerState = Depends(get_state)) -> dict[str, Any]:
    ui = _ui(request)
    _single_process(state)
    options = body.model_dump(exclude={"upload_id"}, exclude_none=True)
    job = ui.jobs.submit(_upload_path(ui, body.upload_id), options)
    return _job_view(ui, job)


@api.post("/jobs/{job_id}/resume", summary="Run a stopped training job again from its last checkpoint")
async def resume_job(job_id: str, request: Request, state: ServerState = Depends(get_state)) -> dict[str, Any]:
    ui, job = _ui(request), _job(request, job_id)
    _single_process(state)
    try:
        ui.jobs.resume(job)
    except ValueError as exc:
        raise APIError(409, str(exc), "not_resumable", param="job_id") from None
    return _job_view(ui, job)


@api.get("/jobs", summary="The jobs of this runs folder (also those of an earlier server), newest first")
async def list_jobs(request: Request) -> dict[str, Any]:
    ui = _ui(request)
    jobs = sorted(ui.jobs.jobs.values(), key=lambda j: j.created, reverse=True)
    return {"data": [_job_view(ui, j) for j in jobs]}


@api.get("/jobs/{job_id}", summary="One job: status, progress rows, result or error")
async def get_job(job_id: str, request: Request) -> dict[str, Any]:
    return _job_view(_ui(request), _job(request, job_id))


@api.delete("/jobs/{job_id}", summary="Cancel a queued or running job")
async def cancel_job(job_id: str, request: Request) -> dict[str, Any]:
    ui, job = _ui(request), _job(request, job_id)
    await asyncio.to_thread(ui.jobs.cancel, job)
    return _job_view(ui, job)


@api.get("/jobs/{job_id}/events", summary="Server-sent events: the job each time it changes, until it ends")
async def job_events(job_id: str, request: Request) -> StreamingResponse:
    ui, job = _ui(request), _job(request, job_id)

    async def events():
        last, quiet = None, 0.0
        while True:
            view = await asyncio.to_thread(_job_view, ui, job)
            text = json.dumps(view, ensure_ascii=False, default=str)
            if text != last:
                last, quiet = text, 0.0
                yield f"event: job\ndata: {text}\n\n"
            elif quiet >= KEEPALIVE_S:
                quiet = 0.0
                yield ": keep-alive\n\n"
            if view["status"] in FINISHED or await request.is_disconnected():
                return
            await asyncio.sleep(EVENT_INTERVAL_S)
            quiet += EVENT_INTERVAL_S

    return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
