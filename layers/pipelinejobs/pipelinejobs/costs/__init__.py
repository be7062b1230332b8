"""What a job cost: an estimate of its compute and of its tracking, kept beside it when it ends.

The stream function calls :func:`record` when a job enters a settled state (off the event path: an event
costs nothing more), so the estimate is there as soon as the job ends; a rerun's end replaces it, every
attempt included. :func:`job_cost` reads it (or estimates a job that has not ended, unstored), and
:func:`summed` adds up many jobs' for ``pipelinejobs cost --pipeline`` and ``--workflow``. How it is
estimated: :mod:`.estimate` and :mod:`.compute`; the prices: :mod:`.prices`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..config import Config
from ..errors import JobNotFound
from ..service import get_store
from ..storage.annex import get_annex
from . import prices
from .estimate import job_estimate

#: The sums of :func:`summed`, and what one job's estimate has of them.
AMOUNTS = ("compute_usd", "tracking_usd", "total_usd")


def _estimate(uuid: str, config: Config, before: dict[str, Any] | None) -> dict[str, Any]:
    store = get_store(config)
    store.get_job(uuid)  # JobNotFound rather than the estimate of nothing
    return job_estimate(uuid, list(store.iter_history(uuid)), prices.current(), before)


def record(uuid: str, *, config: Config | None = None) -> dict[str, Any] | None:
    """Estimate the job's cost and keep it beside the job (its ``COST`` item); returns the estimate, or None
    for a job deleted since it ended (its stream record must not fail for ever)."""
    config = config or Config.from_env()
    annex = get_annex(config)
    try:
        estimated = {**_estimate(uuid, config, annex.get_cost(uuid)), "final": True}
    except JobNotFound:
        return None
    annex.put_cost(uuid, estimated)
    return estimated


def job_cost(uuid: str, *, config: Config | None = None) -> dict[str, Any]:
    """The job's kept estimate; for a job that has not ended, one made now and not kept (``final`` false)."""
    config = config or Config.from_env()
    kept = get_annex(config).get_cost(uuid)
    return kept if kept is not None else {**_estimate(uuid, config, None), "final": False}


def summed(uuids: Iterable[str], *, config: Config | None = None) -> dict[str, Any]:
    """The kept estimates of ``uuids`` added up: ``jobs`` is how many were summed, ``unestimated`` the jobs
    without one yet (not ended)."""
    wanted = list(dict.fromkeys(uuids))
    found = get_annex(config or Config.from_env()).costs(wanted)
    totals = {amount: round(sum(e[amount] for e in found.values()), 8) for amount in AMOUNTS}
    return {**totals, "jobs": len(found), "unestimated": len(wanted) - len(found),
            "complete": all(e.get("complete") for e in found.values())}
