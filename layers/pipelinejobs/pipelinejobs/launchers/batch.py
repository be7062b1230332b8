"""AWS Batch: SubmitJob, DescribeJobs, TerminateJob.

``params`` is the SubmitJob request as AWS names it (jobQueue, jobDefinition,
containerOverrides, parameters, timeout, tags...) less ``jobName``, which is
ours; the job's PIPELINEJOBS_* variables are added to the container's environment.

SubmitJob takes no client token, so a launch step that died between SubmitJob and
recording the job would submit it again when retried. The job name is the job and
attempt (``pj-<uuid>-<attempt>``), and a retried launch first looks in the queue for
a job of that name (ListJobs with a JOB_NAME filter: any status, newest first) and
adopts it. ListJobs is eventually consistent: a job submitted a moment before might
not be listed yet, so this narrows the window to that moment rather than closing it.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from .. import failures, observability
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
        if request.retried and (job_id := self.submitted(request.params["jobQueue"], request.name)):
            return Launched(handle={"job_id": job_id})
        overrides = dict(request.params.get("containerOverrides") or {})
        overrides["environment"] = [*overrides.get("environment", []), *env_list(request.env)]
        submitted = client("batch").submit_job(
            **{**request.params, "jobName": request.name, "containerOverrides": overrides}
        )
        return Launched(handle={"job_id": submitted["jobId"]})

    def submitted(self, queue: str, name: str) -> str | None:
        """The id of the newest job in ``queue`` named ``name``, in any status; None if there is none,
        or if the lookup was refused (e.g. a role without batch:ListJobs): then submitting again is the
        lesser harm, as it was before this lookup existed."""
        try:
            listed = client("batch").list_jobs(jobQueue=queue, filters=[{"name": "JOB_NAME", "values": [name]}])
        except ClientError:
            observability.logger().warning("could not look for a job submitted before; submitting",
                                           extra={"job_name": name}, exc_info=True)
            return None
        # The filter matches case-insensitively (and a trailing * as a prefix): compare the names exactly.
        return next((job["jobId"] for job in listed["jobSummaryList"] if job["jobName"] == name), None)

    def check(self, handle: dict[str, Any]) -> TaskStatus:
        jobs = client("batch").describe_jobs(jobs=[handle["job_id"]])["jobs"]
        if not jobs:
            return TaskStatus(Phase.FAILED, "MISSING", reason="the Batch job no longer exists")
        job = jobs[0]
        container = job.get("container") or {}
        group = ((container.get("logConfiguration") or {}).get("options") or {}).get("awslogs-group")
        stream = container.get("logStreamName")
        phase = PHASES[job["status"]]
        end = failures.batch_end(job, succeeded=phase != Phase.FAILED)
        return TaskStatus(
            phase=phase, detail=job["status"], exit_code=end.exit_code, reason=end.reason, failure=end.failure,
            log={"cloudwatch": {"group": group or DEFAULT_LOG_GROUP, "stream": stream}} if stream else None,
        )

    def cancel(self, handle: dict[str, Any], reason: str) -> None:
        # TerminateJob also cancels a job not yet started, and is a no-op on an ended one.
        client("batch").terminate_job(jobId=handle["job_id"], reason=reason)
