"""What a job's tasks cost to run: each task's resources and duration, at the prices in force.

A task is what a launcher started (its ``launcher`` and ``handle``, as the job's history records them), or
what AWS Batch or ECS said about a job nothing orchestrates (their state-change events name the Batch job or
ECS task). Its resources are asked of the service that ran it, once, when the job ends:

* **Fargate** (ECS, or Batch on Fargate): the task's vCPU and memory x its running time x the vCPU-hour and
  GB-hour prices of its architecture. ECS's DescribeTasks gives the task's cpu, memory and times (ECS keeps
  a stopped task about an hour, and the estimate is made as the job ends).
* **Batch on EC2**: Batch bills instances, not jobs: the job's share is the larger of its vCPU and memory
  fractions of the instance type its queue's compute environment runs, x the instance's hourly price x the
  job's running time (DescribeJobs gives startedAt/stoppedAt). On a SPOT compute environment, or with an
  instance type the prices do not list, the on-demand price is used or the task is left unpriced, said in
  its ``note``.
* **Lambda**: memory (GetFunctionConfiguration) x the time from launch to the job's end, at the
  GB-second price of its architecture, plus one request.
* **local**: zero (this machine). **external**: unpriced (pipelinejobs cannot see it).

A lookup that fails (no permission, the task forgotten) leaves that task unpriced (``usd`` None, ``note``
saying why); the rest is still priced, and the estimate says it is incomplete.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ..launchers.aws import client
from .prices import Prices

MIB_PER_GB = 1024


@dataclass
class Task:
    """One task of a job: which launcher, its handle, and when the history says it ran."""

    launcher: str
    handle: dict[str, Any]
    started: str | None = None
    stopped: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        """The same task however it was named: an ECS task by its ARN (its launch names the cluster as the
        pipeline does, its state-change events by ARN), a Batch job by its id."""
        handle = self.handle
        return self.launcher, str(handle.get("task_arn") or handle.get("job_id") or sorted(handle.items()))


@dataclass
class TaskCost:
    launcher: str
    handle: dict[str, Any]
    seconds: float | None = None
    #: What was priced, in words: "fargate x86_64: 0.25 vCPU, 0.5 GB".
    basis: str = ""
    usd: float | None = None
    note: str | None = None
    resources: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Unpriced(Exception):
    """Why a task could not be priced."""


def _seconds(started: Any, stopped: Any) -> float | None:
    """Seconds between two times: ISO strings, datetimes or epoch milliseconds (Batch's)."""
    def moment(value: Any) -> float | None:
        if isinstance(value, datetime):
            return value.timestamp()
        if isinstance(value, int | float):
            return value / 1000
        if isinstance(value, str):
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        return None

    begin, end = moment(started), moment(stopped)
    return max(0.0, end - begin) if begin is not None and end is not None else None


def _fargate(prices: Prices, vcpu: float, memory_gb: float, seconds: float, arch: str) -> tuple[str, float]:
    rate = prices["fargate"][arch]
    usd = seconds / 3600 * (vcpu * rate["vcpu_hour"] + memory_gb * rate["gb_hour"])
    return f"fargate {arch}: {vcpu:g} vCPU, {memory_gb:g} GB", usd


def _arch(value: str | None) -> str:
    return "arm64" if (value or "").lower() in ("arm64", "arm") else "x86_64"


def _ecs(task: Task, prices: Prices) -> TaskCost:
    found = client("ecs").describe_tasks(cluster=task.handle["cluster"], tasks=[task.handle["task_arn"]])["tasks"]
    if not found:
        raise Unpriced("ECS no longer knows the task (it keeps a stopped one about an hour)")
    ecs_task = found[0]
    if ecs_task.get("launchType", "FARGATE") != "FARGATE" and "FARGATE" not in ecs_task.get("capacityProviderName", ""):
        raise Unpriced("ECS on EC2: the instance, not the task, is billed, and its type is not known here")
    vcpu, memory_gb = int(ecs_task["cpu"]) / 1024, int(ecs_task["memory"]) / MIB_PER_GB
    attributes = {a.get("name"): a.get("value") for a in ecs_task.get("attributes") or []}
    seconds = _seconds(ecs_task.get("startedAt"), ecs_task.get("stoppedAt"))
    seconds = _seconds(task.started, task.stopped) if seconds is None else seconds
    if seconds is None:
        raise Unpriced("the task's running time is not known")
    basis, usd = _fargate(prices, vcpu, memory_gb, seconds, _arch(attributes.get("ecs.cpu-architecture")))
    return TaskCost(task.launcher, task.handle, seconds, basis, usd, resources={"vcpu": vcpu, "memory_gb": memory_gb})


def _batch_resources(job: dict[str, Any]) -> tuple[float, float]:
    container = job.get("container") or {}
    required = {r["type"]: r["value"] for r in container.get("resourceRequirements") or []}
    vcpu = float(required.get("VCPU", container.get("vcpus") or 0))
    memory_mib = float(required.get("MEMORY", container.get("memory") or 0))
    if not vcpu or not memory_mib:
        raise Unpriced("the Batch job states no vCPU or memory")
    return vcpu, memory_mib / MIB_PER_GB


def _batch_instance(queue: str, prices: Prices) -> tuple[str, dict[str, Any], str | None]:
    """The priced instance type the queue's compute environments run, and a note (spot)."""
    batch = client("batch")
    queues = batch.describe_job_queues(jobQueues=[queue])["jobQueues"]
    names = [order["computeEnvironment"] for q in queues for order in q.get("computeEnvironmentOrder") or []]
    if not names:
        raise Unpriced(f"queue {queue} has no compute environment")
    for environment in batch.describe_compute_environments(computeEnvironments=names)["computeEnvironments"]:
        resources = environment.get("computeResources") or {}
        for instance_type in resources.get("instanceTypes") or []:
            if instance_type in prices["ec2"]:
                spot = resources.get("type") in ("SPOT", "FARGATE_SPOT")
                return instance_type, prices["ec2"][instance_type], (
                    "spot: priced on demand, an upper bound" if spot else None)
    raise Unpriced(f"no instance type of queue {queue}'s compute environments is in the prices "
                   "(add it to the prices file, PIPELINEJOBS_PRICES)")


def _batch(task: Task, prices: Prices) -> TaskCost:
    jobs = client("batch").describe_jobs(jobs=[task.handle["job_id"]])["jobs"]
    if not jobs:
        raise Unpriced("Batch no longer knows the job")
    job = jobs[0]
    vcpu, memory_gb = _batch_resources(job)
    seconds = _seconds(job.get("startedAt"), job.get("stoppedAt"))
    seconds = _seconds(task.started, task.stopped) if seconds is None else seconds
    if seconds is None:
        raise Unpriced("the job's running time is not known")
    resources = {"vcpu": vcpu, "memory_gb": memory_gb}
    if "FARGATE" in (job.get("platformCapabilities") or []):
        runtime = (job.get("container") or {}).get("runtimePlatform") or {}
        basis, usd = _fargate(prices, vcpu, memory_gb, seconds, _arch(runtime.get("cpuArchitecture")))
        return TaskCost(task.launcher, task.handle, seconds, basis, usd, resources=resources)
    instance_type, instance, note = _batch_instance(job["jobQueue"], prices)
    share = min(1.0, max(vcpu / instance["vcpu"], memory_gb / instance["memory_gib"]))
    usd = seconds / 3600 * instance["hour"] * share
    return TaskCost(task.launcher, task.handle, seconds, f"{instance_type} share {share:.3g}", usd, note,
                    resources={**resources, "instance_type": instance_type, "share": share})


def _lambda(task: Task, prices: Prices) -> TaskCost:
    configuration = client("lambda").get_function_configuration(FunctionName=task.handle["function"])
    memory_gb = configuration.get("MemorySize", 128) / MIB_PER_GB
    arch = _arch((configuration.get("Architectures") or ["x86_64"])[0])
    seconds = _seconds(task.started, task.stopped)
    if seconds is None:
        raise Unpriced("the invocation's running time is not known")
    rate = prices["lambda"]
    usd = math.ceil(seconds * 1000) / 1000 * memory_gb * rate[arch]["gb_second"] + rate["request"]
    return TaskCost(task.launcher, task.handle, seconds, f"lambda {arch}: {memory_gb:g} GB", usd,
                    "time from launch to the job's end, an upper bound of the billed duration",
                    resources={"memory_gb": memory_gb})


def _local(task: Task, prices: Prices) -> TaskCost:
    return TaskCost(task.launcher, task.handle, _seconds(task.started, task.stopped), "local: this machine", 0.0)


def _external(task: Task, prices: Prices) -> TaskCost:
    raise Unpriced("an external task runs where pipelinejobs cannot see its resources")


PRICERS = {"ecs": _ecs, "batch": _batch, "lambda": _lambda, "local": _local, "external": _external}


def price(task: Task, prices: Prices) -> TaskCost:
    """The task's cost; unpriced (``usd`` None, with a note) when it cannot be known."""
    pricer = PRICERS.get(task.launcher, _external)
    try:
        return pricer(task, prices)
    except Unpriced as why:
        note = str(why)
    except (ClientError, BotoCoreError, KeyError, ValueError) as exc:  # refused, unreachable, or malformed
        note = f"could not look up the task's resources: {type(exc).__name__}: {exc}"
    return TaskCost(task.launcher, task.handle, _seconds(task.started, task.stopped), note=note)
