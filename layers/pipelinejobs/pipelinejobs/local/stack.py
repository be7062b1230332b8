"""The whole system in one process: moto's server, the template's resources, the functions in-process.

``LocalStack.start()`` runs moto's ``ThreadedMotoServer`` (DynamoDB, Step Functions executing the
real ASL, SQS, EventBridge, Lambda, IAM, SSM) on a free port, creates every resource of
template.yaml in it (the table in DynamoDB Local or any DynamoDB when given its endpoint), serves
each function from its ``functions/*/app.py`` in this process (moto's Lambda through
:mod:`.moto_patches`, the webhook's HTTP API through :mod:`.http`, the queue and the table's
stream through :mod:`.pollers`), and publishes the client environment (:mod:`.discovery`) so that
``pipelinejobs --local ...`` reaches it. Nothing needs an AWS account or Docker.

Waits and Retry intervals are real here (unlike the test harness, which simulates time). Limits:
moto's DynamoDB copies the whole table for every transaction, so on moto each event costs more as the
table grows (tens of ms at a few hundred items): for more than a few hundred jobs keep the table in
DynamoDB Local (``--dynamodb-endpoint``). The functions share this process and so one environment
(:meth:`LocalStack._functions_env` refuses two that disagree); IAM is not enforced.

Everything is in memory unless ``data_dir`` is given: then the table lives in DynamoDB Local under that
directory (``-dbPath``), with the local tasks' output, and a later start finds the jobs again. Step Functions'
executions cannot follow: moto keeps them in memory, and the stack stops its local tasks as it stops. So a
start that finds the table of an earlier one kills each job that was being run (reason
:data:`RESTART_REASON`), which a ``rerun`` runs again; it reads the table's stream from its end (LATEST), so
the changes of earlier starts are not published twice.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError
from ..launchers import local as local_launcher
from ..orchestration.flow import LIVE_STATES
from . import discovery, moto_patches
from .dynamodb_local import DynamoDBLocal
from .http import ApiServer, Route
from .lambda_runtime import ACCOUNT_ID, InProcessFunction
from .pollers import Poller, QueuePoller, StreamPoller
from .resources import Builder, EventSourceMapping, Function
from .schedules import SchedulePoller, period_seconds
from .template import Template

log = logging.getLogger("pipelinejobs.local")

REGION = "us-east-1"
#: Fake credentials: moto accepts any, and they can reach nothing real.
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
#: Template outputs -> the variable a client reads (as ``pipelinejobs --stack`` maps a deployed stack's).
CLIENT_OUTPUTS = {"TableName": "PIPELINEJOBS_TABLE", "JobStateMachineArn": "PIPELINEJOBS_STATE_MACHINE_ARN",
                  "ApiUrl": "PIPELINEJOBS_API_URL", "NotificationBusName": "PIPELINEJOBS_EVENT_BUS",
                  "TokenSecretName": "PIPELINEJOBS_TOKEN_SECRET_NAME"}
#: Why a job the stack was running when it stopped is failed as the stack starts again (see the module doc).
RESTART_REASON = "the local stack stopped while it ran"
MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "batch": {"use_docker": False}}


@dataclass
class LocalStack:
    stage: str = "local"
    port: int = 8787
    moto_port: int = 0
    dynamodb_endpoint: str | None = None
    template_path: Path | None = None
    #: Where local tasks keep their output (PIPELINEJOBS_LOCAL_DIR); default: in data_dir, else beside the
    #: discovery file.
    tasks_dir: Path | None = None
    #: Keep the table (DynamoDB Local's files) and the tasks' output here, across starts; None: in memory.
    data_dir: Path | None = None

    moto_url: str = ""
    api_url: str = ""
    token_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    builder: Builder | None = None
    pollers: list[Poller] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    #: Jobs an earlier start was running when it stopped, killed by this start (see the module doc).
    ended_runs: list[str] = field(default_factory=list)
    _stops: list[Callable[[], None]] = field(default_factory=list)

    # ---- lifecycle -----------------------------------------------------------------------------

    def start(self) -> LocalStack:
        moto_patches.check_version()
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's server would log every request
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        from moto.server import ThreadedMotoServer

        # Stopped last, once moto's engine can launch no more: local tasks do not outlive the stack.
        self._stops.append(local_launcher.stop_all)
        if self.data_dir:
            if self.dynamodb_endpoint:
                raise ConfigurationError("--data-dir keeps the table in a DynamoDB Local of its own: "
                                         "give it or --dynamodb-endpoint, not both")
            dynamodb = DynamoDBLocal(log_dir=self.data_dir, db_path=self.data_dir / "dynamodb")
            self.dynamodb_endpoint = dynamodb.start()
            self._stops.append(dynamodb.stop)
            self.token_secret = self._kept_token_secret()
        moto = ThreadedMotoServer(ip_address="127.0.0.1", port=self.moto_port, verbose=False)
        moto.start()
        self._stops.append(moto.stop)
        self.moto_url = "http://{}:{}".format(*moto.get_host_and_port())
        self._configure_moto()
        patches = moto_patches.apply()
        self._stops.append(patches.undo)

        try:  # bound now: its URL goes into the functions' environment
            api = ApiServer(self.routes, port=self.port)
        except OSError as exc:
            raise OSError(exc.errno, f"cannot serve the webhook API on 127.0.0.1:{self.port} ({exc.strerror}); "
                                     "choose another port with --port (0: any free one)") from exc
        self.api_url = api.url
        self._set_process_env()
        template = Template.load(
            self._lookup, self.template_path, region=REGION, stack_name=f"pipelinejobs-{self.stage}",
            parameters={"Stage": self.stage, "TokenSecretName": f"/pipelinejobs/{self.stage}/token-secret"},
            outputs={"ApiUrl": self.api_url})
        self.builder = Builder(template, self.client, self._role_arn(), patches.functions)
        self._store_token_secret(template.parameter("TokenSecretName"))
        self.builder.build()
        os.environ.update(self._functions_env())
        for function in self.builder.functions.values():
            self._wire(function, self.builder.serve(function))
        for mapping in self.builder.mappings.values():
            self._wire_mapping(mapping)
        for poller in self.pollers:
            poller.start()
            self._stops.append(poller.stop)
        if self.builder.kept:
            self.ended_runs = self._end_earlier_runs()
        api.start()
        self._stops.append(api.stop)
        discovery.publish(self.client_env())
        self._stops.append(discovery.withdraw)

    def stop(self) -> None:
        """Withdraw the discovery file, stop serving and polling, then stop moto; safe to call twice."""
        while self._stops:
            try:
                self._stops.pop()()
            except Exception:
                log.exception("while stopping the local stack")

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ---- what clients see ----------------------------------------------------------------------

    def outputs(self) -> dict[str, Any]:
        assert self.builder is not None
        template = self.builder.template
        return {name: template.resolve(output["Value"]) for name, output in template.body.get("Outputs", {}).items()
                if name in CLIENT_OUTPUTS}

    def client_env(self) -> dict[str, str]:
        """What a client needs to use this stack: the endpoints, fake credentials, the template's outputs."""
        env = {"AWS_ENDPOINT_URL": self.moto_url, "AWS_DEFAULT_REGION": REGION, **CREDENTIALS,
               "PIPELINEJOBS_TOKEN_SECRET": self.token_secret, "PIPELINEJOBS_LOCAL_DIR": str(self.local_dir)}
        env |= {CLIENT_OUTPUTS[name]: str(value) for name, value in self.outputs().items()}
        if self.dynamodb_endpoint:
            env["AWS_ENDPOINT_URL_DYNAMODB"] = self.dynamodb_endpoint
        return env

    @property
    def local_dir(self) -> Path:
        return self.tasks_dir or (self.data_dir or discovery.state_file().parent) / "tasks"

    def client(self, service: str) -> Any:
        """A boto3 client of this stack: DynamoDB (and its streams) where the table is, the rest in moto."""
        import boto3

        endpoint = self.dynamodb_endpoint if service in ("dynamodb", "dynamodbstreams") else None
        return boto3.client(service, endpoint_url=endpoint or self.moto_url, region_name=REGION,
                            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"])

    # ---- setting up ----------------------------------------------------------------------------

    def _configure_moto(self) -> None:
        # moto's Step Functions engine calls Lambda and other services through http://localhost:$MOTO_PORT.
        os.environ["MOTO_PORT"] = self.moto_url.rsplit(":", 1)[1]
        request = urllib.request.Request(f"{self.moto_url}/moto-api/config", data=json.dumps(MOTO_CONFIG).encode(),
                                         method="POST", headers={"content-type": "application/json"})
        with urllib.request.urlopen(request, timeout=10):
            pass

    def _set_process_env(self) -> None:
        """Point everything this process does (the functions included) at the stack, and nowhere else."""
        for name in [n for n in os.environ if n.startswith("AWS_ENDPOINT_URL")] + [
                "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
                "PIPELINEJOBS_TOKEN_SECRET"]:  # the functions read the secret where the template says
            os.environ.pop(name, None)
        os.environ.update({"AWS_ENDPOINT_URL": self.moto_url, "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION,
                           **CREDENTIALS, "PIPELINEJOBS_LOCAL_DIR": str(self.local_dir)})
        if self.dynamodb_endpoint:
            os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = self.dynamodb_endpoint
            os.environ["AWS_ENDPOINT_URL_DYNAMODB_STREAMS"] = self.dynamodb_endpoint

    def _kept_token_secret(self) -> str:
        """The data directory's token secret, made at its first start: the tokens its jobs' runners hold
        still authenticate after a restart (readable by this user only, as the discovery file)."""
        assert self.data_dir is not None
        path = self.data_dir / "token-secret"
        if not path.exists():
            path.touch(mode=0o600)
            path.write_text(self.token_secret)
        return path.read_text().strip()

    def _end_earlier_runs(self) -> list[str]:
        """Kill each job an earlier start was running (it has a run): its execution was in that start's moto and
        its local task was stopped with it, so nothing would move it again. Jobs without a run (moved by their
        own runner, through the SDK or the webhook) are left as they are."""
        from .. import get_job, list_jobs, orchestration

        ended = [summary.uuid for state in sorted(LIVE_STATES) for summary in list_jobs(state=state)
                 if get_job(summary.uuid).record.run_id]
        for uuid in ended:
            orchestration.kill(uuid, reason=RESTART_REASON)
        return ended

    def _lookup(self, logical_id: str, attribute: str | None) -> Any:
        assert self.builder is not None
        return self.builder.lookup(logical_id, attribute)

    def _role_arn(self) -> str:
        """One role for every function and state machine: moto requires a role, and does not enforce IAM."""
        return self.client("iam").create_role(
            RoleName=f"pipelinejobs-{self.stage}-local", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17"}),
        )["Role"]["Arn"]

    def _store_token_secret(self, name: str) -> None:
        """The secret the template's functions read (TokenSecretName), fresh at each start."""
        if name.startswith("arn:"):
            raise ConfigurationError(f"TokenSecretName {name}: locally the secret is an SSM parameter (/...)")
        self.client("ssm").put_parameter(Name=name, Value=self.token_secret, Type="SecureString", Overwrite=True)

    def _functions_env(self) -> dict[str, str]:
        """Every function's environment, as one: they share this process. Two functions giving one variable
        different values cannot be served in one process, so that refuses to start rather than mislead."""
        merged: dict[str, tuple[str, str]] = {}
        for function in self.builder.functions.values() if self.builder else ():
            for name, value in function.environment.items():
                other = merged.setdefault(name, (function.logical_id, value))
                if other[1] != value:
                    raise ConfigurationError(f"{name} is {other[1]!r} for {other[0]} but {value!r} for "
                                             f"{function.logical_id}: the local stack runs every function in one "
                                             "process, with one environment")
        return {name: value for name, (_, value) in merged.items()}

    def _wire(self, function: Function, handler: InProcessFunction) -> None:
        """The function's ``Events``: HTTP routes, queue and stream pollers, EventBridge rules."""
        resolve = self.builder.template.resolve
        for event_id, event in function.events.items():
            kind, properties = event["Type"], event.get("Properties", {})
            if kind == "HttpApi":
                self.routes.append(Route(properties.get("Method", "ANY").upper(), properties.get("Path", "/{proxy+}"),
                                         handler))
            elif kind == "SQS":
                properties = resolve(properties)
                self.pollers.append(self._queue_poller(handler, properties["Queue"], properties))
            elif kind == "DynamoDB":
                properties = resolve(properties)
                self.pollers.append(self._stream_poller(handler, properties["Stream"], properties))
            elif kind == "EventBridgeRule":
                self._rule(function, event_id, resolve(properties))
            elif kind == "Schedule":  # the sweep's rate(1 minute)
                rule_arn = f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/{function.name}-{event_id}"[:200]
                period = period_seconds(resolve(properties)["Schedule"])
                self.pollers.append(SchedulePoller(handler, rule_arn, period, REGION))
            else:
                log.warning("%s: event %s of type %s is not served locally", function.logical_id, event_id, kind)

    def _wire_mapping(self, mapping: EventSourceMapping) -> None:
        """An ``AWS::Lambda::EventSourceMapping``: a poller of its queue or table stream, as a SAM event of the
        same source gets (the properties are CloudFormation's, which a SAM SQS or DynamoDB event passes on)."""
        handler = self.builder.functions[mapping.function].handler
        assert handler is not None, f"{mapping.function} is not served yet"
        source, properties = mapping.source_arn, mapping.properties
        service = source.split(":")[2] if source.count(":") >= 5 else ""  # arn:partition:service:region:account:...
        if str(properties.get("Enabled", True)).lower() == "false":
            log.info("%s: disabled (Enabled: false), not polled", mapping.logical_id)
        elif service == "dynamodb" and "/stream/" in source:
            self.pollers.append(self._stream_poller(handler, source, properties))
        elif service == "sqs":
            self.pollers.append(self._queue_poller(handler, source, properties))
        else:
            log.warning("%s: source %s is not served locally", mapping.logical_id, source)

    def _queue_poller(self, handler: InProcessFunction, queue_arn: str, properties: dict[str, Any]) -> QueuePoller:
        queue_url = self.builder.lookup(self.builder.by_attribute("Arn", queue_arn), "QueueUrl")
        return QueuePoller(
            self.client("sqs"), queue_url, queue_arn, handler, batch_size=int(properties.get("BatchSize", 10)),
            region=REGION, reports_failures="ReportBatchItemFailures" in properties.get("FunctionResponseTypes", []))

    def _stream_poller(self, handler: InProcessFunction, stream_arn: str, properties: dict[str, Any]) -> StreamPoller:
        destination = properties.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        on_failure = None
        if destination:
            url = self.builder.lookup(self.builder.by_attribute("Arn", destination), "QueueUrl")
            sqs = self.client("sqs")

            def on_failure(failure: dict[str, Any]) -> None:
                sqs.send_message(QueueUrl=url, MessageBody=json.dumps(failure))

        kept = bool(self.builder.kept)  # an earlier start's changes were published by it: read from the end
        return StreamPoller(
            self.client("dynamodbstreams"), stream_arn, handler,
            batch_size=int(properties.get("BatchSize", 100)),
            starting_position="LATEST" if kept else properties.get("StartingPosition", "TRIM_HORIZON"),
            filters=[f["Pattern"] for f in properties.get("FilterCriteria", {}).get("Filters", [])],
            reports_failures="ReportBatchItemFailures" in properties.get("FunctionResponseTypes", []),
            max_retries=int(properties.get("MaximumRetryAttempts", -1)), on_failure=on_failure, region=REGION)

    def _rule(self, function: Function, event_id: str, properties: dict[str, Any]) -> None:
        events = self.client("events")
        bus = properties.get("EventBusName", "default")
        name = f"{function.name}-{event_id}"[:64]
        events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(properties["Pattern"]), State="ENABLED")
        events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": function.logical_id, "Arn": function.arn}])
        self.rules.append(name)

    def describe(self) -> list[str]:
        """What is running, for the start-up banner: endpoints, names, what is served how, what is skipped."""
        assert self.builder is not None
        outputs, builder = self.outputs(), self.builder
        functions = ", ".join(f"{f.logical_id} ({f.name})" for f in builder.functions.values())
        sources = [p.name for p in self.pollers] + [f"rule:{name}" for name in self.rules]
        return [
            f"template        {builder.template.path} (stage {self.stage})",
            f"moto server     {self.moto_url}  (Step Functions, Lambda, SQS, EventBridge, IAM, SSM"
            + (")" if self.dynamodb_endpoint else ", DynamoDB)"),
            f"DynamoDB        {self.dynamodb_endpoint or self.moto_url}",
            f"webhook API     {self.api_url}  (OpenAPI: {self.api_url}/openapi.json)",
            f"dashboard       {self.api_url}/ui  (a token for it: pipelinejobs --local token viewer)",
            f"routes          {', '.join(route.key for route in self.routes)}",
            f"table           {outputs['TableName']}",
            f"state machine   {outputs['JobStateMachineArn'].rsplit(':', 1)[1]}  ({outputs['JobStateMachineArn']})",
            f"event bus       {outputs['NotificationBusName']}",
            f"functions       {functions}  (in this process)",
            f"event sources   {', '.join(sources)}",
            f"skipped         {', '.join(sorted(builder.skipped))}  (not modelled locally; see resources.SKIPPED)",
            f"data            {self.data_dir or 'in memory: gone when the stack stops (--data-dir DIR keeps it)'}",
            *([f"ended runs      {len(self.ended_runs)} job(s) this stack was running when it stopped: FAILED "
               f"({RESTART_REASON}); `pipelinejobs --local rerun UUID` runs one again"] if self.ended_runs else []),
            f"local tasks     {self.local_dir}",
            f"client env      {discovery.state_file()}  (pipelinejobs --local ...)",
        ]
