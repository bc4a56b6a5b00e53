"""``tamellm quickstart``: a guided tour of the default models (the main job of ``make demo``)."""

from __future__ import annotations

import time

import typer
from rich.panel import Panel

from tamellm.cli.common import JsonOption, console, print_json

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


def quickstart_command(json_output: JsonOption = False) -> None:
    """Run each one-line function on the default (offline) models and show the results."""
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
    if json_output:
        print_json(collected)
        return
    console.print("Next: [bold]tamellm models[/] lists the models, [bold]tamellm chat[/] opens a chat, "
                  "[bold]tamellm --help[/] shows every command.")


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("quickstart")(quickstart_command)
