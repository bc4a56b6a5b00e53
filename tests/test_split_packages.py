"""A model split across PyPI packages is joined once into the cache (models/split_packages).

The chunk packages here are real installed distributions (a package folder and its
``.dist-info`` with a RECORD, on ``sys.path``), found through ``importlib.metadata`` as
pip-installed ones are; the packaged all-mpnet-base-v2 is checked end to end when installed.
"""

from __future__ import annotations

import importlib
import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tamellm.errors import ModelFormatError
from tamellm.models import split_packages
from tamellm.models.catalog import CATALOG, ModelSpec
from tamellm.models.split_packages import DONE, SplitPackages


def install_chunk(site: Path, dist: str, data: bytes, chunk_name: str) -> None:
    """Write distribution ``dist`` (one data file ``chunk_name``) the way pip lays out a wheel."""
    module = dist.replace("-", "_")
    (site / module).mkdir(parents=True)
    (site / module / "__init__.py").write_text("")
    (site / module / chunk_name).parent.mkdir(parents=True, exist_ok=True)
    (site / module / chunk_name).write_bytes(data)
    info = site / f"{module}-0.0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.0.1\n")
    (info / "RECORD").write_text(f"{module}/__init__.py,,\n{module}/{chunk_name},,\n{info.name}/METADATA,,\n"
                                 f"{info.name}/RECORD,,\n")


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A folder on sys.path for chunk distributions made by the test."""
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    importlib.invalidate_caches()
    yield folder
    importlib.invalidate_caches()


def split_bytes(data: bytes, parts: int) -> list[bytes]:
    size = -(-len(data) // parts)
    return [data[i:i + size] for i in range(0, len(data), size)]


def test_raw_chunks_are_concatenated_once_in_order(site):
    payload = bytes(np.random.default_rng(0).integers(0, 256, 300_000, dtype=np.uint8))
    names = [f"toy-gguf-part{i}" for i in range(1, 4)]
    for name, chunk in zip(names, split_bytes(payload, 3), strict=True):
        install_chunk(site, name, chunk, f"data/{name[-5:]}.bin")
    spec = SplitPackages(tuple(names), "concat", "toy.gguf")
    target = spec.target()
    assert not target.exists()
    folder = spec.assembled()
    assert folder == target and (folder / "toy.gguf").read_bytes() == payload
    assert (folder / DONE).exists() and not list(folder.parent.glob(".tmp-*"))
    stamp = (folder / "toy.gguf").stat().st_mtime_ns
    assert spec.assembled() == folder and (folder / "toy.gguf").stat().st_mtime_ns == stamp  # not joined again


def test_a_split_zip_is_extracted_without_os_junk(site):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("model/config.json", '{"model_type": "bert"}')
        archive.writestr("model/weights.bin", b"\x01\x02" * 50_000)
        archive.writestr("model/desktop.ini", "[.ShellClassInfo]")
    names = [f"toy-zip-part-{i:03d}" for i in range(1, 3)]
    for i, (name, chunk) in enumerate(zip(names, split_bytes(buffer.getvalue(), 2), strict=True), 1):
        install_chunk(site, name, chunk, f"input/model.zip.{i:03d}")
    folder = SplitPackages(tuple(names), "zip", "toy-model").assembled()
    assert (folder / "model" / "config.json").read_text() == '{"model_type": "bert"}'
    assert (folder / "model" / "weights.bin").read_bytes() == b"\x01\x02" * 50_000
    assert not (folder / "model" / "desktop.ini").exists()


def test_missing_part_means_not_installed_and_catalog_says_how_to_install(site):
    install_chunk(site, "toy-half-part1", b"abc", "data/part01.bin")
    spec = SplitPackages(("toy-half-part1", "toy-half-part2"), "concat", "half.gguf")
    assert spec.chunks() is None and spec.assembled() is None and spec.target() is None
    model = ModelSpec(name="toy-half", role="test", task="generate", kind="gguf", params="0", license="MIT",
                      package="toy-half-part1..2", module="toy_half_part1", install="pip install toy-half-part{1,2}",
                      parts=spec)
    CATALOG.register("toy-half", model)
    try:
        from tamellm.errors import ModelNotFoundError
        from tamellm.models import resolve

        with pytest.raises(ModelNotFoundError, match="pip install toy-half-part"):
            resolve("toy-half")
        assert model.to_dict()["installed"] is False
    finally:
        CATALOG.unregister("toy-half")


def test_chunks_that_are_not_a_zip_fail_clearly_and_leave_nothing(site):
    names = ["toy-bad-part-001", "toy-bad-part-002"]
    for name in names:
        install_chunk(site, name, b"not a zip at all" * 100, f"input/{name}.zip")
    spec = SplitPackages(tuple(names), "zip", "bad")
    with pytest.raises(ModelFormatError, match="do not form a zip"):
        spec.assembled()
    assert not spec.target().exists() and not list(spec.target().parent.glob(".tmp-*"))


def test_a_new_version_of_a_chunk_assembles_again(site):
    install_chunk(site, "toy-ver-part1", b"A" * 1000, "data/part01.bin")
    spec = SplitPackages(("toy-ver-part1",), "concat", "v.bin")
    first = spec.assembled()
    (site / "toy_ver_part1" / "data" / "part01.bin").write_bytes(b"B" * 2000)
    second = spec.assembled()
    assert second != first and (second / "v.bin").read_bytes() == b"B" * 2000


def test_unknown_method_lists_the_accepted_ones(site):
    install_chunk(site, "toy-m-part1", b"x", "data/part01.bin")
    with pytest.raises(Exception, match="accepted: concat, zip"):
        SplitPackages(("toy-m-part1",), "rar", "x").assembled()


@pytest.mark.integration
@pytest.mark.skipif(CATALOG["all-mpnet-base-v2"].parts.chunks() is None, reason="all-mpnet-base-v2 not installed")
def test_packaged_mpnet_is_joined_into_an_encoder_folder_that_embeds(persistent_tamellm_home):
    import tamellm

    folder = CATALOG["all-mpnet-base-v2"].locate()
    assert (folder / "model.safetensors").stat().st_size > 400_000_000
    vectors = tamellm.embed(["A cat sits on the mat.", "A kitten rests on a rug.", "Shares fell sharply."],
                            model="all-mpnet-base-v2").vectors
    assert vectors.shape == (3, 768)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.3


def test_chunk_of_picks_the_data_file(site):
    install_chunk(site, "toy-pick-part1", b"z" * 500, "input/big.zip.001")
    from importlib import metadata

    assert split_packages.chunk_of(metadata.distribution("toy-pick-part1")).name == "big.zip.001"
