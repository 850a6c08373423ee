"""POST JSON to an OpenAI-compatible server with bounded retries: what the captioner and the LLM judge share.

HTTP 429 (rate limited), 5xx and connection errors/timeouts are retried with exponential backoff (a server's
`Retry-After` seconds win when given); other 4xx answers are not retried. When the retries are spent the call raises
InfrastructureError, which fails the input (uvc_data.errors.is_infrastructure) instead of rejecting the clip.
Standard library only.
"""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from uvc_data.errors import ConfigError, InfrastructureError

RETRYABLE_STATUS = (408, 429, 500, 502, 503, 504)


@dataclass
class RetryPolicy:
    retries: int = 4  # attempts after the first
    backoff_s: float = 1.0  # first wait; doubles per attempt
    max_backoff_s: float = 30.0

    def validate(self) -> None:
        if self.retries < 0 or self.backoff_s < 0 or self.max_backoff_s < self.backoff_s:
            raise ConfigError("retries", "need retries ≥ 0 and 0 ≤ backoff_s ≤ max_backoff_s")

    def wait_s(self, attempt: int, retry_after: str | None = None) -> float:
        """Seconds to wait before attempt `attempt + 1` (0-based), honouring a numeric Retry-After."""
        if retry_after:
            try:
                return min(float(retry_after), self.max_backoff_s)
            except ValueError:
                pass
        return min(self.backoff_s * 2.0 ** attempt, self.max_backoff_s)


def post_json(url: str, body: dict[str, Any], headers: dict[str, str], timeout_s: float,
              policy: RetryPolicy) -> dict[str, Any]:
    """POST `body` as JSON → the decoded JSON answer. Raises InfrastructureError after the retries (the message
    names the URL, the last status or error, and the attempts made)."""
    data = json.dumps(body).encode("utf-8")
    last = ""
    for attempt in range(policy.retries + 1):
        retry_after = None
        try:
            req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", **headers},
                                         method="POST")
            with urllib.request.urlopen(req, timeout=timeout_s) as resp:
                return json.loads(resp.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}: {exc.read()[:300]!r}"
            if exc.code not in RETRYABLE_STATUS:
                raise InfrastructureError(f"endpoint {url} answered {last} (not retried)") from exc
            retry_after = exc.headers.get("Retry-After") if exc.headers else None
        except (urllib.error.URLError, TimeoutError, ConnectionError, json.JSONDecodeError) as exc:
            last = f"{type(exc).__name__}: {exc}"
        if attempt < policy.retries:
            time.sleep(policy.wait_s(attempt, retry_after))
    raise InfrastructureError(f"endpoint {url} still failing after {policy.retries + 1} attempts (last: {last})")
