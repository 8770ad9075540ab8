"""The partnership's secret key: one file outside the data folder, from which every other key is
derived (HKDF-SHA256), so that pseudonyms and encrypted files are useless without it.

The key file lives in ``settings.key_dir`` (default ``~/.config/svduty/keys``), named after the
data folder, created with mode 0600 on first use. A key inside the data folder is refused: whoever
copies the data folder must not get the key with it.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from svduty.config import Settings
from svduty.errors import ConfigError

KEY_BYTES = 32


def key_path(settings: Settings) -> Path:
    """Where the data folder's key file is (it may not exist yet)."""
    if settings.key_file is not None:
        path = settings.key_file
    else:
        tag = hashlib.sha256(str(settings.data_dir.resolve()).encode()).hexdigest()[:16]
        path = settings.key_dir / f"svduty-{tag}.key"
    data = settings.data_dir.resolve()
    if path.resolve().is_relative_to(data):
        raise ConfigError(
            f"the key file {path} is inside the data folder {data}; keep keys elsewhere "
            "(set SVDUTY_KEY_DIR or SVDUTY_KEY_FILE)"
        )
    return path


def master_key(settings: Settings, create: bool = True) -> bytes:
    """The data folder's secret key, created (mode 0600) if it does not exist and ``create``."""
    path = key_path(settings)
    if not path.exists():
        if not create:
            raise ConfigError(f"no key file at {path}; the data folder's secrets cannot be read")
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_bytes(KEY_BYTES))
    key = path.read_bytes()
    if len(key) != KEY_BYTES:
        raise ConfigError(f"the key file {path} is not a {KEY_BYTES}-byte svduty key")
    return key


@lru_cache(maxsize=64)
def derive(master: bytes, purpose: str) -> bytes:
    """A 32-byte key for one purpose (``pseudonym``, ``vault``...), derived with HKDF-SHA256."""
    return HKDF(
        algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=f"svduty:{purpose}".encode()
    ).derive(master)
