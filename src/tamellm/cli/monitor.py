"""``tamellm monitor run|report``: the financial sentiment monitor (see docs/monitor.md)."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer

from tamellm.cli.common import COMMANDS, JsonOption, err_console, print_json

monitor_app = typer.Typer(help="Watch timestamped texts for sentiment shifts about entities and raise alerts.",
                          no_args_is_help=True)


@monitor_app.command("run")
def run_command(
    model: Annotated[str, typer.Option("--model", "-m", help="Classifier folder (or catalog name).")],
    watchlist: Annotated[Path, typer.Option(
        "--watchlist", help="YAML mapping each entity to its aliases (AAPL: \\[Apple, $AAPL]).")],
    state: Annotated[Path, typer.Option("--state", help="SQLite state file (created if missing).")]
    = Path("monitor.db"),
    input_file: Annotated[str, typer.Option("--input", "-i", help="JSONL events file; '-' reads stdin.")] = "-",
    alerts: Annotated[Path | None, typer.Option("--alerts", help="Append alerts here (JSONL).")] = None,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep reading the file as it grows.")] = False,
    rules: Annotated[Path | None, typer.Option("--rules", help="YAML rules (default: negative spikes).")] = None,
    label_map: Annotated[str | None, typer.Option(
        "--label-map", help="Model labels to polarities, e.g. bearish=negative,bullish=positive.")] = None,
    window: Annotated[str, typer.Option("--window", help="Window length: 15m, 1h, 1d.")] = "1h",
    lateness: Annotated[str, typer.Option("--lateness", help="How late an event may arrive and still count.")]
    = "5m",
    alpha: Annotated[float, typer.Option("--alpha", help="Baseline EWMA weight of the newest window.")] = 0.1,
    webhook: Annotated[str | None, typer.Option("--webhook", help="POST each alert to this URL.")] = None,
    webhook_secret: Annotated[str | None, typer.Option(
        "--webhook-secret", envvar="TAMELLM_WEBHOOK_SECRET", help="HMAC-SHA256 key for the signature header.")]
    = None,
    webhook_timeout: Annotated[float, typer.Option("--webhook-timeout", help="Seconds per attempt.")] = 5.0,
    webhook_retries: Annotated[int, typer.Option("--webhook-retries", help="Retries after the first try.")] = 4,
    dead_letter: Annotated[Path | None, typer.Option(
        "--dead-letter", help="Alerts a sink gave up on (default: beside --alerts or --state).")] = None,
    on_bad: Annotated[str, typer.Option("--on-bad", help="Bad input line: error (stop) or skip (count).")]
    = "error",
    all_cashtags: Annotated[bool, typer.Option("--all-cashtags", help="Track every $CASHTAG, not only watched.")]
    = False,
    ner: Annotated[bool, typer.Option("--ner", help="Also match spaCy organisations to watchlist aliases.")]
    = False,
    explain: Annotated[bool, typer.Option("--explain", help="Attach the top words of each example text.")]
    = False,
    flush: Annotated[bool | None, typer.Option(
        "--flush/--no-flush", help="Close the open windows at the end (default: yes unless --follow).")] = None,
    examples: Annotated[int, typer.Option("--examples", help="Example texts per alert.")] = 3,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Events classified together.")] = 256,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Do not print alerts on the console.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Read events, classify them, count them per entity and window, and raise alerts.

    Restartable: the state file remembers the read position, events, windows and alerts,
    so a run killed at any point continues where it stopped without a duplicate alert.
    """
    from tamellm.apps.monitor import WebhookOptions, open_monitor
    from tamellm.errors import InputError

    if input_file == "-" and sys.stdin.isatty():
        raise InputError("No events to read", "pass --input events.jsonl, or pipe JSONL events on stdin")

    monitor = open_monitor(
        model, watchlist, state, alerts=alerts, rules=rules, label_map=label_map, window=window,
        lateness=lateness, alpha=alpha, examples=examples, batch_size=batch_size,
        console=not (quiet or json_output),
        webhook=WebhookOptions(webhook, webhook_secret, webhook_timeout, webhook_retries) if webhook else None,
        dead_letter=dead_letter or (None if alerts else state.with_suffix(".dead-letter.jsonl")),
        all_cashtags=all_cashtags, ner=ner, explain=explain)
    stop = {"now": False}

    def _stop(signum: int, frame: object) -> None:
        stop["now"] = True  # finish the current batch, then exit cleanly

    if follow:
        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
    try:
        if input_file == "-":
            summary = monitor.run_stream(sys.stdin, flush=True if flush is None else flush, on_bad=on_bad)
        else:
            summary = monitor.run_file(input_file, follow=follow, flush=flush, on_bad=on_bad,
                                       should_stop=lambda: stop["now"])
    finally:
        monitor.close()
    result = summary.to_dict() | {"state": str(state), "alerts_file": str(alerts) if alerts else None}
    if json_output:
        print_json(result)
        return
    err_console.print(
        f"{summary.read} events read ({summary.new} new, {summary.duplicates} already seen, {summary.late} too late, "
        f"{summary.skipped} bad lines skipped, {summary.unmatched} about no watched entity), "
        f"{summary.alerts} alerts, {summary.events_per_s:.0f} events/s; state: {state}")
    for line in summary.skipped_lines[:5]:
        err_console.print(f"  skipped {line}")


@monitor_app.command("report")
def report_command(
    state: Annotated[Path, typer.Option("--state", help="The monitor's SQLite state file.")] = Path("monitor.db"),
    output: Annotated[Path | None, typer.Option("--output", "-o", help="HTML file (default: STATE.html).")]
    = None,
    json_output: JsonOption = False,
) -> None:
    """Write an HTML page: sentiment per entity over time with alert markers and example texts."""
    from tamellm.apps.monitor.report import write_report

    path = write_report(state, output)
    if json_output:
        print_json({"report": str(path)})
    else:
        err_console.print(f"Report: {os.fspath(path)}")


@COMMANDS.register("monitor")
def register(app: typer.Typer) -> None:
    """Add ``tamellm monitor`` to the app."""
    app.add_typer(monitor_app, name="monitor")
