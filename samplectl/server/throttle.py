"""Per-address throttling of failed logins, on top of the per-account lockout.

The lockout protects one account; this protects all of them from one address trying many names
(password spraying). It lives in the worker's memory: with several workers or servers each keeps
its own count, so an attacker gets at most (workers x limit) tries per window — docs/server.md says so.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from samplectl.server.errors import TooManyAttempts

FAILURES = 10  # failed logins per address ...
WINDOW_SECONDS = 300.0  # ... within this many seconds


class LoginThrottle:
    def __init__(self, failures: int = FAILURES, window: float = WINDOW_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.failures = failures
        self.window = window
        self.clock = clock
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, address: str, now: float) -> deque[float]:
        times = self._seen.setdefault(address, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def check(self, address: str) -> None:
        """Refuse (429) an address that failed too often lately, before any password work."""
        now = self.clock()
        with self._lock:
            times = self._recent(address, now)
            if len(times) >= self.failures:
                wait = max(1, int(times[0] + self.window - now) + 1)
                exc = TooManyAttempts(f"too many failed logins from {address}; try again in {wait} s",
                                      hint="check the username and password; ask a lab admin if you are locked out")
                exc.retry_after = wait  # type: ignore[attr-defined]
                raise exc

    def failed(self, address: str) -> None:
        now = self.clock()
        with self._lock:
            self._recent(address, now).append(now)
            if len(self._seen) > 100_000:  # a flood of addresses must not grow memory without end
                for stale in [a for a, t in self._seen.items() if not t or t[-1] <= now - self.window]:
                    del self._seen[stale]
