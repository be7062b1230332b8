"""AWS Batch: SubmitJob, DescribeJobs, TerminateJob.

``params`` is the SubmitJob request as AWS names it (jobQueue, jobDefinition,
containerOverrides, parameters, timeout, tags...) less ``jobName``, which is
ours; the job's PIPELINEJOBS_* variables are added to the container's environment.
"""

from __future__ import annotations

from typing import Any

from .aws import client
from .base import Launched, Launcher, LaunchRequest, Phase, TaskStatus, env_list

#: Batch job status → phase.
PHASES = {
    "SUBMITTED": Phase.PENDING,
    "PENDING": Phase.PENDING,
    "RUNNABLE": Phase.PENDING,
    "STARTING": Phase.PENDING,
    "RUNNING": Phase.RUNNING,
    "SUCCEEDED": Phase.SUCCEEDED,
    "FAILED": Phase.FAILED,
}
#: Where Batch's awslogs driver writes unless the job definition says otherwise.
DEFAULT_LOG_GROUP = "/aws/batch/job"


class BatchLauncher(Launcher):
    required_params = ("jobQueue", "jobDefinition")

    def launch(self, request: LaunchRequest) -> Launched:
        overrides = dict(request.params.get("containerOverrides") or {})
        overrides["environment"] = [*overrides.get("environment", []), *env_list(request.env)]
        submitted = client("batch").submit_job(
            **{**request.params, "jobName": request.name, "containerOverrides": overrides}
        )
        return Launched(handle={"job_id": submitted["jobId"]})

    def check(self, handle: dict[str, Any]) -> TaskStatus:
        jobs = client("batch").describe_jobs(jobs=[handle["job_id"]])["jobs"]
        if not jobs:
            return TaskStatus(Phase.FAILED, "MISSING", reason="the Batch job no longer exists")
        job = jobs[0]
        container = job.get("container") or {}
        group = ((container.get("logConfiguration") or {}).get("options") or {}).get("awslogs-group")
        stream = container.get("logStreamName")
        return TaskStatus(
            phase=PHASES[job["status"]], detail=job["status"], exit_code=container.get("exitCode"),
            reason=job.get("statusReason") or container.get("reason"),
            log={"cloudwatch": {"group": group or DEFAULT_LOG_GROUP, "stream": stream}} if stream else None,
        )

    def cancel(self, handle: dict[str, Any], reason: str) -> None:
        # TerminateJob also cancels a job not yet started, and is a no-op on an ended one.
        client("batch").terminate_job(jobId=handle["job_id"], reason=reason)
