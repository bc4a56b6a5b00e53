"""``tamellm faq build|ask|eval``: a customer-service FAQ assistant from a FAQ file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tamellm.cli.common import COMMANDS, JsonOption, console, err_console, print_json

faq_app = typer.Typer(help="A FAQ assistant: build an index from a FAQ file, ask it questions, measure it.",
                      no_args_is_help=True)

ModeOption = Annotated[str, typer.Option("--mode", help="hybrid (dense + BM25, default), dense or bm25.")]
RerankOption = Annotated[
    bool | None, typer.Option("--rerank/--no-rerank",
                              help="Reorder candidates with the index's cross-encoder (default: when it has one).")
]
ThresholdOption = Annotated[
    float | None, typer.Option("--threshold", help="Hand off below this confidence (default: the calibrated one).")
]


@faq_app.command("build")
def build_command(
    data: Annotated[Path, typer.Argument(help="FAQ file (csv, tsv, jsonl, parquet) with question and answer columns.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder to write the index to.")],
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Encoder: catalog name or folder (default: the catalog's "
                                                   "encoder for the FAQ's language, minilm-l6 for English).")
    ] = None,
    question_column: Annotated[str | None, typer.Option("--question-column", help="Question column.")] = None,
    answer_column: Annotated[str | None, typer.Option("--answer-column", help="Answer column.")] = None,
    id_column: Annotated[
        str | None, typer.Option("--id-column", help="Id column (default: 'id', else the row number).")
    ] = None,
    threshold: ThresholdOption = None,
    tune: Annotated[
        bool, typer.Option("--tune", help="Adapt the encoder to this FAQ first (contrastive, on its own pairs).")
    ] = False,
    tune_loss: Annotated[
        str, typer.Option("--tune-loss", help="in-batch (default: in-batch negatives) or pairs (few-shot's).")
    ] = "in-batch",
    rerank: Annotated[
        bool, typer.Option("--rerank", help="Train a cross-encoder reranker from the encoder's body on this FAQ.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Index a FAQ: embeddings, BM25, a fusion weight and a handoff threshold calibrated on the FAQ itself."""
    from tamellm.apps.faq import build_faq

    result = build_faq(data, output, model, question_column, answer_column, id_column, threshold, tune=tune,
                       rerank=rerank, tune_loss=tune_loss)
    if json_output:
        print_json(result.to_dict())
        return
    for line in result.report.warnings():
        err_console.print(f"warning: {line}", highlight=False)
    cal = result.calibration
    console.print(f"Encoder: {result.encoder['name']} ({result.encoder['why']})", highlight=False)
    console.print(f"Indexed {result.entries} entries from {data} into {result.folder} in {result.seconds:.1f} s; "
                  f"handoff below confidence {cal['threshold']:.3f} ({cal['method']})", highlight=False)
    fusion = result.fusion
    if fusion.get("method") == "score":
        console.print(f"Fusion: {fusion['dense_weight']:.1f} × dense + {1 - fusion['dense_weight']:.1f} × BM25 "
                      f"(calibrated on {fusion['simulated_queries']} questions made from the FAQ)", highlight=False)
    for name, info in result.models.items():
        console.print(f"--{name}: {info['steps']} steps in {info['seconds']:.0f} s, model in "
                      f"{result.folder / info['folder']}", highlight=False)


@faq_app.command("ask")
def ask_command(
    folder: Annotated[Path, typer.Argument(help="FAQ index folder (from `tamellm faq build`).")],
    question: Annotated[str | None, typer.Argument(help="The customer's question (or --input FILE).")] = None,
    history: Annotated[
        list[str] | None, typer.Option("--history", help="An earlier question, for follow-ups (repeatable).")
    ] = None,
    top_k: Annotated[int, typer.Option("--top-k", "-k", help="Answers to return.", min=1)] = 5,
    generate: Annotated[
        bool, typer.Option("--generate", help="Let the chat model rephrase from the retrieved answers, citing ids.")
    ] = False,
    chat_model: Annotated[
        str, typer.Option("--chat-model", help="Chat model for --generate: catalog name or folder.")
    ] = "smollm2-135m-instruct",
    mode: ModeOption = "hybrid",
    threshold: ThresholdOption = None,
    rerank: RerankOption = None,
    intent_model: Annotated[
        str | None, typer.Option("--intent-model", help="Classifier folder: label the question's intent too "
                                                         "(e.g. trained on Banking77), for routing.")
    ] = None,
    input_file: Annotated[
        Path | None, typer.Option("--input", "-i", help="Read the question from an image (OCR), a PDF or an audio "
                                                        "file (Whisper) instead.")
    ] = None,
    speech_model: Annotated[
        str | None, typer.Option("--speech-model", help="Whisper model for an audio --input (default whisper-tiny-en).")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Answer a question from the FAQ, citing the entry, or hand off when the FAQ does not answer it."""
    from tamellm.apps.faq import FaqAssistant

    assistant = FaqAssistant.load(folder, threshold=threshold, mode=mode, top_k=top_k, chat_model=chat_model,
                                  rerank=rerank, intent_model=intent_model)
    if question is None and input_file is None:
        from tamellm.errors import InputError

        raise InputError("No question given", "pass the question as text, or --input FILE (image, PDF, audio)")
    result = assistant.ask(question, history=history or None, generate=generate, file=input_file,
                           speech_model=speech_model)
    if json_output:
        print_json(result.to_dict())
        return
    if result.source is not None:
        console.print(f"[dim]read from {result.source['file']}: {result.source['text']}[/dim]\n", highlight=False)
    console.print(result.reply, highlight=False)
    verdict = "handoff" if result.handoff else "answered"
    if result.intent:
        console.print(f"\n[dim]intent: {result.intent['label']} ({result.intent['score']:.2f})[/dim]")
    console.print(f"\n[dim]{verdict}: confidence {result.confidence:.3f}, threshold {result.threshold:.3f}"
                  f"{', read as a follow-up' if result.follow_up else ''}[/dim]")
    for answer in result.answers:
        console.print(f"  [{answer.id}] {answer.score:.3f}  {answer.question[:90]}", highlight=False)


@faq_app.command("eval")
def eval_command(
    folder: Annotated[Path, typer.Argument(help="FAQ index folder.")],
    data: Annotated[Path, typer.Option("--data", help="Questions with the expected id or answer text "
                                                      "(empty: should hand off).")],
    question_column: Annotated[str | None, typer.Option("--question-column", help="Question column.")] = None,
    expected_column: Annotated[
        str | None, typer.Option("--expected-column", help="Expected id or answer column (default: id, answer).")
    ] = None,
    mode: ModeOption = "hybrid",
    threshold: ThresholdOption = None,
    rerank: RerankOption = None,
    json_output: JsonOption = False,
) -> None:
    """recall@1, recall@5, MRR, handoff rate and handoff accuracy on labelled questions."""
    from tamellm.apps.faq import FaqAssistant, evaluate

    assistant = FaqAssistant.load(folder, threshold=threshold, mode=mode, rerank=rerank)
    metrics = evaluate(assistant, data, question_column, expected_column)
    if json_output:
        print_json(metrics)
        return
    for key, value in metrics.items():
        console.print(f"{key:>17}: {value}", highlight=False)


@COMMANDS.register("faq")
def register(app: typer.Typer) -> None:
    """Add the ``faq`` command group to the app."""
    app.add_typer(faq_app, name="faq")
