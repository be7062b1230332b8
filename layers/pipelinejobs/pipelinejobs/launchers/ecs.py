"""Amazon ECS: RunTask (Fargate by default), DescribeTasks, StopTask.

``params`` is the RunTask request as AWS names it (cluster, taskDefinition,
networkConfiguration, overrides, platformVersion...). The job's PIPELINEJOBS_*
variables are added to every essential container, and the task's ``clientToken``
is the job and attempt, so a retried launch step never starts a second task.
"""

from __future__ import annotations

from typing import Any

from .. import failures
from ..errors import LaunchFailed
from .aws import client
from .base import Launched, Launcher, LaunchRequest, Phase, TaskStatus, env_list

#: ECS lastStatus → phase; STOPPED is decided by the containers' exit codes.
PHASES = {
    "PROVISIONING": Phase.PENDING,
    "PENDING": Phase.PENDING,
    "ACTIVATING": Phase.PENDING,
    "RUNNING": Phase.RUNNING,
    "DEACTIVATING": Phase.RUNNING,
    "STOPPING": Phase.RUNNING,
    "DEPROVISIONING": Phase.RUNNING,
}
_CLIENT_TOKEN_MAX = 64


class EcsLauncher(Launcher):
    required_params = ("cluster", "taskDefinition")

    def launch(self, request: LaunchRequest) -> Launched:
        ecs = client("ecs")
        params = request.params
        definition = ecs.describe_task_definition(taskDefinition=params["taskDefinition"])["taskDefinition"]
        essential = [c for c in definition["containerDefinitions"] if c.get("essential", True)]
        overrides = dict(params.get("overrides") or {})
        by_name = {o["name"]: dict(o) for o in overrides.get("containerOverrides", [])}
        for container in essential:
            override = by_name.setdefault(container["name"], {"name": container["name"]})
            override["environment"] = [*override.get("environment", []), *env_list(request.env)]
        overrides["containerOverrides"] = list(by_name.values())
        response = ecs.run_task(**{
            "launchType": "FARGATE", "startedBy": "pipelinejobs", **params, "overrides": overrides,
            "clientToken": request.name[:_CLIENT_TOKEN_MAX],
        })
        if response.get("failures") or not response.get("tasks"):
            raise LaunchFailed(f"RunTask started no task: {response.get('failures')}")
        task_arn = response["tasks"][0]["taskArn"]
        return Launched(handle={"cluster": params["cluster"], "task_arn": task_arn},
                        log=_log_pointer(essential[0], task_arn) if essential else None)

    def check(self, handle: dict[str, Any]) -> TaskStatus:
        tasks = client("ecs").describe_tasks(cluster=handle["cluster"], tasks=[handle["task_arn"]])["tasks"]
        if not tasks:
            return TaskStatus(Phase.FAILED, "MISSING", reason="the ECS task no longer exists")
        task = tasks[0]
        status = task["lastStatus"]
        if status != "STOPPED":
            return TaskStatus(PHASES.get(status, Phase.PENDING), status)
        containers = task.get("containers", [])
        succeeded = bool(containers) and all(c.get("exitCode") == 0 for c in containers)
        end = failures.ecs_end(task, succeeded)
        return TaskStatus(phase=Phase.SUCCEEDED if succeeded else Phase.FAILED, detail=status,
                          exit_code=end.exit_code, reason=end.reason, failure=end.failure)

    def cancel(self, handle: dict[str, Any], reason: str) -> None:
        client("ecs").stop_task(cluster=handle["cluster"], task=handle["task_arn"], reason=reason[:255])


def _log_pointer(container: dict[str, Any], task_arn: str) -> dict[str, Any] | None:
    """The CloudWatch stream of an awslogs container: ``<prefix>/<container>/<task id>``."""
    config = container.get("logConfiguration") or {}
    options = config.get("options") or {}
    if config.get("logDriver") != "awslogs" or "awslogs-group" not in options:
        return None
    stream = f"{options.get('awslogs-stream-prefix')}/{container['name']}/{task_arn.rsplit('/', 1)[-1]}"
    return {"cloudwatch": {"group": options["awslogs-group"], "stream": stream}}
