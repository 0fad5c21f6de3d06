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


class TokenBuckets:
    """Per-client token buckets: ``burst`` requests at once, then ``rate`` per second.

    ``take`` costs a dictionary lookup and a few float operations, so a flood of requests
    from one client is turned away for much less than a real answer costs. Each bucket is
    a tuple of two floats, which the garbage collector does not track: a few hundred
    thousand clients do not slow its collections down. Memory stays bounded under a flood
    of distinct clients: refilled (idle) buckets are dropped first.
    """

    def __init__(
        self,
        rate_per_second: float,
        burst: float,
        *,
        max_clients: int = 200_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate_per_second
        self.burst = burst
        self.max_clients = max_clients
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # client -> (tokens, as of)
        self._lock = threading.Lock()

    def _tokens(self, client: str, now: float) -> float:
        bucket = self._buckets.get(client)
        if bucket is None:
            return self.burst
        return min(self.burst, bucket[0] + (now - bucket[1]) * self.rate)

    def _prune(self, now: float) -> None:
        burst, rate = self.burst, self.rate
        self._buckets = {
            k: (tokens, at)
            for k, (tokens, at) in self._buckets.items()
            if tokens + (now - at) * rate < burst
        }
        if len(self._buckets) >= self.max_clients:  # everyone is busy: start over
            self._buckets.clear()

    def take(self, client: str, cost: float = 1.0) -> float:
        """Spend ``cost`` tokens; 0.0 when allowed, else the seconds to wait (nothing spent)."""
        with self._lock:
            now = self.clock()
            tokens = self._tokens(client, now)
            if tokens < cost:
                return (cost - tokens) / self.rate
            if len(self._buckets) >= self.max_clients and client not in self._buckets:
                self._prune(now)
            self._buckets[client] = (tokens - cost, now)
            return 0.0

    def wait(self, client: str) -> float:
        """Seconds until ``client`` may spend one token (0.0: now); spends nothing."""
        with self._lock:
            if client not in self._buckets:
                return 0.0
            tokens = self._tokens(client, self.clock())
            return 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate

    def __len__(self) -> int:
        return len(self._buckets)
