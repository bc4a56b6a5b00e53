"""API keys: read from a file or the environment, kept only as SHA-256 hashes.

A request sends ``Authorization: Bearer KEY``; its hash is compared with every stored
hash in constant time (``hmac.compare_digest``), so timing tells nothing about a key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

from tamellm.errors import ConfigError

ENV_VAR = "TAMELLM_API_KEYS"
MIN_KEY_LENGTH = 8


def _hash(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


class KeyStore:
    """The accepted API keys, as hashes. ``check`` returns a short key id or None."""

    def __init__(self, keys: list[str]) -> None:
        short = [i + 1 for i, k in enumerate(keys) if len(k) < MIN_KEY_LENGTH]
        if short:
            raise ConfigError(
                f"API key(s) #{short} are shorter than {MIN_KEY_LENGTH} characters",
                "use long random keys, e.g. `python -c 'import secrets; print(secrets.token_urlsafe())'`",
            )
        self._hashes = [_hash(k) for k in dict.fromkeys(keys)]

    @classmethod
    def load(cls, key_file: str | os.PathLike | None = None, env: dict[str, str] | None = None) -> KeyStore:
        """Keys from ``key_file`` (one per line, ``#`` comments) and TAMELLM_API_KEYS (commas)."""
        keys: list[str] = []
        if key_file is not None:
            path = Path(key_file)
            if not path.is_file():
                raise ConfigError(f"API key file {path} not found", "pass a file with one key per line")
            lines = path.read_text(encoding="utf-8").splitlines()
            keys += [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]
            if not keys:
                raise ConfigError(f"API key file {path} holds no key", "write one key per line")
        env_value = (os.environ if env is None else env).get(ENV_VAR, "")
        keys += [k.strip() for k in env_value.split(",") if k.strip()]
        return cls(keys)

    def __bool__(self) -> bool:
        return bool(self._hashes)

    def __len__(self) -> int:
        return len(self._hashes)

    def check(self, key: str) -> str | None:
        """The key's id (first 8 hex digits of its hash) when accepted, else None."""
        digest = _hash(key)
        found = False
        for stored in self._hashes:  # no early exit: the time does not depend on which key matched
            found |= hmac.compare_digest(digest, stored)
        return digest.hex()[:8] if found else None


def bearer_token(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer TOKEN`` header, or None."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None
