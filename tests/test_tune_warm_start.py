"""A new study first tries settings known to train well, then lets its sampler explore."""

from __future__ import annotations

from tamellm.tuning.autotune import warm_start
from tamellm.tuning.optuna_backend import run_optuna
from tamellm.tuning.search_space import SearchSpace


def test_head_only_then_full_without_what_the_space_fixes():
    space = SearchSpace(["head-only", "lora", "full"], fixed={"batch_size": 8})
    first = warm_start(space)
    assert [p["strategy"] for p in first] == ["head-only", "full"]
    assert all("batch_size" not in p and "class_weights" not in p for p in first)
    only = warm_start(SearchSpace(["head-only"], search_class_weights=True))
    assert len(only) == 1 and "strategy" not in only[0] and only[0]["class_weights"] == "none"
    assert warm_start(SearchSpace(["lora", "prompt-tuning"])) == []


def test_a_new_study_runs_the_warm_start_first(tmp_path):
    seen: list[dict] = []

    def run(params, folder, report, budget_s):
        seen.append(params)
        return 0.5

    space = SearchSpace(["head-only", "full"], fixed={"batch_size": 16})
    run_optuna(space, run, tmp_path, "maximize", trials=3, first=warm_start(space))
    assert [p["strategy"] for p in seen[:2]] == ["head-only", "full"]
    assert seen[1]["learning_rate"] == 1e-4 and seen[1]["epochs"] == 3 and seen[1]["batch_size"] == 16
    assert len(seen) == 3


def test_no_trial_starts_with_less_time_left_than_the_quickest_later_trial_took(tmp_path, monkeypatch):
    import time

    import tamellm.tuning.optuna_backend as backend

    monkeypatch.setattr(backend, "MIN_TRIAL_S", 0.05)
    ran: list[int] = []

    def run(params, folder, report, budget_s):
        ran.append(1)
        time.sleep(0.8)
        return 0.5

    rows = run_optuna(SearchSpace(["head-only"]), run, tmp_path, "maximize", budget_s=2.2)
    # The second trial starts (the first one's time includes the study's set-up); the third would
    # start with ~0.5 s left while trial 1 took 0.8 s: it is skipped.
    assert len(ran) == 2 and [r["state"] for r in rows[:2]] == ["COMPLETE", "COMPLETE"]
