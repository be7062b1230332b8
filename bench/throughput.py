#!/usr/bin/env python3
"""Events applied per second by the events function vs a bare boto3 loop making the same DynamoDB requests.

Single thread, on Amazon DynamoDB Local. The events function is called as Lambda calls it on a
direct invoke (the SDK's LambdaTransport path): a PipelineJobEvent with the job's token, through
validation, the token check, the FSM, the store, logging and metrics (log lines go to /dev/null,
but are still formatted and written). The bare loop makes the same two requests per event, a
consistent GetItem of the job and a TransactWriteItems of the history entry and the conditional job
update, with nothing else around them; the script checks that the two send requests of the same
shape (operations, attribute names, expressions) before it trusts the comparison.

The two alternate in blocks of ``--block`` events, so drift in the engine (JIT, garbage collection)
and load from elsewhere on the machine fall on both alike; the verdict takes the median over the
block pairs of their ratio (the ratio of the totals is printed too).
DynamoDB requests per event are counted with botocore after-call hooks on the store's clients.

    .venv/bin/python bench/throughput.py [--short] [--events 2000] [--block 10]

Goals (issue 6): >= 0.7 of the bare loop's events/s (a timing goal: a miss fails a full run, not a
``--short`` one); <= 2 DynamoDB requests per event (a count goal: a miss always fails).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

import benchkit

GOAL_RATIO, GOAL_REQUESTS = 0.7, 2.0


def shape(value: Any) -> Any:
    """A request with its values replaced by their types: what "the same requests" must share."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(v) for v in value]
    return type(value).__name__


class Recorder:
    """Records the shapes of the requests made by the clients it listens to, while on."""

    def __init__(self, *clients: Any):
        self.on, self.shapes = False, []
        for client in {id(c): c for c in clients}.values():
            client.meta.events.register("provide-client-params.dynamodb", self._record)

    def _record(self, params: dict, model: Any, **_: Any) -> None:
        if self.on:
            self.shapes.append((model.name, shape(params)))

    @contextmanager
    def recording(self):
        self.on, self.shapes = True, []
        try:
            yield self
        finally:
            self.on = False


def timed(apply: Callable[[int], Any], first: int, count: int) -> float:
    started = time.perf_counter()
    for n in range(first, first + count):
        apply(n)
    return time.perf_counter() - started


def main() -> int:
    cli = benchkit.parser(__doc__)
    cli.add_argument("--events", type=int, help="events per side (default 2,000; 400 with --short)")
    cli.add_argument("--block", type=int, default=10, help="events per block; the sides alternate block by block")
    args = cli.parse_args()
    events = args.events or (400 if args.short else 2000)
    blocks = max(1, events // args.block)
    benchkit.tests_on_path()

    with benchkit.dynamodb(args.endpoint) as endpoint:
        import boto3
        from frontdoors import LambdaContext, handler_module

        import pipelinejobs as pj

        from support import new_job

        handler = handler_module("events").handler
        job, bare_job = new_job("throughput", {"side": "handler"}).run(), new_job("throughput", {"side": "bare"}).run()
        raw = boto3.client("dynamodb", endpoint_url=endpoint)
        bare = benchkit.BareLoop(raw, pj.Config.from_env().table, bare_job.uuid)
        meter, recorder = benchkit.Meter().listen_to_store(), Recorder(*benchkit.store_clients(), raw)

        def via_handler(n: int) -> None:
            answer = handler({"uuid": job.uuid, "event": "update", "token": job.token, "data": {"n": n}},
                             LambdaContext())
            assert answer["statusCode"] == 200, answer

        with benchkit.quiet_stdout():
            with recorder.recording() as real:
                via_handler(-1)
            with recorder.recording() as mirrored:
                bare.event(-1)
            pairs = []  # (handler seconds, bare seconds) of each block, the two run back to back
            requests_before = meter.snapshot()[0]
            for block in range(blocks):
                pairs.append((timed(via_handler, block * args.block, args.block),
                              timed(bare.event, block * args.block, args.block)))
            requests = (meter.snapshot()[0] - requests_before) / (blocks * args.block)
        applied = pj.get_job(job.uuid).record.version - 3  # create, run and the shape check's event

    total = blocks * args.block
    handler_rate, bare_rate = total / sum(h for h, _ in pairs), total / sum(b for _, b in pairs)
    # The verdict's ratio: the median over blocks of (bare time / handler time) for blocks run back to back,
    # which a burst of load from elsewhere on the machine cannot sway the way it sways the totals.
    paired = statistics.median(b / h for h, b in pairs)
    print(f"\n{total} events each side, single thread, {blocks} alternating blocks of {args.block}, "
          f"DynamoDB at {endpoint}")
    print(f"{'path':<40} {'events/s':>9} {'ms/event':>9}")
    print(f"{'events function (direct invoke)':<40} {handler_rate:>9.1f} {1000 / handler_rate:>9.2f}")
    print(f"{'bare boto3 loop, same requests':<40} {bare_rate:>9.1f} {1000 / bare_rate:>9.2f}")
    print(f"requests per event: {', '.join(f'{n} {name}' for name, n in sorted(meter.requests.items()))} in all")
    verdicts = benchkit.Verdicts(args.short)
    verdicts.count("same request shapes", "identical" if real.shapes == mirrored.shapes else
                   f"DIFFERENT:\n  handler {real.shapes}\n  bare    {mirrored.shapes}", "identical",
                   real.shapes == mirrored.shapes)
    verdicts.count("events applied", f"{applied} of {total}", "all", applied == total)
    print(f"throughput ratio from the totals: {handler_rate / bare_rate:.2f} (informational)")
    verdicts.timing("throughput, events function / bare loop (median of block pairs)", f"{paired:.2f}",
                    f">= {GOAL_RATIO}", paired >= GOAL_RATIO)
    verdicts.count("DynamoDB requests per event", f"{requests:.2f}", f"<= {GOAL_REQUESTS:.0f}",
                   requests <= GOAL_REQUESTS)
    return verdicts.exit_status()


if __name__ == "__main__":
    sys.exit(main())
