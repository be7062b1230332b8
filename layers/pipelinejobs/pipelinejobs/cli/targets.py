"""Which pipelinejobs the CLI talks to: the local stack, a deployed stack, or the environment.

Each target only fills in environment variables the SDK reads (it reads its
settings from the environment), so every command works the same on each.
"""

from __future__ import annotations

import os

#: CloudFormation output of a deployed stack -> the variable the SDK reads.
STACK_OUTPUTS = {
    "TableName": "PIPELINEJOBS_TABLE",
    "JobStateMachineArn": "PIPELINEJOBS_STATE_MACHINE_ARN",
    "ApiUrl": "PIPELINEJOBS_API_URL",
    "NotificationBusName": "PIPELINEJOBS_EVENT_BUS",
    "TokenSecretName": "PIPELINEJOBS_TOKEN_SECRET_NAME",
}


def use_local() -> tuple[dict[str, str], list[str]]:
    """The stack ``pipelinejobs local`` is running (it says where in its discovery file).

    Endpoints and pipelinejobs settings the stack does not give are dropped first: a user's own
    ``AWS_ENDPOINT_URL_SQS``, or a deployed stack's ``PIPELINEJOBS_STATE_MACHINE_ARN`` left in the shell,
    must not send a ``--local`` command anywhere but the local stack. Returns what was set and what was
    dropped (``pipelinejobs --local env`` tells a shell to do the same)."""
    from ..local.discovery import STATE_FILE_ENV, client_env

    env = client_env()
    dropped = [n for n in os.environ if n.startswith(("AWS_ENDPOINT_URL", "PIPELINEJOBS_"))
               and n not in env and n != STATE_FILE_ENV]
    for name in dropped:
        del os.environ[name]
    os.environ.update(env)
    return env, dropped


def use_stack(name: str) -> tuple[dict[str, str], list[str]]:
    """A stack deployed with ``sam deploy``: read its outputs (needs cloudformation:DescribeStacks).
    Returns what was set, and nothing dropped (as use_local)."""
    import boto3

    stack = boto3.client("cloudformation").describe_stacks(StackName=name)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    missing = sorted(set(STACK_OUTPUTS) - set(outputs))
    if missing:
        raise LookupError(f"stack {name} lacks the outputs {', '.join(missing)}: is it a pipelinejobs stack?")
    env = {variable: outputs[key] for key, variable in STACK_OUTPUTS.items()}
    os.environ.update(env)
    return env, []


def exports(env: dict[str, str], dropped: list[str]) -> str:
    """Shell lines that give a shell (and the SDK run from it) the environment a target set."""
    import shlex

    lines = [f"unset {name}" for name in sorted(dropped)]
    lines += [f"export {name}={shlex.quote(value)}" for name, value in sorted(env.items())]
    return "\n".join(lines) + "\n"
