"""``tamellm recommend build|for|eval``: recommendations from interactions and item texts, with reasons."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tamellm.cli.common import COMMANDS, JsonOption, console, err_console, print_json

recommend_app = typer.Typer(help="A recommender: build it from interactions and item texts, ask it, measure it.",
                            no_args_is_help=True)

InteractionsOption = Annotated[Path, typer.Option(
    "--interactions", help="Interactions file with user and item columns, optional rating and timestamp "
    "(csv, tsv, pipe-separated, jsonl, parquet; UTF-8 unless --encoding).")]
ItemsOption = Annotated[list[Path], typer.Option(
    "--items", help="Item file: an item column plus text columns (title, genres, tags, description...); "
    "repeatable (e.g. a catalogue and a tag file).")]
EncoderOption = Annotated[str | None, typer.Option(
    "--model", "-m", help="Encoder for item and user texts: catalog name or folder (default minilm-l6).")]
EncodingOption = Annotated[str | None, typer.Option(
    "--encoding", help="Text encoding of the files (default UTF-8, with or without BOM), e.g. latin-1.")]
SeedOption = Annotated[int, typer.Option("--seed", help="Seed for the factorisation and the splits.")]
RankerOption = Annotated[bool, typer.Option(
    "--ranker/--no-ranker", help="Also fine-tune the language-model ranker that re-scores the fused candidates.")]
BudgetOption = Annotated[float, typer.Option("--ranker-budget", help="Seconds of ranker training.", min=5)]


@recommend_app.command("build")
def build_command(
    interactions: InteractionsOption,
    items: ItemsOption,
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder to write the recommender to.")],
    model: EncoderOption = None,
    seed: SeedOption = 0,
    ranker: RankerOption = False,
    ranker_budget: BudgetOption = 90.0,
    encoding: EncodingOption = None,
    json_output: JsonOption = False,
) -> None:
    """Fit popularity, item-kNN, ALS and content sources, choose their fusion weights, write the folder."""
    from tamellm.apps.recommend import build_recommender

    result = build_recommender(interactions, items, output, model, seed, ranker, ranker_budget, encoding)
    if json_output:
        print_json(result.to_dict())
        return
    for line in result.warnings():
        err_console.print(f"warning: {line}", highlight=False)
    src = result.report["interactions"]
    weights = ", ".join(f"{k} {v:g}" for k, v in result.weights.items())
    console.print(f"Built {result.folder} from {src['interactions']} interactions of {src['users']} users and "
                  f"{result.report['items']['items']} item texts in {result.seconds:.1f} s; fusion weights: {weights}",
                  highlight=False)


@recommend_app.command("for")
def for_command(
    folder: Annotated[Path, typer.Argument(help="Recommender folder (from `tamellm recommend build`).")],
    user: Annotated[str | None, typer.Option("--user", "-u", help="User id seen at build time.")] = None,
    text: Annotated[str | None, typer.Option(
        "--text", "-t", help="What a new user likes, in words, e.g. 'space operas and 90s thrillers'.")] = None,
    k: Annotated[int, typer.Option("-k", "--k", help="How many items.", min=1, max=200)] = 10,
    reasons: Annotated[bool, typer.Option("--reasons/--no-reasons", help="Explain each item.")] = True,
    ranker: Annotated[bool | None, typer.Option(
        "--ranker/--no-ranker", help="Use the language-model ranker (default: as the build chose).")] = None,
    json_output: JsonOption = False,
) -> None:
    """Recommend k items to a user (or to a sentence), each with its reasons."""
    from tamellm.apps.recommend import Recommender

    result = Recommender.load(folder, ranker=ranker).recommend(user=user, text=text, k=k, reasons=reasons)
    if result.fallback:
        err_console.print(f"note: {result.fallback}", highlight=False)
    if json_output:
        print_json(result.to_dict())
        return
    for rank, rec in enumerate(result.items, 1):
        console.print(f"{rank:>3}. [{rec.item}] {rec.title}  [dim]{rec.score:.3f}[/dim]", highlight=False)
        for reason in rec.reasons:
            console.print(f"       - {reason['text']}", highlight=False)


@recommend_app.command("eval")
def eval_command(
    interactions: InteractionsOption,
    items: ItemsOption,
    holdout: Annotated[int, typer.Option("--holdout", help="Each user's last N interactions are held out.",
                                         min=1)] = 5,
    cold_fraction: Annotated[float, typer.Option(
        "--cold-fraction", help="Share of items whose interactions are removed for the cold-start run.")] = 0.1,
    model: EncoderOption = None,
    seed: SeedOption = 0,
    ranker: RankerOption = False,
    ranker_budget: BudgetOption = 90.0,
    encoding: EncodingOption = None,
    json_output: JsonOption = False,
) -> None:
    """Recall@10 and NDCG@10 of every arm on a temporal split, and on cold items (text only)."""
    from tamellm.apps.recommend import evaluate

    result = evaluate(interactions, items, holdout=holdout, cold_fraction=cold_fraction, seed=seed, encoder=model,
                      ranker=ranker, ranker_budget=ranker_budget, encoding=encoding)
    if json_output:
        print_json(result)
        return
    for title, table in (("all items", result["results"]), ("cold items (text only)", result["cold_start"])):
        console.print(f"[bold]{title}[/bold]")
        for arm, metrics in table.items():
            if isinstance(metrics, dict):
                console.print(f"  {arm:>12}: recall@10 {metrics['recall@10']:.4f}  ndcg@10 {metrics['ndcg@10']:.4f}"
                              f"  ({metrics['users']} users)", highlight=False)


@COMMANDS.register("recommend")
def register(app: typer.Typer) -> None:
    """Add the ``recommend`` command group to the app."""
    app.add_typer(recommend_app, name="recommend")
