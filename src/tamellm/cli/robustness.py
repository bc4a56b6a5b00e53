"""``tamellm robustness MODEL --data FILE``: perturbation tests and an adversarial search on a classifier."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tamellm.cli.common import COMMANDS, JsonOption, console, print_json
from tamellm.cli.train_output import LabelColumnOption, TextColumnOption


def _table(result: dict) -> Table:
    metric = "entity F1" if result.get("task") == "ner" else "accuracy"
    table = Table(title=f"robustness of {result['model']}: clean {metric} {result['clean_accuracy']:.3f} "
                        f"on {result['rows']} texts")
    for name in ("test", "kind", "texts changed", "failure rate", metric):
        table.add_column(name, justify="left" if name in ("test", "kind") else "right")
    for t in result["tests"]:
        seen = t["examples"] > 0
        table.add_row(t["name"], t["kind"], str(t["examples"]), f"{t['failure_rate']:.3f}" if seen else "-",
                      f"{t['accuracy']:.3f}" if seen else "-")
    return table


def robustness_command(
    model: Annotated[str, typer.Argument(help="Classifier or NER model (folder, catalog name or run "
                                                   "folder).")],
    data: Annotated[Path, typer.Option("--data", "-d", help="Labelled test file (csv, tsv, jsonl, parquet; for NER: "
                                                                    "CoNLL or JSONL tokens and tags).")],
    text_column: TextColumnOption = None,
    label_column: LabelColumnOption = None,
    tests: Annotated[str | None, typer.Option("--tests", help="Comma-separated test names (default: all).")] = None,
    limit: Annotated[int, typer.Option("--limit", help="Test a seeded sample of at most N rows.")] = 1000,
    attack_limit: Annotated[int, typer.Option("--attack-limit", help="Attack at most N correct texts.")] = 100,
    no_attack: Annotated[bool, typer.Option("--no-attack", help="Skip the adversarial search.")] = False,
    max_fraction: Annotated[float, typer.Option("--max-fraction", help="Most words the attack may change.")] = 0.3,
    method: Annotated[str | None, typer.Option("--method", help="Explanation method ranking the words.")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the sample and the perturbations.")] = 0,
    output: Annotated[Path | None, typer.Option("--output", "-o",
                                                help="Folder for robustness.json and robustness.html (default: "
                                                     "the run folder, when MODEL is one).")] = None,
    json_output: JsonOption = False,
) -> None:
    """Where does a classifier or NER model break? Typos, case, punctuation, contractions, swapped names and
    numbers, synonyms, distractors, negation, intensifiers, and a greedy synonym attack (NER: typos outside the
    entities, case, punctuation, swapped entities, distractors; failure = the entity set changes)."""
    from tamellm import api
    from tamellm.robust.report import default_output

    output = output if output is not None else default_output(model)
    result = api.robustness(model, data, output=output, text_column=text_column, label_column=label_column,
                            tests=tests, limit=limit, seed=seed, attack=not no_attack, attack_limit=attack_limit,
                            max_fraction=max_fraction, method=method).to_dict()
    if json_output:
        print_json(result)
        return
    console.print(_table(result))
    attack = result["attack"]
    if attack:
        console.print(f"attack: {attack['success_rate']:.1%} of {attack['attacked']} correctly classified texts "
                      f"flipped, {attack['mean_words_changed']:.2f} words changed on average "
                      f"(ranked by {attack['method']}, synonyms from {attack['synonyms']})")
    if output is not None:
        console.print(f"report: {output / 'robustness.html'}")
        if default_output(model) == output:
            console.print(f"the run report shows it: tamellm report {model}")


@COMMANDS.register("robustness")
def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("robustness")(robustness_command)
