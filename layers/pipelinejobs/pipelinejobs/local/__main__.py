"""``python -m pipelinejobs.local [--port N] ...``: ``pipelinejobs local`` on its own (the demo's stack)."""

from ..cli.local_commands import local

local(prog_name="pipelinejobs local")
