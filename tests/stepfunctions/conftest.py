"""Step Functions tests: the real ASL under moto, with our handlers in-process (tests/sfn_harness.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sfn_harness import Harness, running


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Each test here may run up to 3 times. moto's engine runs every execution on threads of its own
    that race with StopExecution and with the next test's setup (a rare States.Runtime inside moto, or
    a status read a moment early); a real fault fails every run, a moto race does not come back."""
    here = Path(__file__).resolve().parent
    for item in items:
        if here in item.path.resolve().parents:
            item.add_marker(pytest.mark.flaky(reruns=2))


@pytest.fixture
def sfn(aws_env, monkeypatch: pytest.MonkeyPatch, tmp_path) -> Iterator[Harness]:
    with running(monkeypatch, tmp_path) as harness:
        yield harness
