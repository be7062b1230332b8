"""Signed callback deliveries, each attempt kept: what ``pipelinejobs callbacks UUID`` lists and redelivers.

A delivery is one change of a job told to its ``callback_url`` (``kind`` "completion": it entered a settled
state; "state_change": any other change, for a job created with ``callback_changes``), stored beside the
job (:mod:`pipelinejobs.storage.annex`, ``CB#<seq>``) with its exact body and every attempt: when, the
answer's status, what went wrong. Every attempt is signed with the job's signing key
(:mod:`pipelinejobs.signing`), at the time it is made. The stream function delivers with
:mod:`.completion`'s retries; when they run out its record is retried, and the attempts add up on the same
delivery. One already delivered is not sent again by a retried record. A delivery that failed (a refusal,
retries spent, an address not allowed) is sent again by :func:`redeliver`, from the CLI.
"""

from __future__ import annotations

import json
from typing import Any

from .. import signing, tokens
from ..config import Config
from ..errors import DeliveryNotFound
from ..records import now_iso
from ..storage.annex import Delivery, get_annex
from . import completion

#: What a delivery tells: the job's end, or (a job that asked for them) another change of state.
COMPLETION = "completion"
STATE_CHANGE = "state_change"


def _send(delivery: Delivery, config: Config) -> Delivery:
    """POST the delivery's body, signed, recording each attempt on it as it is made."""
    annex = get_annex(config)
    key = signing.signing_key(tokens.secret(config), delivery.uuid)

    def seen(status: int | None, problem: str | None) -> None:
        delivery.attempts.append({"at": now_iso(), "status": status, "error": problem})
        delivery.delivered = status is not None and status < 300
        annex.put_delivery(delivery)

    completion.post(delivery.url, json.loads(delivery.body), signing_key=key, on_attempt=seen)
    return delivery


def deliver(url: str, change: dict[str, Any], *, kind: str = COMPLETION, config: Config | None = None) -> Delivery:
    """Deliver ``change`` (a stream record's, see :mod:`.publish`) to ``url``, unless it was delivered before.
    Raises :class:`completion.CallbackFailed` when every attempt failed, so the stream record is retried."""
    config = config or Config.from_env()
    known = get_annex(config).get_delivery(change["uuid"], change["seq"])
    if known is not None and known.delivered:
        return known
    delivery = known or Delivery(uuid=change["uuid"], seq=change["seq"], kind=kind, url=url, body=json.dumps(change))
    return _send(delivery, config)


def deliveries(uuid: str, *, config: Config | None = None) -> list[Delivery]:
    """Every delivery of the job's changes, oldest first, with its attempts."""
    return get_annex(config or Config.from_env()).deliveries(uuid)


def redeliver(uuid: str, seq: int | None = None, *, config: Config | None = None) -> Delivery:
    """Send again the delivery of change ``seq`` (default: the latest that was not delivered), to the URL it
    was meant for, signed afresh; raises CallbackFailed if it is not delivered this time either."""
    config = config or Config.from_env()
    failed = [d for d in deliveries(uuid, config=config) if (d.seq == seq if seq is not None else not d.delivered)]
    if not failed:
        what = f"no delivery of change {seq}" if seq is not None else "no failed delivery"
        raise DeliveryNotFound(f"job {uuid} has {what} to send again")
    delivery = _send(failed[-1], config)
    if not delivery.delivered:  # refused, or an address not allowed: post() does not raise for those
        raise completion.CallbackFailed(f"callback for job {uuid} not delivered: {delivery.attempts[-1]['error']}")
    return delivery
