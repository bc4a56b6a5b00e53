"""The trial board: one plain line per finished trial off a terminal; a live table under a budget bar on one."""

from __future__ import annotations

import io

from rich.console import Console

from tamellm.progress import TrialBoard, progress, trial_board

PARAMS = {"strategy": "head-only", "learning_rate": 0.00123, "epochs": 2, "batch_size": 16, "warmup_ratio": 0.1}


def test_lines_mode_writes_one_line_per_finished_trial():
    stream = io.StringIO()
    with trial_board("accuracy", budget_s=60, mode="lines") as board:
        board._stream = stream
        board.start(0, PARAMS)
        board.finish(0, "COMPLETE", 0.8123, PARAMS, 3.2)
        board.start(1, PARAMS)
        board.finish(1, "PRUNED", 0.5, PARAMS, 1.0)
    lines = stream.getvalue().splitlines()
    assert lines == ["trial 0 complete  head-only  lr 0.00123  epochs 2  batch 16  accuracy 0.8123  3.2 s",
                     "trial 1 pruned  head-only  lr 0.00123  epochs 2  batch 16  accuracy 0.5000  1.0 s"]


def test_live_table_shows_trials_and_the_training_bar_joins_the_board():
    board = TrialBoard("accuracy", budget_s=60, trials=None, mode="live")
    board.open_bars()
    board.start(0, PARAMS)
    board.finish(0, "COMPLETE", 0.8123, PARAMS, 3.2)
    board.start(1, {**PARAMS, "strategy": "lora", "lora_r": 8})
    import tamellm.progress as module

    module._board = board
    try:
        with progress("training", total=10, enabled=True) as bar:
            bar.update(3, loss=0.5)
            assert len(board.bars.tasks) == 2  # the budget and this trial's steps
    finally:
        module._board = None
    assert len(board.bars.tasks) == 1
    console = Console(file=io.StringIO(), width=120, record=True)
    console.print(board.render())
    text = console.export_text()
    assert "budget (s)" in text and "head-only" in text and "0.8123" in text and "complete" in text
    assert "lora" in text and "running" in text and "r 8" in text
