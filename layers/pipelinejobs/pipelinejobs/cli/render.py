"""Output for people (rich tables) or for scripts (``--json``), and one-line errors."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, is_dataclass
from datetime import UTC, datetime
from typing import Any

from ..errors import PipelineJobsError

#: Exit status by the HTTP status an error carries: scripts can tell failures apart.
EXIT_CODES = {400: 2, 413: 2, 401: 5, 403: 5, 404: 3, 409: 4, 503: 75, 504: 6}
#: Exit status of a command interrupted by Ctrl-C (128 + SIGINT), as shells report it.
INTERRUPTED = 130


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

    def say(self, text: str) -> None:
        """A sentence for people (nothing in --json mode, where the result says it)."""
        if not self.as_json:
            sys.stdout.write(text + "\n")

    def record(self, value: Any, title: str | None = None) -> None:
        """One object: JSON, or a two-column table."""
        if self.as_json:
            return self.json(value)
        from rich.table import Table

        table = Table(title=title, show_header=False, box=None)
        for key, item in plain(value).items():
            table.add_row(f"[bold]{key}[/]", _cell(item))
        self.print(table)

    def table(self, rows: Sequence[Any], columns: Iterable[str], title: str | None = None,
              summary: str | None = None) -> None:
        """Many objects: JSON, or a table of the named columns and a summary line (default: the count)."""
        if self.as_json:
            return self.json(list(rows))
        from rich.table import Table
        from rich.text import Text

        columns = list(columns)
        table = Table(title=title)
        for column in columns:
            table.add_column(column, overflow="fold")
        for row in rows:
            values = plain(row)
            table.add_row(*(_cell(values.get(column)) for column in columns))
        self.print(table)
        self.print(Text(summary or f"{len(rows)} row(s)", style="dim"))

    def print(self, renderable: Any) -> None:
        """At the terminal's width; in a pipe or a file at the renderable's own, so no table is folded
        to fit the 80 columns rich assumes when it has no terminal to ask."""
        console = self.console
        if console.is_terminal:
            return console.print(renderable)
        from rich.measure import Measurement

        natural = Measurement.get(console, console.options.update(width=10_000), renderable).maximum
        narrow, console.width = console.width, max(natural, console.width)  # print() clamps to console.width
        try:
            console.print(renderable)
        finally:
            console.width = narrow


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        text = json.dumps(value, default=str)
        return text if len(text) <= 80 else text[:77] + "..."
    return str(value)


# ---- what people read in a table --------------------------------------------------------


def parse_time(stamp: str | None) -> datetime | None:
    """A stored timestamp (ISO 8601, UTC, ``Z``) as an aware datetime."""
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")) if stamp else None


def local_time(stamp: str | None) -> str:
    """A stored UTC timestamp in this machine's time zone, to the second (--json keeps the stored form)."""
    moment = parse_time(stamp)
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def duration(start: str | None, end: str | None = None) -> str:
    """``start`` to ``end`` (default: now) in the two largest units: ``45s``, ``3m 05s``, ``2h 03m``, ``4d 07h``."""
    began = parse_time(start)
    if began is None:
        return ""
    seconds = max(0, int(((parse_time(end) or datetime.now(UTC)) - began).total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {seconds:02d}s" if minutes else f"{seconds}s"


def short(uuid: str | None, wide: bool = False) -> str:
    """The first 8 characters of a uuid, which every command accepts as long as no other uuid shares them."""
    return (uuid or "") if wide else (uuid or "")[:8]


# ---- errors -----------------------------------------------------------------------------


def fail(exc: BaseException, as_json: bool = False) -> int:
    """Say what went wrong in one line on stderr (``error: ...``, or a JSON object with ``--json``) and
    return the exit status. The message is the error's own (its lines joined: a parser's may span several),
    never its Python class name."""
    code, body = described(exc)
    if as_json:
        sys.stderr.write(json.dumps({**body, "exit_code": code}) + "\n")
    else:
        sys.stderr.write(f"error: {_one_line(body['message'])}\n")  # one line even if the message has several
    return code


def described(exc: BaseException) -> tuple[int, dict[str, Any]]:
    """The exit status and JSON body for ``exc``: pipelinejobs' own errors by their HTTP status (and with
    the body the webhook answers), bad usage 2, an endpoint that does not answer 75 (retry later), else 1."""
    import click
    from botocore.exceptions import ConnectionError, HTTPClientError

    if isinstance(exc, PipelineJobsError):
        return EXIT_CODES.get(exc.status_code, 1), exc.to_dict()
    if isinstance(exc, click.ClickException):
        kind = "UsageError" if isinstance(exc, click.UsageError) else "Error"
        return exc.exit_code, {"error": kind, "message": _one_line(exc.format_message())}
    if isinstance(exc, ConnectionError | HTTPClientError) or isinstance(
            getattr(exc, "cause", None), ConnectionError | HTTPClientError):  # PynamoDB wraps them
        return 75, {"error": "Unavailable", "message": f"{message_of(exc)}; nothing was done, retry later"}
    hint = next((text for kind, text in _HINTS.items() if type(exc).__name__ == kind), None)
    return 1, {"error": "Error", "message": f"{message_of(exc)} ({hint})" if hint else message_of(exc)}


#: What to do about the AWS SDK's own errors that only say what is missing, by botocore's name for them.
_HINTS = {
    "NoRegionError": "set AWS_REGION, or a region in your AWS profile",
    "NoCredentialsError": "set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run `aws configure`",
}


def message_of(exc: BaseException) -> str:
    """What an error says, on one line: its message (an OSError's with the file it concerns)."""
    if isinstance(exc, OSError) and exc.strerror:
        return _one_line(f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror)
    return _one_line(str(exc) or "unexpected error")


def _one_line(text: str) -> str:
    return " ".join(text.split())
