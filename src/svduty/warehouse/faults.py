"""Named fault-injection points, so tests can kill a load at a chosen moment with SIGKILL.

Set ``SVDUTY_FAULT_POINT`` to a point's name and the process kills itself there, as a power cut or
an out-of-memory kill would. Unset (always, outside tests), a point costs one dictionary look-up.
"""

from __future__ import annotations

import os
import signal

_hits: dict[str, int] = {}


def fault_point(name: str) -> None:
    """Die at once with SIGKILL when ``SVDUTY_FAULT_POINT`` names this point (after the first
    ``SVDUTY_FAULT_SKIP`` passes through it, so a test can let some loads finish first)."""
    if os.environ.get("SVDUTY_FAULT_POINT") != name:
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] > int(os.environ.get("SVDUTY_FAULT_SKIP", "0")):
        os.kill(os.getpid(), signal.SIGKILL)
