"""AWS Lambda: an asynchronous invoke; the function reports back itself.

``params`` is the Invoke request as AWS names it (FunctionName, Qualifier,
Payload as an object). The function receives ``Payload`` plus a ``pipelinejobs``
object (job uuid, attempt, path, callback URL, data) and reports ``run`` and then
``finish`` or ``fail`` through the SDK or the callback URL. An asynchronous
invocation cannot be observed or cancelled, so this launcher's default mode is
callback and its ``check`` can only say the task was handed over.
"""

from __future__ import annotations

import json
from typing import Any

from .aws import client
from .base import Launched, Launcher, LaunchRequest, Phase, TaskStatus


class LambdaLauncher(Launcher):
    required_params = ("FunctionName",)
    default_mode = "callback"
    cancellable = False

    def launch(self, request: LaunchRequest) -> Launched:
        params = request.params
        payload = {**(params.get("Payload") or {}), "pipelinejobs": request.job}
        response = client("lambda").invoke(
            **{**params, "InvocationType": "Event", "Payload": json.dumps(payload).encode()}
        )
        request_id = response["ResponseMetadata"]["RequestId"]
        function = params["FunctionName"].rsplit(":function:", 1)[-1].split(":", 1)[0]
        return Launched(handle={"function": params["FunctionName"], "request_id": request_id},
                        log={"cloudwatch": {"group": f"/aws/lambda/{function}", "request_id": request_id}})

    def check(self, handle: dict[str, Any]) -> TaskStatus:
        return TaskStatus(Phase.RUNNING, "INVOKED")

    def cancel(self, handle: dict[str, Any], reason: str) -> None:
        """An accepted asynchronous invocation cannot be recalled; the job is failed regardless."""
