"""One ``Config``, read once per environment: every setting of the Lambda-side code comes from it, and a changed
environment (as tests and the local stack make) gives a new one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import pipelinejobs
from pipelinejobs.config import ENVIRONMENT, Config

PACKAGE = Path(pipelinejobs.__file__).parent
#: Where the environment is read: config.py; clients.py (each service's endpoint, as boto3 itself reads it). The
#: CLI and the local stack are left out: the environment is their interface.
READERS = {"config.py", "clients.py"}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PIPELINEJOBS_TABLE", "jobs")
    return monkeypatch


def test_an_unchanged_environment_is_read_once(env):
    assert Config.from_env() is Config.from_env() is Config.current()


def test_a_changed_environment_gives_a_new_config(env):
    first = Config.from_env()
    env.setenv("PIPELINEJOBS_RETENTION_DAYS", "30")
    assert Config.from_env().retention_days == 30
    env.delenv("PIPELINEJOBS_RETENTION_DAYS")
    assert Config.from_env() is first


def test_the_settings_other_modules_read_are_the_configs(env):
    settings = {"PIPELINEJOBS_EVENT_BUS": "bus", "PIPELINEJOBS_DLQ_URL": "https://sqs/dlq",
                "PIPELINEJOBS_STATE_MACHINE_ARN": "arn:machine", "PIPELINEJOBS_LOCAL_DIR": "/tmp/tasks",
                "PIPELINEJOBS_TEMPLATE": "/t.yaml", "PIPELINEJOBS_CALLBACKS_TO_PRIVATE_ADDRESSES": "1",
                "PIPELINEJOBS_PRICES": "{}"}
    for name, value in settings.items():
        env.setenv(name, value)
    config = Config.from_env()
    assert (config.event_bus, config.dlq_url, config.state_machine_arn, config.local_dir, config.template,
            config.allow_private_callbacks, config.prices) == ("bus", "https://sqs/dlq", "arn:machine", "/tmp/tasks",
                                                               "/t.yaml", True, "{}")


def test_without_a_table_only_from_env_refuses(env):
    env.delenv("PIPELINEJOBS_TABLE")
    assert Config.current().event_bus == "default"
    with pytest.raises(pipelinejobs.errors.ConfigurationError, match="PIPELINEJOBS_TABLE is not set"):
        Config.from_env()


def test_no_module_of_the_layer_reads_the_environment_but_config():
    reading = re.compile(r"(?<!\*\*)os\.environ|getenv")  # ``{**os.environ, ...}``: passed on to a child
    found = sorted(str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py")
                   if path.parts[len(PACKAGE.parts)] not in ("cli", "local")
                   and str(path.relative_to(PACKAGE)) not in READERS and reading.search(path.read_text()))
    assert found == []
