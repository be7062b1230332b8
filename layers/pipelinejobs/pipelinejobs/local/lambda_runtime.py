"""Run a ``functions/*/app.py`` handler in this process, the way the Lambda runtime would.

The local stack and the Step Functions test harness call the very handler that deploys
(imported from its file, given a Lambda-like context per invocation), rather than a copy
or a container: no Docker, and a breakpoint in the handler works.
"""

from __future__ import annotations

import importlib.util
import json
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .console import serving

ACCOUNT_ID = "123456789012"  # moto's default account


def error_payload(exc: BaseException) -> str:
    """An exception as the Lambda runtime reports it: Step Functions' Retry/Catch match ``errorType``."""
    return json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc),
                       "stackTrace": traceback.format_exception(exc)})


@dataclass
class LambdaContext:
    """The attributes and method Powertools and our handlers read from Lambda's context object."""

    function_name: str
    memory_limit_in_mb: int = 512
    timeout_s: float = 30.0
    region: str = "us-east-1"
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_s

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"{time.strftime('%Y/%m/%d')}/[{self.function_version}]{self.aws_request_id.replace('-', '')}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def import_handler(code_dir: Path, handler: str) -> Callable[[Any, Any], Any]:
    """``Handler: app.handler`` from ``CodeUri``: the module imported from its file under a name of its own,
    since every function's module is called ``app``."""
    module_name, _, attribute = handler.rpartition(".")
    path = code_dir / (module_name.replace(".", "/") + ".py")
    spec = importlib.util.spec_from_file_location(f"lambda_{code_dir.name}_{module_name}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, attribute)


@dataclass(frozen=True)
class InProcessFunction:
    """A Lambda function served by a handler of this process: call it with an event."""

    name: str
    handler: Callable[[Any, Any], Any]
    timeout_s: float = 30.0
    memory_mb: int = 512
    region: str = "us-east-1"

    @classmethod
    def load(cls, code_dir: Path, handler: str, name: str, **settings: Any) -> InProcessFunction:
        return cls(name, import_handler(code_dir, handler), **settings)

    def __call__(self, event: Any) -> Any:
        context = LambdaContext(self.name, memory_limit_in_mb=self.memory_mb, timeout_s=self.timeout_s,
                                region=self.region)
        with serving(context):  # the console names the function by the thread that runs it
            return self.handler(event, context)
