"""The Optuna backend on a real objective: a seeded SGD classifier trained epoch by epoch.

The backend only needs "train with these params, report after each evaluation, return
the validation metric", so a scikit-learn model that really learns exercises the study
(SQLite storage, budget, resume, crash recovery, pruning hooks) in a second; the end to
end AutoTune with the transformer trainer is in test_tune_autotune.py.
"""

from __future__ import annotations

import sqlite3

import numpy as np
import optuna
import pytest

from tamellm.errors import InputError
from tamellm.tuning.optuna_backend import STUDY_NAME, run_optuna, storage_url
from tamellm.tuning.search_space import SearchSpace

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _data():
    from sklearn.datasets import make_classification

    x, y = make_classification(n_samples=400, n_features=10, n_informative=5, random_state=0)
    return x[:300], y[:300], x[300:], y[300:]


def make_trial(calls: list):
    from sklearn.linear_model import SGDClassifier

    x, y, vx, vy = _data()

    def run(params: dict, folder, report, budget_s):
        calls.append((params, folder, budget_s))
        model = SGDClassifier(learning_rate="constant", eta0=params["learning_rate"], random_state=0)
        value = 0.0
        for epoch in range(1, params["epochs"] + 1):
            model.partial_fit(x, y, classes=np.array([0, 1]))
            value = float((model.predict(vx) == vy).mean())
            report(epoch, value)
        return value

    return run


SPACE = SearchSpace(strategies=["head-only", "full"], fixed={"batch_size": 16})


def test_study_lives_in_sqlite_and_resumes_to_the_requested_trials(tmp_path):
    calls: list = []
    rows = run_optuna(SPACE, make_trial(calls), tmp_path, "maximize", seed=0, trials=3)
    assert (tmp_path / "study.db").is_file()
    assert len(rows) == 3 and len(calls) == 3
    assert all(r["state"] in ("COMPLETE", "PRUNED") for r in rows)
    complete = [r for r in rows if r["state"] == "COMPLETE"]
    assert complete and all(0.5 < r["value"] <= 1.0 for r in complete)  # the SGD model really learns
    assert [c[1].name for c in calls] == ["000", "001", "002"]  # one sub-run folder per trial
    assert all(r["params"]["batch_size"] == 16 and r["params"]["strategy"] in ("head-only", "full") for r in rows)

    with pytest.raises(InputError, match="already holds a study"):
        run_optuna(SPACE, make_trial([]), tmp_path, "maximize", trials=3)

    more: list = []
    rows = run_optuna(SPACE, make_trial(more), tmp_path, "maximize", seed=0, trials=5, resume=True)
    assert len(rows) == 5 and len(more) == 2  # only the missing trials ran
    assert [r["number"] for r in rows] == [0, 1, 2, 3, 4]
    study = optuna.load_study(study_name=STUDY_NAME, storage=storage_url(tmp_path))
    assert len(study.trials) == 5


def test_a_trial_left_running_by_a_killed_process_runs_again(tmp_path):
    # What a SIGKILL leaves behind: a trial in state RUNNING with its params in the database.
    study = optuna.create_study(study_name=STUDY_NAME, storage=storage_url(tmp_path), direction="maximize")
    trial = study.ask()
    crashed = SPACE.suggest(trial)
    calls: list = []
    rows = run_optuna(SPACE, make_trial(calls), tmp_path, "maximize", trials=2, resume=True)
    states = {r["number"]: r["state"] for r in rows}
    assert states[0] == "FAIL"
    assert calls[0][0]["learning_rate"] == crashed["learning_rate"]  # the interrupted params come first
    assert sum(s in ("COMPLETE", "PRUNED") for s in states.values()) == 2


def test_budget_stops_starting_trials_and_is_passed_down(tmp_path):
    calls: list = []
    rows = run_optuna(SPACE, make_trial(calls), tmp_path, "maximize", budget_s=1.5)
    assert rows and all(c[2] is not None and c[2] <= 1.5 for c in calls)
    with sqlite3.connect(tmp_path / "study.db") as db:
        assert db.execute("select count(*) from trials").fetchone()[0] == len(rows)


def test_pruned_trials_are_recorded_as_pruned(tmp_path):
    def run(params, folder, report, budget_s):
        # Later trials report worse than the first at every step: the median pruner stops them.
        worse = 0.9 if folder.name == "000" else 0.1
        for step in range(1, 6):
            report(step, worse)
        return worse

    rows = run_optuna(SearchSpace(strategies=["full"], fixed={"batch_size": 16}), run, tmp_path, "maximize", trials=3)
    assert rows[0]["state"] == "COMPLETE" and rows[0]["value"] == 0.9
    assert [r["state"] for r in rows[1:]] == ["PRUNED", "PRUNED"]


def test_pruning_compares_a_trial_with_its_own_strategy_only(tmp_path):
    """A strategy that starts low is not cut by another strategy's median; its own later trials are."""
    space = SearchSpace(strategies=["head-only", "full"], fixed={"epochs": 1})
    scores = {"head-only": [0.9, 0.9, 0.9], "full": [0.3, 0.1, 0.1]}
    seen: dict[str, int] = {"head-only": 0, "full": 0}

    def run(params, folder, report, budget_s):
        strategy = params["strategy"]
        value = scores[strategy][min(seen[strategy], 2)]
        seen[strategy] += 1
        for step in range(1, 4):
            report(step, value)
        return value

    first = [{"strategy": "head-only", "learning_rate": 1e-3}, {"strategy": "full", "learning_rate": 1e-5},
             {"strategy": "full", "learning_rate": 2e-5}]
    rows = run_optuna(space, run, tmp_path, "maximize", trials=3, first=first)
    assert [(r["params"]["strategy"], r["state"]) for r in rows] == [
        ("head-only", "COMPLETE"), ("full", "COMPLETE"), ("full", "PRUNED")]
