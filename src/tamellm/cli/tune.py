"""``tamellm tune --config cfg.yaml``: AutoTune from a config (every knob reachable, resumable)."""

from __future__ import annotations

from typing import Annotated

import typer

from tamellm.cli.common import COMMANDS, JsonOption, ModelOption
from tamellm.cli.train import run_tune
from tamellm.cli.train_output import (
    BackendOption,
    BudgetOption,
    ConfigOption,
    DataOption,
    OutputOption,
    RayOption,
    ResumeOption,
    SeedOption,
    TrialsOption,
)


def tune_command(
    config: ConfigOption = None,
    data: DataOption = None,
    model: ModelOption = None,
    output: OutputOption = None,
    budget: BudgetOption = None,
    trials: TrialsOption = None,
    seed: SeedOption = None,
    backend: BackendOption = None,
    ray_address: RayOption = None,
    resume: ResumeOption = False,
    search_augment: Annotated[bool, typer.Option(
        "--search-augment", help="Also search training-data augmentation (none / eda / perturb and a ratio) for "
                                 "the strategies that encode the texts in every trial (not head-only).")] = False,
    json_output: JsonOption = False,
) -> None:
    """Search strategy and hyperparameters (Optuna, or Ray Tune with --ray-address) within a budget."""
    from tamellm.tuning.job import job_config

    job = job_config(data, config, model=model, seed=seed)
    if job.data.train is None:
        raise typer.BadParameter("give the training data with --data FILE or data.train in --config")
    run_tune({"config": job, "budget": budget, "trials": trials, "backend": backend,
              "ray_address": ray_address, "output": output, "resume": resume, "search_augment": search_augment},
             json_output)


@COMMANDS.register("tune")
def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("tune")(tune_command)
