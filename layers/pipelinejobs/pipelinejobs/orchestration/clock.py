"""The one place orchestration reads the time.

Deadlines, backoff and attempt timestamps all come from :func:`now`, so a
simulation (tests, ``bench/transitions.py``) can run a 10-hour job in seconds by
replacing it, while Step Functions' own Wait states are shortened separately.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime


def now() -> float:
    """Seconds since the epoch."""
    return time.time()


def iso(at: float) -> str:
    """``at`` as the UTC timestamp format of job records (milliseconds, ``Z``)."""
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
