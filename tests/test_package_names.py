"""API functions that share a name with a sub-package stay callable after the sub-package is imported."""

import importlib

import pytest

import tamellm

SHARED_NAMES = ["compress", "evaluate", "explain", "report", "runs", "serve", "train", "tune"]


@pytest.mark.parametrize("name", SHARED_NAMES)
def test_function_survives_importing_its_subpackage(name):
    importlib.import_module(f"tamellm.{name}")
    assert callable(getattr(tamellm, name))
    assert name in tamellm.__all__


def test_calling_the_subpackage_runs_the_api_function(tmp_path):
    import tamellm.runs  # binds the module on tamellm

    assert tamellm.runs(tmp_path) == []
    with pytest.raises(tamellm.TamellmError, match="not found"):
        tamellm.runs(tmp_path / "missing")
    # and the sub-package's own contents are still reachable
    from tamellm.runs import list_runs

    assert list_runs(tmp_path) == []
