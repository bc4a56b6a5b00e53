"""Cache keys follow a file's content, not its mtime: a reinstalled package reuses its conversions."""

import os

from tamellm.models.gguf_cache import converted_folder
from tamellm.paths import FINGERPRINT_EDGE, file_fingerprint


def test_a_touched_copy_keeps_its_key_and_a_changed_file_gets_a_new_one(tmp_path, monkeypatch):
    monkeypatch.setenv("TAMELLM_HOME", str(tmp_path / "home"))
    payload = os.urandom(3 * FINGERPRINT_EDGE)
    first = tmp_path / "a" / "model.gguf"
    first.parent.mkdir()
    first.write_bytes(payload)
    reinstalled = tmp_path / "b" / "model.gguf"
    reinstalled.parent.mkdir()
    reinstalled.write_bytes(payload)
    os.utime(reinstalled, (1_000_000_000, 1_000_000_000))

    assert converted_folder(first) == converted_folder(reinstalled)

    changed_tail = bytearray(payload)
    changed_tail[-1] ^= 0xFF
    reinstalled.write_bytes(bytes(changed_tail))
    assert file_fingerprint(reinstalled) != file_fingerprint(first)
    assert converted_folder(first) != converted_folder(reinstalled)
