"""What pipelinejobs changes in moto 5.2.1 so the real ASL runs with our handlers, in one process.

Shared by the local stack (``pipelinejobs local``) and the Step Functions test harness
(``tests/sfn_harness.py``), so there is one copy of each workaround. moto's internals are
pinned: :func:`apply` refuses any other version, and ``tests/stepfunctions/test_sfn_harness.py``
checks each change still takes effect.

* ``LambdaFunction._invoke_lambda`` calls the Python handler registered for the function's name
  instead of starting a Docker container (moto offers no other hook); an exception becomes
  ``{"errorType", "errorMessage"}`` with ``errored=True``, as the Lambda runtime reports it, so
  Retry and Catch match on ``errorType``.
* ``start_execution`` deep-copies the state machine with its past executions, whose threading
  locks cannot be copied: a second execution of a machine fails with "cannot pickle
  '_thread.RLock' object". The copy here leaves out the executions and the backend.
* Service integrations pass a Task's parameters to boto3 as written (``StateMachineArn``), because
  moto's ``StateTaskService._normalise_parameters`` is a no-op where LocalStack's original maps
  them onto the operation's input shape (``stateMachineArn``); ``states:startExecution`` (our
  continue-as-new) then fails with ``KeyError: 'StateMachineArn'``. The original is restored here.
* moto's DynamoDB rolls a failed transaction back by restoring a copy of the whole table taken
  when it began, so a write another thread committed meanwhile is lost with it (a history entry
  without its version bump). Real DynamoDB isolates transactions; here writes are serialised. The copy
  also holds a copy of the table's stream: every reader's shard iterator stays on the old one and sees no
  record again. Here the restored table keeps the stream it had, less the records of the cancelled writes.
* ``StopExecution`` of an execution whose Task waits for a task token (``.waitForTaskToken``) marks the
  program stopped but leaves the Task waiting on its token (until its timeout, a year by default), so the
  execution stays RUNNING. AWS aborts it at once. Here a stop also interrupts the execution's callback
  waits, and a stopped program stays stopped (the interrupted Task's "timeout" does not turn it into a
  failure), so it ends ABORTED (a killed workflow's, or job's, callback-mode execution included).
* ``StartExecution`` with a name checks that no execution has it, then adds its own: two calls at once
  (a record handled twice at once, each starting the same job's run) both pass the check and run the job
  twice. AWS's check is atomic (the same name and input while running: the same execution; closed:
  ``ExecutionAlreadyExists``). Here starts are serialised, so the second finds the first.
* moto's EventBridge rules deliver to SQS, logs and other buses but raise NotImplementedError for
  a Lambda target; here a Lambda target is invoked (asynchronously, as EventBridge does), so the
  template's ``EventBridgeRule`` events reach their function.
"""

from __future__ import annotations

import copy
import functools
import io
import json
import threading
import types
import zipfile
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import botocore
import botocore.session
import moto
from moto.awslambda.models import LambdaFunction
from moto.dynamodb.models import DynamoDBBackend
from moto.events.models import Rule
from moto.stepfunctions.parser import models as sfn_parser_models
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import StateTaskService
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.program_state import ProgramStopped
from moto.stepfunctions.parser.backend.execution import Execution as ParserExecution

from .lambda_runtime import error_payload

MOTO_VERSION = "5.2.1"

#: An in-process Lambda function: the invocation's event in, its JSON-able result out.
Handler = Callable[[Any], Any]

TRANSACT = "transact_write_items"
#: DynamoDBBackend methods that write; each holds _DYNAMODB_WRITES while it runs.
DYNAMODB_WRITERS = ("put_item", "update_item", "delete_item", TRANSACT)
_DYNAMODB_WRITES = threading.RLock()
#: Held while an execution is started (its name checked and its execution added).
_EXECUTION_STARTS = threading.RLock()


def check_version() -> None:
    if moto.__version__ != MOTO_VERSION:
        raise RuntimeError(f"pipelinejobs.local.moto_patches patches moto {MOTO_VERSION} internals; "
                           f"found moto {moto.__version__} (pip install -e '.[local]' installs it)")


@dataclass
class Patches:
    """The changes in force; :meth:`undo` puts moto back as it was."""

    #: Function name -> handler; add to it at any time (a function is looked up per invocation).
    functions: MutableMapping[str, Handler] = field(default_factory=dict)
    _originals: list[tuple[Any, str, Any, bool]] = field(default_factory=list)

    def replace(self, owner: Any, name: str, value: Any) -> None:
        self._originals.append((owner, name, getattr(owner, name), name in vars(owner)))
        setattr(owner, name, value)

    def undo(self) -> None:
        while self._originals:
            owner, name, original, own = self._originals.pop()
            if own:
                setattr(owner, name, original)
            else:  # it was inherited: remove ours so the base class's shows through again
                delattr(owner, name)


