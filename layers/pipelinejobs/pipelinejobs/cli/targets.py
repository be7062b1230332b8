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


def use_local() -> None:
    """The stack ``pipelinejobs local`` is running (it says where in its discovery file).

    Endpoints and pipelinejobs settings the stack does not give are dropped first: a user's own
    ``AWS_ENDPOINT_URL_SQS``, or a deployed stack's ``PIPELINEJOBS_STATE_MACHINE_ARN`` left in the shell,
    must not send a ``--local`` command anywhere but the local stack."""
    from ..local.discovery import STATE_FILE_ENV, client_env

    env = client_env()
    for name in [n for n in os.environ if n.startswith(("AWS_ENDPOINT_URL", "PIPELINEJOBS_"))]:
        if name not in env and name != STATE_FILE_ENV:
            del os.environ[name]
    os.environ.update(env)


def use_stack(name: str) -> None:
    """A stack deployed with ``sam deploy``: read its outputs (needs cloudformation:DescribeStacks)."""
    import boto3

    stack = boto3.client("cloudformation").describe_stacks(StackName=name)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    missing = sorted(set(STACK_OUTPUTS) - set(outputs))
    if missing:
        raise LookupError(f"stack {name} lacks the outputs {', '.join(missing)}: is it a pipelinejobs stack?")
    os.environ.update({variable: outputs[key] for key, variable in STACK_OUTPUTS.items()})
