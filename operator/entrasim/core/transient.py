"""What the wire to production Graph adds: latency, and transient 503/504s.

Latency is wall time (a client's timeouts and back-off run in wall time): lognormal, from the profile's
median and 99th percentile, capped at ten times the tail. A transient error is a 503 or a 504 at the
profile's rate. A 503 (ServiceUnavailable) is answered before the request reaches the directory: nothing
was done. A 504 (GatewayTimeout) is the gateway giving up on a backend that may still finish: for a write
the change has taken effect in half of them, so a client that retries a create may create twice, as it
may against Graph. A third of the errors carry `Retry-After` in seconds, a third as an HTTP date, a third
none. All draws come from one seeded RNG."""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass
from email.utils import formatdate

from .errors import GraphError
from .profile import Profile

_NORMAL_P99 = 2.326  # the standard normal's 99th percentile
RETRY_AFTER_SECONDS = (1, 5)  # inclusive range of the suggested wait


@dataclass(frozen=True)
class TransientError:
    status: int  # 503 or 504
    applied: bool  # whether the request is carried out before the error is answered
    retry_after: str | None  # the Retry-After header: seconds, an HTTP date, or none

    def error(self) -> GraphError:
        headers = {"Retry-After": self.retry_after} if self.retry_after is not None else {}
        if self.status == 503:
            message, code = "The service is temporarily unavailable. Please retry later.", "ServiceUnavailable"
        else:
            message, code = "The gateway did not receive a timely response from the service.", "GatewayTimeout"
        return GraphError(message, status=self.status, code=code, headers=headers)


class Transients:
    def __init__(self, rng: random.Random) -> None:
        self._rng = rng

    def latency(self, profile: Profile) -> float:
        """Seconds of wall time to wait before answering."""
        median, p99 = profile.latency_median, profile.latency_p99
        if median <= 0:
            return 0.0
        sigma = math.log(max(p99, median) / median) / _NORMAL_P99
        return min(10 * max(p99, median), self._rng.lognormvariate(math.log(median), sigma))

    def error(self, profile: Profile, method: str) -> TransientError | None:
        """The transient error this request meets, if any."""
        rate = profile.transient_error_rate
        if rate <= 0 or self._rng.random() >= rate:
            return None
        status = self._rng.choice((503, 504))
        applied = status == 504 and method != "GET" and self._rng.random() < 0.5
        return TransientError(status, applied, self._retry_after())

    def _retry_after(self) -> str | None:
        form = self._rng.choice(("none", "seconds", "date"))
        if form == "none":
            return None
        seconds = self._rng.randint(*RETRY_AFTER_SECONDS)
        if form == "seconds":
            return str(seconds)
        return formatdate(math.ceil(time.time()) + seconds, usegmt=True)  # wall time: the client's clock
