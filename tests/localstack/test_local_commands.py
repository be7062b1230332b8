"""``pipelinejobs local`` and ``demo`` as the console script has them (their runs: tests/integration)."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from pipelinejobs.cli.app import cli


def test_the_cli_offers_local_and_demo():
    answer = CliRunner().invoke(cli, ["--help"])
    assert answer.exit_code == 0
    commands = answer.output.split("Commands:")[1]
    assert "local " in commands and "demo " in commands
    local_help = CliRunner().invoke(cli, ["local", "--help"]).output
    assert all(option in local_help for option in ("--port", "--dynamodb-endpoint", "--stage", "--template",
                                                         "--data-dir", "--log-format", "--log-file"))
    assert "in memory" in local_help


def test_without_moto_the_local_stack_says_what_to_install_in_one_line():
    code = "import sys; sys.modules['moto'] = None; from pipelinejobs.cli import main; main()"
    for command in ("local", "demo"):
        done = subprocess.run([sys.executable, "-c", code, command], capture_output=True, text=True, timeout=60)
        assert done.returncode == 1
        assert done.stderr.startswith("error: moto is not installed") and done.stderr.count("\n") == 1
        assert "the 'local' extra" in done.stderr
