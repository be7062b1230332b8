"""What the local stack prints for people, and where the functions' JSON logs go.

In Lambda each function writes to a log stream of its own: Powertools' JSON lines and EMF metric lines of ~400
characters, for CloudWatch and its queries. The local stack runs every function in one process, so in ``text``
mode (the default) those JSON lines go to a log file, and the console gets one short line per request to the
webhook API and per logged event: when, which function (by the thread that runs it, not Powertools' keys,
which name the function that last started anywhere in the process), and what. ``json`` mode keeps the JSON
lines on the console, as Lambda writes them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from ..observability import logger as functions_logger
from ..observability import redact

#: The logger of the stack itself (the API's access log, the pollers, the builder).
STACK_LOGGER = "pipelinejobs.local"
#: How much of a line the console shows; the log file has all of it.
WIDTH = 240
#: A LogRecord's own attributes: anything else on a record is a caller's ``extra``.
_RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "function"}

_serving = threading.local()


@contextlib.contextmanager
def serving(context: Any) -> Iterator[None]:
    """Mark this thread as running the invocation of ``context`` (a Lambda context: what wrote a line)."""
    outer = getattr(_serving, "context", None)
    _serving.context = context
    try:
        yield
    finally:
        _serving.context = outer


def _tag(record: logging.LogRecord) -> bool:
    """A filter: the function this thread serves, if any, as ``record.function``."""
    context = getattr(_serving, "context", None)
    record.function = context.function_name if context else None
    return True


def _lambda_keys(record: logging.LogRecord) -> bool:
    """A filter for Powertools' JSON: the invocation this thread serves. Powertools keeps the Lambda context's
    keys process-wide (one invocation at a time, in Lambda), so here they name whichever function started last;
    a record's own attributes win over them."""
    context = getattr(_serving, "context", None)
    if context:
        record.function_name, record.function_arn = context.function_name, context.invoked_function_arn
        record.function_request_id = context.aws_request_id
        record.function_memory_size = context.memory_limit_in_mb
    return True


def label(record: logging.LogRecord) -> str:
    """Who wrote the line: the function's logical id without "Function" (Webhook), "api" for the API's access
    log (``pipelinejobs.local.api``), "stack" for the stack's other lines, else the library (moto)."""
    if getattr(record, "function", None):
        return record.function.rsplit("-", 1)[-1].removesuffix("Function")
    if record.name == STACK_LOGGER:
        return "stack"
    return record.name.rsplit(".", 1)[-1] if record.name.startswith(f"{STACK_LOGGER}.") else record.name.split(".")[0]


def _short(value: Any) -> str:
    if isinstance(value, str) and len(value) == 36 and value.count("-") == 4:
        return value[:8]  # a uuid: as the CLI's tables and the demo show it
    if isinstance(value, dict) and "message" in value:
        return str(value["message"])
    return value if isinstance(value, str) else json.dumps(value, default=str, separators=(",", ":"))


class ReadableFormatter(logging.Formatter):
    """``22:25:16.385 Webhook  event refused: event=run status=401 error=missing, invalid or expired token``."""

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created).strftime("%H:%M:%S.%f")[:-3]
        level = "" if record.levelno == logging.INFO else f"{record.levelname} "
        details = " ".join(f"{key}={_short(value)}" for key, value in redact(self.extras(record)).items())
        what = f"{level}{redact(record.getMessage())}" + (f": {details}" if details else "")
        if record.exc_info and record.exc_info[1] is not None:
            what += f" ({type(record.exc_info[1]).__name__}: {record.exc_info[1]}; traceback in the log file)"
        text = f"{when} {label(record):<8} {' '.join(what.split())}"  # one line, whatever the message held
        return text if len(text) <= WIDTH else text[:WIDTH - 1] + "…"

    @staticmethod
    def extras(record: logging.LogRecord) -> dict[str, Any]:
        return {key: value for key, value in vars(record).items() if key not in _RECORD_FIELDS}


class JsonFormatter(logging.Formatter):
    """The stack's own records as JSON lines, beside the functions' (tokens redacted as theirs are)."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"timestamp": datetime.fromtimestamp(record.created).astimezone().isoformat(timespec="milliseconds"),
                "level": record.levelname, "logger": record.name, "message": record.getMessage(),
                **({"function": record.function} if getattr(record, "function", None) else {}),
                **ReadableFormatter.extras(record)}
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(redact(line), default=str)


def route(log_format: str, log_file: Path | None, console: IO[str]) -> IO[str] | None:
    """Send the functions' JSON output and every log record where ``log_format`` says; returns the log file
    opened (text mode), which the caller closes last. Call once the functions are loaded: Powertools' handler
    exists only from then on."""
    functions = functions_logger()._logger  # the stdlib logger Powertools writes through
    stack, root = logging.getLogger(STACK_LOGGER), logging.getLogger()
    stack.setLevel(logging.INFO)
    stack.propagate = False  # its lines are the API's, not a function's: Powertools would add a function's keys
    for handler in functions.handlers:
        handler.addFilter(_lambda_keys)
    if log_format == "json":
        _handler(stack, logging.StreamHandler(console), JsonFormatter())
        return None
    assert log_file is not None
    log_file.parent.mkdir(parents=True, exist_ok=True)
    out = log_file.open("a", buffering=1, encoding="utf-8")
    for handler in functions.handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(out)
    sys.stdout = out  # EMF metric lines are printed, as in Lambda
    functions.propagate = False  # handled here, once
    readable = logging.StreamHandler(console)
    readable.setFormatter(ReadableFormatter())
    readable.addFilter(_tag)
    functions.addHandler(readable)
    _handler(stack, logging.StreamHandler(out), JsonFormatter())
    stack.addHandler(readable)
    _handler(root, logging.StreamHandler(out), JsonFormatter())  # moto's own warnings and errors, in full
    warnings = logging.StreamHandler(console)
    warnings.setLevel(logging.WARNING)
    warnings.setFormatter(ReadableFormatter())
    warnings.addFilter(_tag)
    root.addHandler(warnings)
    return out


def _handler(logger: logging.Logger, handler: logging.Handler, formatter: logging.Formatter) -> None:
    handler.setFormatter(formatter)
    handler.addFilter(_tag)
    logger.addHandler(handler)
