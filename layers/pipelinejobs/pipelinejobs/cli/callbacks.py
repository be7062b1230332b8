"""``pipelinejobs callbacks UUID [--redeliver [--seq N]]``: a job's signed callback deliveries, each attempt,
and sending a failed one again (pipelinejobs.notify.deliveries)."""

from __future__ import annotations

import click

from .params import JOB
from .render import Output

DELIVERY_COLUMNS = ("seq", "kind", "url", "delivered", "attempts", "last status", "last attempt", "last error")


@click.command()
@click.argument("uuid", metavar="JOB", type=JOB)
@click.option("--redeliver", is_flag=True, help="Send the latest failed delivery again (signed afresh).")
@click.option("--seq", type=click.IntRange(min=1), help="With --redeliver: the delivery of this change instead.")
@click.pass_obj
def callbacks(out: Output, uuid: str, redeliver: bool, seq: int | None) -> None:
    """A job's callback deliveries (one per change told to its callback URL) with every attempt's status and
    time; --redeliver sends a failed one again (an error, exit 1, if it fails again)."""
    from ..notify import deliveries

    if seq is not None and not redeliver:
        raise click.UsageError("--seq goes with --redeliver")
    if redeliver:
        delivery = deliveries.redeliver(uuid, seq)
        return out.record(delivery.to_dict() if out.as_json else _row(delivery), title=f"redelivered to {delivery.url}")
    found = deliveries.deliveries(uuid)
    if out.as_json:
        return out.json([d.to_dict() for d in found])
    out.table([_row(d) for d in found], DELIVERY_COLUMNS, title=f"callbacks of job {uuid}",
              summary=f"{len(found)} deliver(ies), {sum(not d.delivered for d in found)} failed")


def _row(delivery) -> dict:
    last = delivery.attempts[-1] if delivery.attempts else {}
    return {"seq": delivery.seq, "kind": delivery.kind, "url": delivery.url, "delivered": delivery.delivered,
            "attempts": len(delivery.attempts), "last status": last.get("status"), "last attempt": last.get("at"),
            "last error": last.get("error")}


COMMANDS = (callbacks,)
