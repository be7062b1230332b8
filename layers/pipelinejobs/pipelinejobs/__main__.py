"""``python -m pipelinejobs ...``: the CLI, with whichever interpreter runs it (tests, scripts)."""

from .cli import main

main()
