"""The Ray Tune backend on a local Ray instance (2 CPUs), 2 trials of a real SGD objective."""

from __future__ import annotations

import sys

import pytest

from tamellm.tuning.search_space import SearchSpace

pytestmark = pytest.mark.integration  # Ray takes ~7 s to start


def test_two_trials_on_local_ray(tmp_path):
    import cloudpickle
    import test_tune_optuna as objective

    cloudpickle.register_pickle_by_value(objective)  # the Ray workers cannot import the test module
    from tamellm.tuning.ray_backend import run_ray

    space = SearchSpace(strategies=["head-only", "full"], fixed={"epochs": 3})
    rows = run_ray(space, objective.make_trial([]), tmp_path, "accuracy", "maximize", seed=0, trials=2)
    assert len(rows) == 2
    assert {r["state"] for r in rows} <= {"COMPLETE", "PRUNED"}
    complete = [r for r in rows if r["state"] == "COMPLETE"]
    assert complete and all(0.5 < r["value"] <= 1.0 for r in complete)
    assert sorted(r["number"] for r in rows) == [0, 1]
    assert sorted(p.name for p in (tmp_path / "trials").iterdir()) == ["000", "001"]
    assert all(r["params"]["strategy"] in ("head-only", "full") and r["params"]["epochs"] == 3 for r in rows)
    assert (tmp_path / "ray" / "study").is_dir()
    assert "ray" in sys.modules
