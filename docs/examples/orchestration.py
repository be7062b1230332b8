"""Orchestration from the SDK: a job's task run by Step Functions, then its attempts, logs and a rerun.

Needs a job state machine (PIPELINEJOBS_STATE_MACHINE_ARN): on the local stack, eval
"$(pipelinejobs --local env)" first (its tasks run on this machine, with the ``local`` launcher; on
AWS the same calls run Batch, ECS or Lambda tasks). The README shows this file; a test runs it on the
local stack.
"""

import secrets

import pipelinejobs as pj
from pipelinejobs import orchestration

pipeline = pj.register_pipeline("hello", task={
    "launcher": "local", "params": {"command": "echo hello from attempt $PIPELINEJOBS_ATTEMPT"},  # run by /bin/sh -c
    "max_attempts": 2, "poll": {"first": 1, "cap": 2}})
run = orchestration.start(pipeline.uuid, {"nonce": secrets.token_hex(4)})     # job + Step Functions execution
print(pj.wait(run.uuid, timeout=120).state, orchestration.attempts(run.uuid)[-1].exit_code)
print(orchestration.logs(run.uuid)[-1].output["stdout"], end="")            # hello from attempt 1
orchestration.rerun(run.uuid)                                               # the same job, its next attempt
print(pj.wait(run.uuid, timeout=120).state, len(orchestration.attempts(run.uuid)))   # FINISHED 2
print(orchestration.kill(run.uuid).skipped)     # kill fails a live job and stops its task; this one had ended
