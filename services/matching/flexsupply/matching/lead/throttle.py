"""The console's login throttle: failed logins counted per client address, so a leader key cannot be guessed at
speed from one place. Per process and in memory, a stopgap that kit's rate limiter replaces (the call points are
`LoginThrottle.allows`, `.failed` and `.succeeded`)."""

import time
from collections import deque
from dataclasses import dataclass, field


@dataclass
class LoginThrottle:
    max_failures: int = 10
    window_seconds: float = 900.0
    max_addresses: int = 10_000
    _failures: dict[str, deque[float]] = field(default_factory=dict)

    def _recent(self, address: str, now: float) -> deque[float]:
        failures = self._failures.get(address, deque())
        while failures and failures[0] <= now - self.window_seconds:
            failures.popleft()
        return failures

    def allows(self, address: str) -> bool:
        return len(self._recent(address, time.monotonic())) < self.max_failures

    def failed(self, address: str) -> None:
        now = time.monotonic()
        if len(self._failures) >= self.max_addresses:  # a flood of addresses must not grow memory without end
            self._failures = {a: f for a, f in self._failures.items() if self._recent(a, now)}
        failures = self._recent(address, now)
        failures.append(now)
        self._failures[address] = failures

    def succeeded(self, address: str) -> None:
        self._failures.pop(address, None)
