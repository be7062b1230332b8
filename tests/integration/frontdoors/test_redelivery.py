"""A job runner's callbacks through the webhook, each delivered 3 times in a random (seeded) order,
finish before run included: the job ends where the callbacks lead, each distinct callback is applied
once, and each refusal is recorded once per state with its reason.

The expected outcome of each order comes from a small model of the contract (docs/webhook.md,
"Tokens and idempotency"): a callback already applied is a duplicate (200, nothing written); one the
state allows is applied (200); one it does not is refused (409) and recorded, once per callback and
state. The FSM itself is tested in tests/unit/test_fsm.py; here it is only the model's rule book.
The fixed orders (run/finish x3, one id replayed 10 times) are in tests/integration/test_core_events.py.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field

import pytest
from frontdoors import LambdaContext, callback_request

from pipelinejobs import fsm
from pipelinejobs.errors import InvalidTransition

#: An AWS Batch job's callbacks (its status words), plus an Agave-style heartbeat: (status, event, body).
CALLBACKS = [("SUBMITTED", "resource", {"queue": "spot"}), ("RUNNABLE", "resource", {}),
             ("RUNNING", "run", {"host": "node7"}), ("HEARTBEAT", "update", {"progress": 0.5}),
             ("SUCCEEDED", "finish", {"exitCode": 0})]
SEEDS = range(6)


def deliveries(seed: int) -> list[int]:
    """Each callback (by index) 3 times, shuffled."""
    order = [n for n in range(len(CALLBACKS)) for _ in range(3)]
    random.Random(seed).shuffle(order)
    return order


def finish_before_run(order: list[int]) -> bool:
    events = [CALLBACKS[n][1] for n in order]
    return events.index("finish") < events.index("run")


@dataclass
class Model:
    """What the contract says each delivery gets, and what the job's history ends up holding."""

    state: str = "CREATED"
    applied: list[int] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)

    def deliver(self, n: int) -> tuple[int, bool]:
        """(status code, duplicate?) for delivering callback ``n``."""
        if n in self.applied:
            return 200, True
        try:
            self.state = fsm.next_state(self.state, CALLBACKS[n][1])
        except InvalidTransition:
            if (n, self.state) not in self.refused:
                self.refused.append((n, self.state))
            return 409, False
        self.applied.append(n)
        return 200, False


def test_the_seeds_include_orders_with_finish_before_run():
    assert sum(finish_before_run(deliveries(seed)) for seed in SEEDS) >= 2


@pytest.mark.parametrize("seed", SEEDS)
def test_each_callback_three_times_in_random_order(webhook, job, seed):
    model = Model()
    for n in deliveries(seed):
        status, event, data = CALLBACKS[n]
        response = webhook(callback_request(job.uuid, {"token": job.token, "status": status}, json.dumps(data)),
                           LambdaContext())
        body = json.loads(response["body"])
        code, duplicate = model.deliver(n)
        assert response["statusCode"] == code, (status, body)
        if code == 200:
            assert (body["event"], body["duplicate"]) == (event, duplicate)
        else:
            assert (body["event"], body["state"]) == (event, model.state)

    history = job.history
    assert [entry.seq for entry in history] == list(range(1, len(history) + 1))
    assert job.refresh().state == model.state
    applied = [entry for entry in history[1:] if entry.applied]
    assert [(e.name, e.data) for e in applied] == [(CALLBACKS[n][1], {**CALLBACKS[n][2], "status": CALLBACKS[n][0]})
                                                    for n in model.applied]
    refused = [entry for entry in history if not entry.applied]
    assert [(e.name, e.state) for e in refused] == [(CALLBACKS[n][1], state) for n, state in model.refused]
    for entry in refused:
        assert entry.reason and f"'{entry.name}'" in entry.reason and entry.state in entry.reason
