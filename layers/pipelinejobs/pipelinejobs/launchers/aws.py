"""boto3 clients for the launchers and orchestration, one per service and endpoint.

Clients are costly to build (tens of ms), so each Lambda container keeps one per
service. The key includes the endpoint so the local stack and tests, which point
``AWS_ENDPOINT_URL`` elsewhere, never reuse a client aimed at another place.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

#: Standard mode retries throttling and transient errors with backoff before we see them.
_RETRIES = {"mode": "standard", "max_attempts": 5}


def client(service: str) -> Any:
    env = os.environ
    service_endpoint = env.get(f"AWS_ENDPOINT_URL_{service.upper()}")
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"
    return _client(service, region, service_endpoint or env.get("AWS_ENDPOINT_URL"))


@cache
def _client(service: str, region: str, endpoint_url: str | None) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(service, region_name=region, endpoint_url=endpoint_url, config=Config(retries=_RETRIES))
