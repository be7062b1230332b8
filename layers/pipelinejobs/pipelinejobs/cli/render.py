"""Output for people (rich tables) or for scripts (``--json``), and one-line errors."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, is_dataclass
from typing import Any

from ..errors import PipelineJobsError

#: Exit status by the HTTP status an error carries: scripts can tell failures apart.
EXIT_CODES = {400: 2, 413: 2, 401: 5, 403: 5, 404: 3, 409: 4, 503: 75, 504: 6}


def plain(value: Any) -> Any:
    if is_dataclass(value):
        return asdict(value)
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


class Output:
    def __init__(self, as_json: bool):
        self.as_json = as_json
        self._console = None

    @property
    def console(self):
        if self._console is None:
            from rich.console import Console

            self._console = Console()
        return self._console

    def json(self, value: Any) -> None:
        sys.stdout.write(json.dumps(plain(value), indent=2, default=str) + "\n")

    def record(self, value: Any, title: str | None = None) -> None:
        """One object: JSON, or a two-column table."""
        if self.as_json:
            return self.json(value)
        from rich.table import Table

        table = Table(title=title, show_header=False, box=None)
        for key, item in plain(value).items():
            table.add_row(f"[bold]{key}[/]", _cell(item))
        self.console.print(table)

    def table(self, rows: Sequence[Any], columns: Iterable[str], title: str | None = None) -> None:
        """Many objects: JSON, or a table of the named columns."""
        if self.as_json:
            return self.json(list(rows))
        from rich.table import Table

        columns = list(columns)
        table = Table(title=title)
        for column in columns:
            table.add_column(column, overflow="fold")
        for row in rows:
            values = plain(row)
            table.add_row(*(_cell(values.get(column)) for column in columns))
        self.console.print(table)
        self.console.print(f"{len(rows)} row(s)", style="dim")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        text = json.dumps(value, default=str)
        return text if len(text) <= 80 else text[:77] + "..."
    return str(value)


def fail(exc: Exception) -> int:
    """Print one clear line for ``exc`` and return the exit status."""
    if isinstance(exc, PipelineJobsError):
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_CODES.get(exc.status_code, 1)
    sys.stderr.write(f"error: {type(exc).__name__}: {exc}\n")
    return 1