def apply(functions: MutableMapping[str, Handler] | None = None) -> Patches:
    """Change moto (process-wide) as the module doc says; Lambda functions run from ``functions``."""
    check_version()
    patches = Patches(functions if functions is not None else {})
    patches.replace(LambdaFunction, "_invoke_lambda", _in_process(patches.functions))
    patches.replace(sfn_parser_models, "copy", types.SimpleNamespace(deepcopy=clone_without_executions))
    patches.replace(StateTaskService, "_normalise_parameters", normalise_to_boto_shape)
    for name in DYNAMODB_WRITERS:
        write = getattr(DynamoDBBackend, name)
        patches.replace(DynamoDBBackend, name,
                        _serialised(_keeping_streams(write) if name == TRANSACT else write, _DYNAMODB_WRITES))
    patches.replace(sfn_parser_models.StepFunctionsParserBackend, "start_execution",
                    _serialised(sfn_parser_models.StepFunctionsParserBackend.start_execution, _EXECUTION_STARTS))
    patches.replace(Rule, "send_to_targets", _with_lambda_targets(Rule.send_to_targets))
    patches.replace(ParserExecution, "stop", _stop_interrupting_callbacks(ParserExecution.stop))
    for name in ("set_error", "set_timed_out"):
        patches.replace(Environment, name, _unless_stopped(getattr(Environment, name)))
    return patches


def _in_process(functions: MutableMapping[str, Handler]) -> Callable[..., tuple[str, bool, str]]:
    def invoke_in_process(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
        handler = functions.get(self.function_name)
        if handler is None:
            return error_payload(LookupError(f"no in-process handler for {self.function_name}")), True, ""
        payload = json.loads(event) if isinstance(event, str | bytes) else event
        try:
            return json.dumps(handler(payload)), False, ""
        except Exception as exc:
            return error_payload(exc), True, ""

    return invoke_in_process


def clone_without_executions(machine: Any) -> Any:
    executions, machine.executions = machine.executions, []
    try:  # the backend (every machine, every execution) is shared, not copied
        return copy.deepcopy(machine, memo={id(machine.backend): machine.backend})
    finally:
        machine.executions = executions


@functools.cache
def _input_shape(service: str, action: str) -> Any:
    model = botocore.session.get_session().get_service_model(service)
    operation = next(name for name in model.operation_names if botocore.xform_name(name) == action)
    return model.operation_model(operation).input_shape


def normalise_to_boto_shape(self: StateTaskService, parameters: dict, boto_service_name: str | None = None,
                            service_action_name: str | None = None) -> None:
    """LocalStack's StateTaskService._normalise_parameters, which moto 5.2.1 left empty."""
    service = self._get_boto_service_name(boto_service_name=boto_service_name)
    action = self._get_boto_service_action(service_action_name=service_action_name)
    self._to_boto_request(parameters, _input_shape(service, action))


def _serialised(write: Callable[..., Any], lock: threading.RLock) -> Callable[..., Any]:
    @functools.wraps(write)
    def serialised(*args: Any, **kwargs: Any) -> Any:
        with lock:
            return write(*args, **kwargs)

    return serialised


def _keeping_streams(transact: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(transact)
    def transact_keeping_streams(self: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
        streams = {name: (table.stream_shard, len(table.stream_shard.items))
                   for name, table in self.tables.items() if table.stream_shard is not None}
        try:
            return transact(self, *args, **kwargs)
        except Exception:
            for name, (shard, length) in streams.items():
                restored = self.tables.get(name)
                if restored is not None and restored.stream_shard is not shard:  # rolled back to its copy
                    restored.stream_shard, shard.table = shard, restored
                    del shard.items[length:]
            raise

    return transact_keeping_streams


def _with_lambda_targets(send_to_targets: Callable[..., None]) -> Callable[..., None]:
    def send_to_targets_and_functions(rule: Rule, original_event: Any, transform_input: bool = True) -> None:
        functions = [t for t in rule.targets if t["Arn"].split(":")[2:3] == ["lambda"]]
        if functions and rule.event_pattern.matches_event(original_event):
            from moto.awslambda.utils import get_backend

            body = json.dumps(original_event)
            for target in functions:
                backend = get_backend(rule.account_id, target["Arn"].split(":")[3])
                threading.Thread(target=backend.invoke, daemon=True, name=f"eventbridge->{target['Id']}",
                                 args=(target["Arn"], None, body, {"X-Amz-Invocation-Type": "Event"}, {})).start()
        others = [t for t in rule.targets if t not in functions]
        if others:  # the rest as moto sends them, through a copy so the rule itself is never changed
            view = copy.copy(rule)
            view.targets = others
            send_to_targets(view, original_event, transform_input)

    return send_to_targets_and_functions


def _stop_interrupting_callbacks(stop: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(stop)
    def stop_and_interrupt(execution: ParserExecution, *args: Any, **kwargs: Any) -> None:
        stop(execution, *args, **kwargs)
        worker = execution.exec_worker
        if worker is not None:  # the program is stopped: a Task still waiting on a token must not wait on
            for endpoint in list(worker.env.callback_pool_manager._pool.values()):
                endpoint.interrupt_all()

    return stop_and_interrupt


def _unless_stopped(end: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(end)
    def end_unless_stopped(env: Environment, *args: Any, **kwargs: Any) -> None:
        if not isinstance(env.program_state(), ProgramStopped):
            end(env, *args, **kwargs)

    return end_unless_stopped


def placeholder_code() -> bytes:
    """A Lambda deployment package for moto: never run, since invocations go to the registered handler."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("app.py", "# never run: pipelinejobs.local.moto_patches calls the handler in-process\n")
    return archive.getvalue()
