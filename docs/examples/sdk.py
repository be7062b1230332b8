"""The SDK, top to bottom: a pipeline, one job through its life, and reading jobs back.

Runs wherever the environment points (PIPELINEJOBS_TABLE, and for a token PIPELINEJOBS_TOKEN_SECRET or
PIPELINEJOBS_TOKEN_SECRET_NAME): on the local stack, eval "$(pipelinejobs --local env)" first.
Each run makes a new job (its data holds a fresh nonce): the same data again would be the same job,
already FINISHED. The README shows this file; a test runs it against DynamoDB Local.
"""

import secrets

import pipelinejobs as pj

pipeline = pj.register_pipeline("rnaseq", components=["align", "count"], task={
    "launcher": "batch", "params": {"jobQueue": "pipelinejobs-q", "jobDefinition": "pipelinejobs-bwa:3"},
    "max_attempts": 3, "timeout_seconds": 86400})
data = {"sample": "A2", "nonce": secrets.token_hex(4)}
job = pj.PipelineJob(pipeline.uuid, data).setup()                  # get-or-create: same inputs, same job
assert pj.PipelineJob(pipeline.uuid, data).setup().uuid == job.uuid
job.run({"host": "node7"}).update({"progress": 0.5})                # verbs chain; data goes to the history
pj.handle_event({"uuid": job.uuid, "event": "update", "data": {"progress": 0.9},  # as a job runner sends one
                 "token": job.token, "id": "cb-17"})                # an id is applied once, however often sent
job.finish()                                                        # FINISHED: no update is allowed after it
print(job.state, [entry.name for entry in job.history], job.path, job.callback)
print(pj.get_job(job.uuid).state, len(pj.list_jobs(pipeline_uuid=pipeline.uuid, state="FINISHED")))
pj.wait(job.uuid, "FINISHED", timeout=10)
