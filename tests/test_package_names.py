"""Public functions and sub-packages have different names, so importing any sub-package hides no function."""

import importlib
import pkgutil

import pytest

import tamellm

SUBPACKAGES = sorted(m.name for m in pkgutil.iter_modules(tamellm.__path__))


def test_no_sub_package_shares_a_public_name():
    assert set(SUBPACKAGES) & set(tamellm.__all__) == set()


@pytest.mark.parametrize("name", SUBPACKAGES)
def test_every_public_function_survives_importing_any_sub_package(name):
    importlib.import_module(f"tamellm.{name}")
    for public in tamellm.__all__:
        assert callable(getattr(tamellm, public)), public


def test_public_functions_run_after_their_old_namesakes_are_imported(tmp_path):
    import tamellm.run_folders
    import tamellm.training  # noqa: F401

    assert tamellm.runs(tmp_path) == []
    assert callable(tamellm.train)
    with pytest.raises(tamellm.TamellmError, match="not found"):
        tamellm.runs(tmp_path / "missing")
