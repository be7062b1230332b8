"""A function's ``Schedule`` event, done locally: call it every ``rate(...)``, as EventBridge would.

The local stack wires a SAM ``Schedule`` event (the sweep's ``rate(1 minute)``) to a :class:`SchedulePoller`:
a thread that invokes the function in-process with a ``Scheduled Event`` at that rate (the first call one
period after the start, as a rule's is). ``cron(...)`` schedules are not modelled: the stack says so.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from ..records import now_iso
from .pollers import Function, Poller, call

_RATE = re.compile(r"rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def period_seconds(expression: str) -> int:
    """The seconds between calls of a ``rate(N unit)`` expression; ValueError for anything else."""
    match = _RATE.fullmatch(expression.strip())
    if not match:
        raise ValueError(f"schedule {expression!r}: only rate(N minutes|hours|days) is run locally")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")]


def scheduled_event(rule_arn: str, region: str) -> dict[str, Any]:
    """The event EventBridge sends a scheduled rule's target."""
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
            "account": rule_arn.split(":")[4], "time": now_iso()[:19] + "Z", "region": region,
            "resources": [rule_arn], "detail": {}}


class SchedulePoller(Poller):
    """Calls ``function`` every ``period`` seconds until stopped."""

    def __init__(self, function: Function, rule_arn: str, period: float, region: str):
        super().__init__(name=f"schedule:{rule_arn.rsplit('/', 1)[-1]}")
        self.function, self.rule_arn, self.region = function, rule_arn, region
        self.idle_s = period

    def poll(self) -> bool:
        if self.stopping.wait(self.idle_s):  # one period first, as a rule's first call comes
            return True
        call(self.function, scheduled_event(self.rule_arn, self.region), self.name)
        return True
