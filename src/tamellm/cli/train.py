"""``tamellm train --data FILE``: fine-tune with the hyperparameters chosen for you.

Without hyperparameters it runs AutoTune within ``--budget`` (or ``--trials``); with
``--strategy`` / ``--lr`` / ``--epochs`` (or a config that sets them) it trains once.
"""

from __future__ import annotations

from typing import Annotated

import typer

from tamellm.cli.common import COMMANDS, JsonOption, ModelOption, print_json
from tamellm.cli.train_output import (
    BackendOption,
    BudgetOption,
    ConfigOption,
    DataOption,
    LabelColumnOption,
    OutputOption,
    RayOption,
    ResumeOption,
    SeedOption,
    TaskOption,
    TextColumnOption,
    TrialsOption,
    plain,
    show_columns,
    show_summary,
    show_tune_summary,
)

DEFAULT_BUDGET = "5m"


def run_tune(options: dict, json_output: bool) -> None:
    """Tune (Optuna / Ray), then show the best trial's metrics and where things are."""
    from tamellm import api

    result = api.tune(**options)
    if json_output:
        print_json(plain(result.to_dict()))
        return
    show_tune_summary(result)


def run_single(options: dict, json_output: bool) -> None:
    """One training run with the given hyperparameters, then its HTML report."""
    from tamellm import api

    result = api.train(**options)
    report = api.report(result.run_dir)
    if json_output:
        print_json({**plain(result), "report": str(report)})
        return
    show_summary(result.metrics, result.model_dir, report, result.seconds,
                 ", stopped early" if result.stopped_early else "")


def train_command(
    data: DataOption = None,
    model: ModelOption = None,
    task: TaskOption = None,
    output: OutputOption = None,
    config: ConfigOption = None,
    strategy: Annotated[str | None, typer.Option("--strategy", help="full | lora | prompt-tuning | "
                                                 "prefix-tuning | head-only | few-shot (default: tuned)")] = None,
    learning_rate: Annotated[float | None, typer.Option("--lr", "--learning-rate", help="Peak learning rate.")]
    = None,
    epochs: Annotated[float | None, typer.Option("--epochs", help="Passes over the training data.")] = None,
    batch_size: Annotated[int | None, typer.Option("--batch-size", help="Examples per step.")] = None,
    max_length: Annotated[int | None, typer.Option("--max-length", help="Tokens per example.")] = None,
    budget: BudgetOption = None,
    trials: TrialsOption = None,
    seed: SeedOption = None,
    resume: ResumeOption = False,
    backend: BackendOption = None,
    ray_address: RayOption = None,
    text_column: TextColumnOption = None,
    label_column: LabelColumnOption = None,
    json_output: JsonOption = False,
    augment: Annotated[str | None, typer.Option("--augment", help="Augment the training data: eda | perturb "
                                                "(robustness perturbations); off by default.")] = None,
    adversarial: Annotated[str | None, typer.Option("--adversarial", help="Adversarial training on the "
                                                    "embeddings: fgm | pgd; off by default.")] = None,
    epsilon: Annotated[float | None, typer.Option("--epsilon", help="Perturbation size for --adversarial "
                                                  "(L2 per example, default 1.0).")] = None,
) -> None:
    """Fine-tune a model on your data; hyperparameters are tuned unless you give them.

    With --strategy / --lr / --epochs it trains once (add --budget or --trials to tune the rest).
    """
    from tamellm import api
    from tamellm.tuning.job import job_config

    overrides = {"model": model, "task": task, "seed": seed, "strategy": strategy, "learning_rate": learning_rate,
                 "epochs": epochs, "batch_size": batch_size, "max_length": max_length,
                 "text_column": text_column, "label_column": label_column}
    job = job_config(data, config, **overrides)
    if job.data.train is None:
        raise typer.BadParameter("give the training data with --data FILE (or data.train in --config)")
    if not json_output:
        show_columns(api.inspect_data(job.data.train, job.task, job.data.text_column, job.data.label_column))
    hyper = job.train.strategy != "auto" or job.train.learning_rate is not None or job.train.epochs is not None
    robust = {k: v for k, v in (("augment", augment), ("adversarial", adversarial), ("epsilon", epsilon))
              if v is not None}
    if hyper and not (budget or trials or backend or ray_address):
        run_single({"config": job, "run_dir": output, "resume": resume, **robust}, json_output)
        return
    if robust:
        raise typer.BadParameter("--augment / --adversarial / --epsilon apply to one training run: give the "
                                 "strategy too (e.g. --strategy full), without --budget / --trials")
    if not (budget or trials or config):
        budget = DEFAULT_BUDGET  # a few minutes; a config's own tune.budget / tune.trials apply otherwise
    run_tune({"config": job, "budget": budget, "trials": trials,
              "backend": backend, "ray_address": ray_address, "output": output, "resume": resume}, json_output)


@COMMANDS.register("train")
def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("train")(train_command)

