"""An outage seen from one process, so that it is logged once when it starts and once when it
ends instead of once per failed call."""

from __future__ import annotations

import threading


class Outage:
    """Call `failed()` on each failure and `succeeded()` on each success; each answers True
    only at a change (the first failure of an outage, the first success after one), which is
    when to log."""

    def __init__(self) -> None:
        self._down = False
        self._lock = threading.Lock()

    @property
    def down(self) -> bool:
        return self._down

    def failed(self) -> bool:
        with self._lock:
            started, self._down = not self._down, True
        return started

    def succeeded(self) -> bool:
        with self._lock:
            ended, self._down = self._down, False
        return ended
