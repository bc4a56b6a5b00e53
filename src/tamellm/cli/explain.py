"""``tamellm explain MODEL TEXT``: why the model answered what it answered.

    tamellm explain ./my-classifier "a gripping, funny film" --json
    tamellm explain ./my-classifier "a gripping, funny film" --html why.html
    tamellm explain --compare ./my-classifier --data dev.tsv      # rank the methods (faithfulness)
    tamellm explain --global ./my-classifier --data dev.tsv       # words that push each class
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tamellm.cli.common import COMMANDS, ColumnOption, JsonOption, console, print_json
from tamellm.cli.media_input import InputFilesOption, SpeechModelOption
from tamellm.errors import InputError


def _labels(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def explain_command(
    model: Annotated[str, typer.Argument(help="Catalog name or model folder.")],
    text: Annotated[str | None, typer.Argument(help="The text to explain.")] = None,
    method: Annotated[str | None, typer.Option("--method", help="Attribution method (default: the best "
                                                                 "measured one).")] = None,
    label: Annotated[str | None, typer.Option("--label", help="Label/entity/output to explain "
                                                               "(default: the prediction).")] = None,
    labels: Annotated[str | None, typer.Option("--labels", "-l", help="Comma-separated candidate labels "
                                                                       "(zero-shot).")] = None,
    html: Annotated[Path | None, typer.Option("--html", help="Write a self-contained HTML page here.")] = None,
    compare: Annotated[bool, typer.Option("--compare", help="Rank the methods by faithfulness on --data.")] = False,
    global_view: Annotated[bool, typer.Option("--global", help="Top words per class on --data and a "
                                                               "surrogate model.")] = False,
    data: Annotated[Path | None, typer.Option("--data", help="Dataset for --compare / --global.")] = None,
    column: ColumnOption = None,
    limit: Annotated[int, typer.Option("--limit", help="Texts used from --data.")] = 200,
    input_file: InputFilesOption = None,
    speech_model: SpeechModelOption = None,
    heatmap: Annotated[Path | None, typer.Option("--heatmap", help="Image classifier: write the image with the "
                                                                   "heat map over it (PNG).")] = None,
    json_output: JsonOption = False,
) -> None:
    """Explain a prediction: which words pushed the model toward its answer (--input: of the text read from
    images, PDFs or audio, with where each word came from)."""
    from tamellm import api

    if compare or global_view:
        if data is None:
            raise InputError("--compare and --global need --data FILE", "pass a csv, tsv, jsonl or txt file")
        if compare:
            rows = api.compare_explainers(model, data, limit=limit, column=column, labels=_labels(labels))
            if json_output:
                print_json(rows)
                return
            table = Table(title=f"faithfulness on {min(limit, rows[0]['texts'])} texts (best first)")
            for name in ("method", "comprehensiveness ↑", "sufficiency ↓", "s / text"):
                table.add_column(name)
            for r in rows:
                table.add_row(r["method"], f"{r['comprehensiveness']:.3f}", f"{r['sufficiency']:.3f}",
                              f"{r['seconds_per_text']:.3f}")
            console.print(table)
            return
        result = api.global_explanation(model, data, method=method, max_explained=limit, column=column,
                                        labels=_labels(labels))
        if json_output:
            print_json(result.to_dict())
            return
        for label_name, words in result.top_words.items():
            console.print(f"[bold]{label_name}[/]: " + ", ".join(w["word"] for w in words[:10]))
        console.print(f"surrogate fidelity {result.surrogate_fidelity:.3f}")
        return
    if input_file:
        if text is not None:
            raise InputError("Give a text either as an argument or with --input, not both")
        from tamellm.cli.media_input import image_model_inputs

        images = image_model_inputs(model, input_file)
        if images is not None:
            _explain_images(model, images, method, label, heatmap, json_output)
        else:
            _explain_files(model, input_file, method, label, labels, html, speech_model, json_output)
        return
    if text is None:
        raise InputError("No text given", "tamellm explain MODEL TEXT (or --input FILE, or --compare/--global "
                                          "MODEL --data FILE)")
    explanation = api.explain(text, model=model, method=method, label=label, labels=_labels(labels),
                              all_labels=html is not None)
    if html is not None:
        from tamellm.explanations.render_html import save_html

        save_html(html, explanation)
    if json_output:
        print_json(explanation.to_dict())
        return
    from tamellm.explanations.render_terminal import render_terminal

    console.print(render_terminal(explanation))
    if html is not None:
        console.print(f"[dim]HTML written to {html}[/]")


def _explain_images(model: str, images: list[Path], method: str | None, label: str | None, heatmap: Path | None,
                    json_output: bool) -> None:
    """Pixel attributions of an image classifier, one per image; --heatmap renders the (single) image's."""
    from tamellm import api

    if heatmap is not None and len(images) > 1:
        raise InputError("--heatmap writes one picture: give one --input image with it")
    results = [api.explain_image(str(p), model=model, method=method, label=label, heatmap=heatmap) for p in images]
    if json_output:
        print_json([r.to_dict() for r in results])
        return
    for r in results:
        console.print(f"[bold]{r.image}[/]: {r.label} ({r.method}); strongest regions:", highlight=False)
        for region in r.regions(3):
            console.print(f"  box {region['box']}  score {region['score']:+.2f}", highlight=False)
    if heatmap is not None:
        console.print(f"[dim]heat map written to {heatmap}[/]")


def _explain_files(model: str, files: list[Path], method: str | None, label: str | None, labels: str | None,
                   html: Path | None, speech_model: str | None, json_output: bool) -> None:
    """One explanation per file: of the text read from it (OCR, PDF text, speech)."""
    from tamellm import api
    from tamellm.explanations.render_terminal import render_terminal

    if html is not None and len(files) > 1:
        raise InputError("--html writes one page: give one --input file with it")
    results = api.explain_files(files, model=model, method=method, label=label, labels=_labels(labels),
                                all_labels=html is not None, speech_model=speech_model)
    if html is not None:
        from tamellm.explanations.render_html import save_html

        save_html(html, results[0].result)
    if json_output:
        print_json([r.to_dict() for r in results])
        return
    for r in results:
        console.print(f"[bold]{r.media.path}[/] ({r.media.kind})", highlight=False)
        console.print(render_terminal(r.result))


@COMMANDS.register("explain")
def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("explain")(explain_command)
