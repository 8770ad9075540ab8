"""Encryption at rest (AES-256-GCM) for everything in the data folder that holds an identifier:
the linkage store, raw person-level files and quarantined person-level rows.

Each value or file is sealed with a fresh 96-bit nonce and carries a version tag; tampering is
detected on opening (GCM's tag), so a corrupted store fails loudly rather than yielding garbage.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from svduty.errors import SvdutyError

MAGIC = b"svdv1"
TEXT_PREFIX = "enc:v1:"


class VaultError(ValueError, SvdutyError):
    """Sealed data could not be opened: wrong key, or altered."""


class Vault:
    """Seals and opens bytes, text and files with one key.

    Examples:
        >>> v = Vault(b"k" * 32)
        >>> v.open_text(v.seal_text("Jane Doe"))
        'Jane Doe'
    """

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, data: bytes, context: bytes = b"") -> bytes:
        """Encrypt ``data``; ``context`` is authenticated too (it must match on opening)."""
        nonce = secrets.token_bytes(12)
        return MAGIC + nonce + self._aead.encrypt(nonce, data, context)

    def open(self, sealed: bytes, context: bytes = b"") -> bytes:
        """Decrypt what :meth:`seal` made."""
        if not sealed.startswith(MAGIC):
            raise VaultError("not data sealed by svduty")
        nonce, body = sealed[len(MAGIC) : len(MAGIC) + 12], sealed[len(MAGIC) + 12 :]
        try:
            return self._aead.decrypt(nonce, body, context)
        except InvalidTag as e:
            raise VaultError("sealed data could not be opened: wrong key or altered") from e

    def seal_text(self, text: str) -> str:
        """Encrypt a string into printable text."""
        return TEXT_PREFIX + base64.urlsafe_b64encode(self.seal(text.encode())).decode()

    def open_text(self, sealed: str) -> str:
        """Decrypt what :meth:`seal_text` made."""
        if not sealed.startswith(TEXT_PREFIX):
            raise VaultError("not text sealed by svduty")
        return self.open(base64.urlsafe_b64decode(sealed[len(TEXT_PREFIX) :])).decode()

    def write(self, path: Path, data: bytes) -> None:
        """Seal ``data`` into ``path`` atomically (a temporary file renamed into place)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        with open(tmp, "wb") as f:
            f.write(self.seal(data, path.name.encode()))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    def read(self, path: Path) -> bytes:
        """Open a file written by :meth:`write`."""
        return self.open(path.read_bytes(), path.name.encode())
