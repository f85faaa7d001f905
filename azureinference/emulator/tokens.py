"""Entra ID tokens for the emulator: a token credential that mints unsigned JWTs offline.

`EmulatorTokenCredential` stands in for ``DefaultAzureCredential`` in tests: its tokens carry
the audience of the scope asked for (``https://ai.azure.com/.default`` -> ``aud``
``https://ai.azure.com``), which an emulator with ``entra_audience`` set checks, so a client that
asks for the wrong scope is refused as the service would refuse it.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from typing import Any, NamedTuple

__all__ = ["EmulatorAccessToken", "EmulatorTokenCredential"]


class EmulatorAccessToken(NamedTuple):
    """``azure.core.credentials.AccessToken``'s shape: the token and its expiry (epoch s)."""

    token: str
    expires_on: int


def _b64(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class EmulatorTokenCredential:
    """A sync token credential (``get_token(*scopes)``) minting unsigned JWTs.

    Args:
        lifetime: Seconds each token lives.

    Attributes:
        scopes: The scopes of every ``get_token`` call, in order (a test reads them).
    """

    def __init__(self, lifetime: int = 3600) -> None:
        self.lifetime = lifetime
        self.scopes: list[tuple[str, ...]] = []
        self._lock = threading.Lock()

    def get_token(self, *scopes: str, **kwargs: Any) -> EmulatorAccessToken:
        """A token whose ``aud`` is the first scope without ``/.default``."""
        with self._lock:
            self.scopes.append(scopes)
            serial = len(self.scopes)
        audience = scopes[0].removesuffix("/.default") if scopes else ""
        expires_on = int(time.time()) + self.lifetime
        claims = {"aud": audience, "exp": expires_on, "iss": "emulator", "n": serial}
        token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}.emulator"
        return EmulatorAccessToken(token, expires_on)

    def __repr__(self) -> str:
        return f"EmulatorTokenCredential(lifetime={self.lifetime})"
