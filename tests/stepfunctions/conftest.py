"""Step Functions tests: the real ASL under moto, with our handlers in-process (tests/sfn_harness.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sfn_harness import Harness, running


@pytest.fixture
def sfn(aws_env, monkeypatch: pytest.MonkeyPatch, tmp_path) -> Iterator[Harness]:
    with running(monkeypatch, tmp_path) as harness:
        yield harness
