"""A small in-process sliding-window rate limiter for public endpoints (login)."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from unitrace.errors import RateLimitedError


class RateLimiter:
    def __init__(
        self, limit: int, window_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window_seconds
        self.clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        return hits

    def check(self, key: str) -> None:
        """Raise ``RateLimitedError`` when ``key`` has used up its attempts."""
        with self._lock:
            if len(self._recent(key, self.clock())) >= self.limit:
                raise RateLimitedError("too many attempts; wait a few minutes and try again")

    def hit(self, key: str) -> None:
        with self._lock:
            self._recent(key, self.clock()).append(self.clock())
            if len(self._hits) > 100_000:  # bound memory under a flood of distinct keys
                self._hits = {k: v for k, v in self._hits.items() if v}

    def reset(self, key: str) -> None:
        with self._lock:
            self._hits.pop(key, None)
